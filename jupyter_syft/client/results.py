"""What a run gives back: a pointer to a result on the Datasite, or a mock run's value, each
with its disclosure report (``result.report``).

``get()`` gives the value in both cases, as PySyft's pointers do, unless the Datasite holds the
result for its owners' output review (or they withheld it): then ``get()`` raises
``OutputHeld``, which says so and carries the report (rule, cells, reason), never the value.
Plain Python (no pydantic): ``import jupyter_syft`` loads it through the Syft function decorator.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from .. import display
from ..action_object import ActionObject
from ..errors import SyftException, SyftSuccess
from . import eager

if TYPE_CHECKING:
    from ..wire import models
    from .session import Session

_NOT_LOADED = object()
RELEASED, HELD, WITHHELD = "released", "held", "withheld"
CELLS_SHOWN = 12  # cells listed per check in text and HTML (the report keeps up to 50)
REPORT_STYLE = (
    "<style>.jsyft tr.jsyft-fail td{background:rgba(220,53,69,.12)}"
    ".jsyft tr.jsyft-review td{background:rgba(255,193,7,.15)}"
    ".jsyft .jsyft-cell-fail{color:#b02a37;font-weight:600;background:rgba(220,53,69,.12)}"
    "</style>"
)


class DisclosureReportView:
    """The automatic disclosure checks of one result: ``outcome`` (pass, fail or review: the
    worst check's), the rule set (``rules``, ``rules_digest``) and each check (rule, outcome,
    reason, cells). It never holds a value of the data."""

    def __init__(self, report: Mapping[str, Any] | Any, note: str = ""):
        data = report.to_json() if hasattr(report, "to_json") else dict(report)
        self._data: dict[str, Any] = data
        self.note = note  # where the checks ran, when not on the Datasite's run itself
        self.outcome: str = str(data.get("outcome", "review"))
        self.rules: str = str(data.get("rules", ""))
        self.rules_digest: str = str(data.get("rules_digest", ""))
        self.checks: list[dict[str, Any]] = [dict(c) for c in data.get("checks") or []]

    @property
    def passed(self) -> bool:
        return self.outcome == "pass"

    @property
    def failing(self) -> list[dict[str, Any]]:
        """The checks that did not pass (fail or review)."""
        return [c for c in self.checks if c.get("outcome") != "pass"]

    @property
    def failing_cells(self) -> list[list[str]]:
        """``[row, column]`` labels of every cell a failing check names."""
        return [
            list(cell) for c in self.checks if c.get("outcome") == "fail" for cell in c["cells"]
        ]

    def to_json(self) -> dict[str, Any]:
        return dict(self._data)

    def summary(self) -> str:
        fails = sum(c.get("outcome") == "fail" for c in self.checks)
        reviews = sum(c.get("outcome") == "review" for c in self.checks)
        counts = f"{len(self.checks)} check{'s' if len(self.checks) != 1 else ''}"
        if fails or reviews:
            counts += f": {fails} failed, {reviews} to review"
        return f"Disclosure checks: {self.outcome.upper()} ({counts}; rules {self.rules})"

    def __repr__(self) -> str:
        return self._text(self.checks)

    def brief(self) -> str:
        """The summary and the checks that did not pass (for a result's repr)."""
        return self._text(self.failing)

    def _text(self, checks: list[dict[str, Any]]) -> str:
        lines = [self.summary()] + ([f"  ({self.note})"] if self.note else [])
        for check in checks:
            lines.append(f"  [{check.get('outcome')}] {check.get('rule')}: {check.get('reason')}")
            if check.get("cells"):
                lines.append(f"      cells: {_cells_text(check['cells'])}")
        return "\n".join(lines)

    __str__ = __repr__

    def html(self) -> str:
        """The report as HTML, for embedding in another repr (every string escaped)."""
        rows = []
        for check in self.checks:
            outcome = str(check.get("outcome", ""))
            rows.append(
                f'<tr class="jsyft-{display.esc(outcome)}">'
                f"<td>{display.esc(check.get('rule'))}</td>"
                f"<td><strong>{display.esc(outcome)}</strong></td>"
                f"<td>{display.esc(check.get('reason'))}</td>"
                f"<td>{_cells_html(check.get('cells') or [], outcome == 'fail')}</td></tr>"
            )
        head = "".join(f"<th>{h}</th>" for h in ("Rule", "Outcome", "Reason", "Cells"))
        table = (
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
            if rows
            else '<p class="muted">No check applied.</p>'
        )
        digest = display.esc(self.rules_digest[:12])
        note = f'<p class="muted">{display.esc(self.note)}</p>' if self.note else ""
        return (
            f"{REPORT_STYLE}<div><strong>{display.esc(self.summary())}</strong> "
            f'<span class="muted">{digest}</span>{note}{table}</div>'
        )

    def _repr_html_(self) -> str:
        return f'{display.STYLE}<div class="jsyft">{self.html()}</div>'


def _cells_text(cells: Sequence[Sequence[Any]]) -> str:
    shown = ", ".join("(" + ", ".join(str(x) for x in cell) + ")" for cell in cells[:CELLS_SHOWN])
    more = len(cells) - CELLS_SHOWN
    return shown + (f" and {more} more" if more > 0 else "")


def _cells_html(cells: Sequence[Sequence[Any]], failing: bool) -> str:
    css = ' class="jsyft-cell-fail"' if failing else ""
    shown = ", ".join(
        f"<span{css}>(" + ", ".join(display.esc(x) for x in cell) + ")</span>"
        for cell in cells[:CELLS_SHOWN]
    )
    more = len(cells) - CELLS_SHOWN
    return shown + (f" and {more} more" if more > 0 else "")


def state_word(state: Any) -> str:
    """A ``ReleaseState`` (or its value) as its word: released, held, withheld."""
    return str(getattr(state, "value", state))


def report_of(execution: models.Execution | None) -> DisclosureReportView | None:
    report = None if execution is None else execution.report
    return None if report is None else DisclosureReportView(report)


class OutputHeld(SyftException):
    """A result the Datasite keeps back: held for its owners' output review, or withheld by
    them (``reason`` says why). ``report`` is its disclosure report; there is no value."""

    def __init__(
        self,
        name: str,
        state: str,
        report: DisclosureReportView | None,
        reason: str = "",
        execution_id: str = "",
    ):
        self.state = state
        self.report = report
        self.reason = reason
        self.execution_id = execution_id  # the run: result.justify(...) / job.justify(...)
        what = f"The result of {name}" if name else "This result"
        if state == WITHHELD:
            message = (
                f"{what} was withheld after output review by the Datasite's owners"
                + (f": {reason}" if reason else ".")
                + "\nYou may change the code and submit it again."
            )
        else:
            message = (
                f"{what} is held for output review: the Datasite's owners decide whether it is "
                "released to you. Its value stays on the Datasite until then. To tell them why "
                "it should be released: result.justify('...') (or job.justify('...'))."
            )
        if report is not None:
            message += "\n\n" + repr(report)
        super().__init__(message, status=403, code="output_" + state)

    def _repr_html_(self) -> str:
        head, _, _ = self.public_message.partition("\n\n")
        alert = SyftException(head)._repr_html_()
        report = "" if self.report is None else self.report.html()
        return f'{display.STYLE}<div class="jsyft">{alert}{report}</div>'


class ResultPointer:
    """A result on the Datasite. ``get()`` downloads it (once), if it is released to you."""

    def __init__(self, session: Session, execution: models.Execution, name: str = ""):
        self._session = session
        self._execution = execution
        self._name = name
        self._value: Any = _NOT_LOADED

    @property
    def execution(self) -> dict[str, Any]:
        """The run that made it, as on the wire (``stdout`` only where you may see it)."""
        return self._execution.to_json()

    @property
    def id(self) -> str:
        return self._execution.id

    @property
    def on_private_data(self) -> bool:
        return self._execution.on_private_data

    @property
    def release(self) -> str:
        """``released``, ``held`` (for the owners' output review) or ``withheld``."""
        return state_word(self._execution.release)

    @property
    def syft_action_data(self) -> Any:
        """PySyft's name for the value: ``get()``."""
        return self.get()

    def request(self, *args: Any, **kwargs: Any) -> NoReturn:
        """PySyft's ``pointer.request(client)``: refused with the Syft-function way."""
        eager.refuse("pointer.request(...)")

    @property
    def held(self) -> bool:
        """Whether the Datasite keeps the value back (held or withheld), as last seen."""
        return self.release != RELEASED

    @property
    def report(self) -> DisclosureReportView | None:
        """The disclosure checks run on it next to the data (None: none ran, e.g. a deposit)."""
        return report_of(self._execution)

    def refresh(self) -> ResultPointer:
        """Ask the Datasite where the result stands now (an owner may have released it)."""
        current = self._session.api.execution(self._execution.code_id, self.id)
        if current is not None:
            self._execution = current
        return self

    def _refusal(self) -> OutputHeld:
        return OutputHeld(
            self._name,
            self.release,
            self.report,
            self._execution.release_note,
            execution_id=self.id,
        )

    def justify(self, text: str) -> SyftSuccess:
        """Tell the owners reviewing this held result why it should be released (ACRO's
        exception request): they read ``text`` (4,000 characters at most) with it; a new
        justification replaces the last. Only the scientist who ran it, only while it is held."""
        self._session.api.justify_output(self.id, text)
        return SyftSuccess(
            f"Justification sent: the owners reviewing {self._name or 'this result'} read it."
        )

    def get(self) -> Any:
        if self._value is _NOT_LOADED:
            if self._kept_back():
                raise self._refusal()
            self._value = self._session.api.execution_result(self.id)
        return self._value

    def _kept_back(self) -> bool:
        """Held or withheld as last seen and still when asked, for someone other than an owner
        (owners may read any result: they hold the data)."""
        if self._value is not _NOT_LOADED or not self.held or self._session.role.is_owner:
            return False
        return self.refresh().held

    def __repr__(self) -> str:
        if self._kept_back():
            return f"Pointer ({self.release}):\n{self._refusal()}"
        state = f" ({self.release}: you read it as an owner)" if self.held else ""
        text = f"Pointer{state}:\n{self.get()!r}"
        report = self.report
        return text if report is None else f"{text}\n\n{report.brief()}"

    def __str__(self) -> str:
        if self._kept_back():
            return str(self._refusal())
        return str(self.get())

    def _repr_html_(self) -> str:
        if self._kept_back():
            return self._refusal()._repr_html_()
        value = self.get()
        to_html = getattr(value, "to_html", None)
        body = (
            str(to_html(max_rows=20))
            if callable(to_html)
            else f"<pre>{display.esc(repr(value))}</pre>"
        )
        report = self.report
        extra = "" if report is None else report.html()
        return f"{display.STYLE}<div class='jsyft'><strong>Pointer</strong>{body}{extra}</div>"


class MockResult:
    """What an emulated run returns; ``get()`` gives the value, as with a Datasite result.
    ``report``: the disclosure checks run on it here, on the mocks (None if they could not)."""

    def __init__(self, value: Any, report: Mapping[str, Any] | None = None, where: str = ""):
        self._value = value
        note = (
            "checked in this kernel on the mocks, with the default rules; the Datasite checks "
            "its own runs with its rule set and the real group sizes"
            if where == "mocks"
            else ""
        )
        self.report = None if report is None else DisclosureReportView(report, note=note)

    def get(self) -> Any:
        return self._value

    def __repr__(self) -> str:
        text = f"Pointer (mock run):\n{self._value!r}"
        return text if self.report is None else f"{text}\n\n{self.report.brief()}"

    def __str__(self) -> str:
        return str(self._value)

    def _repr_html_(self) -> str:
        extra = "" if self.report is None else self.report.html()
        return (
            f"{display.STYLE}<div class='jsyft'><strong>Pointer</strong> "
            f"<span class='muted'>(mock run: no private data used)</span>"
            f"{display.value_html(self._value, max_rows=20)}{extra}</div>"
        )


ActionObject.register(ResultPointer)  # isinstance(pointer, sy.ActionObject), as in PySyft
