"""Waiting for a condition in tests: a bound that only catches a hang, never a speed check."""

import time

HANG = 60  # seconds


def wait_for(predicate, what: str, timeout: float = HANG):
    """Poll ``predicate`` until it returns something truthy (returned), or fail saying ``what``
    never happened."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
