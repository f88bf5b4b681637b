"""``sy.orchestra.launch``: start a Datasite on a loopback port from a notebook or script."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import SyftException
from .bootstrap import datasite_folder

if TYPE_CHECKING:
    from ..client.client import DatasiteClient
    from .standalone import DatasiteServer

DEFAULT_ROOT_EMAIL = "info@openmined.org"
DEFAULT_ROOT_PASSWORD = "changethis"  # noqa: S105 - PySyft's default; login warns to change it
_running: dict[str, ServerHandle] = {}


class ServerHandle:
    """A running Datasite: ``port``, ``url``, ``login()``, ``client``, ``land()``."""

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
    **_pysyft_options: Any,
) -> ServerHandle:
    """Start a Datasite. The same ``name`` reopens the same data unless ``reset=True``.

    It starts with the root account ``info@openmined.org`` / ``changethis``; change it with
    ``client.account.set_password(...)``. PySyft's other options are accepted and ignored.
    """
    from ..server.datasite import DatasiteConfig
    from .bootstrap import RELEASE_ORCHESTRA, open_datasite
    from .standalone import DatasiteServer

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
    datasite = open_datasite(
        DatasiteConfig(
            name=name,
            data_dir=folder,
            db_url=db_url,
            root_email=DEFAULT_ROOT_EMAIL,
            root_password=DEFAULT_ROOT_PASSWORD,
            dask_scheduler=dask_scheduler,
        ),
        release=RELEASE_ORCHESTRA,
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
    handle = ServerHandle(name, server, folder)
    _running[name] = handle
    if verbose:
        took = time.perf_counter() - started
        print(
            f"Datasite {name!r} is running at {handle.url} (started in {took:.2f} s). "
            "Local use only."
        )
    return handle


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
