"""Plain-JSON views of store rows, shaped for the API."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from ...roles import ServiceRole
from .. import models


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value.isoformat(timespec="seconds") + "Z"


def user_view(user: models.User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": ServiceRole(user.role).name,
        "institution": user.institution,
        "website": user.website,
        "mock_execution_permission": user.mock_execution_permission,
        "disabled": user.disabled,
        "created_at": iso(user.created_at),
    }
