"""``client.settings``: read and change a Datasite's settings (owners)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import display
from ..errors import SyftSuccess

if TYPE_CHECKING:
    from .session import Session


class DatasiteSettings:
    def __init__(self, values: dict[str, Any]):
        self._values = dict(values)

    def __getattr__(self, key: str) -> Any:
        try:
            return self._values[key]
        except KeyError:
            raise AttributeError(f"No setting {key!r}; settings: {', '.join(sorted(self._values))}")

    def to_dict(self) -> dict[str, Any]:
        return dict(self._values)

    def __repr__(self) -> str:
        return "DatasiteSettings(" + ", ".join(f"{k}={v!r}" for k, v in self._values.items()) + ")"

    def _repr_html_(self) -> str:
        return display.listing(
            "Datasite settings", ["Setting", "Value"], list(self._values.items())
        )


class SettingsAPI:
    def __init__(self, session: Session):
        self._session = session

    def get(self) -> DatasiteSettings:
        return DatasiteSettings(self._session.api.settings().to_json())

    def update(self, **changes: Any) -> SyftSuccess:
        values = self._session.api.update_settings(changes).to_json()
        metadata = self._session.metadata
        self._session.metadata = metadata.model_copy(
            update={k: v for k, v in values.items() if k in type(metadata).model_fields}
        )
        return SyftSuccess(
            "Settings updated: " + ", ".join(sorted(changes)), value=DatasiteSettings(values)
        )

    def allow_guest_signup(self, enable: bool = True) -> SyftSuccess:
        self.update(signup_enabled=bool(enable))
        return SyftSuccess(
            f"Registration feature successfully {'enabled' if enable else 'disabled'}"
        )

    def __repr__(self) -> str:
        return repr(self.get())

    def _repr_html_(self) -> str:
        return self.get()._repr_html_()
