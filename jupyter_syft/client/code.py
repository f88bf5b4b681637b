"""``client.code``: submit Syft functions, ask to run them, list what was submitted, and call
submitted code by name on the Datasite (``client.code.<name>(**assets)``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from .. import display
from ..errors import SyftException, SyftSuccess, SyftWarning, show
from ..policies import value_spec
from ..roles import ServiceRole
from .collection import Collection
from .jobs import Job
from .requests import RequestView
from .results import ResultPointer
from .syft_function import SyftFunction, require_function
from .user_code import UserCodeView

if TYPE_CHECKING:
    from .session import Session


class RemoteFunction:
    """``client.code.<name>``: run submitted code on the Datasite under its policies."""

    def __init__(self, session: Session, name: str):
        self._session = session
        self.name = name

    def __call__(self, *args: Any, blocking: bool = True, **kwargs: Any) -> Any:
        """Run it; with ``blocking=False`` get a Job at once (``job.wait().get()``)."""
        if args:
            raise SyftException(f"Call {self.name} with keyword arguments, e.g. data=asset.")
        inputs = {k: value_spec(v) for k, v in kwargs.items()}
        # The Datasite picks which submitted version runs (the latest approved, else the latest).
        if not blocking:
            return Job(self._session, self._session.api.job_by_name(self.name, inputs))
        execution = self._session.api.run_by_name(self.name, inputs)
        if execution.notice:
            show(SyftWarning(execution.notice))
        if not execution.ok:
            raise SyftException(
                f"Exception encountered while running {self.name}:\n{execution.error}"
            )
        # Held for output review: the pointer says so, and its get() raises with the report.
        return ResultPointer(self._session, execution, name=self.name)

    def __repr__(self) -> str:
        return f"<RemoteFunction {self.name} on {self._session.name}>"


class CodeAPI(Collection[UserCodeView]):
    """``client.code``: submit code, ask to run it, list it, and call it by name."""

    title = "UserCode"
    headers = ("Function", "Status", "Input policy", "Submitted", "ID")
    list_when_created = False

    def _fetch(self) -> Iterable[UserCodeView]:
        return (UserCodeView(self._session, c) for c in self._session.api.code())

    @property
    def _items(self) -> list[UserCodeView]:
        # Listed on each use, never cached: this object lives as long as its client
        # (``client.code``), and the code's statuses change on the Datasite.
        return list(self._fetch())

    def _row(self, c: UserCodeView) -> list[Any]:
        return [c.service_func_name, c.status, c.input_policy["type"], c.submit_time, c.id]

    def submit(self, code: SyftFunction) -> SyftSuccess:
        require_function(code)
        self._session.ensure_user()
        view = self._session.api.submit_code(code.to_json())
        show(SyftSuccess("User Code Submitted"))
        return SyftSuccess(
            f"Syft function '{code.func_name}' submitted. After submitting, you can test it using "
            f"client.code.{code.func_name}(args).",
            value=UserCodeView(self._session, view),
        )

    def request_code_execution(self, code: SyftFunction, reason: str = "") -> RequestView:
        require_function(code)
        self._session.ensure_user()
        return RequestView(self._session, self._session.api.create_request(code.to_json(), reason))

    def get_by_id(self, uid: str) -> UserCodeView:
        return UserCodeView(self._session, self._session.api.code_item(uid))

    def __dir__(self) -> list[str]:
        """With the submitted functions' names: ``client.code.<TAB>`` completes them."""
        try:
            names = {c.service_func_name for c in self._items}
        except SyftException:  # e.g. the Datasite is gone: complete the methods at least
            names = set()
        return sorted(set(super().__dir__()) | names)

    def __getattr__(self, name: str) -> RemoteFunction:
        if name.startswith("_"):
            raise AttributeError(name)
        return RemoteFunction(self._session, name)


class CodeHistoryView:
    """The versions of one submitted function, oldest first: ``history[0]`` is the first.

    Reviewers (data owners, admins) index with a version number: a negative index would point
    at another version as soon as a new one is submitted, so it is refused (as in PySyft)."""

    def __init__(self, session: Session, name: str, versions: list[UserCodeView]):
        self._session = session
        self.service_func_name = name
        self.user_code_history = versions

    def __getitem__(self, index: int) -> UserCodeView:
        if not isinstance(index, int) or isinstance(index, bool):
            raise SyftException(
                f"Index a code history with a version number, e.g. [0], not {index!r}."
            )
        if index < 0 and self._session.role.value >= ServiceRole.DATA_OWNER.value:
            raise SyftException(
                f"Use a version number, not {index}: a negative index would point at another "
                f"version once a new one is submitted. {self.service_func_name} has "
                f"{len(self)} version(s), 0 to {len(self) - 1}."
            )
        if not -len(self) <= index < len(self):
            raise SyftException(
                f"{self.service_func_name} has {len(self)} version(s): use 0 to {len(self) - 1}."
            )
        return self.user_code_history[index]

    def __len__(self) -> int:
        return len(self.user_code_history)

    def __iter__(self) -> Iterator[UserCodeView]:
        return iter(self.user_code_history)

    def _rows(self) -> list[list[Any]]:
        return [
            [f"v{i}", c.status, c.submit_time, c.id, _first_lines(c.raw_code)]
            for i, c in enumerate(self.user_code_history)
        ]

    def __repr__(self) -> str:
        lines = [f"CodeHistory {self.service_func_name}: {len(self)} version(s)"]
        lines += [f"  {v} {status} {time} {uid}" for v, status, time, uid, _ in self._rows()]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return display.card(
            f"{self.service_func_name}: {len(self)} version(s)",
            [],
            extra_html=display.table(
                ["Version", "Status", "Submitted", "ID", "Code"], self._rows()
            ),
            kind="CodeHistory",
        )


class CodeHistoriesDict:
    """One user's submitted functions by name: ``histories.fn`` or ``histories["fn"]`` is
    a :class:`CodeHistoryView`."""

    def __init__(self, session: Session, who: str, code: Iterable[UserCodeView]):
        self._session = session
        self.who = who
        by_name: dict[str, list[UserCodeView]] = {}
        for c in sorted(code, key=lambda c: c.submit_time or ""):
            by_name.setdefault(c.service_func_name, []).append(c)
        self.code_versions = {
            name: CodeHistoryView(session, name, versions) for name, versions in by_name.items()
        }

    def __getitem__(self, name: str) -> CodeHistoryView:
        if not isinstance(name, str):
            raise SyftException(f"Index code histories with a function's name, not {name!r}.")
        if name not in self.code_versions:
            known = ", ".join(sorted(self.code_versions)) or "none yet"
            raise SyftException(f"{self.who} submitted no function {name!r} (submitted: {known}).")
        return self.code_versions[name]

    def __getattr__(self, name: str) -> CodeHistoryView:
        if name.startswith("_") or name not in self.__dict__.get("code_versions", {}):
            raise AttributeError(name)
        return self.code_versions[name]

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self.code_versions))

    def __contains__(self, name: object) -> bool:
        return name in self.code_versions

    def __len__(self) -> int:
        return len(self.code_versions)

    def keys(self) -> list[str]:
        return list(self.code_versions)

    def _rows(self) -> list[list[Any]]:
        return [[name, len(h)] for name, h in self.code_versions.items()]

    def __repr__(self) -> str:
        lines = [f"Code history of {self.who}:"]
        lines += [f"  {name}: {n} version(s)" for name, n in self._rows()] or ["  (none yet)"]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return display.card(
            f"Code history of {self.who}",
            [],
            extra_html=display.table(["Function", "Versions"], self._rows()),
            kind="CodeHistory",
        )


class UsersCodeHistoriesDict:
    """Every user's code histories, by email (``client.code_histories["ann@example.org"]``):
    for data owners and admins, who see everyone's submitted code."""

    def __init__(self, session: Session, code: Iterable[UserCodeView]):
        self._session = session
        self._by_user: dict[str, list[UserCodeView]] = {}
        for c in code:
            user = c._model.user
            self._by_user.setdefault(user.email if user else "", []).append(c)

    @property
    def user_dict(self) -> dict[str, list[str]]:
        """Email -> the names of the functions they submitted."""
        return {
            email: sorted({c.service_func_name for c in codes})
            for email, codes in self._by_user.items()
        }

    def __getitem__(self, email: str) -> CodeHistoriesDict:
        if email not in self._by_user:
            known = ", ".join(sorted(self._by_user)) or "nobody yet"
            raise SyftException(f"No code submitted by {email!r} here. Users with code: {known}.")
        return CodeHistoriesDict(self._session, email, self._by_user[email])

    def keys(self) -> list[str]:
        return list(self._by_user)

    def __len__(self) -> int:
        return len(self._by_user)

    def __repr__(self) -> str:
        lines = ["Code histories by user:"]
        lines += [f"  {email}: {', '.join(names)}" for email, names in self.user_dict.items()]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = [[email, ", ".join(names)] for email, names in self.user_dict.items()]
        return display.card(
            "Code histories by user",
            [],
            extra_html=display.table(["User", "Functions"], rows),
            kind="UserCodeHistory",
        )


def code_history(session: Session, code: CodeAPI) -> CodeHistoriesDict:
    """The caller's own submitted functions and their versions (``client.code_history``)."""
    mine = [c for c in code if c._model.user is None or c._model.user.email == session.email]
    return CodeHistoriesDict(session, session.email or "you", mine)


def code_histories(session: Session, code: CodeAPI) -> UsersCodeHistoriesDict:
    """Everyone's code histories by email (``client.code_histories``): reviewers only."""
    if session.role.value < ServiceRole.DATA_OWNER.value:
        raise SyftException(
            "client.code_histories lists every user's code: it is for data owners and admins. "
            "Your own versions are in client.code_history."
        )
    return UsersCodeHistoriesDict(session, code)


def _first_lines(source: str, n: int = 6) -> str:
    lines = source.splitlines()
    return "\n".join(lines[:n]) + ("\n..." if len(lines) > n else "")
