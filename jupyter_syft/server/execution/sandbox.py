"""How a worker process is started: its uid, its environment and, where bubblewrap works,
its sandbox. Nothing here runs user code (that is ``worker.py``, next to this).

Identity: a root server starts workers as uid/gid 65534 (nobody), so the kernel enforces
RLIMIT_NPROC on them and the Datasite's 0700 data folder is closed to them even without a
sandbox. A non-root server cannot switch uid: workers keep its uid, and are protected from
the server's files only by bubblewrap.

Sandbox (bubblewrap): new user, pid, network, ipc, uts and cgroup namespaces (no network at
all); the whole file system read-only; the hidden paths (the Datasite's folder), /run and
/tmp covered by empty tmpfs; a small private /tmp; no new user namespaces inside (the worker
template's sandbox allows them: it gives each worker it forks a user namespace of its own,
closed to further ones, see ``template.py``). Inputs and
the result never need a path inside the sandbox: they travel as file descriptors (see
``protocol``).

Environments (``jupyter_syft.server.environments``): a run in one gets a launcher from
``Launcher.for_environment``. Its worker is the Datasite's own interpreter with the
environment's site-packages placed FIRST on ``sys.path`` (``ENV_BOOT``), the Datasite's after
it: user code imports what the environment's lock pins, and what the environment lacks
(jupyter_syft's own dependencies: numpy, pandas, pyarrow) comes from the Datasite. The
environment must be built for the same Python version (checked). Its prefix is bound into the
sandbox read-only, also where it lies inside a hidden folder (the Datasite's own).
"""

from __future__ import annotations

import copy
import json
import logging
import os
import platform
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..environments.runtime import EnvironmentRuntime

log = logging.getLogger("jupyter_syft.server")

NOBODY = 65534
# Paths inside the sandbox, where bwrap mounts fresh private tmpfs (not the host's).
SANDBOX_TMP = "/tmp"  # noqa: S108
SANDBOX_SHM = "/dev/shm"  # noqa: S108
TMP_BYTES = 256 << 20  # the job's private /tmp under bwrap (tmpfs: memory the job may fill)
SHM_BYTES = 64 << 20
PROBE_TIMEOUT = 30.0
STAGE = Path(__file__).with_name("stage.py")
# How a worker in an environment starts: ``python -I -B -c ENV_BOOT SITE MODULE ARGS...``.
# jupyter_syft (its __init__ imports the standard library only) is imported first, so its
# worker code always is the Datasite's; then SITE (with its .pth files) goes before the
# Datasite's site-packages, and the worker module runs as __main__.
ENV_BOOT = (
    "import site, sys, runpy, jupyter_syft\n"
    "site_dir = sys.argv.pop(1)\n"
    "n = len(sys.path)\n"
    "site.addsitedir(site_dir)\n"
    "added = sys.path[n:]\n"
    "del sys.path[n:]\n"
    "sys.path[:0] = added\n"
    "runpy.run_module(sys.argv.pop(1), run_name='__main__', alter_sys=True)\n"
)

# Everything the worker gets from the environment: no tokens or secrets from the server's.
BASE_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    # numpy/openblas and Arrow reserve address space per thread or arena; RLIMIT_AS counts it.
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
    "ARROW_DEFAULT_MEMORY_POOL": "system",  # mimalloc reserves ~1 GB of address space
    "MALLOC_ARENA_MAX": "2",
}

_warned = False  # the no-sandbox warning is logged once per process


class SandboxUnavailable(RuntimeError):
    """The requested way of starting workers does not work on this machine."""


def _may_enter(st: os.stat_result, uid: int, gid: int) -> bool:
    if st.st_uid == uid:
        return bool(st.st_mode & stat.S_IXUSR)
    if st.st_gid == gid:
        return bool(st.st_mode & stat.S_IXGRP)
    return bool(st.st_mode & stat.S_IXOTH)


def _first_blocked(path: Path, uid: int, gid: int, start: Path = Path("/")) -> Path | None:
    """The first folder from ``start`` down to ``path`` (both included) uid/gid cannot enter
    (ACLs ignored: at worst we hide more than needed)."""
    current = start
    for part in path.relative_to(start).parts:
        if not _may_enter(os.stat(current), uid, gid):
            return current
        current = current / part
    try:
        st = os.stat(current)
    except OSError:
        return current
    return None if _may_enter(st, uid, gid) else current


def _outermost(paths: set[Path]) -> list[Path]:
    """The paths that are not inside another one of them, shortest first."""
    kept: list[Path] = []
    for path in sorted(paths, key=lambda p: len(p.parts)):
        if not any(path.is_relative_to(k) for k in kept):
            kept.append(path)
    return kept


def _home() -> Path | None:
    home = Path(os.path.realpath(os.path.expanduser("~")))
    return home if home != Path("/") and home.is_dir() else None


def _python_roots() -> list[Path]:
    """Folders the worker's interpreter needs: its installation, the virtualenv, and the
    folder jupyter_syft is imported from (an editable install lives outside site-packages)."""
    found = {sys.base_prefix, sys.base_exec_prefix, sys.prefix, sys.exec_prefix}
    found.add(str(Path(__file__).parents[3]))  # .../jupyter_syft/server/execution/sandbox.py
    return _outermost({Path(os.path.realpath(p)) for p in found})


class Launcher:
    """Builds and starts the command line of one worker process."""

    def __init__(self, sandbox: str, hidden_paths: Sequence[Path]):
        if sandbox not in ("auto", "bwrap", "none"):
            raise ValueError(f"sandbox must be 'auto', 'bwrap' or 'none', not {sandbox!r}")
        self.python = sys.executable
        root = os.geteuid() == 0
        self.uid: int | None = NOBODY if root else None
        self.gid: int | None = NOBODY if root else None
        self._roots = _python_roots()
        # Folders replaced by an empty tmpfs, and the Python folders bound back inside them.
        # As root: the folders uid 65534 cannot enter, done by stage.py before bwrap starts.
        # Otherwise the worker shares our uid, so bwrap itself covers our home (keys, tokens,
        # other projects) when it sandboxes.
        self._stage = self._stage_config() if root else None
        self._covers: list[Path] = []
        if self._stage is not None:
            self._covers = [Path(p) for p in self._stage["cover"]]
        elif not root and (home := _home()) is not None:
            self._covers = [home]
        self._binds = [r for r in self._roots if any(r.is_relative_to(c) for c in self._covers)]
        self._hidden = _outermost({Path(os.path.realpath(p)) for p in hidden_paths})
        for hidden in self._hidden:
            if any(r.is_relative_to(hidden) for r in self._roots):
                raise SandboxUnavailable(
                    f"The hidden folder {hidden} contains this Python installation: the "
                    "workers could not start. Install Python outside the Datasite's folder."
                )
        self._bwrap = shutil.which("bwrap")
        self._bwrap_extra: list[str] = []
        self.environment: EnvironmentRuntime | None = None  # None: the Datasite's own Python
        self._site: str | None = None  # the environment's site-packages, first on sys.path
        self._env_binds: list[Path] = []  # its folders, bound read-only into the sandbox
        self.mode = self._choose(sandbox)

    def for_environment(self, env: EnvironmentRuntime | None) -> Launcher:
        """This launcher for runs in ``env`` (itself for the default environment): same
        sandbox, uid and hidden folders, plus the environment's folders bound read-only and
        its site-packages first on the worker's ``sys.path``."""
        if env is None:
            return self
        prefix = Path(os.path.realpath(env.prefix))
        site = Path(os.path.realpath(env.site_packages))
        for path, what in ((prefix, "folder"), (site, "site-packages")):
            if not path.is_dir():
                raise SandboxUnavailable(
                    f"The {what} of environment {env.name!r} is missing ({path}): rebuild it "
                    "(client.environments.rebuild)."
                )
        _check_python_version(env, prefix, site)
        new = copy.copy(self)
        new.environment = env
        new._site = str(site)
        new._env_binds = _outermost({prefix, site})
        system = (SANDBOX_SHM, "/proc", "/dev")
        if any(b.is_relative_to(h) for b in new._env_binds for h in system):
            raise SandboxUnavailable(f"Environment {env.name!r} is in a system folder: {prefix}")
        if self.uid is not None and self.gid is not None:
            # The worker's uid must reach the environment: cover the folders it may not
            # enter (the Datasite's 0700 folder, usually) and bind the environment back in,
            # read-only (also without bubblewrap: stage.py's ro_binds).
            cover = {Path(p) for p in (self._stage or {}).get("cover", [])}
            for bind in new._env_binds:
                blocked = _first_blocked(bind, self.uid, self.gid)
                if blocked == bind:
                    raise SandboxUnavailable(
                        f"Worker processes run as uid {self.uid}, which may not enter {bind} "
                        f"(environment {env.name!r}). Make it readable: chmod -R o+rX {bind}"
                    )
                if blocked is not None:
                    cover.add(blocked)
            new._stage = {
                "uid": self.uid,
                "gid": self.gid,
                "cover": [str(p) for p in _outermost(cover)],
                "binds": list((self._stage or {}).get("binds", [])),
                "ro_binds": [str(b) for b in new._env_binds],
            }
            new._covers = [Path(p) for p in new._stage["cover"]]
            new._binds = [*self._binds, *new._env_binds]
        else:
            new._binds = [
                *self._binds,
                *(b for b in new._env_binds if any(b.is_relative_to(c) for c in self._covers)),
            ]
        return new

    def worker_argv(self, module: str, args: Sequence[str]) -> list[str]:
        """The command line of a worker running ``module`` (``-m``) with ``args``."""
        if self._site is None:
            return [self.python, "-I", "-B", "-m", module, *args]
        return [self.python, "-I", "-B", "-c", ENV_BOOT, self._site, module, *args]

    # --- identity --------------------------------------------------------------------------
    def _stage_config(self) -> dict[str, Any] | None:
        """Folders to cover and rebind so that uid 65534 can start this Python (see stage.py)."""
        assert self.uid is not None and self.gid is not None
        cover: set[Path] = set()
        binds: list[str] = []
        for root in self._roots:
            blocked = _first_blocked(root, self.uid, self.gid)
            if blocked is None:
                continue
            if blocked == root:
                raise SandboxUnavailable(
                    f"Worker processes run as uid {self.uid}, which may not enter {root} (part "
                    f"of this Python installation). Make it readable: chmod o+rx {root}"
                )
            cover.add(blocked)
            binds.append(str(root))
        if not cover:
            return None
        return {
            "uid": self.uid,
            "gid": self.gid,
            "cover": [str(p) for p in _outermost(cover)],
            "binds": binds,
        }

    def _visible_to_worker(self, path: Path) -> bool:
        """Whether the worker's uid could reach ``path`` (a mount point must be reachable)."""
        start = Path("/")
        for bound in self._binds:
            if path.is_relative_to(bound):
                start = bound
                break
        else:
            if any(path.is_relative_to(c) for c in self._covers):
                return False
        if self.uid is None or self.gid is None:
            return True
        return _first_blocked(path.parent, self.uid, self.gid, start=start) is None

    # --- choosing the sandbox --------------------------------------------------------------
    def _choose(self, requested: str) -> str:
        global _warned
        if requested != "none":
            problem = self._try_bwrap()
            if problem is None:
                return "bwrap"
            if requested == "bwrap":
                raise SandboxUnavailable(f"bubblewrap cannot sandbox the workers: {problem}")
            if not _warned:
                _warned = True
                log.warning(
                    "User code will run WITHOUT a sandbox (%s): only its uid and resource "
                    "limits hold it, and it can use the network and read whatever that uid "
                    "can read. Install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap) "
                    "and allow unprivileged user namespaces to sandbox it.",
                    problem,
                )
        problem = self._probe("none")
        if problem is not None:
            raise SandboxUnavailable(f"Cannot start worker processes: {problem}")
        return "none"

    def _try_bwrap(self) -> str | None:
        if self._bwrap is None:
            return "bwrap is not installed"
        self._bwrap_extra = ["--disable-userns"]  # bubblewrap >= 0.8
        problem = self._probe("bwrap")
        if problem is not None:
            self._bwrap_extra = []
            if self._probe("bwrap") is not None:
                return problem
        return None

    def _probe(self, mode: str) -> str | None:
        """Start the interpreter the way workers start; None if that works."""
        argv = self.command(mode, [self.python, "-I", "-S", "-V"])
        try:
            done = subprocess.run(
                argv,
                **self.popen_kwargs(BASE_ENV, cwd="/"),
                capture_output=True,
                text=True,
                timeout=PROBE_TIMEOUT,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            return str(exc)
        if done.returncode != 0:
            return done.stderr.strip()[-2000:] or f"exit status {done.returncode}"
        want = f"Python {platform.python_version()}"
        if done.stdout.strip() != want:
            # e.g. the loader fell back to another libpython it could read
            return (
                f"the worker's interpreter reports {done.stdout.strip()!r}, not {want!r}: make "
                f"this Python installation readable by uid {self.uid}"
            )
        return None

    # --- starting a worker -----------------------------------------------------------------
    def command(
        self, mode: str, argv: list[str], info_fd: int | None = None, template: bool = False
    ) -> list[str]:
        cmd = list(argv)
        if mode == "bwrap":
            assert self._bwrap is not None
            info = [] if info_fd is None else ["--info-fd", str(info_fd)]
            cmd = [self._bwrap, *info, *self._bwrap_args(template), "--", *cmd]
        stage: dict[str, Any] = dict(self._stage or {})
        if sys.platform.startswith("linux"):  # die with this process, race-free (stage.py)
            stage["parent"] = os.getpid()
        if stage:
            cmd = [self.python, "-I", "-S", str(STAGE), json.dumps(stage), *cmd]
        return cmd

    def _bwrap_args(self, template: bool = False) -> list[str]:
        # The worker template (template.py) gives each worker it forks a user namespace of
        # its own, and closes user namespaces to the job there: it needs them open.
        extra = [a for a in self._bwrap_extra if not (template and a == "--disable-userns")]
        args = ["--unshare-all", "--unshare-user", *extra]
        args += ["--die-with-parent", "--new-session", "--ro-bind", "/", "/"]
        args += ["--dev", "/dev", "--size", str(SHM_BYTES), "--tmpfs", SANDBOX_SHM]
        args += ["--remount-ro", "/dev", "--proc", "/proc"]
        args += ["--size", str(TMP_BYTES), "--tmpfs", SANDBOX_TMP]
        if os.path.isdir("/run"):  # sockets of host services live here
            args += ["--size", "4096", "--tmpfs", "/run"]
        # A Python installation (or a checkout, or an environment) under /tmp or /run would
        # vanish under those fresh tmpfs: bind it back, read-only. Hidden folders inside it
        # are covered below.
        for root in self._tmpfs_rebinds():
            args += ["--ro-bind", str(root), str(root)]
        # Read-only remounts come last: binding into a tmpfs makes mount points in it.
        remounts = ["/run"] if os.path.isdir("/run") else []
        if self._stage is None:
            for cover in map(str, self._covers):
                args += ["--size", str(1 << 20), "--tmpfs", cover]
                for bound in self._binds:
                    if bound.is_relative_to(cover):
                        args += ["--ro-bind", str(bound), str(bound)]
                remounts.append(cover)
        for path in self._hidden_mounts():
            args += ["--size", "4096", "--tmpfs", path]
            # An environment inside a hidden folder (the Datasite's) is bound back.
            for bound in self._env_binds:
                if bound.is_relative_to(path):
                    args += ["--ro-bind", str(bound), str(bound)]
            remounts.append(path)
        for path in remounts:
            args += ["--remount-ro", path]
        return [*args, "--chdir", SANDBOX_TMP]

    def tmp_rebinds(self) -> list[Path]:
        """The folders bound back into the sandbox's /tmp (a Python installation or an
        environment there): a worker forked by the template mounts its own /tmp, and binds
        them back in turn."""
        return [r for r in self._tmpfs_rebinds() if r.is_relative_to(SANDBOX_TMP)]

    def _tmpfs_rebinds(self) -> list[Path]:
        roots = [*self._roots, *self._env_binds]
        return [r for r in roots if any(r.is_relative_to(p) for p in (SANDBOX_TMP, "/run"))]

    def _hidden_mounts(self) -> list[str]:
        mounts = []
        rebound = self._tmpfs_rebinds()
        for path in self._hidden:
            replaced = any(path.is_relative_to(p) for p in (SANDBOX_TMP, "/run", "/dev", "/proc"))
            if replaced and not any(path.is_relative_to(r) for r in rebound):
                continue  # already replaced by the sandbox's own
            # Unreachable for the worker's uid: hidden by permissions (and no mount point).
            if path.is_dir() and self._visible_to_worker(path):
                mounts.append(str(path))
        return mounts

    def popen_kwargs(self, env: dict[str, str], cwd: str) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "stdin": subprocess.DEVNULL,
            "env": env,
            "cwd": cwd,
            "close_fds": True,
            "start_new_session": True,  # one process group to kill on timeout
        }
        if self.uid is not None and self._stage is None:
            kwargs.update(user=self.uid, group=self.gid, extra_groups=[])
        return kwargs

    def private_tmp(self) -> Path | None:
        """Without bwrap, a fresh folder only the worker's uid may use (bwrap makes a tmpfs)."""
        if self.mode == "bwrap":
            return None
        path = Path(tempfile.mkdtemp(prefix="jupyter-syft-job-"))
        if self.uid is not None and self.gid is not None:
            os.chown(path, self.uid, self.gid)
        return path

    def spawn(
        self,
        argv: list[str],
        pass_fds: Sequence[int],
        output: IO[bytes],
        tmp: Path | None,
        template: bool = False,
    ) -> tuple[subprocess.Popen[bytes], int | None]:
        """Start a worker (or, ``template``, the worker template: see template.py); also
        returns, under bwrap, the read end of a pipe on which bwrap reports the pid of the
        sandbox's init process (see ``sandbox_pidfd``)."""
        home = SANDBOX_TMP if tmp is None else str(tmp)
        env = {**BASE_ENV, "HOME": home, "TMPDIR": home}
        info_r, info_w = os.pipe() if self.mode == "bwrap" else (None, None)
        try:
            proc = subprocess.Popen(
                self.command(self.mode, argv, info_w, template),
                stdout=output,
                stderr=output,
                pass_fds=(*pass_fds, *([] if info_w is None else [info_w])),
                **self.popen_kwargs(env, cwd=home if tmp is not None else "/"),
            )
        except BaseException:
            if info_r is not None:
                os.close(info_r)
            raise
        finally:
            if info_w is not None:
                os.close(info_w)
        return proc, info_r

    def death_signal(self, returncode: int) -> int | None:
        """The signal that ended the worker, if one did (bwrap reports it as 128 + n)."""
        if returncode < 0:
            return -returncode
        if self.mode == "bwrap" and returncode > 128:
            return returncode - 128
        return None


def _check_python_version(env: EnvironmentRuntime, prefix: Path, site: Path) -> None:
    """The worker is this interpreter: an environment built for another Python version
    would load extension modules built for another ABI."""
    want = f"{sys.version_info.major}.{sys.version_info.minor}"
    found = None
    try:
        for line in (prefix / "pyvenv.cfg").read_text().splitlines():
            key, _, value = line.partition("=")
            if key.strip() in ("version_info", "version"):
                found = ".".join(value.strip().split(".")[:2])
                break
    except OSError:
        pass
    if found is None and site.parent.name.startswith("python"):  # lib/python3.X/site-packages
        found = site.parent.name.removeprefix("python")
    if found is not None and found != want:
        raise SandboxUnavailable(
            f"Environment {env.name!r} is built for Python {found}, but the Datasite runs "
            f"Python {want}: rebuild it with the Datasite's Python (python=None)."
        )


def sandbox_pidfd(info_r: int) -> int | None:
    """A pidfd for the sandbox's init process, read from bwrap's --info-fd once the worker is
    running (so the pid is certainly that live process). Killing it ends the whole sandbox,
    and bwrap then exits by itself and reaps it: killing bwrap instead would orphan it."""
    try:
        os.set_blocking(info_r, False)
        info = json.loads(os.read(info_r, 65536))
        return os.pidfd_open(int(info["child-pid"]))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    finally:
        os.close(info_r)
