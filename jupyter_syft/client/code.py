"""``client.code``: submit Syft functions, ask to run them, list what was submitted, and call
submitted code by name on the Datasite (``client.code.<name>(**assets)``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..errors import SyftException, SyftSuccess, SyftWarning, show
from ..policies import value_spec
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

    def _row(self, c: UserCodeView) -> list[Any]:
        return [c.service_func_name, c.status, c.input_policy["type"], c.submit_time, c.id]

    def submit(self, code: SyftFunction) -> SyftSuccess:
        require_function(code)
        self._session.ensure_user()
        view = self._session.api.submit_code(code.to_json())
        self._loaded = None  # listed again on next use, with it
        show(SyftSuccess("User Code Submitted"))
        return SyftSuccess(
            f"Syft function '{code.func_name}' submitted. After submitting, you can test it using "
            f"client.code.{code.func_name}(args).",
            value=UserCodeView(self._session, view),
        )

    def request_code_execution(self, code: SyftFunction, reason: str = "") -> RequestView:
        require_function(code)
        self._session.ensure_user()
        self._loaded = None
        return RequestView(self._session, self._session.api.create_request(code.to_json(), reason))

    def get_by_id(self, uid: str) -> UserCodeView:
        return UserCodeView(self._session, self._session.api.code_item(uid))

    def __dir__(self) -> list[str]:
        """With the submitted functions' names: ``client.code.<TAB>`` completes them."""
        names = {c.service_func_name for c in self._items}
        return sorted(set(super().__dir__()) | names)

    def __getattr__(self, name: str) -> RemoteFunction:
        if name.startswith("_"):
            raise AttributeError(name)
        return RemoteFunction(self._session, name)
