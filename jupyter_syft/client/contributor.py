"""Someone credited for a dataset or an asset: what owners add (``sy.Contributor``) and what
remote datasets list."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..errors import SyftException


class Contributor:
    def __init__(
        self,
        name: str,
        email: str,
        role: str | None = None,
        phone: str | None = None,
        note: str | None = None,
    ):
        self.name, self.email, self.role, self.phone, self.note = name, email, role, phone, note

    def to_json(self) -> dict[str, Any]:
        fields = {
            "name": self.name,
            "email": self.email,
            "role": self.role,
            "phone": self.phone,
            "note": self.note,
        }
        return {k: str(v) for k, v in fields.items() if v is not None}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Contributor) and other.to_json() == self.to_json()

    def __hash__(self) -> int:
        return hash(tuple(sorted(self.to_json().items())))

    def __repr__(self) -> str:
        role = f", role={self.role!r}" if self.role else ""
        return f"Contributor(name={self.name!r}, email={self.email!r}{role})"


def contributor_list(items: Iterable[Any] | None) -> list[Contributor]:
    out: list[Contributor] = []
    for item in items or ():
        if isinstance(item, dict):
            item = Contributor(**item)
        if not isinstance(item, Contributor):
            raise SyftException(
                f"Contributors must be sy.Contributor(...), not {type(item).__name__}."
            )
        if item not in out:
            out.append(item)
    return out
