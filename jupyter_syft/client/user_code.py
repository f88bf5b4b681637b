"""Submitted code as the Datasite holds it (``request.code``, ``client.code[i]``): source,
policies, findings, status, run history, and the reviewer's runs of it (on the mocks in the
Datasite's sandbox, or, after a warning, in this kernel)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .. import display
from ..errors import SyftException
from ..policies import INPUT_POLICIES, OUTPUT_POLICIES, InputPolicy, OutputPolicy
from .datasets import DatasetCollection, RemoteAsset
from .local_run import run_in_this_kernel
from .results import DisclosureReportView, ResultPointer, state_word
from .statuses import CodeStatus
from .view import Field, View

if TYPE_CHECKING:
    from ..analysis import Finding
    from ..wire import models


class UserCodeView(View):
    _model: models.Code
    mock_report: DisclosureReportView | None = None  # of the latest run_on_mocks() here

    id = Field()
    service_func_name = Field()
    raw_code = Field()
    code = Field()
    parameters = Field()
    runs_used = Field()
    submit_time = Field()
    worker_pool_name = Field()

    @property
    def status(self) -> CodeStatus:
        """``approved``, ``pending`` or ``denied``: a word that compares equal to those words
        (any case) and to ``sy.UserCodeStatus``; ``code.status.approved`` is a bool."""
        return CodeStatus(self._model.status)

    @property
    def input_policy(self) -> BoundInputPolicy:
        """The input policy as submitted: ``.inputs``, ``.is_valid()`` (its assets still
        exist), ``.assets``; ``input_policy["type"]`` and ``["inputs"]`` read the wire form."""
        return BoundInputPolicy(self)

    @property
    def output_policy(self) -> BoundOutputPolicy:
        """The output policy as submitted: ``.limit``, ``.count()`` (runs on private data
        so far), ``.is_valid()`` (runs left); ``output_policy["limit"]`` reads the wire form."""
        return BoundOutputPolicy(self)

    @property
    def input_policy_type(self) -> type[InputPolicy]:
        return code_input_class(self._model.input_policy.type)

    @property
    def output_policy_type(self) -> type[OutputPolicy]:
        return code_output_class(self._model.output_policy.type)

    @property
    def show_code(self) -> CodeText:
        """The submitted source with a header naming it (PySyft's ``code.show_code``)."""
        user = self._model.user
        by = f" by {user.name} <{user.email}>" if user else ""
        header = f"# Syft function {self.service_func_name}, submitted{by} ({self.status})\n"
        return CodeText(header + self.raw_code)

    @property
    def findings(self) -> list[Finding]:
        from ..analysis import Finding

        return [Finding.from_json(f.to_json()) for f in self._model.findings]

    @property
    def assets(self) -> list[RemoteAsset]:
        """The assets the input policy names (as this client may see them)."""
        ids = {s.id for s in self._model.input_policy.inputs.values() if s.kind == "asset"}
        return [a for a in DatasetCollection(self._session).assets_by_id().values() if a.id in ids]

    @property
    def output_history(self) -> list[dict[str, Any]]:
        """Every run on the Datasite, oldest first: ok/error, on private data or not, and (for
        owners, or for the scientist's own mock runs) what the code printed."""
        return [e.to_json() for e in self._session.api.executions(self.id)]

    @property
    def output_status(self) -> str:
        """Where its latest result from private data stands: "released", "held for output
        review" (with the checks' outcome) or "withheld: <reason>"; "" if none yet."""
        private = [e for e in self._session.api.executions(self.id) if e.on_private_data]
        if not private:
            return ""
        last = private[-1]
        state = state_word(last.release)
        outcome = f" (disclosure checks: {last.report.outcome})" if last.report else ""
        if state == "held":
            return f"held for output review{outcome}"
        if state == "withheld":
            return f"withheld: {last.release_note}" if last.release_note else "withheld"
        return f"released{outcome}"

    def _output_status_shown(self) -> str:
        try:
            return self.output_status
        except SyftException:  # a repr never fails for a history it may not read
            return ""

    def logs(self) -> str:
        """What the latest run printed (stdout, then stderr), where you may see it."""
        history = self.output_history
        if not history:
            return "This code has not run on the Datasite yet."
        last = history[-1]
        if "stdout" not in last:
            return "The latest run was on private data: only the data owner sees its prints."
        return str(last["stdout"] + last["stderr"]).rstrip()

    def run_on_mocks(self) -> Any:
        """Run this code on its assets' mocks in the Datasite's sandbox (owners, and
        scientists allowed mock execution): nothing runs in this kernel. Returns the result."""
        # The Datasite binds each asset to its mock, and says why when it cannot.
        execution = self._session.api.run_on_mocks(self.id)
        if not execution.ok:
            raise SyftException(
                f"Exception encountered while running {self.service_func_name} on the mocks:\n"
                f"{execution.error}"
            )
        pointer = ResultPointer(self._session, execution, name=self.service_func_name)
        self.mock_report = pointer.report  # the disclosure checks, as the real run would get
        return pointer.get()

    def run(self, *args: Any, **kwargs: Any) -> Any:
        """Run the code HERE, in this kernel, on what you pass (assets become their data).

        This executes code someone else wrote with your permissions: read it first.
        """
        return run_in_this_kernel(self.raw_code, self.service_func_name, args, kwargs)

    @property
    def unsafe_function(self) -> Callable[..., Any]:
        return self.run

    def __repr__(self) -> str:
        inputs, output = self._model.input_policy.to_json(), self._model.output_policy.to_json()
        result = self._output_status_shown()
        return (
            f"UserCode {self.service_func_name} (status {self.status})\n"
            + (f"  latest result: {result}\n" if result else "")
            + f"  input policy: {inputs['type']} {list(inputs['inputs'])}\n"
            f"  output policy: {output['type']} (limit {output['limit']})\n\n"
            f"{self.raw_code}"
        )

    def _repr_html_(self) -> str:
        policy = self._model.input_policy.to_json()
        inputs = [(k, describe_input(v)) for k, v in policy["inputs"].items()]
        user = self._model.user
        output = self._model.output_policy.to_json()
        return display.card(
            self.service_func_name,
            [
                ("Id", self.id),
                ("Status", self.status),
                ("Submitted by", f"{user.name} <{user.email}>" if user else " <>"),
                ("Input policy", policy["type"]),
                (
                    "Output policy",
                    f"{output['type']} (limit {output['limit']}, used {self.runs_used})",
                ),
                ("Latest result", self._output_status_shown()),
            ],
            extra_html=display.table(["Input", "Value"], inputs)
            + display.code_html(self.raw_code)
            + display.findings_html(self.findings),
            kind="UserCode",
        )


class CodeText(str):
    """Source code that shows as itself (no quotes), highlighted in a notebook."""

    def __repr__(self) -> str:
        return str.__str__(self)

    def _repr_html_(self) -> str:
        return display.code_html(str(self))


class _BoundPolicy:
    """A submitted function's policy: its wire form, readable as a dict (``policy["type"]``)
    and as attributes, with the policy class's source (``policy_code``)."""

    def __init__(self, code: UserCodeView, wire: dict[str, Any]):
        self._code = code
        self._wire = wire

    @property
    def kind(self) -> str:
        """The policy's name (``ExactMatch``, ``OutputPolicyExecuteOnce``...)."""
        return str(self._wire["type"])

    @property
    def policy_code(self) -> str:
        return self._policy_class().policy_code

    def _policy_class(self) -> type[Any]:
        raise NotImplementedError

    def to_json(self) -> dict[str, Any]:
        return dict(self._wire)

    def __getitem__(self, key: str) -> Any:
        return self._wire[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self._wire.get(key, default)

    def keys(self) -> Any:
        return self._wire.keys()

    def __contains__(self, key: object) -> bool:
        return key in self._wire

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _BoundPolicy):
            return self._wire == other._wire
        if isinstance(other, dict):
            return self._wire == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


class BoundInputPolicy(_BoundPolicy):
    """``code.input_policy``: which inputs the code may run on."""

    def __init__(self, code: UserCodeView):
        super().__init__(code, code._model.input_policy.to_json())

    def _policy_class(self) -> type[Any]:
        return code_input_class(self.kind)

    @property
    def inputs(self) -> dict[str, dict[str, Any]]:
        return dict(self._wire["inputs"])

    @property
    def kwargs(self) -> dict[str, dict[str, Any]]:
        return self.inputs

    def _asset_ids(self) -> list[str]:
        return [s["id"] for s in self._wire["inputs"].values() if s["kind"] == "asset"]

    @property
    def assets(self) -> list[RemoteAsset]:
        return self._code.assets

    def is_valid(self) -> bool:
        """Whether every asset it names still exists on the Datasite (as you may see it)."""
        ids = self._asset_ids()
        if not ids:
            return True
        present = DatasetCollection(self._code._session).assets_by_id()
        return all(i in present for i in ids)

    def __repr__(self) -> str:
        inputs = ", ".join(f"{k}={describe_input(v)}" for k, v in self._wire["inputs"].items())
        return f"{self.kind}({inputs})"


class BoundOutputPolicy(_BoundPolicy):
    """``code.output_policy``: how many runs on private data the code has, and has used."""

    def __init__(self, code: UserCodeView):
        super().__init__(code, code._model.output_policy.to_json())

    def _policy_class(self) -> type[Any]:
        return code_output_class(self.kind)

    @property
    def limit(self) -> int:
        return int(self._wire["limit"])

    def count(self) -> int:
        """Runs on private data so far (asked of the Datasite now)."""
        return self._code._session.api.code_item(self._code.id).runs_used

    def runs_left(self) -> int:
        return max(self.limit - self.count(), 0)

    def is_valid(self) -> bool:
        """Whether the code may run on private data again (runs left > 0)."""
        return self.runs_left() > 0

    def __repr__(self) -> str:
        used = self._code.runs_used
        return f"{self.kind}(limit={self.limit}, used {used}, {max(self.limit - used, 0)} left)"


def code_input_class(kind: str) -> type[InputPolicy]:
    return INPUT_POLICIES.get(kind, InputPolicy)


def code_output_class(kind: str) -> type[OutputPolicy]:
    return OUTPUT_POLICIES.get(kind, OutputPolicy)


def describe_input(spec: dict[str, Any]) -> str:
    """One input of an input policy, in words."""
    if spec["kind"] == "asset":
        return f"asset {spec.get('name') or spec['id']}"
    if spec["kind"] == "type":
        return f"a {spec['type']} of the scientist's choosing"
    return f"constant {spec.get('preview', '')}"
