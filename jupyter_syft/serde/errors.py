"""SerdeError and the helpers that word its messages."""

from __future__ import annotations

import json
from typing import Any


class SerdeError(ValueError):
    """A value cannot be encoded, or bytes are not a valid jupyter_syft payload."""


def bad(detail: str) -> SerdeError:
    return SerdeError(
        f"Malformed jupyter_syft payload: {detail}. The data is corrupted or was not produced "
        "by jupyter_syft.serde; ask the sender to encode it again with jupyter_syft."
    )


def snippet(node: Any) -> str:
    try:
        text = json.dumps(node)
    except (TypeError, ValueError, RecursionError):
        text = repr(node)
    return text if len(text) <= 80 else text[:77] + "..."


def truncated(expected: int, got: int) -> SerdeError:
    return SerdeError(
        f"jupyter_syft payload is truncated: expected {expected} bytes, got {got}. The "
        "transfer was probably interrupted; send it again."
    )
