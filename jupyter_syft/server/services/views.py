"""Store rows as wire models (``jupyter_syft.wire.models``): what the API answers."""

from __future__ import annotations

from datetime import datetime, timezone

from ...roles import ServiceRole
from ...wire import models as wire
from .. import models


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value.isoformat(timespec="seconds") + "Z"


def user_view(user: models.User) -> wire.User:
    return wire.User(
        id=user.id,
        email=user.email,
        name=user.name,
        role=ServiceRole(user.role).name,
        institution=user.institution,
        website=user.website,
        mock_execution_permission=user.mock_execution_permission,
        disabled=user.disabled,
        created_at=iso(user.created_at),
    )


def person(user: models.User | None) -> wire.Person | None:
    """Who made something (None: their account is gone)."""
    return wire.Person(name=user.name, email=user.email) if user else None
