"""Environments for user code (``client.environments``): uv virtual environments on the
Datasite, with the packages a study needs, locked and hashed.

Owners: ``client.environments.create(name="stats", packages=["statsmodels==0.14.*"])`` builds
one (waiting, with a progress bar; ``wait=False`` returns at once), ``rebuild(name)``,
``delete(name)``, ``get(name).log``. Scientists pick one with
``@sy.syft_function(..., environment="stats")`` and ask for one with
``client.environments.request(packages=[...], reason=...)``; owners decide on
``client.environments.requests`` (``approve()`` builds it, ``deny(reason)``).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .. import display
from ..errors import SyftException, SyftSuccess
from .collection import Collection
from .view import Field, View

if TYPE_CHECKING:
    from ..wire import models

LOG_TAIL = 3_000  # characters of a failed build's log shown in its error
STEPS = ("queued", "creating", "resolving", "installing", "moving")


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


class Environment(View):
    """One environment: its packages, status, lock and lock hash (``log``: owners)."""

    _model: models.Environment

    id = Field()
    name = Field()
    packages = Field()
    python = Field()  # the version asked for ("" : the Datasite's own)
    python_version = Field()  # the version it was built with
    allow_sdist = Field()
    progress = Field()
    message = Field()  # what went wrong and what to change, when the build failed
    lock = Field()  # the pinned requirements with their sha256s
    lock_hash = Field()
    size_bytes = Field()
    created_at = Field()
    built_at = Field()

    @property
    def status(self) -> str:
        """building, ready or failed."""
        return self._model.status.value

    @property
    def size(self) -> str:
        return _size(self._model.size_bytes)

    @property
    def log(self) -> str:
        """The last build's output (owners)."""
        model = self._session.api.environment(self.name)
        if model.log is None:
            raise SyftException("Only the Datasite's owners can read an environment's build log.")
        return model.log

    @property
    def pinned(self) -> dict[str, str]:
        """The locked versions: package name -> version."""
        return pinned_versions(self.lock)

    def fetch(self) -> Environment:
        self._model = self._session.api.environment(self.name)
        return self

    def wait(self, timeout: float | None = None, progress: bool = True) -> Environment:
        """Until its build ends; raises with the build's message (and the end of its log, for
        owners) if it failed."""
        _wait(self, timeout, progress)
        return self

    def rebuild(self, wait: bool = True) -> Environment:
        return EnvironmentAPI(self._session).rebuild(self.name, wait=wait)

    def delete(self) -> SyftSuccess:
        return EnvironmentAPI(self._session).delete(self.name)

    def _fields(self) -> list[tuple[str, Any]]:
        return [
            ("Status", self.status + (f" ({self.progress})" if self.progress else "")),
            ("Packages", ", ".join(self.packages)),
            ("Python", self.python_version or self.python or "the Datasite's"),
            ("Lock hash", self.lock_hash),
            ("Size", self.size if self.size_bytes else ""),
            ("Built", self.built_at or ""),
            ("Message", self.message),
        ]

    def __repr__(self) -> str:
        lines = [f"Environment {self.name!r}"]
        lines += [f"  {label}: {value}" for label, value in self._fields() if value]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        extra = ""
        if self.lock:
            extra = f"<details><summary>Lock</summary><pre>{display.esc(self.lock)}</pre></details>"
        return display.card(self.name, self._fields(), extra, kind="Environment")


class EnvironmentRequest(View):
    """A scientist's ask for an environment; owners ``approve()`` (it is built) or ``deny``."""

    _model: models.EnvironmentRequest

    id = Field()
    name = Field()
    packages = Field()
    reason = Field()
    deny_reason = Field()
    created_at = Field()
    decided_at = Field()

    @property
    def status(self) -> str:
        return self._model.status.value

    @property
    def requested_by(self) -> str:
        user = self._model.user
        return "" if user is None else (user.email or user.name)

    def approve(
        self, name: str | None = None, wait: bool = True, progress: bool = True
    ) -> Environment | SyftSuccess:
        """Approve it: its environment (``name``: another name than the one asked for) is
        built, or rebuilt with the packages added; waits for the build unless ``wait=False``."""
        self._model = self._session.api.approve_environment_request(self.id, name)
        built = EnvironmentAPI(self._session).get(self._model.name)
        if wait:
            return built.wait(progress=progress)
        return SyftSuccess(
            message=f"Approved: the environment {self._model.name!r} is being built."
        )

    def deny(self, reason: str) -> SyftSuccess:
        self._model = self._session.api.deny_environment_request(self.id, reason)
        return SyftSuccess(message="The environment request was denied; the scientist sees why.")

    def __repr__(self) -> str:
        return (
            f"EnvironmentRequest({self.status}: {', '.join(self.packages)}"
            f"{f' for {self.name!r}' if self.name else ''}, by {self.requested_by})"
        )

    def _repr_html_(self) -> str:
        fields = [
            ("Status", self.status),
            ("Environment", self.name),
            ("Packages", ", ".join(self.packages)),
            ("Reason", self.reason),
            ("Requested by", self.requested_by),
            ("Denied because", self.deny_reason),
        ]
        return display.card("Environment request", fields)


class EnvironmentRequestCollection(Collection[EnvironmentRequest]):
    title = "Environment requests"
    headers = ("#", "Status", "Environment", "Packages", "Requested by", "Reason")

    def _fetch(self) -> Iterable[EnvironmentRequest]:
        models = self._session.api.environment_requests()
        return (EnvironmentRequest(self._session, m) for m in models)

    def _row(self, item: EnvironmentRequest) -> list[Any]:
        number = self._items.index(item)
        reason = item.reason if len(item.reason) <= 60 else item.reason[:59] + "…"
        return [number, item.status, item.name, ", ".join(item.packages), item.requested_by, reason]


class EnvironmentAPI(Collection[Environment]):
    """``client.environments``: the Datasite's environments (by position or by name)."""

    title = "Environments"
    headers = ("Name", "Status", "Packages", "Lock hash", "Size")
    list_when_created = False  # create/get/request need no listing first

    def _fetch(self) -> Iterable[Environment]:
        return (Environment(self._session, m) for m in self._session.api.environments())

    def _row(self, item: Environment) -> list[Any]:
        return [
            item.name,
            item.status,
            ", ".join(item.packages),
            item.lock_hash[:12],
            item.size if item.size_bytes else "",
        ]

    def _find(self, key: str) -> Environment:
        return self.get(key)

    # --- everyone ---------------------------------------------------------------------------------
    def get(self, name: str) -> Environment:
        """The environment ``name`` as it is now (owners: ``.log`` is its build log)."""
        return Environment(self._session, self._session.api.environment(name))

    @property
    def names(self) -> list[str]:
        return [e.name for e in self._items]

    def request(
        self, packages: list[str], reason: str, name: str | None = None
    ) -> EnvironmentRequest:
        """Ask the owners for an environment with ``packages`` (``name``: the one you would
        like, or an existing one to add them to), saying why."""
        body: dict[str, Any] = {"packages": list(packages), "reason": reason}
        if name is not None:
            body["name"] = name
        return EnvironmentRequest(self._session, self._session.api.request_environment(body))

    @property
    def requests(self) -> EnvironmentRequestCollection:
        """Environment requests: owners see all, scientists their own."""
        return EnvironmentRequestCollection(self._session)

    # --- owners ----------------------------------------------------------------------------------
    def create(
        self,
        name: str,
        packages: list[str],
        python: str | None = None,
        allow_sdist: bool = False,
        wait: bool = True,
        progress: bool = True,
        timeout: float | None = None,
    ) -> Environment:
        """Build a new environment on the Datasite from ``packages`` (PEP 508 requirements),
        from wheels only unless ``allow_sdist``; ``python``: a version such as "3.11" (None:
        the Datasite's own). Waits for the build (with a progress bar) unless ``wait=False``;
        a failed build raises with what to change."""
        if isinstance(packages, str):
            packages = [packages]
        body: dict[str, Any] = {
            "name": name,
            "packages": list(packages),
            "python": python,
            "allow_sdist": allow_sdist,
        }
        environment = Environment(self._session, self._session.api.create_environment(body))
        self._loaded = None
        if wait:
            environment.wait(timeout, progress)
        return environment

    def rebuild(
        self, name: str, wait: bool = True, progress: bool = True, timeout: float | None = None
    ) -> Environment:
        """Build it again; runs keep the previous build until the new one is in place."""
        environment = Environment(self._session, self._session.api.rebuild_environment(name))
        self._loaded = None
        if wait:
            environment.wait(timeout, progress)
        return environment

    def delete(self, name: str) -> SyftSuccess:
        """Delete it (refused while pending or approved code names it)."""
        self._session.api.delete_environment(name)
        self._loaded = None
        return SyftSuccess(message=f"The environment {name!r} was deleted.")


def pinned_versions(lock: str) -> dict[str, str]:
    """``name==version`` lines of a lock, as {canonical name: version}."""
    from packaging.utils import canonicalize_name

    versions: dict[str, str] = {}
    for line in lock.splitlines():
        head = line.split(";")[0].split("\\")[0].strip()
        if "==" in head and head[:1].isalnum():
            name, _, version = head.partition("==")
            versions[canonicalize_name(name.split("[")[0].strip())] = version.strip()
    return versions


def _step(progress: str) -> int:
    for i, word in enumerate(STEPS):
        if progress.startswith(word):
            return i
    return 0


def _wait(environment: Environment, timeout: float | None, progress: bool) -> None:
    deadline = None if timeout is None else time.monotonic() + timeout
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(STEPS), desc=f"Building {environment.name}", leave=False)
    delay = 0.1
    try:
        while environment.fetch().status == "building":
            if bar is not None:
                bar.n = _step(environment.progress)
                bar.set_postfix_str(environment.progress, refresh=True)
            if deadline is not None and time.monotonic() >= deadline:
                raise SyftException(
                    f"The environment {environment.name!r} is still building after {timeout} s "
                    "(it goes on): wait again with client.environments.get(name).wait()."
                )
            time.sleep(delay)
            delay = min(delay * 1.5, 1.0)
    finally:
        if bar is not None:
            bar.close()
    if environment.status == "failed":
        tail = ""
        try:
            log = environment.log
            tail = "\n\nThe end of its build log:\n" + log[-LOG_TAIL:]
        except SyftException:
            pass
        raise SyftException(
            f"The environment {environment.name!r} failed to build: {environment.message}{tail}"
        )
