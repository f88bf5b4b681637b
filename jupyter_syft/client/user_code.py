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
from .environment_display import environment_html, environment_lines
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
    environment = Field()  # the Datasite environment it runs in ("": the default one)

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
        return policy_class_of(self._model.input_policy.to_json(), code_input_class)

    @property
    def output_policy_type(self) -> type[OutputPolicy]:
        return policy_class_of(self._model.output_policy.to_json(), code_output_class)

    @property
    def policy_code(self) -> str:
        """The source of its custom policy classes as submitted ("" if it has none): what the
        reviewer approves along with the function; it runs only in the Datasite's sandbox."""
        return "\n".join(
            custom_source(p) for p in (self.input_policy, self.output_policy) if p.is_custom
        )

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
        inputs = self._model.input_policy.to_json()
        result = self._output_status_shown()
        return (
            f"UserCode {self.service_func_name} (status {self.status})\n"
            + (f"  latest result: {result}\n" if result else "")
            + f"  input policy: {inputs['type']} {list(inputs['inputs'])}\n"
            f"  output policy: {self.output_policy.describe()}\n"
            + "".join(f"{line}\n" for line in environment_lines(self._model))
            + "\n"
            f"{self.raw_code}" + (f"\n\n{self.policy_code}" if self.policy_code else "")
        )

    def _repr_html_(self) -> str:
        policy = self._model.input_policy.to_json()
        inputs = [(k, describe_input(v)) for k, v in policy["inputs"].items()]
        user = self._model.user
        return display.card(
            self.service_func_name,
            [
                ("Id", self.id),
                ("Status", self.status),
                ("Submitted by", f"{user.name} <{user.email}>" if user else " <>"),
                ("Input policy", policy["type"]),
                ("Output policy", f"{self.output_policy.describe()}, used {self.runs_used}"),
                ("Latest result", self._output_status_shown()),
            ],
            extra_html=display.table(["Input", "Value"], inputs)
            + display.code_html(self.raw_code)
            + policies_html(self)
            + environment_html(self._model)
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
        if self.is_custom:
            return custom_source(self)
        return self._policy_class().policy_code

    @property
    def is_custom(self) -> bool:
        """A scientist's own policy class (``sy.CustomInputPolicy``/``CustomOutputPolicy``)."""
        return bool(self._wire.get("code"))

    @property
    def class_name(self) -> str:
        return str(self._wire.get("class_name") or self.kind)

    @property
    def init_kwargs(self) -> dict[str, Any]:
        """A custom policy's keyword arguments as submitted (JSON values)."""
        return dict(self._wire.get("init_kwargs") or {})

    def _policy_class(self) -> type[Any]:
        raise NotImplementedError

    def _sandbox_only(self, what: str) -> SyftException:
        return SyftException(
            f"{self.class_name}.{what} is the scientist's code: it runs only in the Datasite's "
            "sandbox, with each run on private data, never in this kernel. Read it with "
            "policy_code; owners see its state after the latest run in .state."
        )

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
        """Whether every asset it names still exists on the Datasite (as you may see it).
        A custom policy's own is_valid runs only in the sandbox, with each run."""
        ids = self._asset_ids()
        if not ids:
            return True
        present = DatasetCollection(self._code._session).assets_by_id()
        return all(i in present for i in ids)

    def __repr__(self) -> str:
        inputs = ", ".join(f"{k}={describe_input(v)}" for k, v in self._wire["inputs"].items())
        args = ", ".join(f"{k}={v!r}" for k, v in self.init_kwargs.items())
        return f"{self.class_name}({', '.join(filter(None, (inputs, args)))})"


class BoundOutputPolicy(_BoundPolicy):
    """``code.output_policy``: how many runs on private data the code has, and has used."""

    def __init__(self, code: UserCodeView):
        super().__init__(code, code._model.output_policy.to_json())

    def _policy_class(self) -> type[Any]:
        return code_output_class(self.kind)

    @property
    def limit(self) -> int | None:
        """Its run limit; None for a custom policy (its is_valid decides, in the sandbox)."""
        return None if self.is_custom else int(self._wire["limit"])

    @property
    def state(self) -> Any:
        """A custom policy's state after the latest run on private data (JSON values; None
        before the first). Computed next to the private data, so shown to owners only."""
        if not self.is_custom:
            return None
        if "state" not in self._wire and not self._code._session.role.is_owner:
            raise SyftException(
                "A custom policy's state is computed next to the private data: only the "
                "Datasite's owners read it."
            )
        return self._wire.get("state")

    def count(self) -> int:
        """Runs on private data so far (asked of the Datasite now)."""
        return self._code._session.api.code_item(self._code.id).runs_used

    def runs_left(self) -> int:
        if self.limit is None:
            raise self._sandbox_only("is_valid")
        return max(self.limit - self.count(), 0)

    def is_valid(self) -> bool:
        """Whether the code may run on private data again (runs left > 0). A custom policy
        decides that itself, in the sandbox, at each run: asking here is refused."""
        return self.runs_left() > 0

    def apply_to_output(self, *args: Any, **kwargs: Any) -> Any:
        raise self._sandbox_only("apply_to_output")

    def public_state(self) -> Any:
        raise self._sandbox_only("public_state")

    def describe(self) -> str:
        """In words: ``OutputPolicyExecuteOnce (limit 1)`` or the custom class's call."""
        if self.is_custom:
            return f"{self.kind} {self!r}"
        return f"{self.kind} (limit {self.limit})"

    def __repr__(self) -> str:
        used = self._code.runs_used
        if self.is_custom:
            args = ", ".join(f"{k}={v!r}" for k, v in self.init_kwargs.items())
            return f"{self.class_name}({args})"
        limit = self.limit or 0
        return f"{self.kind}(limit={limit}, used {used}, {max(limit - used, 0)} left)"


def custom_source(policy: _BoundPolicy) -> str:
    return f"# {policy.kind} {policy.class_name}, as submitted\n{policy._wire.get('code', '')}"


def policies_html(code: UserCodeView) -> str:
    """The custom policy classes of ``code``, highlighted and escaped (for reviewers)."""
    parts = []
    for policy in (code.input_policy, code.output_policy):
        if policy.is_custom:
            parts.append(
                f"<h4>{display.esc(policy.kind)} {display.esc(policy.class_name)}</h4>"
                + display.code_html(str(policy._wire.get("code", "")))
            )
    return "".join(parts)


def policy_class_of(wire: dict[str, Any], lookup: Callable[[str], type[Any]]) -> type[Any]:
    """The policy class of a submitted policy; for a custom one, a stand-in subclass of its
    base named like it, whose ``policy_code`` is the source as submitted (nothing of the
    scientist's code is executed here)."""
    base = lookup(str(wire["type"]))
    if not wire.get("code"):
        return base
    name = str(wire.get("class_name") or base.__name__)
    source = f"# {name}, as submitted\n{wire['code']}"
    return type(name, (base,), {"policy_code": source, "__module__": "syft.user"})


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
