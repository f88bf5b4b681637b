"""Submitted code as the Datasite holds it (``request.code``, ``client.code[i]``): source,
policies, findings, status, run history, and the reviewer's runs of it (on the mocks in the
Datasite's sandbox, or, after a warning, in this kernel)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .. import display
from ..errors import SyftException
from .datasets import DatasetCollection, RemoteAsset
from .local_run import run_in_this_kernel
from .results import DisclosureReportView, ResultPointer, state_word
from .statuses import UserCodeStatus
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
    def status(self) -> str:
        """``PENDING``, ``APPROVED`` or ``DENIED`` (PySyft's ``UserCodeStatus`` names)."""
        return UserCodeStatus.from_wire(self._model.status).name

    @property
    def input_policy(self) -> dict[str, Any]:
        """``{"type": ..., "inputs": {parameter: {"kind": "asset" | "type" | "constant",
        ...}}}``, as on the wire."""
        return self._model.input_policy.to_json()

    @property
    def output_policy(self) -> dict[str, Any]:
        """``{"type": ..., "limit": ...}``, as on the wire."""
        return self._model.output_policy.to_json()

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
        inputs, output = self.input_policy, self.output_policy
        result = self._output_status_shown()
        return (
            f"UserCode {self.service_func_name} (status {self.status})\n"
            + (f"  latest result: {result}\n" if result else "")
            + f"  input policy: {inputs['type']} {list(inputs['inputs'])}\n"
            f"  output policy: {output['type']} (limit {output['limit']})\n\n"
            f"{self.raw_code}"
        )

    def _repr_html_(self) -> str:
        inputs = [(k, describe_input(v)) for k, v in self.input_policy["inputs"].items()]
        user = self._model.user
        output = self.output_policy
        return display.card(
            self.service_func_name,
            [
                ("Id", self.id),
                ("Status", self.status),
                ("Submitted by", f"{user.name} <{user.email}>" if user else " <>"),
                ("Input policy", self.input_policy["type"]),
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


def describe_input(spec: dict[str, Any]) -> str:
    """One input of an input policy, in words."""
    if spec["kind"] == "asset":
        return f"asset {spec.get('name') or spec['id']}"
    if spec["kind"] == "type":
        return f"a {spec['type']} of the scientist's choosing"
    return f"constant {spec.get('preview', '')}"
