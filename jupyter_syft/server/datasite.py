"""A Datasite: its data folder, store, blob store and services, whichever server hosts it."""

from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .. import serde
from ..wire.models import Metadata
from .blobs import BlobStore
from .change_relay import ChangeRelay
from .environments.runtime import EnvironmentRuntime
from .execution import Runner, default_lock
from .execution.pool import sweep_leftover_workers
from .group_relay import FolderRelay
from .job_waits import JobWaits
from .push import PushHub
from .security import random_password
from .services import Services
from .services.errors import Unavailable
from .services.retention import COLLECT_EVERY_SECONDS, RetentionService
from .startup import RunnerStart, work_dir
from .store import Store, sqlite_url

log = logging.getLogger("jupyter_syft.server")
DEFAULT_ROOT_EMAIL = "info@openmined.org"
API_VERSION = 1


@dataclass
class DatasiteConfig:
    """How to open a Datasite; the hosts fill it in (``hosts/bootstrap.py``)."""

    name: str
    data_dir: Path
    db_url: str | None = None
    root_email: str = DEFAULT_ROOT_EMAIL
    # None: generate a random one (printed once by the host); "changethis" for orchestra.launch.
    root_password: str | None = None
    threads: int = 8
    # A Dask scheduler address (tcp://host:8786): runs go to that cluster instead of here.
    dask_scheduler: str | None = None
    # How many environments other than the default keep warm workers (least recently used
    # dropped); 0: runs in them always start a worker.
    warm_environments: int = 3
    # How workers are isolated: "auto" (bubblewrap where it works, else uid and limits only),
    # "bwrap" (refuse to run code without it) or "none" (development only).
    sandbox: str = "auto"
    # A folder of empty databases of the current schema (``store.SchemaCache``): a new SQLite
    # store starts as a copy. None: every new store runs its CREATE statements.
    schema_cache: Path | None = None
    # A front process of ``jupyter-syft serve --processes N`` (``http/forward.py``): it serves
    # calls on the database its primary opened and runs, recovers and collects nothing.
    front: bool = False
    # A front's: the sandbox its primary's runner uses ("bwrap", "none", "dask"), for requests.
    front_sandbox: str = ""
    # The private folder of a ``serve --processes N`` group (every process's, the primary's
    # too): on SQLite its processes tell each other their changes there (``group_relay``).
    group_folder: Path | None = None
    # PostgreSQL: the most connections this process may hold (its group's share of what the
    # database allows: ``connection_budget``). None: the pools' defaults.
    db_connections: int | None = None


class Datasite:
    def __init__(self, config: DatasiteConfig, start: RunnerStart | None = None):
        """``start``: the code runner, already being started by the host (see ``startup``)."""
        self.config = config
        self.data_dir = Path(config.data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.data_dir, 0o700)  # private data lives here: no other local user may read it
        self.store = Store(
            config.db_url or sqlite_url(self.data_dir / "datasite.db"),
            config.schema_cache,
            config.db_connections,
        )
        self.blobs = BlobStore(self.data_dir / "blobs")
        self.work_dir = work_dir(self.data_dir)
        self.work_dir.mkdir(exist_ok=True)
        front = config.front  # the primary's workers and runs are alive: leave them be
        if not front:
            # Workers a crash of the previous run left behind, then what their runs left.
            sweep_leftover_workers(self.work_dir)
        default_lock.start()  # the default environment's lock hash, off the requests' path
        self._runner: Runner | None = None
        self._runner_lock = threading.Lock()
        self._closing = False
        self._start = start  # the runner being started; taken by runner()
        self.services = Services.build(self.store, self.blobs, self.runner, self.work_dir)
        if not front:
            self.services.settings.initialize(name=config.name)
        else:  # shown in requests: what the primary's runner uses
            self.services.code.runs.known_sandbox = config.front_sandbox or None
        # The push channel (server/push.py): each committed change, told to who may see it.
        self.push = PushHub(self.store, self.services.audit.changes)
        self.job_waits = JobWaits(self.services.audit.changes)  # GET jobs/{id}?wait=
        self.retention = RetentionService(
            self.store, self.blobs, self.services.settings, self.work_dir, self.services.auth
        )
        if not front:
            self.retention.clear_leftovers()  # nothing runs yet: every one is a crash's
        if not front and not self.store.created:  # a new database holds no job, run or build
            self.services.jobs.recover()
            self.services.environments.recover()  # builds a crash cut off: failed, never used
        self.services.environments.builder.check = self._check_environment
        password = config.root_password or random_password()
        self.root_created = not front and self.services.users.ensure_root(
            config.root_email, password
        )
        # Only worth showing when it was generated here and is new: the host prints it once.
        self.generated_root_password = (
            password if self.root_created and config.root_password is None else None
        )
        self.executor = ThreadPoolExecutor(config.threads, thread_name_prefix="datasite")
        self._collector_stop = threading.Event()
        self._collector = threading.Thread(
            target=self._collect, name="datasite-collector", daemon=True
        )
        if not front:  # the primary collects for every process
            self._collector.start()
        # Other processes on the same database hear this one's changes, and it theirs: any on
        # PostgreSQL, a group's on SQLite (last: a Datasite that failed to open leaves no relay
        # listening).
        self.relay: ChangeRelay | FolderRelay | None = None
        store, changes = self.store, self.services.audit.changes
        if store.dialect == "postgresql":
            self.relay = ChangeRelay(changes, store.connect_outside_pool, store.audit_detail)
        elif config.group_folder is not None:
            self.relay = FolderRelay(changes, config.group_folder, store.audit_detail)

    def _collect(self) -> None:
        """Orphans and old history: now, then every COLLECT_EVERY_SECONDS until close()."""
        while True:
            try:
                self.retention.collect()
            except Exception:  # try again next time; the Datasite keeps serving
                log.exception("Collecting orphans and old history failed")
            if self._collector_stop.wait(COLLECT_EVERY_SECONDS):
                return

    def start_background(self) -> None:
        """Start the code runner in the background (the sandbox probe, the warm workers), as
        hosts do once they serve, so neither "ready" nor a request waits for it. A run that
        comes first waits for this start, not for another one; if it failed, the run tries
        again and says why. Idempotent; ``sy.orchestra.launch`` started it even earlier."""
        with self._runner_lock:
            if self._start is not None or self._runner is not None or self._closing:
                return
            if self.config.front:  # runs go to the primary
                return
            if self.config.dask_scheduler:  # a cluster's workers are its own: nothing to warm
                return
            self._start = RunnerStart(
                self.work_dir,
                [self.data_dir],
                warm_environments=self.config.warm_environments,
                sandbox=self.config.sandbox,
            )

    def _check_environment(self, env: EnvironmentRuntime) -> str | None:
        """Whether a run's worker starts in a new build (the builder's last step); a Dask
        cluster's workers check their own copy when a run comes."""
        check = getattr(self.runner(), "check_environment", None)
        return check(env) if check is not None else None

    def runner(self) -> Runner:
        """The CodeRunner: started by ``start_background``, or by the first run that needs it
        (a Datasite no host serves: tests, tools). Raises ``Unavailable`` saying why when it
        cannot start (no sandbox where one is demanded) or the Datasite is stopping."""
        with self._runner_lock:
            if self._closing and self._runner is None:
                raise Unavailable("The Datasite is stopping: run it again once it is back.")
            if self.config.front:  # a call that runs code was not forwarded: a bug, said so
                raise Unavailable(
                    "This process of the Datasite does not run code; run it again (its main "
                    "process does)."
                )
            if self._runner is None and self._start is not None:
                start, self._start = self._start, None
                self._runner = start.result()  # None if it failed: then started again here
            if self._runner is None and self.config.dask_scheduler:
                from .execution.dask_runner import DaskRunner

                self._runner = DaskRunner(self.config.dask_scheduler, self.work_dir)
            if self._runner is None:
                from .execution import CodeRunner, SandboxUnavailable

                try:
                    self._runner = CodeRunner(
                        work_dir=self.work_dir,
                        hidden_paths=[self.data_dir],
                        warm_environments=self.config.warm_environments,
                        sandbox=self.config.sandbox,
                    )
                except SandboxUnavailable as exc:
                    log.error("Cannot run code: %s", exc)
                    raise Unavailable(f"This Datasite cannot run code now: {exc}") from None
            return self._runner

    def metadata(self) -> Metadata:
        from ..version import __version__

        return Metadata(
            **self.services.settings.public(),
            server_type="datasite",
            version=__version__,
            api_version=API_VERSION,
            format_version=serde.FORMAT_VERSION,
        )

    def close(self) -> None:
        """Stop: runs still going are cut off, their jobs marked interrupted (run them again)
        and their runs given back; queued jobs wait for the next start."""
        if self.relay is not None:  # first: what is closed next publishes nothing more
            self.relay.close()
        self.push.close()  # open streams end: their clients resume once the Datasite is back
        self.job_waits.close()
        self._collector_stop.set()
        if self._collector.is_alive():
            self._collector.join(60)
        self.services.jobs.stop()
        self.services.environments.close()  # running builds are stopped (uv killed)
        with self._runner_lock:
            self._closing = True
            runner = self._runner
            start, self._start = self._start, None
        if start is not None:  # still being started: wait for it, then close it too
            runner = start.result()
        if runner is not None:
            runner.close()
        self.executor.shutdown(wait=True, cancel_futures=True)
        self.services.jobs.close()
        self.services.notifications.close()  # after the jobs: their last changes are told
        self.store.close()
