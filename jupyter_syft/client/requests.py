"""``client.requests``: code requests, and the owner's decisions on them."""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NoReturn

from .. import display
from ..errors import SyftException, SyftSuccess
from ..wire.enums import Decision
from .collection import Collection
from .environment_display import environment_html
from .statuses import RequestStatus, UserCodeStatus
from .user_code import UserCodeView, describe_input, policies_html
from .view import Field, View

if TYPE_CHECKING:
    from ..wire import models
    from .session import Session

# The review widget is a notebook surface (it needs ipywidgets) and sits above the client:
# request.review() names it the way an entry point would, and imports it only when called,
# so the client never imports jupyter_syft.notebook.
REVIEW_WIDGET = ("jupyter_syft.notebook.review", "RequestReview")


class RequestView(View):
    _model: models.Request

    id = Field()
    reason = Field()
    deny_reason = Field()
    request_time = Field("created_at")
    updated_at = Field()
    requesting_user_name = Field()
    requesting_user_email = Field()
    requesting_user_institution = Field()
    sandbox = Field()

    @property
    def status(self) -> RequestStatus:
        return RequestStatus.from_wire(self._model.status)

    @property
    def code(self) -> UserCodeView:
        return UserCodeView(self._session, self._model.code)

    @property
    def project(self) -> dict[str, Any] | None:
        """``{"id", "name"}`` of the project it was made for, if any."""
        project = self._model.project
        return None if project is None else project.to_json()

    @property
    def requested_on(self) -> str:
        """The name of the Datasite the request was made on."""
        return self._session.name

    @property
    def is_owner(self) -> bool:
        """Whether this client reviews it as one of the Datasite's owners."""
        return self._session.role.is_owner

    def refresh(self) -> RequestView:
        self._model = self._session.api.request(self.id)
        return self

    @property
    def changes(self) -> list[UserCodeStatusChange]:
        """What approving it changes, as PySyft lists it: one ``UserCodeStatusChange`` (the
        code's status to approved); its ``id`` is the request's."""
        return [UserCodeStatusChange(self)]

    @property
    def current_change_state(self) -> dict[str, bool]:
        """PySyft's ``{change id: applied}`` of the changes decided so far (empty while
        pending; after a denial, False)."""
        if self.status == RequestStatus.PENDING:
            return {}
        return {self.id: self.status == RequestStatus.APPROVED}

    @property
    def nested(self) -> list[dict[str, Any]]:
        """The functions this code launches as nested jobs (name, code_id, raw_code): what
        ``approve(approve_nested=True)`` approves, for this request only."""
        return [n.to_json() for n in self._model.nested]

    def approve(self, disable_warnings: bool = False, approve_nested: bool = False) -> SyftSuccess:
        nested_code_ids = None
        if approve_nested:  # exactly the versions this request showed you, or a 409
            nested_code_ids = [n.code_id for n in self._model.nested if n.code_id]
        self._model = self._session.api.approve_request(self.id, approve_nested, nested_code_ids)
        return SyftSuccess(
            f"Request {self.id} changes applied: '{self.code.service_func_name}' approved."
        )

    def approve_with_client(self, *args: Any, **kwargs: Any) -> NoReturn:
        """PySyft's eager approval: refused, saying to use ``approve()``."""
        raise SyftException(
            "approve_with_client is PySyft's approval of eager pointer requests, which "
            "jupyter_syft does not have: approve the code request with request.approve()."
        )

    def deny(self, reason: str) -> SyftSuccess:
        was_approved = self._model.status == Decision.APPROVED
        self._model = self._session.api.deny_request(self.id, reason)
        if was_approved:
            return SyftSuccess(f"Approval of request {self.id} revoked: {reason}")
        return SyftSuccess(f"Request {self.id} denied: {reason}")

    def revoke(self, reason: str) -> SyftSuccess:
        """Withdraw an approval: the scientist can no longer run the code (they read
        ``reason``). Results already released stay with them."""
        self.refresh()
        if self._model.status != Decision.APPROVED:
            raise SyftException(
                f"Request {self.id} is {self.status}, not approved: there is no approval to "
                "revoke. Deny it with request.deny(reason=...) instead."
            )
        return self.deny(reason)

    @property
    def timeline(self) -> Timeline:
        """What happened to this request, oldest first: submitted, decided, runs, jobs, output
        reviews, by whom (from the Datasite's audit log)."""
        return Timeline(list(self._session.api.request_timeline(self.id)))

    @property
    def decided(self) -> str:
        """Who took the current decision and when ("" while pending)."""
        person, at = self._model.decided_by, self._model.decided_at
        if self._model.status == Decision.PENDING or (person is None and not at):
            return ""
        who = f"{person.name} ({person.email})" if person else "an account since deleted"
        return f"{who} at {at}" if at else who

    def deposit_result(
        self, result: Any, logs: str = "", log_stdout: str = "", log_stderr: str = "", **_: Any
    ) -> SyftSuccess:
        """Approve, and give the scientist ``result`` (computed by you) as the code's output."""
        from .. import serde

        blob = self._session.api.upload_blob(serde.encode(result), label="result")
        self._model = self._session.api.deposit_result(
            self.id, blob.blob_id, stdout=log_stdout or logs, stderr=log_stderr
        )
        return SyftSuccess(f"Result deposited and request {self.id} approved.")

    def accept_by_depositing_result(self, result: Any, **kwargs: Any) -> SyftSuccess:
        return self.deposit_result(result, **kwargs)

    def review(self, namespace: dict[str, Any] | None = None) -> Any:
        """A review widget (ipywidgets) for this request: code, findings, inputs with mock
        previews, policies, and buttons to run it on the mocks, and for owners to run it on the
        private data, approve, deny or deposit a result.

        ``namespace`` is where the deposit field looks up variable names (default: the
        notebook's).
        """
        module, widget = REVIEW_WIDGET
        return getattr(importlib.import_module(module), widget)(self, namespace=namespace)

    def _changes(self) -> str:
        code = self._model.code
        return (
            f"Request to change {code.service_func_name} (Pool Id: "
            f"{code.worker_pool_name}) to approved. "
            + (
                f"Nested requests: {', '.join(n.name for n in self._model.nested)}."
                if self._model.nested
                else "No nested requests."
            )
        )

    def __repr__(self) -> str:
        return (
            f"Request {self.id}\n  status: {self.status}\n"
            f"  requested by: {self.requesting_user_name} ({self.requesting_user_email})\n"
            f"  time: {self.request_time}\n"
            + (f"  decided by: {self.decided}\n" if self.decided else "")
            + f"  changes: {self._changes()}"
        )

    def _repr_html_(self) -> str:
        project = (self.project or {}).get("name")
        fields = [
            ("Id", self.id),
            ("Request time", self.request_time),
            ("Status", str(self.status)),
            ("Requested on", self.requested_on),
            ("Requested by", f"{self.requesting_user_name} ({self.requesting_user_email})"),
            ("Institution", self.requesting_user_institution),
            ("Project", project),
            ("Reason", self.reason),
            ("Deny reason", self.deny_reason),
            ("Decided by", self.decided),
            ("Sandbox", self.sandbox),
            ("Changes", self._changes()),
        ]
        code = self.code
        inputs = [(k, describe_input(v)) for k, v in code.input_policy["inputs"].items()]
        policy = code.output_policy
        extra = (
            "<h4>Code</h4>"
            + display.code_html(code.raw_code)
            + policies_html(code)
            + environment_html(code._model)
            + display.findings_html(code.findings)
            + nested_html(self.nested)
            + "<h4>Policies</h4>"
            + display.table(
                ["Input policy", "Output policy", "Runs used"],
                [
                    [
                        code.input_policy["type"],
                        policy.describe(),
                        code.runs_used,
                    ]
                ],
            )
            + (display.table(["Input", "Value"], inputs) if inputs else "")
            + '<p class="muted">Review it with <code>request.review()</code>.</p>'
        )
        return display.card(
            f"Request: {code.service_func_name}", fields, extra_html=extra, kind="Request"
        )


class UserCodeStatusChange:
    """A request's one change (PySyft's ``request.changes[0]``): its code's status to
    approved. ``code`` is the code; ``applied`` whether the request is approved now."""

    def __init__(self, request: RequestView):
        self.id = request.id
        self._request = request

    @property
    def code(self) -> UserCodeView:
        return self._request.code

    @property
    def value(self) -> UserCodeStatus:
        return UserCodeStatus.APPROVED

    @property
    def applied(self) -> bool:
        return self._request.status == RequestStatus.APPROVED

    def __repr_syft_nested__(self) -> str:
        return self._request._changes()

    def __repr__(self) -> str:
        return f"UserCodeStatusChange({self._request._changes()})"


class Timeline(list[Any]):
    """A request's history (``request.timeline``): a list of entries, shown as a table."""

    def _rows(self) -> list[list[Any]]:
        return [[e.at, e.actor_email, e.summary] for e in self]

    def __repr__(self) -> str:
        return "\n".join(f"{at}  {who}  {what}" for at, who, what in self._rows()) or "(empty)"

    def _repr_html_(self) -> str:
        return display.table(["When", "Who", "What"], self._rows())


def nested_html(nested: list[dict[str, Any]]) -> str:
    """Each nested function with its code, as approve(approve_nested=True) would approve it."""
    if not nested:
        return ""
    parts = ["<h4>Nested jobs it launches</h4>"]
    for item in nested:
        if item.get("code_id"):
            parts.append(f"<p><b>{display.esc(item['name'])}</b></p>")
            parts.append(display.code_html(item.get("raw_code") or ""))
        else:
            parts.append(
                f"<p><b>{display.esc(item['name'])}</b>: not submitted by its author; "
                "it cannot be approved.</p>"
            )
    return "".join(parts)


class RequestCollection(Collection[RequestView]):
    """``client.requests`` (or a project's): by position, and filtered by status."""

    title = "Requests"
    headers = ("Function", "Status", "Requested by", "Project", "Time", "ID")
    # Listed on first use: ``client.requests.get_by_id(uid)`` and ``.search(q)`` ask the
    # Datasite for what they need, and would otherwise page through every request first.
    list_when_created = False

    def __init__(self, session: Session, project_id: str | None = None):
        self._project_id = project_id
        super().__init__(session)

    def _fetch(self) -> Iterable[RequestView]:
        requests = self._session.api.requests(project_id=self._project_id)
        return (RequestView(self._session, r) for r in requests)

    def _row(self, r: RequestView) -> list[Any]:
        return [
            r.code.service_func_name,
            r.status.name,
            r.requesting_user_email,
            (r.project or {}).get("name", ""),
            r.request_time,
            r.id,
        ]

    def _with(self, status: RequestStatus) -> list[RequestView]:
        return self.table(r for r in self._items if r.status == status)

    def get_all_pending(self) -> list[RequestView]:
        return self._with(RequestStatus.PENDING)

    def get_all_approved(self) -> list[RequestView]:
        return self._with(RequestStatus.APPROVED)

    def get_all_rejected(self) -> list[RequestView]:
        return self._with(RequestStatus.REJECTED)

    def search(self, q: str) -> list[RequestView]:
        """The requests in which every word of ``q`` is found in the function's name, the
        requester's name or email, or the project's name; searched on the Datasite, so it
        finds them among any number of requests."""
        found = self._session.api.requests(project_id=self._project_id, q=q)
        return self.table(RequestView(self._session, r) for r in found)

    def get_by_usercode_id(self, code_id: str) -> list[RequestView]:
        return self.table(r for r in self._items if r.code.id == code_id)

    def get_by_id(self, uid: str) -> RequestView:
        # One GET of that request, not a walk over every page (which grew with the Datasite).
        request = RequestView(self._session, self._session.api.request(str(uid)))
        if self._project_id is not None and (request.project or {}).get("id") != self._project_id:
            raise SyftException(f"Request {uid} is not in this project; client.requests has it.")
        return request
