"""Building environments with uv, off the event loop, into place atomically.

One build: ``uv venv --relocatable`` into a temp folder under ``<root>/.building``; ``uv pip
compile --generate-hashes`` resolves the requirements to a lock (pinned versions and their
sha256s); ``uv pip sync --require-hashes`` installs exactly that lock; only then is the
folder renamed to ``<root>/<name>-<build id>`` and the store told. A build that fails or is
cut off leaves nothing a run could use. Wheels only unless the build allows source
distributions (``--only-binary :all:``: no package's build code runs on the Datasite).

The venvs are relocatable, so the sandbox may bind one at another path; their folders are
world-readable (0755) so that a worker's uid can read them. Their ``bin/python`` links to the
interpreter uv found (the Datasite's own, unless the owner asked for a version).

``EnvironmentBuilder.start`` runs at most one build per environment name at a time: a second
call while one runs gets the same future (the work is done once).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .runtime import EnvironmentRuntime

log = logging.getLogger("jupyter_syft.server.environments")

LOG_LIMIT = 64_000  # characters of a build's log kept (its end: where errors are)
COMMAND_TIMEOUT_S = 1800  # one uv command (a large environment from a slow index)
BUILDING = ".building"
CACHE = ".cache"


@dataclass(frozen=True)
class BuildSpec:
    """What to build, and where from (the Datasite's settings at the time it was asked)."""

    name: str
    build_id: str
    packages: tuple[str, ...]
    python: str = ""  # a version ("3.11"); "" is the Datasite's own interpreter
    allow_sdist: bool = False
    index_url: str = ""
    find_links: str = ""
    no_index: bool = False


@dataclass
class BuildResult:
    """A finished build: ``ok`` with its folder and lock, or not with ``message``."""

    ok: bool
    log: str
    message: str = ""
    prefix: Path | None = None
    python: Path | None = None
    site_packages: Path | None = None
    python_version: str = ""
    lock: str = ""
    lock_hash: str = ""
    size_bytes: int = 0
    seconds: float = 0.0


@dataclass
class _Log:
    parts: list[str] = field(default_factory=list)
    size: int = 0

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text)
        while self.size > LOG_LIMIT * 2 and len(self.parts) > 1:
            self.size -= len(self.parts.pop(0))

    def text(self) -> str:
        whole = "".join(self.parts)
        if len(whole) <= LOG_LIMIT:
            return whole
        return "[… the log's start was cut]\n" + whole[-LOG_LIMIT:]


class BuildCancelled(Exception):
    pass


def find_uv() -> str:
    """The uv binary: the one the ``uv`` package installed, else one on PATH."""
    try:
        from uv import find_uv_bin

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        found = shutil.which("uv")
        if found is None:
            raise FileNotFoundError(
                "uv is not installed on the Datasite: pip install uv (environments need it)."
            ) from None
        return found


def lock_hash(lock: str) -> str:
    return hashlib.sha256(lock.encode()).hexdigest()


class EnvironmentBuilder:
    """Builds environments under ``root`` on its own threads (``parallel`` at a time).

    ``on_progress(name, build_id, text)`` is called as a build moves on; the future's result
    is a ``BuildResult`` (failures are results, not exceptions)."""

    def __init__(
        self,
        root: Path,
        on_progress: Callable[[str, str, str], None] | None = None,
        parallel: int = 2,
    ):
        self.root = Path(root)
        self.on_progress = on_progress
        # The last step: whether a run's worker starts in the new build (None: it does; else
        # why not). Set by the Datasite to its runner's check; None skips it.
        self.check: Callable[[EnvironmentRuntime], str | None] | None = None
        self._executor = ThreadPoolExecutor(parallel, thread_name_prefix="env-build")
        self._futures: dict[str, Future[BuildResult]] = {}
        self._procs: set[subprocess.Popen[str]] = set()
        self._lock = threading.Lock()
        self._closing = False
        self.builds_started = 0  # how many builds ran (tests check that joins do no work)

    # --- the builds' bookkeeping ---------------------------------------------------------------
    def running(self, name: str) -> Future[BuildResult] | None:
        """The build of ``name`` going on, if any."""
        with self._lock:
            future = self._futures.get(name)
            return future if future is not None and not future.done() else None

    def start(
        self, spec: BuildSpec, done: Callable[[BuildSpec, BuildResult], None] | None = None
    ) -> tuple[Future[BuildResult], bool]:
        """Start building ``spec`` (``done`` is called with its result, on the build's
        thread), or join the build of that name going on: ``(future, started)``."""
        with self._lock:
            if self._closing:
                raise RuntimeError("the Datasite is stopping")
            future = self._futures.get(spec.name)
            if future is not None and not future.done():
                return future, False
            self.builds_started += 1
            future = self._executor.submit(self._run, spec, done)
            self._futures[spec.name] = future
            return future, True

    def _run(
        self, spec: BuildSpec, done: Callable[[BuildSpec, BuildResult], None] | None
    ) -> BuildResult:
        try:
            result = self.build(spec)
        except Exception as exc:  # a bug here must still end the build as failed
            log.exception("Building the environment %s failed", spec.name)
            result = BuildResult(ok=False, log=repr(exc), message=f"The build broke: {exc}.")
        if done is not None:
            try:
                done(spec, result)
            except Exception:
                log.exception("Recording the build of the environment %s failed", spec.name)
        return result

    def close(self) -> None:
        """Stop: running uv commands are ended, queued builds dropped."""
        with self._lock:
            self._closing = True
            procs = list(self._procs)
        for proc in procs:
            _kill(proc)
        self._executor.shutdown(wait=True, cancel_futures=True)

    # --- one build ------------------------------------------------------------------------------
    def build(self, spec: BuildSpec) -> BuildResult:
        """Build ``spec`` now, on this thread (``start`` runs this in the background)."""
        started = time.monotonic()
        out = _Log()
        building = self.root / BUILDING
        building.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o755)  # noqa: S103 (workers read environments)
        work = building / f"{spec.name}-{spec.build_id}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir()
        venv = work / "venv"
        final = self.root / f"{spec.name}-{spec.build_id[:12]}"
        try:
            requirements = work / "requirements.in"
            requirements.write_text("".join(f"{p}\n" for p in spec.packages))
            self._progress(spec, "creating the virtual environment")
            python = spec.python or sys.executable
            # Run in the build's folder with relative paths: the lock's "via" notes and the
            # log then say "requirements.in", the same in every build (a stable lock hash).
            self._uv(
                out,
                ["venv", "--relocatable", "--no-python-downloads", "--python", python, "venv"],
                work,
            )
            self._progress(spec, f"resolving {len(spec.packages)} requirement(s)")
            lock_file = work / "lock.txt"
            self._uv(
                out,
                [
                    "pip",
                    "compile",
                    requirements.name,
                    "--python",
                    "venv/bin/python",
                    "--generate-hashes",
                    "--no-header",
                    "-o",
                    lock_file.name,
                    *_sources(spec),
                ],
                work,
            )
            lock = lock_file.read_text()
            pinned = sum(1 for line in lock.splitlines() if line[:1].isalnum())
            self._progress(spec, f"installing {pinned} locked package(s)")
            self._uv(
                out,
                [
                    "pip",
                    "sync",
                    lock_file.name,
                    "--python",
                    "venv/bin/python",
                    "--require-hashes",
                    *_sources(spec),
                ],
                work,
            )
            site_packages = _site_packages(venv)
            version = _python_version(venv)
            size = _size(venv)
            _readable(venv)
            self._progress(spec, "moving it into place")
            if final.exists():
                shutil.rmtree(final)
            os.rename(venv, final)  # same file system: atomic, complete or absent
            problem = self._check(spec, final, final / site_packages.relative_to(venv), lock)
            if problem:
                # not recorded as ready, so never used: the previous build (if any) still is
                shutil.rmtree(final, ignore_errors=True)
                out.add(f"\nA run's worker could not start in this build: {problem}\n")
                return BuildResult(
                    ok=False,
                    log=out.text(),
                    message=(
                        f"The packages installed, but a run's worker could not start with them "
                        f"({problem}). An environment's packages come first, so a version the "
                        "Datasite's own numpy, pandas or pyarrow cannot work with breaks it: pin "
                        "versions they accept, or leave those packages out."
                    ),
                    seconds=time.monotonic() - started,
                )
            return BuildResult(
                ok=True,
                log=out.text(),
                prefix=final,
                python=final / "bin" / "python",
                site_packages=final / site_packages.relative_to(venv),
                python_version=version,
                lock=lock,
                lock_hash=lock_hash(lock),
                size_bytes=size,
                seconds=time.monotonic() - started,
            )
        except BuildCancelled:
            out.add("\nThe build was stopped (the Datasite is stopping).\n")
            return BuildResult(
                ok=False,
                log=out.text(),
                message="The build was stopped because the Datasite stopped: rebuild it.",
                seconds=time.monotonic() - started,
            )
        except _CommandFailed as exc:
            return BuildResult(
                ok=False,
                log=out.text(),
                message=advice(exc.output, spec),
                seconds=time.monotonic() - started,
            )
        except OSError as exc:
            out.add(f"\n{exc}\n")
            return BuildResult(
                ok=False,
                log=out.text(),
                message=f"The build could not write its files ({exc.strerror or exc}): check "
                f"the Datasite's disk space and the permissions of {self.root}.",
                seconds=time.monotonic() - started,
            )
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _check(self, spec: BuildSpec, prefix: Path, site_packages: Path, lock: str) -> str | None:
        if self.check is None:
            return None
        self._progress(spec, "starting a worker in it")
        runtime = EnvironmentRuntime(
            spec.name, prefix, prefix / "bin" / "python", site_packages, lock_hash(lock)
        )
        try:
            return self.check(runtime)
        except Exception as exc:  # the check itself broke: say so rather than call it ready
            log.exception("Checking environment %s failed", spec.name)
            return f"the check failed: {type(exc).__name__}: {exc}"

    def _progress(self, spec: BuildSpec, text: str) -> None:
        if self.on_progress is not None:
            try:
                self.on_progress(spec.name, spec.build_id, text)
            except Exception:
                log.exception("Recording a build's progress failed")

    def _uv(self, out: _Log, args: list[str], cwd: Path) -> None:
        command = [find_uv(), *args]
        out.add("$ uv " + " ".join(_masked(a) for a in args) + "\n")
        env = _uv_environment(self.root / CACHE)
        with self._lock:
            if self._closing:
                raise BuildCancelled()
            proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
                env=env,
                cwd=cwd,
                start_new_session=True,
            )
            self._procs.add(proc)
        try:
            output, _ = proc.communicate(timeout=COMMAND_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            _kill(proc)
            output, _ = proc.communicate()
            output += f"\nuv took longer than {COMMAND_TIMEOUT_S} s and was stopped.\n"
        finally:
            with self._lock:
                self._procs.discard(proc)
        output = _masked_text(output)
        out.add(output)
        if proc.returncode != 0:
            if self._closing:
                raise BuildCancelled()
            raise _CommandFailed(output)


class _CommandFailed(Exception):
    def __init__(self, output: str):
        super().__init__(output[-200:])
        self.output = output


def _sources(spec: BuildSpec) -> list[str]:
    args: list[str] = []
    if not spec.allow_sdist:
        args += ["--only-binary", ":all:"]
    if spec.no_index:
        args.append("--no-index")
    elif spec.index_url:
        args += ["--index-url", spec.index_url]
    if spec.find_links:
        args += ["--find-links", spec.find_links]
    return args


def _uv_environment(cache: Path) -> dict[str, str]:
    """The Datasite's environment without uv's and pip's own settings (the Datasite's settings
    say where packages come from), with the builds' shared cache."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("UV_", "PIP_", "VIRTUAL_ENV", "CONDA_", "PYTHON"))
    }
    env.update(
        UV_CACHE_DIR=str(cache),
        UV_NO_CONFIG="1",
        UV_PYTHON_DOWNLOADS="never",
        UV_NO_PROGRESS="1",
        NO_COLOR="1",
    )
    return env


_CREDENTIALS = re.compile(r"(\w+://)[^/@\s]+@")


def _masked_text(text: str) -> str:
    """``text`` without the user:password of URLs (a private index's)."""
    return _CREDENTIALS.sub(r"\1***@", text)


def _masked(arg: str) -> str:
    return _masked_text(arg)


def _kill(proc: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def _site_packages(venv: Path) -> Path:
    """Found on disk, not by running the environment's Python (a package's .pth file would
    run then)."""
    found = sorted(venv.glob("lib/python*/site-packages"))
    if not found:
        raise _CommandFailed("The virtual environment has no lib/python*/site-packages folder.")
    return found[0]


def _python_version(venv: Path) -> str:
    for line in (venv / "pyvenv.cfg").read_text().splitlines():
        key, _, value = line.partition("=")
        if key.strip() in ("version_info", "version"):
            return value.strip()
    return ""


def _size(folder: Path) -> int:
    total = 0
    for path in folder.rglob("*"):
        try:
            if path.is_file() and not path.is_symlink():
                total += path.stat().st_size
        except OSError:
            pass
    return total


def _readable(folder: Path) -> None:
    """Folders 0755 and files at least 0644, so a worker's uid can read the environment."""
    for dirpath, _dirnames, filenames in os.walk(folder):
        os.chmod(dirpath, 0o755)  # noqa: S103 (workers read environments)
        for filename in filenames:
            path = os.path.join(dirpath, filename)
            if not os.path.islink(path):
                mode = os.stat(path).st_mode
                os.chmod(path, (mode | 0o444) & ~0o022)


def advice(output: str, spec: BuildSpec) -> str:
    """What to change, from what uv said (the log has all of it)."""
    text = output.lower()
    where = (
        "environment_find_links"
        if spec.no_index
        else f"the package index ({_masked_text(spec.index_url) or 'PyPI'})"
    )
    if "no solution found" in text or "unsatisfiable" in text:
        if not spec.allow_sdist and (
            "no usable wheel" in text
            or "has no wheel" in text
            or "no matching distribution" in text
            or "--no-binary" in text
            or "--only-binary" in text
            or "no-build" in text
            or "source distribution" in text
        ):
            return (
                "A requirement has no wheel for this Datasite's platform and Python, and "
                "environments are built from wheels only: pin a version that has a wheel, or "
                "allow source builds (allow_sdist=True) if you trust its build code. The log "
                "says which package."
            )
        if "not found in the package registry" in text or "was not found" in text:
            return (
                f"A requirement is not in {where}: check the package names and versions "
                "(the log says which), or the Datasite's setting environment_index_url."
            )
        return (
            "The requirements cannot all be installed together (conflicting versions, or "
            "versions that do not exist for this Python): loosen or change the pins the log "
            "names."
        )
    if "failed to fetch" in text or "connect" in text or "dns" in text or "network" in text:
        return (
            f"The build could not download from {where}: check that the Datasite can reach it, "
            "or set environment_index_url to a mirror it can reach (or environment_find_links "
            "to a folder of wheels)."
        )
    if "no interpreter found" in text or ("python" in text and "not found" in text):
        return (
            f"No Python {spec.python} is installed on the Datasite: leave python=None (the "
            "Datasite's own) or install that version on the Datasite."
        )
    if "longer than" in text:
        return "uv took too long: try again, or use a closer package index."
    return "uv failed: the log says why; change the packages or the package index accordingly."
