"""What a reviewer sees of a code's environment: its locked packages, its lock hash, and the
packages added since the scientist's previous version of the same function.

The previous version is the same scientist's latest earlier submission of the function (by
``service_func_name``). Its environment's pins are compared with this one's as the
environments are now (a rebuild changes both); the default environment's pins are the
Datasite's installed distributions (``execution.default_lock``). A package is flagged when
the previous environment did not have it, or had it at another version.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from ....env_lock import added, parse_pins, pin_lines
from ... import models
from ...environments import is_default

MAX_LISTED = 500  # pins listed per code (a lock of scikit-learn has ~10; 500 is plenty)


def _environment_row(session: Any, name: str) -> models.Environment | None:
    return session.exec(
        select(models.Environment).where(models.Environment.name == name.strip())
    ).first()


def _pins(session: Any, name: str) -> tuple[dict[str, str], str] | None:
    """(pins, lock hash) of the environment ``name`` now; None if it has no lock (yet)."""
    if is_default(name):
        from ...execution import default_lock

        text, digest = default_lock.get()
        return parse_pins(text), digest
    row = _environment_row(session, name)
    if row is None or not row.lock:
        return None
    return parse_pins(row.lock), row.lock_hash


def _previous(session: Any, code: models.UserCode) -> models.UserCode | None:
    return session.exec(
        select(models.UserCode)
        .where(
            models.UserCode.user_id == code.user_id,
            models.UserCode.service_func_name == code.service_func_name,
            col(models.UserCode.submit_time) < code.submit_time,
            models.UserCode.id != code.id,
        )
        .order_by(col(models.UserCode.submit_time).desc())
        .limit(1)
    ).first()


def environment_fields(session: Any, code: models.UserCode) -> dict[str, Any]:
    """``environment_lock_hash``, ``environment_packages`` and ``environment_added`` of the
    wire ``Code`` (the default environment lists no packages: it is the Datasite's Python)."""
    if is_default(code.environment):
        from ...execution import default_lock

        return {"environment_lock_hash": default_lock.get()[1]}
    current = _pins(session, code.environment)
    if current is None:  # building, failed or deleted: nothing to list
        return {}
    pins, digest = current
    fields: dict[str, Any] = {
        "environment_lock_hash": digest,
        "environment_packages": pin_lines(pins)[:MAX_LISTED],
    }
    previous = _previous(session, code)
    if previous is not None:
        before = _pins(session, previous.environment)
        if before is not None:
            fields["environment_added"] = added(before[0], pins)[:MAX_LISTED]
            fields["environment_previous"] = previous.environment or "default"
    return fields
