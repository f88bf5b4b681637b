"""What a run gives back: a pointer to a result on the Datasite, or a mock run's value.

``get()`` gives the value in both cases, as PySyft's pointers do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import display

if TYPE_CHECKING:
    from ..wire import models
    from .session import Session

_NOT_LOADED = object()


class ResultPointer:
    """A result on the Datasite. ``get()`` downloads it (once)."""

    def __init__(self, session: Session, execution: models.Execution):
        self._session = session
        self._execution = execution
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

    def get(self) -> Any:
        if self._value is _NOT_LOADED:
            self._value = self._session.api.execution_result(self.id)
        return self._value

    def __repr__(self) -> str:
        return f"Pointer:\n{self.get()!r}"

    def __str__(self) -> str:
        return str(self.get())

    def _repr_html_(self) -> str:
        value = self.get()
        to_html = getattr(value, "to_html", None)
        body = (
            str(to_html(max_rows=20))
            if callable(to_html)
            else f"<pre>{display.esc(repr(value))}</pre>"
        )
        return f"{display.STYLE}<div class='jsyft'><strong>Pointer</strong>{body}</div>"


class MockResult:
    """What an emulated run returns; ``get()`` gives the value, as with a Datasite result."""

    def __init__(self, value: Any):
        self._value = value

    def get(self) -> Any:
        return self._value

    def __repr__(self) -> str:
        return f"Pointer (mock run):\n{self._value!r}"

    def __str__(self) -> str:
        return str(self._value)

    def _repr_html_(self) -> str:
        return (
            f"{display.STYLE}<div class='jsyft'><strong>Pointer</strong> "
            f"<span class='muted'>(mock run: no private data used)</span>"
            f"{display.value_html(self._value, max_rows=20)}</div>"
        )
