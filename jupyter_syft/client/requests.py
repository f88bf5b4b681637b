"""``client.requests``: code requests, and the owner's decisions on them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from .. import display
from ..errors import SyftSuccess

if TYPE_CHECKING:
    from .client import DatasiteClient
    from .code import UserCodeView


class RequestStatus(IntEnum):
    PENDING = 0
    REJECTED = 1
    APPROVED = 2

    def __str__(self) -> str:
        return f"RequestStatus.{self.name}"


class UserCodeStatus(IntEnum):
    PENDING = 0
    DENIED = 1
    APPROVED = 2


class RequestView:
    def __init__(self, client: DatasiteClient, data: dict[str, Any]):
        self._client = client
        self._data = data

    id = property(lambda self: self._data["id"])
    reason = property(lambda self: self._data.get("reason", ""))
    deny_reason = property(lambda self: self._data.get("deny_reason", ""))
    request_time = property(lambda self: self._data.get("created_at"))
    updated_at = property(lambda self: self._data.get("updated_at"))
    requesting_user_name = property(lambda self: self._data.get("requesting_user_name"))
    requesting_user_email = property(lambda self: self._data.get("requesting_user_email"))
    requesting_user_institution = property(
        lambda self: self._data.get("requesting_user_institution")
    )
    sandbox = property(lambda self: self._data.get("sandbox"))

    @property
    def status(self) -> RequestStatus:
        return RequestStatus[self._data["status"]]

    @property
    def code(self) -> UserCodeView:
        from .code import UserCodeView

        return UserCodeView(self._client, self._data["code"])

    @property
    def project(self) -> dict[str, Any] | None:
        return self._data.get("project")

    def refresh(self) -> RequestView:
        self._data = self._client.connection.get(f"requests/{self.id}")
        return self

    @property
    def nested(self) -> list[dict[str, Any]]:
        """The functions this code launches as nested jobs (name, code_id, raw_code): what
        ``approve(approve_nested=True)`` approves, for this request only."""
        return list(self._data.get("nested") or [])

    def approve(self, disable_warnings: bool = False, approve_nested: bool = False) -> SyftSuccess:
        body: dict[str, Any] = {"approve_nested": approve_nested}
        if approve_nested:  # exactly the versions this request showed you, or a 409
            body["nested_code_ids"] = [n["code_id"] for n in self.nested if n.get("code_id")]
        self._data = self._client.connection.post(f"requests/{self.id}/approve", body)
        return SyftSuccess(
            f"Request {self.id} changes applied: '{self.code.service_func_name}' approved."
        )

    def deny(self, reason: str) -> SyftSuccess:
        self._data = self._client.connection.post(f"requests/{self.id}/deny", {"reason": reason})
        return SyftSuccess(f"Request {self.id} denied: {reason}")

    def deposit_result(
        self, result: Any, logs: str = "", log_stdout: str = "", log_stderr: str = "", **_: Any
    ) -> SyftSuccess:
        """Approve, and give the scientist ``result`` (computed by you) as the code's output."""
        from .. import serde

        blob = self._client.connection.upload("blobs", serde.encode(result), label="result")
        self._data = self._client.connection.post(
            f"requests/{self.id}/deposit",
            {"blob_id": blob["blob_id"], "stdout": log_stdout or logs, "stderr": log_stderr},
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
        from ..notebook.review import RequestReview

        return RequestReview(self, namespace=namespace)

    def _changes(self) -> str:
        return (
            f"Request to change {self._data['code']['service_func_name']} (Pool Id: "
            f"{self._data['code']['worker_pool_name']}) to permission RequestStatus.APPROVED. "
            + (
                f"Nested requests: {', '.join(n['name'] for n in self.nested)}."
                if self.nested
                else "No nested requests."
            )
        )

    def __repr__(self) -> str:
        return (
            f"Request {self.id}\n  status: {self.status}\n"
            f"  requested by: {self.requesting_user_name} ({self.requesting_user_email})\n"
            f"  time: {self.request_time}\n  changes: {self._changes()}"
        )

    def _repr_html_(self) -> str:
        project = (self.project or {}).get("name")
        fields = [
            ("Id", self.id),
            ("Request time", self.request_time),
            ("Status", str(self.status)),
            ("Requested on", self._client.name),
            ("Requested by", f"{self.requesting_user_name} ({self.requesting_user_email})"),
            ("Institution", self.requesting_user_institution),
            ("Project", project),
            ("Reason", self.reason),
            ("Deny reason", self.deny_reason),
            ("Sandbox", self.sandbox),
            ("Changes", self._changes()),
        ]
        from .code import _describe_input

        code = self.code
        inputs = [(k, _describe_input(v)) for k, v in code.input_policy["inputs"].items()]
        policy = code.output_policy
        extra = (
            "<h4>Code</h4>"
            + display.code_html(code.raw_code)
            + display.findings_html(code.findings)
            + nested_html(self.nested)
            + "<h4>Policies</h4>"
            + display.table(
                ["Input policy", "Output policy", "Runs used"],
                [
                    [
                        code.input_policy["type"],
                        f"{policy['type']} (limit {policy['limit']})",
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


class RequestCollection:
    def __init__(self, client: DatasiteClient, project_id: str | None = None):
        self._client = client
        params = {"project_id": project_id} if project_id else {}
        self._requests = [
            RequestView(client, r) for r in client.connection.get_pages("requests", **params)
        ]

    def get_all(self) -> list[RequestView]:
        return request_list(self._requests)

    def _with(self, status: RequestStatus) -> list[RequestView]:
        return request_list(r for r in self._requests if r.status == status)

    def get_all_pending(self) -> list[RequestView]:
        return self._with(RequestStatus.PENDING)

    def get_all_approved(self) -> list[RequestView]:
        return self._with(RequestStatus.APPROVED)

    def get_all_rejected(self) -> list[RequestView]:
        return self._with(RequestStatus.REJECTED)

    def get_by_usercode_id(self, code_id: str) -> list[RequestView]:
        return request_list(r for r in self._requests if r.code.id == code_id)

    def __getitem__(self, index: int) -> RequestView:
        return self._requests[index]

    def __len__(self) -> int:
        return len(self._requests)

    def __iter__(self) -> Iterator[RequestView]:
        return iter(self._requests)

    def _rows(self) -> list[list[Any]]:
        return [_request_row(r) for r in self._requests]

    def __repr__(self) -> str:
        return display.text_table(REQUEST_HEADERS, self._rows())

    def _repr_html_(self) -> str:
        return display.listing("Requests", REQUEST_HEADERS, self._rows())


REQUEST_HEADERS = ["Function", "Status", "Requested by", "Project", "Time", "ID"]


def _request_row(r: RequestView) -> list[Any]:
    return [
        r._data["code"]["service_func_name"],
        r.status.name,
        r.requesting_user_email,
        (r.project or {}).get("name", ""),
        r.request_time,
        r.id,
    ]


def request_list(items: Iterable[RequestView]) -> list[RequestView]:
    """A list of requests that shows as a table in notebooks."""
    return display.TableList(items, "Requests", REQUEST_HEADERS, _request_row)
