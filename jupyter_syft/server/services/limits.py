"""Size limits on what callers send, in one place, so every route and service agrees.

Bodies are refused from their Content-Length before a byte of them is read; texts are checked
before any work is done with them. Messages never echo more than ``ECHO`` characters of input.
"""

from __future__ import annotations

from typing import Any

from .errors import BadRequest

# --- request bodies (bytes) ----------------------------------------------------------------------
ANONYMOUS_JSON_BODY = 16 << 10  # callers without a session: log-in, sign-up, guest sessions
JSON_BODY = 1 << 20  # callers with a session
VALUE_JSON_BODY = 16 << 20  # routes that carry a caller's own values inline (code, runs, requests)
JSON_DEPTH = 64  # nesting of objects and arrays in a JSON body

# --- texts (characters) --------------------------------------------------------------------------
NAME = 200  # names: projects, datasets, assets, functions, people, contributors
SHORT_TEXT = 2_000  # one-line texts: institutions, websites, URLs, citations, contributor fields
TEXT = 64_000  # free texts: descriptions, summaries, reasons, notes, settings texts
CODE = 256 << 10  # a function's source
OUTPUT = 1 << 20  # printed output deposited with a result
ECHO = 80  # how much of a caller's input an error message may repeat


def clip(value: Any, limit: int = ECHO) -> str:
    """``repr(value)``, cut to ``limit`` characters, for messages and logs."""
    text = repr(str(value)[: limit + 1])  # never repr() the whole of a huge input
    return text if len(text) <= limit else text[: limit - 1] + "…"


def check_text(value: str, field: str, limit: int) -> str:
    """``value`` if it is at most ``limit`` characters; a 400 that says so otherwise."""
    if len(value) > limit:
        raise BadRequest(
            f"{field} is too long: {len(value)} characters, {limit} at most. Shorten it."
        )
    return value


def text_field(
    payload: dict[str, Any], field: str, limit: int, default: str = "", what: str | None = None
) -> str:
    """An optional text field of ``payload``: text of at most ``limit`` characters, or 400."""
    value = payload.get(field)
    if value is None:
        return default
    if not isinstance(value, str):
        raise BadRequest(f"{what or field} must be text, not {type(value).__name__}.")
    return check_text(value, what or field, limit)
