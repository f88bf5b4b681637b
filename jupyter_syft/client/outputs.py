"""``client.outputs``: results of runs on private data, for the owners' output review.

Each is an ``OutputView``: where it stands (held, released, withheld), its disclosure report
(failing cells marked), the request and code it came from, its value (owners only), and the
decisions: ``release(comment=)`` or ``withhold(reason)``. Scientists see the same state on their
own results (``result.get()`` says held, with the report): see ``results.py``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .. import display
from ..errors import SyftException, SyftSuccess
from .collection import Collection
from .requests import RequestView
from .results import RELEASED, DisclosureReportView, state_word
from .user_code import UserCodeView
from .view import Field, View

if TYPE_CHECKING:
    from ..wire import models
    from .session import Session

FAILING_CELL = '<td class="jsyft-cell-fail">'
_ORDER = {"held": 0, "withheld": 1, "released": 2}  # the table shows what needs a decision first


class OutputView(View):
    _model: models.Output

    id = Field("execution_id")
    execution_id = Field()
    code_id = Field()
    request_id = Field()
    service_func_name = Field()
    has_result = Field()
    ok = Field()
    created_at = Field()
    decided_at = Field()
    decision_note = Field()  # the release comment, or why it was withheld
    suppressed = Field()  # released with the failing cells suppressed
    suppressed_cells = Field()
    votes_needed = Field()  # 2: two owners' votes must agree (setting release_reviewers)
    votes_cast = Field()
    conflict = Field()  # two votes disagree: it stays held, either reviewer may vote again
    justification = Field()  # the requester's: why it should be released
    justified_at = Field()

    @property
    def my_vote(self) -> str:
        """Your vote (``release``, ``release (suppressed)`` or ``withhold``), "" if none."""
        vote = self._model.my_vote
        return "" if vote is None else _vote_words(vote)

    @property
    def votes(self) -> list[dict[str, Any]]:
        """Everyone's votes, once they are visible (decided, or in conflict); [] before."""
        return [v.to_json() for v in self._model.votes]

    @property
    def state(self) -> str:
        """``held`` (waiting for an owner), ``released`` or ``withheld``."""
        return state_word(self._model.state)

    @property
    def user(self) -> str:
        """Who ran it: ``Name <email>``."""
        user = self._model.user
        return "" if user is None else f"{user.name} <{user.email}>"

    @property
    def decided_by(self) -> str:
        who = self._model.decided_by
        return "" if who is None else f"{who.name} <{who.email}>"

    @property
    def report(self) -> DisclosureReportView | None:
        """The disclosure checks run on it next to the data (None: none ran)."""
        report = self._model.report
        return None if report is None else DisclosureReportView(report)

    @property
    def outcome(self) -> str:
        report = self._model.report
        return "" if report is None else report.outcome

    # --- navigation --------------------------------------------------------------------------
    @property
    def request(self) -> RequestView | None:
        """The code request it answers (None: the code ran without one)."""
        if not self.request_id:
            return None
        return RequestView(self._session, self._session.api.request(self.request_id))

    @property
    def code(self) -> UserCodeView:
        return UserCodeView(self._session, self._session.api.code_item(self.code_id))

    def get(self) -> Any:
        """The value (owners may read it whatever its state)."""
        if not self.has_result:
            raise SyftException(f"The run of {self.service_func_name} left no result to show.")
        return self._session.api.execution_result(self.execution_id)

    @property
    def value(self) -> Any:
        return self.get()

    def original(self) -> Any:
        """The value as computed, before suppression (the same as ``get()`` if nothing was
        suppressed); owners only."""
        if not self.has_result:
            raise SyftException(f"The run of {self.service_func_name} left no result to show.")
        return self._session.api.output_original(self.execution_id)

    def preview(self, rows: int = 20) -> ValuePreview:
        """The value's first ``rows`` rows as a table, the cells failing checks name marked
        (in a notebook; the value as computed is downloaded, owners only)."""
        return ValuePreview(self.original(), self.report, rows)

    def refresh(self) -> OutputView:
        self._model = self._session.api.output(self.execution_id)
        return self

    def review(self) -> Any:
        """A review widget (ipywidgets): the report, a preview with the failing cells marked,
        and Release / Release with suppression / Withhold buttons (owners)."""
        import importlib  # the notebook layer is imported only when asked for (as requests.py)

        return importlib.import_module("jupyter_syft.notebook.review").OutputReview(self)

    # --- decisions ---------------------------------------------------------------------------
    def release(self, comment: str = "", suppress: bool = False) -> SyftSuccess:
        """Give the result to its requester; ``comment`` is shown to them. ``suppress=True``:
        give them the table with the cells its failing checks name made missing (NaN), its
        margins recomputed and secondary suppression applied (``disclosure.suppress``); you
        still read the value as computed with ``output.original()``. With two reviewers
        (``votes_needed`` 2) this is your vote: released once another owner agrees."""
        self._model = self._session.api.release_output(self.execution_id, comment or None, suppress)
        return SyftSuccess(self._outcome("released"))

    def withhold(self, reason: str) -> SyftSuccess:
        """Refuse the result; the requester reads ``reason`` (and may change and resubmit).
        With two reviewers this is your vote: withheld once another owner agrees."""
        self._model = self._session.api.withhold_output(self.execution_id, reason)
        return SyftSuccess(self._outcome("withheld"))

    def _outcome(self, verb: str) -> str:
        what = f"Output of {self.service_func_name} ({self.execution_id})"
        if self.state == "held":
            if self.conflict:
                return (
                    f"Vote recorded: {what} stays held, the votes disagree. Read them with "
                    "output.votes; either of you may vote again."
                )
            return (
                f"Vote recorded ({self.votes_cast} of {self.votes_needed}): {what} is "
                "decided when another owner's vote agrees."
            )
        if self.state == "withheld":
            return f"{what} withheld."
        cells = f", {self.suppressed_cells} cell(s) suppressed" if self.suppressed else ""
        return f"{what} released to {self.user or 'its requester'}{cells}."

    # --- display -----------------------------------------------------------------------------
    def _fields(self) -> list[tuple[str, Any]]:
        return [
            ("Execution", self.execution_id),
            ("State", self.state),
            ("Disclosure checks", self.outcome),
            ("Run by", self.user),
            ("Ran at", self.created_at),
            ("Request", self.request_id),
            ("Code", self.code_id),
            ("Decided by", self.decided_by),
            ("Decided at", self.decided_at),
            ("Comment" if self.state == RELEASED else "Reason", self.decision_note),
            ("Suppressed cells", self.suppressed_cells if self.suppressed else None),
            ("Votes", self._votes_line()),
            ("Your vote", self.my_vote),
            ("Justification", self.justification),
            ("Justified at", self.justified_at),
        ]

    def _votes_line(self) -> str:
        if self.votes_needed < 2:
            return ""
        line = f"{self.votes_cast} of {self.votes_needed}"
        if self.conflict:
            line += " (they disagree: either reviewer may vote again)"
        shown = "; ".join(
            f"{_person(v.reviewer)}: {_vote_words(v)}" + (f" ({v.note})" if v.note else "")
            for v in self._model.votes
        )
        return f"{line}: {shown}" if shown else line

    def __repr__(self) -> str:
        fields = "".join(f"\n  {k}: {v}" for k, v in self._fields() if v not in (None, ""))
        report = self.report
        tail = "" if report is None else "\n\n" + repr(report)
        hint = (
            "\n\nSee its value with output.get(); decide with output.release(comment=...), "
            "output.release(suppress=True) (a table: its failing cells made missing) or "
            "output.withhold(reason=...)."
            if self.state == "held"
            else ""
        )
        return f"Output of {self.service_func_name}{fields}{tail}{hint}"

    def _repr_html_(self) -> str:
        report = self.report
        extra = (
            '<p class="muted">No disclosure checks ran.</p>' if report is None else report.html()
        )
        if self.state == "held":
            extra += (
                '<p class="muted">See its value with <code>output.get()</code>; decide with '
                "<code>output.release(comment=...)</code>, "
                "<code>output.release(suppress=True)</code> (a table: its failing cells made "
                "missing) or <code>output.withhold(reason=...)</code>.</p>"
            )
        return display.card(
            f"Output: {self.service_func_name}", self._fields(), extra_html=extra, kind="Output"
        )


def _review_words(o: OutputView) -> str:
    """The listing's short word on the review: votes, conflict, justification, suppression."""
    words = []
    if o.state == "held" and o.votes_needed > 1:
        words.append("votes disagree" if o.conflict else f"{o.votes_cast}/{o.votes_needed} votes")
    if o.state == "held" and o.justification:
        words.append("justified")
    if o.suppressed:
        words.append(f"{o.suppressed_cells} cell(s) suppressed")
    return ", ".join(words)


def _vote_words(vote: Any) -> str:
    decision = str(getattr(vote.decision, "value", vote.decision))
    return f"{decision} (suppressed)" if vote.suppress else decision


def _person(who: Any) -> str:
    return "someone" if who is None else f"{who.name} <{who.email}>"


class ValuePreview:
    """A result's first rows, shown with the cells that failing checks name marked."""

    def __init__(self, value: Any, report: DisclosureReportView | None, rows: int = 20):
        self.value = value
        self.report = report
        self.rows = rows

    def _marked(self) -> set[tuple[str, str]]:
        return {(str(r), str(c)) for r, c, *_ in (self.report.failing_cells if self.report else [])}

    def __repr__(self) -> str:
        marked = len(self._marked())
        return f"{self.value!r}\n\n({marked} cell(s) named by failing checks)"

    def _repr_html_(self) -> str:
        frame = _as_frame(self.value)
        if frame is None:
            body = display.value_html(self.value, max_rows=self.rows)
        else:
            from ..disclosure.report import label  # the checks' own names for rows and columns

            marked = self._marked()
            head = frame.head(self.rows)
            columns = [label(c) for c in head.columns]
            header = "<th></th>" + "".join(f"<th>{display.esc(c)}</th>" for c in columns)
            lines = []
            for index, row in zip(head.index, head.itertuples(index=False), strict=True):
                name = label(index)
                cells = "".join(
                    (FAILING_CELL if (name, col) in marked else "<td>")
                    + f"{display.esc(cell)}</td>"
                    for col, cell in zip(columns, row, strict=True)
                )
                lines.append(f"<tr><th>{display.esc(name)}</th>{cells}</tr>")
            shape = f"{frame.shape[0]} rows x {frame.shape[1]} columns"
            body = (
                f'<p class="muted">{display.esc(shape)}; marked: cells failing checks name</p>'
                f"<table><thead><tr>{header}</tr></thead><tbody>{''.join(lines)}</tbody></table>"
            )
        report = "" if self.report is None else self.report.html()
        return f'{display.STYLE}<div class="jsyft">{body}{report}</div>'


def _as_frame(value: Any) -> Any:
    """The value as a pandas table, as the checks see it (None: not a table)."""
    import sys

    pd = sys.modules.get("pandas")  # a table value means pandas is imported already
    if pd is None:
        return None
    try:
        if isinstance(value, pd.DataFrame):
            return value
        if isinstance(value, pd.Series):
            return value.to_frame(name=value.name if value.name is not None else "value")
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            return pd.DataFrame(value)
    except Exception:  # a preview never fails: the plain repr instead
        return None
    return None


class OutputCollection(Collection[OutputView]):
    """``client.outputs`` (owners): every result of a run on private data, held ones first;
    ``.held``, ``.released``, ``.withheld``; by position, or by execution id."""

    title = "Outputs"
    headers = ("Function", "State", "Checks", "Review", "Run by", "Ran at", "Execution")

    def __init__(self, session: Session, state: str | None = None):
        # Listed at once: a scientist or guest gets the Datasite's refusal here.
        self._state = state
        super().__init__(session)

    def _fetch(self) -> Iterable[OutputView]:
        items = [OutputView(self._session, o) for o in self._session.api.outputs(self._state)]
        # Held first (they wait for a decision), then withheld, then released; oldest first.
        return sorted(items, key=lambda o: _ORDER.get(o.state, 3))

    def _row(self, o: OutputView) -> list[Any]:
        return [
            o.service_func_name,
            o.state,
            o.outcome,
            _review_words(o),
            o.user,
            o.created_at,
            o.execution_id,
        ]

    def _find(self, key: str) -> OutputView:
        for item in self._items:
            if item.execution_id == key:
                return item
        return OutputView(self._session, self._session.api.output(key))

    @property
    def held(self) -> OutputCollection:
        """Results waiting for an owner's decision."""
        return OutputCollection(self._session, "held")

    @property
    def released(self) -> OutputCollection:
        return OutputCollection(self._session, "released")

    @property
    def withheld(self) -> OutputCollection:
        return OutputCollection(self._session, "withheld")

    def __repr__(self) -> str:
        if not self._items:
            return f"No {self._state or ''} outputs.".replace("  ", " ")
        return super().__repr__()
