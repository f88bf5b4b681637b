"""Review widgets for code requests, composed from stock ipywidgets (no JavaScript of our own).

``request.review()`` gives a :class:`RequestReview`; ``sy.review(client)`` gives a
:class:`DatasiteReview` with one review per pending request. Both call the Python client, so the
Datasite enforces every rule: the widget only hides what a scientist cannot do anyway.

"Run on mock" runs an owner's pending request on the assets' mocks in the Datasite's
sandbox (``request.code.run_on_mocks()``), so code under review never runs in the owner's
kernel; a scientist's own widget runs their code on the mocks in their kernel, as calling it
does. "Run on private" (owners) runs it on the private data in THIS kernel, as
``request.code.run(...)`` does (PySyft's reviewer workflow), after its warning. Neither sends
anything to the scientist. "Deposit result" approves the request with a result you give:
the text field takes the name of a notebook variable or a Python literal (``42``,
``[0.91, 0.88]``, ``{"acc": 0.9}``); left empty, it deposits the result of the last
"Run on private" in this widget.
"""

from __future__ import annotations

import ast
import contextlib
import keyword
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from .. import display
from ..client.client import DatasiteClient
from ..client.datasets import DatasetCollection
from ..client.environment_display import environment_html
from ..client.requests import RequestCollection, RequestView, nested_html
from ..client.statuses import RequestStatus, UserCodeStatus
from ..client.user_code import policies_html
from ..errors import SyftException

if TYPE_CHECKING:
    from ..client.datasets import RemoteAsset
    from ..client.outputs import OutputView

_NOTHING = object()

# Background and text of a status line: in JupyterLab the extension's theme-derived colours
# (style/native.css, readable in light and dark themes); elsewhere (VS Code, Voila, nbconvert)
# the fixed fallback pairs. Both of a pair come from the same source, so they always match.
_STATUS_COLORS = {
    "ok": ("var(--jp-syft-success-bg, #d4edda)", "var(--jp-syft-success-text, #155724)"),
    "error": ("var(--jp-syft-error-bg, #f8d7da)", "var(--jp-syft-error-text, #721c24)"),
    "info": ("var(--jp-syft-info-bg, #e2e3e5)", "var(--jp-syft-info-text, #383d41)"),
}


def _status_html(kind: str, text: str) -> str:
    background, color = _STATUS_COLORS[kind]
    body = display.esc(text).replace("\n", "<br>")
    return (
        f'<div class="jsyft-status jsyft-{kind}" style="padding:4px 8px;border-radius:4px;'
        f'background:{background};color:{color}">{body}</div>'
    )


def _assets_by_id(request: RequestView) -> dict[str, RemoteAsset]:
    """The assets of the Datasite the request was made on, by id."""
    return DatasetCollection(request._session).assets_by_id()


# Input labels sized to their text (the default 90px cuts "Result to deposit").
_LABEL_STYLE = {"description_width": "initial"}


class RequestReview(w.VBox):
    """One code request: who asks and why, the code and its findings, the inputs with previews
    of their mocks, the policies, and the reviewer's actions. Status updates in place; errors
    show in the widget, never as tracebacks."""

    def __init__(
        self,
        request: RequestView,
        namespace: dict[str, Any] | None = None,
        assets: dict[str, RemoteAsset] | None = None,
        on_change: Callable[[RequestReview], None] | None = None,
        **kwargs: Any,
    ):
        self.request = request
        self._on_change = on_change
        self.is_owner = request.is_owner
        self.last_private_result: Any = _NOTHING
        self._namespace = namespace
        self._assets = assets if assets is not None else _assets_by_id(request)

        self.header = w.HTML()
        self.code_view = w.HTML()
        self.inputs_view = w.HTML(self._inputs_html())
        self.status = w.HTML(_status_html("info", "Ready."))
        self.result = w.HTML()
        self.output = w.Output()  # what the code prints, and the run warning

        self.run_mock_button = self._button(
            "Run on mock",
            self.run_on_mock,
            "",
            "Run the code on the mocks (an owner's pending request: in the Datasite's sandbox).",
        )
        self.run_private_button: w.Button | None = None
        self.approve_button: w.Button | None = None
        self.deny_button: w.Button | None = None
        self.deposit_button: w.Button | None = None
        # Every input carries a visible label (ipywidgets renders `description` as a <label>
        # tied to the input), so screen readers name it and it survives a filled-in value.
        self.deny_reason = w.Textarea(
            description="Deny reason",
            placeholder="Why you deny it (required; the scientist reads it)",
            tooltip="Why you deny it: required, and the scientist reads it",
            layout=w.Layout(width="60%", height="3.5em"),
            style=_LABEL_STYLE,
        )
        self.deposit_input = w.Text(
            description="Result to deposit",
            placeholder="variable name or Python literal; empty = last private run's result",
            tooltip="A variable of this kernel or a Python literal (empty: the last private run)",
            layout=w.Layout(width="60%"),
            style=_LABEL_STYLE,
        )
        # Shown only when the code launches nested jobs: approves them as listed in the review.
        self.approve_nested = w.Checkbox(
            value=False,
            description="Also approve the nested jobs shown above, for this request only",
            indent=False,
            layout=w.Layout(width="auto"),
        )
        # Filled by ask_to_approve: what approving means, and Confirm / Cancel.
        self.confirm_box = w.VBox()
        self.confirm_button: w.Button | None = None
        controls: list[w.Widget] = []
        if self.is_owner:
            self.run_private_button = self._button(
                "Run on private",
                self.run_on_private,
                "warning",
                "Run the code in THIS kernel on the private data (nothing is shared).",
            )
            self.approve_button = self._button(
                "Approve",
                self.ask_to_approve,
                "success",
                "Approve: the code may run on private data (you confirm first).",
            )
            self.deny_button = self._button("Deny", self.deny, "danger", "Deny, with a reason.")
            self.deposit_button = self._button(
                "Deposit result",
                self.deposit,
                "info",
                "Approve, and give the scientist this result as the code's output.",
            )
            controls = [
                *([self.approve_nested] if self.request.nested else []),
                w.HBox([self.run_mock_button, self.run_private_button, self.approve_button]),
                self.confirm_box,
                w.HBox([self.deny_reason, self.deny_button]),
                w.HBox([self.deposit_input, self.deposit_button]),
            ]
        else:
            controls = [
                w.HBox([self.run_mock_button]),
                w.HTML(
                    '<p class="muted">Only the Datasite\'s owners run code on private data, '
                    "approve, deny or deposit results.</p>"
                ),
            ]
        self._render()
        super().__init__(
            [
                self.header,
                self.code_view,
                self.inputs_view,
                *controls,
                self.status,
                self.result,
                self.output,
            ],
            **kwargs,
        )

    def _button(self, label: str, action: Callable[[], None], style: str, tooltip: str) -> w.Button:
        button = w.Button(description=label, button_style=style, tooltip=tooltip)
        button.on_click(lambda _button: action())
        return button

    # --- rendering ---------------------------------------------------------------------------
    def _render(self) -> None:
        """Header, code and policies from the request as last fetched (they change on actions)."""
        r = self.request
        code = r.code
        project = (r.project or {}).get("name")
        requester = f"{r.requesting_user_name} <{r.requesting_user_email}>"
        self.header.value = display.card(
            f"Request: {code.service_func_name}",
            [
                ("Status", r.status.name),
                ("Requested by", requester),
                ("Institution", r.requesting_user_institution),
                ("Project", project),
                ("Reason", r.reason),
                ("Deny reason", r.deny_reason),
                ("Decided by", r.decided),
                ("Requested at", r.request_time),
                ("Datasite", r.requested_on),
                ("Sandbox", r.sandbox),
                ("Id", r.id),
            ],
            kind="Code request",
        )
        policy = code.output_policy
        policies = display.table(
            ["Input policy", "Output policy", "Runs on private data used", "Code status"],
            [
                [
                    code.input_policy["type"],
                    policy.describe(),
                    code.runs_used,
                    code.status,
                ]
            ],
        )
        self.code_view.value = (
            f'<div class="jsyft"><h4>Code</h4>{display.code_html(code.raw_code)}'
            f"{policies_html(code)}{environment_html(code._model)}"
            f"{display.findings_html(code.findings)}{nested_html(r.nested)}"
            f"<h4>Policies</h4>{policies}</div>"
        )
        self._sync_buttons()

    def _sync_buttons(self) -> None:
        """A decision cannot be taken twice: Approve is off once approved, Deny becomes Revoke."""
        if self.approve_button is None or self.deny_button is None:
            return
        status = self.request.status
        approved = status == RequestStatus.APPROVED
        self.approve_button.disabled = approved
        self.approve_button.tooltip = (
            f"Already approved by {self.request.decided}; Revoke withdraws it."
            if approved
            else "Approve: the code may run on private data (you confirm first)."
        )
        self.deny_button.description = "Revoke" if approved else "Deny"
        self.deny_button.disabled = status == RequestStatus.REJECTED
        self.deny_button.tooltip = (
            "Revoke the approval, with a reason: the code may not run any more."
            if approved
            else "Deny, with a reason."
        )

    def _inputs_html(self) -> str:
        code = self.request.code
        policy = code.input_policy["inputs"]
        params = [p for p in code.parameters if p != "datasite"] or list(policy)
        if not params:
            return '<div class="jsyft"><h4>Inputs</h4><p class="muted">No inputs.</p></div>'
        rows = []
        for param in params:
            spec = policy.get(param)
            preview = ""
            if spec is None:
                what = "not in the input policy: given by the scientist at run time (mock runs)"
            elif spec["kind"] == "asset":
                asset = self._assets.get(spec["id"])
                what = f"asset {spec.get('name') or spec['id']}"
                if asset is None:
                    preview = '<p class="muted">This asset is not on the Datasite any more.</p>'
                elif not asset.has_mock:
                    preview = '<p class="muted">Published without a mock.</p>'
                else:
                    preview = self._mock_preview(asset)
            elif spec["kind"] == "type":
                what = f"any {spec['type']} the scientist gives at run time"
            else:
                what = "constant"
                preview = f"<pre>{display.esc(spec.get('preview', ''))}</pre>"
            rows.append(
                f"<tr><td>{display.esc(param)}</td><td>{display.esc(what)}</td>"
                f"<td>{preview}</td></tr>"
            )
        return (
            '<div class="jsyft"><h4>Inputs</h4><table><thead><tr><th>Parameter</th>'
            "<th>Input</th><th>Mock preview (first rows)</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></div>"
        )

    def _mock_preview(self, asset: RemoteAsset) -> str:
        try:
            return display.value_html(asset._preview("mock", rows=5), max_rows=5)
        except SyftException as exc:
            return f'<p class="muted">No preview: {display.esc(exc)}</p>'

    # --- actions -----------------------------------------------------------------------------
    def _act(self, action: Callable[[], str]) -> None:
        """Run one action; its message, or its error, goes to the status line."""
        self.status.value = _status_html("info", "Working...")
        # Catch inside the Output context: in a kernel it would show (and swallow) a traceback.
        with self.output:
            try:
                kind, message = "ok", action()
            except SyftException as exc:
                kind, message = "error", str(exc)
            except Exception as exc:  # the submitted code failing in a run: say so, no traceback
                kind, message = "error", f"{type(exc).__name__}: {exc}"
        self.status.value = _status_html(kind, message)
        self._render()
        if self._on_change is not None:
            self._on_change(self)

    def _arguments(self, private: bool) -> dict[str, Any]:
        """The call's arguments from the input policy: assets (mock or private), constants."""
        from ..policies import decode_inline

        code = self.request.code
        kwargs: dict[str, Any] = {}
        for param, spec in code.input_policy["inputs"].items():
            if spec["kind"] == "asset":
                asset = self._assets.get(spec["id"])
                if asset is None:
                    raise SyftException(
                        f"The asset for {param!r} is not on this Datasite any more."
                    )
                kwargs[param] = asset if private else asset.mock
            elif spec["kind"] == "constant":
                kwargs[param] = decode_inline(spec["data"])
            else:
                raise SyftException(
                    f"{param!r} is any {spec['type']} the scientist gives at run time, so this "
                    f"button cannot run it: call request.code.run({param}=...) yourself."
                )
        return kwargs

    def run_on_mock(self) -> None:
        def action() -> str:
            code = self.request.code
            # An owner reviews someone else's code: the Datasite's sandbox runs it, not this
            # kernel. A scientist's widget shows their own code, which runs here as usual.
            if self.is_owner and code.status == UserCodeStatus.PENDING.name:
                value = code.run_on_mocks()
                where = "in the Datasite's sandbox"
            else:
                value = code.run(**self._arguments(private=False))
                where = "in this kernel"
            self.result.value = self._result_html("Result on the mocks", value)
            return f"Ran {code.service_func_name} on the mocks {where}."

        self._act(action)

    def run_on_private(self) -> None:
        if not self.is_owner:  # the button is not shown to them; the Datasite refuses anyway
            self.status.value = _status_html("error", "Only owners run code on private data.")
            return

        def action() -> str:
            value = self.request.code.run(**self._arguments(private=True))
            self.last_private_result = value
            self.result.value = self._result_html(
                "Result on the PRIVATE data (not shared: Deposit result sends it)", value
            )
            return (
                f"Ran {self.request.code.service_func_name} on the private data in this kernel. "
                "Leave the deposit field empty to deposit this result."
            )

        self._act(action)

    def ask_to_approve(self) -> None:
        """The Approve button: say what approving means here, then Confirm or Cancel."""
        code = self.request.code
        findings = code.findings
        assets = [
            spec.get("name") or spec["id"]
            for spec in code.input_policy["inputs"].values()
            if spec["kind"] == "asset"
        ]
        points = [
            f"<b>{display.esc(code.service_func_name)}</b> will run on the private data"
            + (f" of {display.esc(', '.join(assets))}" if assets else "")
            + f"; output policy: {display.esc(code.output_policy.describe())}.",
            f"{len(findings)} static-analysis finding(s)"
            + (
                ": " + display.esc("; ".join(f.message[:120] for f in findings[:3]))
                if findings
                else "."
            ),
        ]
        if self.approve_nested.value and self.request.nested:
            points.append(f"Also approves {len(self.request.nested)} nested function(s).")
        self.confirm_button = self._button(
            "Confirm approval", self._confirm_approve, "success", "Approve the request now."
        )
        cancel = self._button("Cancel", self._close_confirm, "", "Keep it pending.")
        summary = "".join(f"<li>{p}</li>" for p in points)
        self.confirm_box.children = [
            w.HTML(f'<div class="jsyft"><p>Approve this request?</p><ul>{summary}</ul></div>'),
            w.HBox([self.confirm_button, cancel]),
        ]

    def _confirm_approve(self) -> None:
        self._close_confirm()
        self.approve()

    def _close_confirm(self) -> None:
        self.confirm_box.children = []
        self.confirm_button = None

    def approve(self) -> None:
        nested = self.approve_nested.value and bool(self.request.nested)
        self._act(lambda: self.request.approve(approve_nested=nested).message)

    def deny(self) -> None:
        reason = self.deny_reason.value.strip()
        if not reason:
            self.status.value = _status_html(
                "error", "Give a reason to deny the request: the scientist reads it."
            )
            return
        self._act(lambda: self.request.deny(reason).message)

    def deposit(self) -> None:
        self._act(lambda: self.request.deposit_result(self._deposit_value()).message)

    def _deposit_value(self) -> Any:
        text = self.deposit_input.value.strip()
        if not text:
            if self.last_private_result is _NOTHING:
                raise SyftException(
                    "Say what to deposit: a notebook variable name or a Python literal. "
                    "Or click Run on private first, and deposit its result with the field empty."
                )
            return self.last_private_result
        if text.isidentifier() and not keyword.iskeyword(text):
            namespace = self._user_namespace()
            if text not in namespace:
                raise SyftException(f"There is no variable named {text!r} in the notebook.")
            return namespace[text]
        try:
            return ast.literal_eval(text)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            raise SyftException(
                f"{text!r} is neither a notebook variable nor a Python literal "
                "(e.g. 42, [0.91, 0.88] or {'accuracy': 0.9})."
            ) from None

    def _user_namespace(self) -> dict[str, Any]:
        if self._namespace is not None:
            return self._namespace
        from IPython import get_ipython

        shell = get_ipython()
        return dict(shell.user_ns) if shell is not None else {}

    @staticmethod
    def _result_html(title: str, value: Any) -> str:
        return (
            f'{display.STYLE}<div class="jsyft"><h4>{display.esc(title)}</h4>'
            f"{display.value_html(value, max_rows=20)}</div>"
        )


class DatasiteReview(w.VBox):
    """Several requests, one :class:`RequestReview` each, in an accordion."""

    def __init__(
        self,
        requests: list[RequestView],
        title: str,
        namespace: dict[str, Any] | None = None,
        **kwargs: Any,
    ):
        self.requests = list(requests)
        assets: dict[str, RemoteAsset] = {}
        for request in {id(r._session): r for r in self.requests}.values():
            assets.update(_assets_by_id(request))
        self.reviews = [
            RequestReview(r, namespace=namespace, assets=assets, on_change=self._retitle)
            for r in requests
        ]
        self.title = w.HTML()
        children: list[w.Widget] = [self.title]
        self.accordion: w.Accordion | None = None
        if self.reviews:
            self.title.value = (
                f'<div class="jsyft"><h3>{display.esc(title)} '
                f'<span class="muted">({len(self.reviews)})</span></h3></div>'
            )
            self.accordion = w.Accordion(
                children=self.reviews, titles=self._titles(), selected_index=0
            )
            children.append(self.accordion)
        else:
            self.title.value = (
                f'<div class="jsyft"><h3>{display.esc(title)}</h3>'
                '<p class="muted">There is nothing to review.</p></div>'
            )
        super().__init__(children, **kwargs)

    def _titles(self) -> tuple[str, ...]:
        """Accordion titles (plain text): function, requester and current status."""
        return tuple(
            f"{r.request.code.service_func_name} — {r.request.requesting_user_email} "
            f"({r.request.status.name})"
            for r in self.reviews
        )

    def _retitle(self, _review: RequestReview) -> None:
        if self.accordion is not None:
            self.accordion.titles = self._titles()


# --- output review ------------------------------------------------------------------------------
PREVIEW_ROWS = 50  # rows of a result the output review shows
MAX_NOTE = 2000  # characters of a release comment or a withhold reason


def _failing_rules(report: Any) -> dict[tuple[str, str], list[str]]:
    """``(row label, column label)`` -> the rules whose failing check names that cell."""
    cells: dict[tuple[str, str], list[str]] = {}
    for check in [] if report is None else report.checks:
        if check.get("outcome") != "fail":
            continue
        for cell in check.get("cells") or []:
            if len(cell) >= 2:
                rules = cells.setdefault((str(cell[0]), str(cell[1])), [])
                if check.get("rule") not in rules:
                    rules.append(str(check.get("rule")))
    return cells


def _table_of(value: Any) -> Any:
    """The value as a pandas table, as the checks see it (None: not a table)."""
    import sys

    pd = sys.modules.get("pandas")  # a table value means pandas is imported already
    np = sys.modules.get("numpy")
    if pd is None:
        return None
    try:
        if isinstance(value, pd.DataFrame):
            return value
        if isinstance(value, pd.Series):
            return value.to_frame(name=value.name if value.name is not None else "value")
        if np is not None and isinstance(value, np.ndarray) and value.ndim in (1, 2):
            return pd.DataFrame(value)
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            return pd.DataFrame(value)
    except Exception:  # a preview never fails: the plain value instead
        return None
    return None


def preview_html(value: Any, report: Any, rows: int = PREVIEW_ROWS) -> tuple[str, int, int]:
    """A result's first ``rows`` rows as an HTML table, every cell a failing check names
    outlined, marked "!" and titled "fails: <rule>" (not colour alone); every string escaped.
    Returns the HTML, the failing cells shown and those the preview does not show."""
    from ..disclosure.report import label  # the checks' own names for rows and columns

    failing = _failing_rules(report)
    frame = _table_of(value)
    if frame is None:
        body = display.value_html(value, max_rows=rows)
        return f'<div class="jsyft">{body}</div>', 0, len(failing)
    head = frame.iloc[:rows]
    columns = [label(c) for c in head.columns]
    single = len(columns) == 1  # a Series: the checks may name its one column otherwise
    shown: set[tuple[str, str]] = set()
    lines = []
    for index, row in zip(head.index, head.itertuples(index=False), strict=True):
        name = label(index)
        cells = []
        for column, cell in zip(columns, row, strict=True):
            rules = failing.get((name, column))
            if rules is None and single:
                match = [key for key in failing if key[0] == name]
                rules = failing[match[0]] if match else None
                if match:
                    shown.add(match[0])
            elif rules is not None:
                shown.add((name, column))
            text = display.esc(cell)
            if rules is None:
                cells.append(f"<td>{text}</td>")
            else:
                fails = display.esc("fails: " + ", ".join(rules))
                cells.append(
                    f'<td class="jsyft-cell-fail" title="{fails}" aria-label="{text}, {fails}" '
                    'style="outline:2px solid var(--jp-error-color1, #b02a37);outline-offset:-2px">'
                    f"<strong>!</strong> {text}</td>"
                )
        lines.append(f"<tr><th>{display.esc(name)}</th>{''.join(cells)}</tr>")
    header = "<th></th>" + "".join(f"<th>{display.esc(c)}</th>" for c in columns)
    shape = f"{frame.shape[0]} rows x {frame.shape[1]} columns"
    if frame.shape[0] > rows:
        shape += f"; the first {rows} shown"
    outside = len(failing) - len(shown)
    marked = (
        f"{len(shown)} cell(s) failing checks outlined and marked !"
        + (f"; {outside} more outside the rows shown" if outside else "")
        if failing
        else "no cell fails a check"
    )
    html_table = (
        f'<div class="jsyft"><p class="muted">{display.esc(shape)}; {display.esc(marked)}</p>'
        f"<table><thead><tr>{header}</tr></thead><tbody>{''.join(lines)}</tbody></table></div>"
    )
    return html_table, len(shown), outside


class OutputReview(w.VBox):
    """One output of a run on private data, for its reviewing owner: who ran what, the
    disclosure report, a preview of the value with the failing cells marked, and Release,
    Release with suppression and Withhold (a reason required). Buttons are disabled once it is
    decided; errors show in the widget. It calls the :class:`OutputView`'s methods, so the
    Datasite enforces every rule (e.g. nobody decides on their own request's output)."""

    def __init__(
        self,
        output: OutputView,
        on_change: Callable[[OutputReview], None] | None = None,
        **kwargs: Any,
    ):
        self.output = output
        self._on_change = on_change
        self.header = w.HTML()
        self.report_view = w.HTML()
        self.preview = w.HTML()
        self.status = w.HTML(_status_html("info", "Ready."))
        self.failing_cells = 0
        self.comment = w.Textarea(
            description="Release comment",
            placeholder="Comment for the scientist (optional; they read it)",
            tooltip="A comment for the scientist: optional, they read it",
            layout=w.Layout(width="60%", height="3.5em"),
            style=_LABEL_STYLE,
        )
        self.reason = w.Textarea(
            description="Withhold reason",
            placeholder="Why you withhold it (required; the scientist reads it)",
            tooltip="Why you withhold it: required, and the scientist reads it",
            layout=w.Layout(width="60%", height="3.5em"),
            style=_LABEL_STYLE,
        )
        self.release_button = self._button(
            "Release", lambda: self.release(False), "success", "Give the result to its requester."
        )
        self.suppress_button = self._button(
            "Release with suppression",
            lambda: self.release(True),
            "warning",
            "Give them the table with the cells failing checks suppressed.",
        )
        self.withhold_button = self._button(
            "Withhold", self.withhold, "danger", "Refuse it, with a reason they read."
        )
        self._load_preview()
        self._render()
        super().__init__(
            [
                self.header,
                self.report_view,
                self.preview,
                w.HBox([self.comment, self.release_button, self.suppress_button]),
                w.HBox([self.reason, self.withhold_button]),
                self.status,
            ],
            **kwargs,
        )

    @staticmethod
    def _button(label: str, action: Callable[[], None], style: str, tooltip: str) -> w.Button:
        button = w.Button(description=label, button_style=style, tooltip=tooltip)
        button.on_click(lambda _button: action())
        return button

    # --- rendering ---------------------------------------------------------------------------
    def _load_preview(self) -> None:
        """The value as computed, with the failing cells marked (owners may read it)."""
        o = self.output
        if not o.has_result:
            self.preview.value = '<div class="jsyft"><p class="muted">No result.</p></div>'
            return
        try:
            try:
                value = o.original()
            except SyftException:
                value = o.get()  # a Datasite without the original route
            body, shown, outside = preview_html(value, o.report)
            self.failing_cells = shown + outside
            self.preview.value = f'{display.STYLE}<div class="jsyft"><h4>Result</h4></div>{body}'
        except SyftException as exc:
            self.preview.value = _status_html("error", f"No preview: {exc}")

    def _render(self) -> None:
        o = self.output
        fields: list[tuple[str, Any]] = [
            ("State", o.state),
            ("Disclosure checks", o.outcome or "none ran"),
            ("Run by", o.user),
            ("Ran at", o.created_at),
            ("Request", o.request_id),
            ("Requester's justification", getattr(o, "justification", "")),
        ]
        needed = getattr(o, "votes_needed", 1) or 1
        if needed > 1:
            fields.append(("Votes", f"{getattr(o, 'votes_cast', 0)} of {needed} votes"))
            fields.append(("Your vote", getattr(o, "my_vote", "")))
            if getattr(o, "conflict", False):
                fields.append(("Conflict", "the votes disagree: either reviewer may change theirs"))
        if o.state != "held":
            verb = "Released" if o.state == "released" else "Withheld"
            if o.state == "released" and getattr(o, "suppressed", False):
                verb += f" with suppression ({getattr(o, 'suppressed_cells', 0)} cells)"
            fields.append((verb + " by", f"{o.decided_by or 'an owner'} at {o.decided_at or ''}"))
            fields.append(("Comment" if o.state == "released" else "Reason", o.decision_note))
        self.header.value = display.card(f"Output: {o.service_func_name}", fields, kind="Output")
        report = o.report
        none = '<p class="muted">No disclosure checks ran.</p>'
        checks = none if report is None else report.html()
        self.report_view.value = f'<div class="jsyft"><h4>Disclosure checks</h4>{checks}</div>'
        held = o.state == "held"
        self.release_button.disabled = not held
        self.suppress_button.disabled = not held or self.failing_cells == 0
        self.withhold_button.disabled = not held
        self.comment.disabled = not held
        self.reason.disabled = not held

    # --- actions -----------------------------------------------------------------------------
    def _act(self, action: Callable[[], str]) -> None:
        self.status.value = _status_html("info", "Working...")
        try:
            kind, message = "ok", action()
        except SyftException as exc:
            kind, message = "error", str(exc)
            # someone else may have decided meanwhile: show where it stands now
            with contextlib.suppress(SyftException):
                self.output.refresh()
        self.status.value = _status_html(kind, message)
        self._render()
        if self._on_change is not None:
            self._on_change(self)

    def release(self, suppress: bool = False) -> None:
        comment = self.comment.value.strip()
        if len(comment) > MAX_NOTE:
            self.status.value = _status_html(
                "error", f"The comment is {len(comment)} characters long: keep it to {MAX_NOTE}."
            )
            return
        if suppress:
            self._act(lambda: self.output.release(comment, suppress=True).message)
        else:
            self._act(lambda: self.output.release(comment).message)

    def withhold(self) -> None:
        reason = self.reason.value.strip()
        if not reason:
            self.status.value = _status_html(
                "error", "Give a reason to withhold it: the scientist reads it."
            )
            return
        if len(reason) > MAX_NOTE:
            self.status.value = _status_html(
                "error", f"The reason is {len(reason)} characters long: keep it to {MAX_NOTE}."
            )
            return
        self._act(lambda: self.output.withhold(reason).message)


def review(target: Any, namespace: dict[str, Any] | None = None) -> w.VBox:
    """``sy.review(client)``: every pending request on the Datasite, one review each.

    Also takes one request (``sy.review(request)``, the same as ``request.review()``) or a list
    of them (``sy.review(client.requests.get_all())``), or an output (``sy.review(output)``, the
    same as ``output.review()``).
    """
    from ..client.outputs import OutputView

    if isinstance(target, RequestView):
        return RequestReview(target, namespace=namespace)
    if isinstance(target, OutputView):
        return OutputReview(target)
    if isinstance(target, DatasiteClient):
        pending = target.requests.get_all_pending()
        title = f"Pending requests on {target.name}"
        if not pending:
            title = f"No pending requests on {target.name}"
        return DatasiteReview(pending, title, namespace=namespace)
    if isinstance(target, (list, tuple, RequestCollection)):
        items = list(target)
        if all(isinstance(r, RequestView) for r in items):
            title = "Requests" if items else "No requests to review"
            return DatasiteReview(items, title, namespace=namespace)
    raise SyftException(
        "sy.review takes a Datasite client (sy.review(client)), a request, a list of "
        f"requests, or an output (client.outputs.held[0]); not {type(target).__name__}."
    )
