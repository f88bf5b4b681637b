"""The calls a Datasite hands to its thread pool, for the tests that bound how many a route makes."""

from __future__ import annotations

from typing import Any


def counting_handoffs(datasite: Any, monkeypatch: Any) -> list[Any]:
    """Each callable submitted to ``datasite``'s executor from now on (the list grows as it
    runs; ``monkeypatch`` puts the executor back after the test)."""
    executor = datasite.executor
    submitted: list[Any] = []
    original = executor.submit

    def counting(fn: Any, *args: Any, **kwargs: Any) -> Any:
        submitted.append(fn)
        return original(fn, *args, **kwargs)

    monkeypatch.setattr(executor, "submit", counting)
    return submitted
