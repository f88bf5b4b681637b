"""``sy.orchestra.launch``: start a Datasite on a loopback port from a notebook or script."""

from __future__ import annotations

import enum
import logging
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..client import networks
from ..errors import SyftException
from .bootstrap import datasite_folder, datasites_root, import_server

if TYPE_CHECKING:
    from ..client.client import DatasiteClient
    from .standalone import DatasiteServer

DEFAULT_ROOT_EMAIL = "info@openmined.org"
DEFAULT_ROOT_PASSWORD = "changethis"  # noqa: S105 - PySyft's default; login warns to change it
_running: dict[str, ServerHandle] = {}
# Under datasites_root(): empty databases of each schema version, copied by new Datasites
# (no Datasite's folder can be called so: names never start with a dot).
SCHEMA_CACHE = ".schema-cache"


class DeploymentType(str, enum.Enum):
    """How a Datasite runs (PySyft's name): here always in this Python process."""

    PYTHON = "python"
    REMOTE = "remote"


class ServerHandle:
    """A running Datasite: ``port``, ``url``, ``login()``, ``client``, ``land()``.
    ``deployment_type`` (and PySyft's older name for it, ``server_type``) is ``"python"``:
    PySyft's tutorials end with ``if server.server_type.value == "python": server.land()``."""

    deployment_type = DeploymentType.PYTHON
    server_type = DeploymentType.PYTHON

    def __init__(self, name: str, server: DatasiteServer, data_dir: Path):
        self.name = name
        self.server = server
        self.data_dir = data_dir
        self.port = server.port
        self.url = f"http://{server.host}:{server.port}"
        self._landed = False

    @property
    def datasite(self) -> Any:
        return self.server.datasite

    def login(
        self, email: str | None = None, password: str | None = None, **kw: Any
    ) -> DatasiteClient:
        from ..client.login import login

        return login(url=self.url, email=email, password=password, **kw)

    def login_as_guest(self, **kw: Any) -> DatasiteClient:
        from ..client.login import login_as_guest

        return login_as_guest(url=self.url, **kw)

    @property
    def client(self) -> DatasiteClient:
        """A guest client, as in PySyft."""
        return self.login_as_guest()

    def register(self, **fields: Any) -> Any:
        """Register an account as a guest would: ``register(name=, email=, password=, ...)``."""
        return self.login_as_guest(verbose=False).register(**fields)

    def land(self) -> None:
        """Stop the Datasite and free its port; its data stays for the next launch."""
        if self._landed:
            return
        self._landed = True
        if _running.get(self.name) is self:
            del _running[self.name]
        self.server.stop()
        self.server.datasite.close()
        print(f"Stopped Datasite {self.name!r}.")

    def __repr__(self) -> str:
        return f"<ServerHandle {self.name!r} at {self.url}>"


def launch(
    name: str | None = None,
    port: int | str | None = "auto",
    reset: bool = False,
    dev_mode: bool = False,
    host: str = "127.0.0.1",
    data_dir: str | Path | None = None,
    db_url: str | None = None,
    dask_scheduler: str | None = None,
    verbose: bool = True,
    **pysyft_options: Any,
) -> ServerHandle:
    """Start a Datasite. The same ``name`` reopens the same data unless ``reset=True``.

    It starts with the root account ``info@openmined.org`` / ``changethis``; change it with
    ``client.account.set_password(...)``. PySyft's other options (``n_consumers``,
    ``create_producer``...) are accepted, and the launch message says why each is not needed;
    an option PySyft does not have either is refused.
    """
    not_needed = _pysyft_only(dev_mode=dev_mode, **pysyft_options)
    name = name or "datasite"
    folder = Path(data_dir) if data_dir else datasite_folder(name)
    previous = _running.get(name)
    if previous is not None:
        previous.land()
    if reset and folder.exists():
        shutil.rmtree(folder)
    if reset and db_url:  # the database outlives the folder: empty it too
        from ..server.store import Store

        store = Store(db_url)
        try:
            store.drop_all()
        finally:
            store.close()
    port_number = _port(port)
    started = time.perf_counter()
    import_server()  # with the collector paused: no full collections of the kernel
    server = _start(name, folder, host, port_number, db_url, dask_scheduler)
    handle = ServerHandle(name, server, folder)
    _running[name] = handle
    if verbose:
        took = time.perf_counter() - started
        print(
            f"Datasite {name!r} is running at {handle.url} (started in {took:.2f} s). "
            "Local use only."
        )
        if not_needed:
            print("Not needed here, so not used: " + "; ".join(not_needed) + ".")
    return handle


def _start(
    name: str,
    folder: Path,
    host: str,
    port_number: int,
    db_url: str | None,
    dask_scheduler: str | None,
) -> DatasiteServer:
    """Open the Datasite in ``folder`` and serve it from a thread on ``host:port_number``."""
    # The code runner (sandbox probe, first warm worker: other processes) starts first, and
    # a new Datasite's root password is hashed (argon2: without the GIL), so both run on the
    # other core while this thread imports and opens the rest.
    from ..server.security import hash_ahead
    from ..server.startup import RunnerStart

    if not db_url and not (folder / "datasite.db").exists():  # its root account is made now
        hash_ahead(DEFAULT_ROOT_PASSWORD)
    _log_to_file(folder / LOG_FILE)  # before the runner's thread may log (no sandbox: a warning)
    start = None if dask_scheduler else RunnerStart.for_datasite(folder)
    from ..server.datasite import DatasiteConfig
    from .bootstrap import RELEASE_ORCHESTRA, open_datasite
    from .standalone import DatasiteServer

    datasite = open_datasite(
        DatasiteConfig(
            name=name,
            data_dir=folder,
            db_url=db_url,
            root_email=DEFAULT_ROOT_EMAIL,
            root_password=DEFAULT_ROOT_PASSWORD,
            dask_scheduler=dask_scheduler,
            schema_cache=datasites_root() / SCHEMA_CACHE,
        ),
        release=RELEASE_ORCHESTRA,
        start=start,
    )
    try:
        server = DatasiteServer(datasite, host=host, port=port_number)
    except OSError as exc:
        datasite.close()
        raise SyftException(
            f"Cannot start Datasite {name!r} on {host}:{port_number}: {exc.strerror}. "
            "Use another port, or port='auto' to pick a free one."
        ) from None
    server.start()
    return server


# PySyft 0.9's launch options that have no job here, and why.
_NOT_NEEDED = {
    "dev_mode": "there is no development mode: errors always say what went wrong",
    "n_consumers": "every job runs in its own sandboxed worker, started as needed",
    "create_producer": "jobs need no queue producer",
    "thread_workers": "jobs run in sandboxed worker processes, never threads",
    "queue_port": "jobs need no message queue",
    "processes": "the Datasite serves from one process and runs jobs in workers",
    "local_db": "the store is a SQLite file in the Datasite's folder (or db_url)",
    "server_type": "this is a Datasite",
    "node_type": "this is a Datasite",
    "server_side_type": "a Datasite here holds private data: it is always the high side",
    "node_side_type": "a Datasite here holds private data: it is always the high side",
    "deploy_to": "it runs in this Python process; `jupyter-syft serve` runs one standalone",
    "log_level": "the server's log is the datasite.log file in the Datasite's folder",
    "tail": "the server's log is the datasite.log file in the Datasite's folder",
    "enable_warnings": "warnings are always shown",
    "background_tasks": "background jobs are always on",
    "association_request_auto_approval": "Datasites do not associate with each other here",
    "debug": "the server's log is the datasite.log file in the Datasite's folder",
    "migrate": "the store migrates itself when it opens",
}


# PySyft options whose work is done another way here: ignoring them would change the outcome.
_REFUSED = {
    "store_client_config": "give the database as db_url='postgresql://...' (or nothing: SQLite)",
    "from_state_folder": "migration states of PySyft cannot be loaded; upload the data again",
}


def _pysyft_only(dev_mode: bool = False, **options: Any) -> list[str]:
    """PySyft's options given (``option: why it is not needed``); an unknown one is refused."""
    for key in sorted(set(options) & set(_REFUSED)):
        if options[key] is not None:
            raise SyftException(f"sy.orchestra.launch does not take {key} here: {_REFUSED[key]}.")
    options = {k: v for k, v in options.items() if k not in _REFUSED}
    for key in ("server_type", "node_type"):
        kind = str(getattr(options.get(key), "value", options.get(key)) or "").lower()
        if kind in networks.SERVER_TYPES:
            networks.refuse(f"sy.orchestra.launch({key}={kind!r})")
    unknown = sorted(set(options) - set(_NOT_NEEDED))
    if unknown:
        raise SyftException(
            f"sy.orchestra.launch got an unknown option {unknown[0]!r}. It takes name, port, "
            "reset, host, data_dir, db_url, dask_scheduler and verbose, and accepts PySyft's "
            f"own: {', '.join(sorted(_NOT_NEEDED))}."
        )
    given = dict(options, dev_mode=dev_mode) if dev_mode else options
    return [f"{key} ({_NOT_NEEDED[key]})" for key in given]


LOG_FILE = "datasite.log"
# The server's loggers: in a notebook their lines (a refused call's "403 GET ...") would land
# in the user's cell, so an in-process Datasite writes them to a file in its folder.
_SERVER_LOGGERS = (
    "tornado.access",
    "tornado.application",
    "tornado.general",
    "jupyter_syft.server",
)
_log_handler: logging.Handler | None = None


def _log_to_file(path: Path) -> None:
    global _log_handler
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8", delay=True)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    for name in _SERVER_LOGGERS:
        logger = logging.getLogger(name)
        if _log_handler is not None:
            logger.removeHandler(_log_handler)
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        # Still propagated: an application that configured logging gets them too; what
        # stops is Python's last-resort printing to stderr when nothing is configured.
    # Except the access log: a Jupyter kernel puts a stderr handler on the "tornado" logger,
    # through which every request's line ("403 POST /syft/...") would land in the cell.
    logging.getLogger("tornado.access").propagate = False
    if _log_handler is not None:
        _log_handler.close()
    _log_handler = handler


def _port(port: int | str | None) -> int:
    if port is None or port == "auto":
        return 0
    if isinstance(port, str) and port.strip().isdigit():
        return int(port)
    if isinstance(port, int) and 0 <= port < 65536:
        return port
    raise SyftException(f"port must be 'auto' or a number, not {port!r}.")


class _Orchestra:
    """``sy.orchestra``: PySyft's entry point to launching Datasites."""

    launch = staticmethod(launch)

    @staticmethod
    def land(name: str) -> None:
        handle = _running.get(name)
        if handle is not None:
            handle.land()


orchestra = _Orchestra()
