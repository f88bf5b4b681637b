"""Data subjects: who or what data is about (PySyft's ``sy.DataSubject`` and
``client.data_subject_registry``). A data owner builds them in the notebook, with members
("Country" has "Canada"...), registers them on the Datasite and names them on assets.
Importing this module stays light: ``import jupyter_syft`` may load it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from .. import display
from ..errors import SyftException, SyftSuccess

if TYPE_CHECKING:
    from ..wire import models
    from .session import Session

NAME_LIMIT = 200  # as the Datasite's (server/services/limits.NAME)
HEADERS = ["Name", "Aliases", "Members", "Description"]


def _name(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SyftException(f"{what} must be a non-empty text, not {value!r:.80}.")
    if len(value.strip()) > NAME_LIMIT:
        raise SyftException(f"{what} is too long: {NAME_LIMIT} characters at most.")
    return value.strip()


class DataSubject:
    """Who or what data is about: ``sy.DataSubject(name="Canada", aliases=["country_code:ca"])``.
    ``add_member`` nests subjects ("Country" has "Canada"); register it with
    ``client.data_subject_registry.add_data_subject(subject)``; name it on an asset with
    ``sy.Asset(..., data_subjects=[subject])`` or ``asset.add_data_subject(subject)``."""

    def __init__(
        self,
        name: str,
        description: str = "",
        aliases: Iterable[str] | None = None,
        members: Iterable[DataSubject | str] | None = None,
    ):
        self.name = _name(name, "A data subject's name")
        if not isinstance(description, str):
            raise SyftException("A data subject's description must be text.")
        self.description = description
        if isinstance(aliases, str):
            aliases = [aliases]
        self.aliases = [_name(a, "An alias") for a in aliases or ()]
        self._members: dict[str, DataSubject] = {}
        for member in members or ():
            self.add_member(member)

    def add_member(self, member: DataSubject | str) -> None:
        """Make ``member`` (a DataSubject, or a name) one of this subject's members."""
        member = as_data_subject(member)
        if member.name == self.name:
            raise SyftException(f"{self.name!r} cannot be its own member.")
        self._members[member.name] = member

    @property
    def members(self) -> dict[str, DataSubject]:
        """This subject's members, by name."""
        return dict(self._members)

    def flatten(self) -> list[dict[str, Any]]:
        """This subject, then every member below it (each once), as the Datasite takes them."""
        out: dict[str, dict[str, Any]] = {}
        stack = [self]
        while stack:
            subject = stack.pop(0)
            if subject.name in out:
                continue
            out[subject.name] = {
                "name": subject.name,
                "description": subject.description,
                "aliases": list(subject.aliases),
                "members": list(subject._members),
            }
            stack.extend(subject._members.values())
        return list(out.values())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DataSubject):
            return self.name == other.name
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        extra = f", aliases={self.aliases!r}" if self.aliases else ""
        if self._members:
            extra += f", members={list(self._members)!r}"
        return f"DataSubject(name={self.name!r}{extra})"

    def _repr_html_(self) -> str:
        return display.card(
            self.name,
            [
                ("Description", self.description),
                ("Aliases", ", ".join(self.aliases)),
                ("Members", ", ".join(self._members)),
            ],
            kind="DataSubject",
        )


def as_data_subject(value: Any) -> DataSubject:
    """``value`` as a DataSubject (a name is one); anything else is refused, saying so."""
    if isinstance(value, DataSubject):
        return value
    if isinstance(value, str):
        return DataSubject(name=value)
    raise SyftException(
        f"A data subject is a sy.DataSubject(name=...) or its name, not a {type(value).__name__}."
    )


def data_subject_list(values: Any) -> list[DataSubject]:
    """``data_subjects=`` as given to ``sy.Asset``: a list of them (or one), each once."""
    if values is None:
        return []
    if isinstance(values, (str, DataSubject)):
        values = [values]
    if not isinstance(values, Iterable) or isinstance(values, (bytes, dict)):
        raise SyftException(
            "data_subjects= takes a list of sy.DataSubject (or their names), "
            f"not a {type(values).__name__}."
        )
    return list(dict.fromkeys(as_data_subject(v) for v in values))


def _from_model(model: models.DataSubject) -> DataSubject:
    subject = DataSubject(name=model.name, description=model.description, aliases=model.aliases)
    for member in model.members:
        subject._members[member] = DataSubject(name=member)
    return subject


class DataSubjectList(list[DataSubject]):
    """The registered data subjects: a list, shown as a table."""

    def __repr__(self) -> str:
        return display.text_table(HEADERS, _rows(self)) if self else "No data subjects."

    def _repr_html_(self) -> str:
        return display.listing("Data subjects", HEADERS, _rows(self))


def _rows(subjects: Iterable[DataSubject]) -> list[list[Any]]:
    return [[s.name, ", ".join(s.aliases), ", ".join(s.members), s.description] for s in subjects]


class DataSubjectRegistry:
    """``client.data_subject_registry``: the Datasite's data subjects. ``get_all()`` lists
    them; ``add_data_subject(subject)`` registers one and its members (owners)."""

    def __init__(self, session: Session):
        self._session = session

    def _all(self) -> Iterator[DataSubject]:
        return (_from_model(m) for m in self._session.api.data_subjects())

    def get_all(self) -> DataSubjectList:
        """Every registered data subject (members are subjects too, so they are listed)."""
        return DataSubjectList(self._all())

    def get_by_name(self, name: str) -> DataSubject:
        for subject in self._all():
            if subject.name == name:
                return subject
        raise SyftException(f"No data subject named {name!r:.80} on this Datasite.")

    def get_members(self, data_subject_name: str) -> DataSubjectList:
        """The members of a registered data subject."""
        names = set(self.get_by_name(data_subject_name).members)
        return DataSubjectList(s for s in self._all() if s.name in names)

    def add_data_subject(self, data_subject: DataSubject) -> SyftSuccess:
        """Register ``data_subject`` and its members, recursively (a member already registered
        is kept as it is). A name already registered is refused."""
        if not isinstance(data_subject, DataSubject):
            raise SyftException(
                "add_data_subject takes a sy.DataSubject(name=..., aliases=[...]), "
                f"not a {type(data_subject).__name__}."
            )
        answer = self._session.api.add_data_subjects(data_subject.flatten())
        n, names = len(answer.added), ", ".join(answer.added[:10])
        more = f" and {n - 10} more" if n > 10 else ""
        return SyftSuccess(
            f"{n} data subject{'s' * (n != 1)} added: {names}{more}.",
            value=_from_model(answer.subject),
        )

    def __len__(self) -> int:
        return len(self.get_all())

    def __iter__(self) -> Iterator[DataSubject]:
        return iter(self.get_all())

    def __repr__(self) -> str:
        return repr(self.get_all())

    def _repr_html_(self) -> str:
        return self.get_all()._repr_html_()
