"""What users see when something succeeds or fails: PySyft's names, clearer messages.

``SyftException`` is raised; the ``Syft*`` message classes are returned or displayed.
All of them render as short text and as escaped HTML alert boxes.
"""

from __future__ import annotations

import contextlib
import html
from collections.abc import Iterator
from typing import Any


class SyftException(Exception):
    """A failure the user can act on. ``public_message`` says what went wrong and what to do."""

    def __init__(self, public_message: str = "", *, status: int | None = None, code: str = ""):
        super().__init__(public_message)
        self.public_message = public_message
        self.status = status
        self.code = code

    def __str__(self) -> str:
        return self.public_message

    def _render_traceback_(self) -> list[str]:
        # IPython calls this instead of printing a traceback through our internals.
        return [f"\x1b[31m{type(self).__name__}\x1b[0m: {self.public_message}"]

    def _repr_html_(self) -> str:
        return _alert("SyftException", self.public_message, "#f8d7da", "#721c24")


class _Message:
    kind = "SyftMessage"
    colors = ("#e2e3e5", "#383d41")

    def __init__(self, message: str = "", value: Any = None):
        self.message = message
        self.value = value

    def __repr__(self) -> str:
        return f"{self.kind}: {self.message}"

    __str__ = __repr__

    def _repr_html_(self) -> str:
        return _alert(self.kind, self.message, *self.colors)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, _Message)
            and type(other) is type(self)
            and other.message == self.message
        )

    __hash__ = None  # type: ignore[assignment]


class SyftSuccess(_Message):
    kind = "SyftSuccess"
    colors = ("#d4edda", "#155724")


class SyftError(_Message):
    """Displayed, not raised, where PySyft does the same (e.g. ``asset.data`` without access)."""

    kind = "SyftError"
    colors = ("#f8d7da", "#721c24")

    def __bool__(self) -> bool:
        return False


class SyftWarning(_Message):
    kind = "SyftWarning"
    colors = ("#fff3cd", "#856404")


class SyftInfo(_Message):
    kind = "SyftInfo"
    colors = ("#d1ecf1", "#0c5460")


def _alert(kind: str, message: str, background: str, color: str) -> str:
    body = html.escape(message).replace("\n", "<br>")
    return (
        f'<div class="jsyft-alert" style="padding:6px 10px;border-radius:4px;'
        f'background:{background};color:{color}"><strong>{kind}:</strong> {body}</div>'
    )


def show(message: _Message | SyftException) -> None:
    """Display a message in a notebook, or print it elsewhere."""
    try:
        from IPython import get_ipython

        if get_ipython() is not None:
            from IPython.display import display

            display(message)
            return
    except ImportError:  # pragma: no cover - IPython is always there with Jupyter
        pass
    print(message)


@contextlib.contextmanager
def raises(expected: Any = SyftException, show: bool = False) -> Iterator[None]:
    """Assert that the block raises ``expected`` (an exception class or instance), as in PySyft.

    With an instance, its public message must appear in the raised one.
    """
    expected_type: type[BaseException] = expected if isinstance(expected, type) else type(expected)
    expected_msg = (
        "" if isinstance(expected, type) else str(getattr(expected, "public_message", ""))
    )
    try:
        yield
    except expected_type as exc:
        if expected_msg and expected_msg not in str(exc):
            raise AssertionError(
                f"Expected a message containing {expected_msg!r}, got {str(exc)!r}"
            ) from exc
        if show:
            print(f"{type(exc).__name__}: {exc}")
        return
    raise AssertionError(f"Expected {expected_type.__name__} to be raised, but nothing was raised")
