"""Ok and Err: result wrappers the format encodes as tags ``ok`` / ``err``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Ok:
    """A successful result, as sent back by the server."""

    value: Any


@dataclass(frozen=True)
class Err:
    """A failed result; ``value`` is usually a message or a dict describing the error."""

    value: Any
