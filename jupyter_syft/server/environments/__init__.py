"""Environments for user code: uv virtual environments that owners define and runs use.

``builder`` builds them (uv, wheels only by default, locked and hashed, into a temp folder then
renamed into place); ``services/environments.py`` holds the rules; ``resolve`` is what the
execution layer asks: which interpreter and packages a code's environment means.

The default environment (code that names none) is the Datasite's own Python. A code's
``environment`` is stored as written at submission; "" and "default" both mean the default
(``is_default``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .runtime import EnvironmentRuntime

if TYPE_CHECKING:
    from sqlmodel import Session

    from ..store import Store

DEFAULT = "default"
__all__ = ["DEFAULT", "EnvironmentRuntime", "is_default", "resolve"]


def is_default(name: str | None) -> bool:
    """Whether ``name`` (a code's ``environment``) means the Datasite's default environment."""
    return not name or name.strip() in ("", DEFAULT)


def resolve(store_or_session: Store | Session, name: str | None) -> EnvironmentRuntime | None:
    """The runtime of the environment ``name``: ``None`` for the default environment
    ("" or "default": the Datasite's own interpreter and packages).

    Raises ``services.errors.NotFound`` when no environment has that name (deleted since the
    code was submitted), ``services.errors.Unavailable`` when it is not ready (building, or
    its last build failed, with no earlier good build), or its folder is missing on disk. A
    rebuild keeps serving the previous good build until the new one is in place, so a ready
    environment always resolves to a complete folder.
    """
    # Imported here: the execution layer calls this, and services/__init__ imports it.
    from sqlmodel import Session as _Session
    from sqlmodel import select

    from .. import models
    from ..services.errors import NotFound, Unavailable

    if is_default(name):
        return None
    assert name is not None
    name = name.strip()

    def lookup(session: _Session) -> models.Environment | None:
        return session.exec(
            select(models.Environment).where(models.Environment.name == name)
        ).first()

    if isinstance(store_or_session, _Session):
        row = lookup(store_or_session)
    else:
        with store_or_session.session() as session:
            row = lookup(session)
    if row is None:
        raise NotFound(
            f"The environment {name[:64]!r} does not exist (any more) on this Datasite: ask its "
            "owners to create it (client.environments.create(...)), or submit the code again "
            "without environment=, or with one listed in client.environments."
        )
    if not row.prefix or not row.lock_hash:
        what = "is still being built" if row.status == "building" else "failed to build"
        raise Unavailable(
            f"The environment {name!r} {what}; it can run code once it is ready "
            f"(client.environments.get({name!r}).log says how its build went)."
        )
    prefix = Path(row.prefix)
    python = Path(row.python_path)
    site_packages = Path(row.site_packages)
    if not python.exists() or not site_packages.is_dir():
        raise Unavailable(
            f"The environment {name!r} is missing on the Datasite's disk ({prefix}): an owner "
            f"can build it again with client.environments.rebuild({name!r})."
        )
    return EnvironmentRuntime(
        name=row.name,
        prefix=prefix,
        python=python,
        site_packages=site_packages,
        lock_hash=row.lock_hash,
    )
