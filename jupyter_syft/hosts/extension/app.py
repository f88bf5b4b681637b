"""``SyftExtension``: the Jupyter server extension that hosts a Datasite inside ``jupyter lab``.

Installing the package enables it (``jupyter-config/server-config/jupyter_syft.json``). Every
setting is a traitlet (``c.SyftExtension.db_url = ...``) that defaults to an environment variable,
so Binder and CI can configure it without a config file.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from jupyter_server.extension.application import ExtensionApp
from jupyter_server.serverapp import ServerApp
from traitlets import Bool, Unicode, default

from ... import local_session
from ..bootstrap import HostEnvironment, datasite_folder, open_datasite

LOCAL_TOKEN_TTL = timedelta(days=30)


class SyftExtension(ExtensionApp):
    name = "jupyter_syft"
    description = "A jupyter_syft Datasite hosted inside Jupyter Server"
    load_other_extensions = True

    datasite_name = Unicode(help="The Datasite's name. Env: JUPYTER_SYFT_NAME.").tag(config=True)
    data_dir = Unicode(
        help="Folder for the Datasite's database and blobs. Env: JUPYTER_SYFT_DATA_DIR; default "
        "under Jupyter's data dir."
    ).tag(config=True)
    db_url = Unicode(
        help="SQLAlchemy URL of the store (sqlite:///... or postgresql://...). "
        "Env: JUPYTER_SYFT_DB_URL; default: SQLite in the data folder."
    ).tag(config=True)
    root_email = Unicode(help="The owner account's email. Env: JUPYTER_SYFT_ROOT_EMAIL.").tag(
        config=True
    )
    root_password = Unicode(
        help="The owner account's first password. Env: JUPYTER_SYFT_ROOT_PASSWORD; default: "
        "generated and logged once."
    ).tag(config=True)
    dask_scheduler = Unicode(
        help="Send runs to this Dask scheduler. Env: JUPYTER_SYFT_DASK_SCHEDULER."
    ).tag(config=True)
    seed_demo = Bool(
        help="Add the breast-cancer demo dataset if missing. Env: JUPYTER_SYFT_SEED_DEMO=1."
    ).tag(config=True)

    @property
    def _env(self) -> HostEnvironment:
        """The JUPYTER_SYFT_* variables, read as every host reads them."""
        return HostEnvironment.read()

    @default("datasite_name")
    def _default_name(self) -> str:
        return self._env.name or "jupyterlab"

    @default("data_dir")
    def _default_data_dir(self) -> str:
        return self._env.data_dir or str(datasite_folder(self.datasite_name))

    @default("db_url")
    def _default_db_url(self) -> str:
        return self._env.db_url

    @default("root_email")
    def _default_root_email(self) -> str:
        from ...server.datasite import DEFAULT_ROOT_EMAIL

        return self._env.root_email or DEFAULT_ROOT_EMAIL

    @default("root_password")
    def _default_root_password(self) -> str:
        return self._env.root_password

    @default("dask_scheduler")
    def _default_dask_scheduler(self) -> str:
        return self._env.dask_scheduler

    @default("seed_demo")
    def _default_seed_demo(self) -> bool:
        return self._env.seed_demo

    datasite: Any = None
    _connection_file: Path | None = None
    _local_token: str | None = None

    def initialize_settings(self) -> None:
        from ...server.datasite import DatasiteConfig

        config = DatasiteConfig(
            name=self.datasite_name,
            data_dir=Path(self.data_dir),
            db_url=self.db_url or None,
            root_email=self.root_email,
            root_password=self.root_password or None,
            dask_scheduler=self.dask_scheduler or None,
        )
        self.datasite = open_datasite(
            config,
            announce_password=self._log_password,
            seed_demo=self.seed_demo,
            on_demo_added=lambda: self.log.info("jupyter_syft: added the demo dataset"),
        )
        self.settings["jupyter_syft_datasite"] = self.datasite
        self.log.info(
            "jupyter_syft: Datasite %r (data in %s) at %ssyft/api/v1/",
            self.datasite_name,
            self.data_dir,
            self.server.base_url,
        )
        self.server.io_loop.add_callback(self._publish_local_session)
        # Once Jupyter serves: the sandbox probe and the warm workers (never in a request).
        self.server.io_loop.add_callback(self.datasite.start_background)

    def _log_password(self, email: str, password: str) -> None:
        self.log.warning(
            "jupyter_syft: created the Datasite's owner account %s with the password %s "
            "(shown once; JupyterLab users act as the owner without it).",
            email,
            password,
        )

    @property
    def server(self) -> ServerApp:
        assert self.serverapp is not None, "the extension is used before Jupyter loaded it"
        return self.serverapp

    def initialize_handlers(self) -> None:
        from .handlers import datasite_routes

        self.handlers.extend(datasite_routes(self.datasite))
        try:
            from .remotes import remote_routes
        except ImportError:  # the remote-Datasite proxy is optional
            return
        self.handlers.extend(remote_routes())

    async def _publish_local_session(self) -> None:
        """Write the kernels' connection file once the server's port is known."""
        import asyncio

        server = self.server
        # Our callback was queued before the server's own bind: wait for the socket, so the
        # port is the one actually used (port retries may have changed it).
        for _ in range(200):
            http_server = getattr(server, "http_server", None)
            if http_server is None or http_server._sockets:  # no server of its own (tests)
                break
            await asyncio.sleep(0.05)
        if server.sock:  # a Unix socket: kernels cannot reach it over HTTP
            return
        actor = self.datasite.services.auth.owner_actor()
        token, _expires = self.datasite.services.auth.issue_token(actor.user_id, LOCAL_TOKEN_TTL)
        loopback = server.ip in ("", "*", "0.0.0.0", "::", "localhost", "127.0.0.1")  # noqa: S104
        host = "127.0.0.1" if loopback else server.ip
        scheme = "https" if server.certfile else "http"
        url = f"{scheme}://{host}:{server.port}{server.base_url}"
        path = local_session.connection_file(server.runtime_dir)
        local_session.write(
            path,
            {"url": url, "token": token, "name": self.datasite_name, "pid": os.getpid()},
        )
        self._connection_file, self._local_token = path, token
        os.environ[local_session.ENV_VAR] = str(path)  # inherited by kernels started from now on

    async def stop_extension(self) -> None:
        if self._connection_file is not None:
            self._connection_file.unlink(missing_ok=True)
            os.environ.pop(local_session.ENV_VAR, None)
        if self.datasite is not None:
            if self._local_token:
                self.datasite.services.auth.logout(self._local_token)
            self.datasite.close()
            self.datasite = None
