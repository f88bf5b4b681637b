"""The lock hash of the Datasite's default environment (its own interpreter and packages).

Runs in a named environment record that environment's lock hash; runs in the default one
record the sha256 of the Datasite's installed distributions (``env_lock.distributions_lock``:
``name==version`` lines, sorted), so an audit can still tell two package sets apart (e.g.
before and after a ``pip install -U`` of the Datasite). Reading the metadata of ~200
distributions takes ~0.1 s: it is done once per process, in a background thread started with
the Datasite (``start``), never on a run's path unless the first run comes before it is done.
"""

from __future__ import annotations

import threading

_lock = threading.Lock()
_thread: threading.Thread | None = None
_value: tuple[str, str] | None = None


def _compute() -> None:
    global _value
    from ...env_lock import distributions_lock

    try:
        value = distributions_lock()
    except Exception:  # unreadable metadata: the runs say so rather than fail
        value = ("", "unknown")
    with _lock:
        _value = value


def start() -> None:
    """Compute it in the background (idempotent)."""
    global _thread
    with _lock:
        if _thread is not None or _value is not None:
            return
        _thread = threading.Thread(target=_compute, name="syft-default-lock", daemon=True)
        _thread.start()


def get() -> tuple[str, str]:
    """``(lock text, lock hash)`` of the default environment; waits for ``start``'s thread."""
    start()
    assert _thread is not None or _value is not None
    if _thread is not None:
        _thread.join()
    assert _value is not None
    return _value


def lock_hash() -> str:
    return get()[1]
