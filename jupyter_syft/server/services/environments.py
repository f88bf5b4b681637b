"""Environments for user code: owners define them, scientists pick one (or ask for one).

An environment is a uv virtual environment on the Datasite (``server/environments/``), built
from PEP 508 requirements only (no pip options, URLs or paths), from wheels only unless the
owner allows source builds, from the package index the Datasite's settings name. Its resolved
versions are locked and hashed; runs use it through ``environments.resolve``.

Everyone logged in may list them (a scientist needs the names and the lock); only owners
create, rebuild or delete one and read its build log. Scientists ask for one with an
environment request, which owners approve (that builds it) or deny.
"""

from __future__ import annotations

import builtins
import logging
import re
import shutil
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from ...wire import models as wire
from ...wire.enums import Decision, EnvironmentStatus
from .. import models
from ..environments import DEFAULT, is_default
from ..environments.builder import BuildResult, BuildSpec, EnvironmentBuilder
from ..store import Store
from . import limits, paging
from .actor import Actor
from .audit import AuditLog
from .errors import BadRequest, Conflict, Forbidden, NotFound
from .paging import PageParams, preload
from .settings import SettingsService
from .views import iso, person

log = logging.getLogger("jupyter_syft.server.environments")

NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
MAX_PACKAGES = 100
MAX_SPEC = 200  # characters of one requirement
PYTHON_RE = re.compile(r"3\.\d{1,2}(\.\d{1,3})?")
CREATE_HOW = 'client.environments.create(name="stats", packages=["statsmodels==0.14.*"])'


class EnvironmentService:
    def __init__(self, store: Store, audit: AuditLog, settings: SettingsService, root: Path):
        self.store = store
        self.audit = audit
        self.settings = settings
        self.builder = EnvironmentBuilder(root, on_progress=self._progress)
        # create/rebuild decide "start a build or join the one going on" one at a time
        self._mutex = threading.Lock()

    # --- owners ---------------------------------------------------------------------------------
    def create(self, actor: Actor, payload: wire.EnvironmentCreate) -> wire.Environment:
        """Start building a new environment (its status is ``building`` until it is ready or
        failed). The same definition asked for again while it exists is that one (a second
        call joins its build); a different one under a taken name is a 409."""
        actor.require_owner("create environments")
        name = environment_name(payload.name)
        packages = requirements(payload.packages)
        python = python_version(payload.python)
        with self._mutex, self.store.session() as session:
            self.store.lock(session, "environments")
            row = _row(session, name)
            if row is not None:
                if (list(row.packages), row.python, row.allow_sdist) == (
                    packages,
                    python,
                    payload.allow_sdist,
                ):
                    return _view(row, actor)
                raise Conflict(
                    f"An environment named {name!r} already exists with other packages: choose "
                    f"another name, or delete it first (client.environments.delete({name!r}))."
                )
            row = models.Environment(
                name=name,
                packages=packages,
                python=python,
                allow_sdist=payload.allow_sdist,
                status=EnvironmentStatus.BUILDING.value,
                progress="queued",
                build_id=models.new_id(),
                created_by=actor.user_id or "",
            )
            session.add(row)
            try:
                session.commit()
            except IntegrityError:  # another Datasite process sharing the database
                raise Conflict(f"An environment named {name!r} was created meanwhile.") from None
            self._start(row)
        self.audit.record(
            actor, "environment.create", "environment", row.id, name=name, packages=packages
        )
        return _view(row, actor)

    def rebuild(self, actor: Actor, name: str) -> wire.Environment:
        """Build it again (e.g. to pick up new releases allowed by its requirements); a build
        of it going on is joined, not repeated. Runs keep using the previous build until the
        new one is in place; its folder stays until the next build, so runs started in it
        finish there."""
        actor.require_owner("rebuild environments")
        name = environment_name(name)
        with self._mutex, self.store.session() as session:
            self.store.lock(session, "environments")
            row = self._get(session, name)
            if self.builder.running(name) is not None:
                return _view(row, actor)
            row.build_id = models.new_id()
            row.status = EnvironmentStatus.BUILDING.value
            row.progress = "queued"
            row.message = ""
            row.updated_at = models.utcnow()
            session.add(row)
            session.commit()
            self._start(row)
        self.audit.record(actor, "environment.rebuild", "environment", row.id, name=name)
        return _view(row, actor)

    def delete(self, actor: Actor, name: str) -> wire.Ok:
        """Remove it, and its folder. Refused while pending or approved code names it: that
        code would have nothing to run in."""
        actor.require_owner("delete environments")
        name = environment_name(name)
        with self._mutex, self.store.session() as session:
            self.store.lock(session, "environments")
            row = self._get(session, name)
            users = session.exec(
                select(models.UserCode.service_func_name)
                .where(models.UserCode.environment == name)
                .where(
                    col(models.UserCode.status).in_(
                        [Decision.PENDING.value, Decision.APPROVED.value]
                    )
                )
                .limit(6)
            ).all()
            if users:
                shown = ", ".join(limits.clip(u, 60) for u in users[:5])
                more = " and more" if len(users) > 5 else ""
                raise Conflict(
                    f"The environment {name!r} is in use: pending or approved code runs in it "
                    f"({shown}{more}). Deny that code's requests first, or keep the environment."
                )
            if self.builder.running(name) is not None:
                raise Conflict(
                    f"The environment {name!r} is being built: delete it once the build ends."
                )
            session.delete(row)
            session.commit()
        _remove_builds(self.builder.root, name, keep=set())
        self.audit.record(actor, "environment.delete", "environment", row.id, name=name)
        return wire.Ok(ok=True)

    # --- everyone logged in -----------------------------------------------------------------------
    def list(self, actor: Actor, page: PageParams | None = None) -> wire.Page[wire.Environment]:
        """One page of the environments, oldest first (see ``paging``); without logs."""
        _require_reader(actor)
        with self.store.session() as session:

            def views(rows: Sequence[models.Environment]) -> builtins.list[wire.Environment]:
                return [_view(row, actor, with_log=False) for row in rows]

            return paging.page(
                session,
                select(models.Environment),
                "environments",
                col(models.Environment.created_at),
                col(models.Environment.id),
                page,
                views,
            )

    def get(self, actor: Actor, name: str) -> wire.Environment:
        """One environment; owners also get its build log."""
        _require_reader(actor)
        name = environment_name(name)
        with self.store.session() as session:
            return _view(self._get(session, name), actor, with_log=True)

    # --- environment requests ---------------------------------------------------------------------
    def request(
        self, actor: Actor, payload: wire.EnvironmentRequestCreate
    ) -> wire.EnvironmentRequest:
        """A scientist asks for an environment (or packages added to one); owners decide."""
        actor.require_user("ask for an environment")
        if actor.is_guest:
            raise Forbidden("Guests cannot ask for environments; register an account and log in.")
        packages = requirements(payload.packages)
        reason = payload.reason.strip()
        if not reason:
            raise BadRequest("Say why you need these packages: reason=...")
        limits.check_text(reason, "The reason", limits.TEXT)
        name = environment_name(payload.name) if payload.name else ""
        row = models.EnvironmentRequest(
            user_id=actor.user_id or "", name=name, packages=packages, reason=reason
        )
        with self.store.session() as session:
            session.add(row)
            session.commit()
            view = _request_view(session, row)
        self.audit.record(
            actor, "environment.request", "environment_request", row.id, packages=packages
        )
        return view

    def requests(
        self, actor: Actor, page: PageParams | None = None, status: Decision | None = None
    ) -> wire.Page[wire.EnvironmentRequest]:
        """One page of environment requests: owners see all, scientists their own."""
        actor.require_user("list environment requests")
        with self.store.session() as session:
            query = select(models.EnvironmentRequest)
            if not actor.is_owner:
                query = query.where(models.EnvironmentRequest.user_id == actor.user_id)
            if status is not None:
                query = query.where(models.EnvironmentRequest.status == Decision(status).value)

            def views(
                rows: Sequence[models.EnvironmentRequest],
            ) -> builtins.list[wire.EnvironmentRequest]:
                preload(session, models.User, {r.user_id for r in rows})
                return [_request_view(session, r) for r in rows]

            return paging.page(
                session,
                query,
                "environment_requests",
                col(models.EnvironmentRequest.created_at),
                col(models.EnvironmentRequest.id),
                page,
                views,
            )

    def approve(
        self, actor: Actor, request_id: str, body: wire.EnvironmentApproveBody
    ) -> wire.EnvironmentRequest:
        """Approve: build the environment it asks for (a new one, or the named one with the
        requested packages added or replacing the same packages' specs)."""
        actor.require_owner("approve environment requests")
        with self.store.session() as session:
            row = self._pending_request(session, request_id)
            name = environment_name(body.name) if body.name else row.name
            if not name:
                raise BadRequest(
                    "This request names no environment: approve it with name=... "
                    "(a new environment's name, or one to add its packages to)."
                )
            existing = _row(session, name)
        if existing is None:
            self.create(actor, wire.EnvironmentCreate(name=name, packages=list(row.packages)))
        else:
            merged = _merge(list(existing.packages), list(row.packages))
            if merged != list(existing.packages):
                with self._mutex, self.store.session() as session:
                    self.store.lock(session, "environments")
                    env = self._get(session, name)
                    if self.builder.running(name) is not None:
                        raise Conflict(
                            f"The environment {name!r} is being built: approve once it ends."
                        )
                    env.packages = merged
                    session.add(env)
                    session.commit()
                self.rebuild(actor, name)
        with self.store.session() as session:
            row = self._pending_request(session, request_id)
            row.status = Decision.APPROVED.value
            row.name = name
            row.decided_by = actor.user_id or ""
            row.decided_at = models.utcnow()
            session.add(row)
            session.commit()
            view = _request_view(session, row)
        self.audit.record(
            actor, "environment.request.approve", "environment_request", row.id, name=name
        )
        return view

    def deny(self, actor: Actor, request_id: str, reason: str) -> wire.EnvironmentRequest:
        actor.require_owner("deny environment requests")
        reason = reason.strip()
        if not reason:
            raise BadRequest("Say why you deny it: the scientist reads the reason.")
        limits.check_text(reason, "The reason", limits.TEXT)
        with self.store.session() as session:
            row = self._pending_request(session, request_id)
            row.status = Decision.REJECTED.value
            row.deny_reason = reason
            row.decided_by = actor.user_id or ""
            row.decided_at = models.utcnow()
            session.add(row)
            session.commit()
            view = _request_view(session, row)
        self.audit.record(actor, "environment.request.deny", "environment_request", row.id)
        return view

    # --- the Datasite's own -----------------------------------------------------------------------
    def recover(self) -> None:
        """At start: builds the previous run of the Datasite left unfinished are failed
        (nothing of theirs is used; an owner rebuilds them)."""
        with self.store.session() as session:
            rows = session.exec(
                select(models.Environment).where(
                    models.Environment.status == EnvironmentStatus.BUILDING.value
                )
            ).all()
            for row in rows:
                if self.builder.running(row.name) is None:
                    row.status = EnvironmentStatus.FAILED.value
                    row.progress = ""
                    row.message = (
                        "The Datasite stopped during this build: rebuild it "
                        f"(client.environments.rebuild({row.name!r}))."
                    )
                    session.add(row)
            session.commit()

    def close(self) -> None:
        self.builder.close()

    def wait(self, name: str, timeout: float | None = None) -> None:
        """Until the build of ``name`` going on (if any) ends (tests, benchmarks)."""
        future = self.builder.running(name)
        if future is not None:
            future.result(timeout)

    # --- inside -------------------------------------------------------------------------------
    def _start(self, row: models.Environment) -> None:
        values = self.settings.values()
        spec = BuildSpec(
            name=row.name,
            build_id=row.build_id,
            packages=tuple(row.packages),
            python=row.python,
            allow_sdist=row.allow_sdist or bool(values["environment_allow_sdist"]),
            index_url=values["environment_index_url"],
            find_links=values["environment_find_links"],
            no_index=bool(values["environment_no_index"]),
        )
        self.builder.start(spec, self._finished)

    def _progress(self, name: str, build_id: str, text: str) -> None:
        with self.store.session() as session:
            row = _row(session, name)
            if row is None or row.build_id != build_id:
                return
            row.progress = text
            row.updated_at = models.utcnow()
            session.add(row)
            session.commit()

    def _finished(self, spec: BuildSpec, result: BuildResult) -> None:
        """Record a build's end; a build whose environment was deleted or rebuilt meanwhile
        removes its folder instead."""
        keep: set[str] = set()
        with self.store.session() as session:
            self.store.lock(session, "environments")
            row = _row(session, spec.name)
            if row is None or row.build_id != spec.build_id:
                if result.prefix is not None:
                    shutil.rmtree(result.prefix, ignore_errors=True)
                return
            row.log = result.log
            row.progress = ""
            row.updated_at = models.utcnow()
            if result.ok:
                assert result.prefix and result.python and result.site_packages
                # the previous build stays until the next one: runs started in it finish there
                keep = {str(result.prefix), row.prefix}
                row.status = EnvironmentStatus.READY.value
                row.message = ""
                row.prefix = str(result.prefix)
                row.python_path = str(result.python)
                row.site_packages = str(result.site_packages)
                row.python_version = result.python_version
                row.lock = result.lock
                row.lock_hash = result.lock_hash
                row.size_bytes = result.size_bytes
                row.built_at = models.utcnow()
            else:
                row.status = EnvironmentStatus.FAILED.value
                row.message = result.message
            if keep:
                # Older builds go before "ready" is told: whoever sees it sees them gone.
                # (No run can start in them: the row points at the previous build or this.)
                _remove_builds(self.builder.root, spec.name, keep)
            session.add(row)
            session.commit()
        log.info(
            "environment %s: %s in %.1f s",
            spec.name,
            "built" if result.ok else "failed",
            result.seconds,
        )

    def _get(self, session: Any, name: str) -> models.Environment:
        row = _row(session, name)
        if row is None:
            raise NotFound(
                f"No environment named {name!r}. {listing(session)} An owner creates one with "
                f"{CREATE_HOW}."
            )
        return row

    def _pending_request(self, session: Any, request_id: str) -> models.EnvironmentRequest:
        row = session.get(models.EnvironmentRequest, request_id)
        if row is None:
            raise NotFound(f"No environment request with id {limits.clip(request_id)}.")
        if row.status != Decision.PENDING.value:
            raise Conflict(f"This environment request was already {row.status}.")
        return row


# --- checks, shared with code submission ----------------------------------------------------------
def environment_name(value: Any) -> str:
    """An environment's name: letters, digits, ``.``, ``_``, ``-``, at most 64; not "default"
    (that is the Datasite's own environment)."""
    if not isinstance(value, str):
        raise BadRequest("An environment's name is text.")
    name = value.strip()
    if not NAME_RE.fullmatch(name):
        raise BadRequest(
            f"{limits.clip(name)} is not an environment name: use 1 to 64 letters, digits, "
            "'.', '_' or '-', starting with a letter or digit."
        )
    if name == DEFAULT:
        raise BadRequest("'default' is the Datasite's own environment; give yours another name.")
    return name


def requirements(values: Any) -> list[str]:
    """PEP 508 requirements, each once, normalized (``packaging``'s form). No pip options,
    URLs, paths or editable installs: only names, extras, versions and markers."""
    # packaging: imported when asked (~10 ms a Datasite's start need not pay)
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    if not isinstance(values, list) or not values:
        raise BadRequest('Give the packages as a list of requirements: packages=["numpy>=2"].')
    if len(values) > MAX_PACKAGES:
        raise BadRequest(f"At most {MAX_PACKAGES} packages per environment.")
    clean: dict[str, str] = {}
    for value in values:
        if not isinstance(value, str):
            raise BadRequest(f"A package is a requirement text, not {type(value).__name__}.")
        spec = value.strip()
        if not spec:
            raise BadRequest("A package requirement cannot be empty.")
        limits.check_text(spec, "A package requirement", MAX_SPEC)
        shown = limits.clip(spec)
        if spec.startswith("-") or any(c in spec for c in "\n\r\t\\") or "://" in spec:
            raise BadRequest(
                f"{shown} is not a package requirement: give only PEP 508 requirements such "
                "as 'pandas>=2.2' (no pip options, URLs or paths; the package index is a "
                "Datasite setting, environment_index_url)."
            )
        try:
            requirement = Requirement(spec)
        except InvalidRequirement as exc:
            raise BadRequest(
                f"{shown} is not a valid requirement ({limits.clip(str(exc), 120)}): write "
                "it like 'scikit-learn' or 'statsmodels==0.14.*'."
            ) from None
        if requirement.url:
            raise BadRequest(
                f"{shown} names a URL: give a package from the index by name and version."
            )
        key = canonicalize_name(requirement.name)
        if key in clean:
            raise BadRequest(f"{requirement.name} is given twice: give each package once.")
        clean[key] = str(requirement)
    return list(clean.values())


def python_version(value: str | None) -> str:
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or not PYTHON_RE.fullmatch(value.strip()):
        raise BadRequest(
            f"python={limits.clip(value)} is not a Python version: give one like '3.11', or "
            "None for the Datasite's own."
        )
    return value.strip()


def listing(session: Any) -> str:
    names = session.exec(
        select(models.Environment.name).order_by(col(models.Environment.name)).limit(51)
    ).all()
    if not names:
        return "This Datasite has no environments yet (only its default one)."
    shown = ", ".join(names[:50]) + (", …" if len(names) > 50 else "")
    return f"Environments on this Datasite: {shown} (and 'default')."


def submitted_environment(session: Any, value: str | None) -> str:
    """A submission's ``environment`` as stored ("" for the default); one that does not exist
    is refused with the list of those that do."""
    if is_default(value):
        return ""
    if not isinstance(value, str):
        raise BadRequest("environment= takes an environment's name.")
    name = value.strip()
    limits.check_text(name, "The environment's name", limits.NAME)
    if _row(session, name) is None:
        raise BadRequest(
            f"The environment {limits.clip(name)} does not exist on this Datasite. "
            f"{listing(session)} Pick one of these (environment=...), leave it out for the "
            "default, or ask the owners for it: client.environments.request(packages=[...], "
            "reason=...)."
        )
    return name


# --- views ----------------------------------------------------------------------------------------
def _row(session: Any, name: str) -> models.Environment | None:
    return session.exec(select(models.Environment).where(models.Environment.name == name)).first()


def _remove_builds(root: Path, name: str, keep: set[str]) -> None:
    """Delete the build folders of environment ``name`` (``<name>-<12 hex>``) not in ``keep``."""
    pattern = re.compile(re.escape(name) + r"-[0-9a-f]{12}")
    if not root.is_dir():
        return
    for folder in root.iterdir():
        if pattern.fullmatch(folder.name) and str(folder) not in keep:
            shutil.rmtree(folder, ignore_errors=True)


def _require_reader(actor: Actor) -> None:
    actor.require_user("list environments")
    if actor.is_guest:
        raise Forbidden("Log in with an account to see this Datasite's environments.")


def _merge(current: builtins.list[str], added: builtins.list[str]) -> builtins.list[str]:
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    merged = {canonicalize_name(Requirement(p).name): p for p in current}
    for spec in added:
        merged[canonicalize_name(Requirement(spec).name)] = spec
    return list(merged.values())


def _view(row: models.Environment, actor: Actor, with_log: bool = True) -> wire.Environment:
    view = wire.Environment(
        id=row.id,
        name=row.name,
        packages=list(row.packages),
        python=row.python,
        python_version=row.python_version,
        allow_sdist=row.allow_sdist,
        status=EnvironmentStatus(row.status),
        progress=row.progress,
        message=row.message,
        lock=row.lock,
        lock_hash=row.lock_hash,
        size_bytes=row.size_bytes,
        created_at=iso(row.created_at),
        built_at=iso(row.built_at),
    )
    if with_log and actor.is_owner:
        view.log = row.log
    return view


def _request_view(session: Any, row: models.EnvironmentRequest) -> wire.EnvironmentRequest:
    return wire.EnvironmentRequest(
        id=row.id,
        name=row.name,
        packages=list(row.packages),
        reason=row.reason,
        status=Decision(row.status),
        deny_reason=row.deny_reason,
        user=person(session.get(models.User, row.user_id)),
        created_at=iso(row.created_at),
        decided_at=iso(row.decided_at),
    )
