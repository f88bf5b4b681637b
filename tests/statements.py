"""The SQL statements a piece of work sends, for the tests that bound how many it takes."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import event


@contextlib.contextmanager
def statements(engine: Any, keep: Callable[[str], bool] = lambda _: True) -> Iterator[list[str]]:
    """The statements ``engine`` runs inside the block (those ``keep`` accepts), in order."""
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if keep(statement):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)
