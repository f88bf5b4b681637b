"""How every host starts a Datasite: its settings, its folder, the Datasite itself, the root
password announced once, and the demo dataset when asked.

``JUPYTER_SYFT_*`` variables are read here and nowhere else (the kernel side reads
``JUPYTER_SYFT_CONNECTION_FILE`` in ``local_session``). Each host takes from them only what it
documents: ``jupyter-syft serve`` and the Jupyter server extension the store, root account and
Dask scheduler; the extension also its name, folder and demo flag; ``sy.orchestra.launch`` only
``JUPYTER_SYFT_HOME``, as its root account is PySyft's fixed one. Every host takes
``JUPYTER_SYFT_RELEASE`` (see ``open_datasite``).

Importing this module stays light: the server is imported when a Datasite is opened.
"""

from __future__ import annotations

import gc
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import SyftException

if TYPE_CHECKING:
    from ..server.datasite import Datasite, DatasiteConfig
    from ..server.startup import RunnerStart


@dataclass(frozen=True)
class HostEnvironment:
    """The ``JUPYTER_SYFT_*`` settings; a blank variable counts as unset ("")."""

    home: str = ""  # JUPYTER_SYFT_HOME: where Datasites keep their data by default
    name: str = ""  # JUPYTER_SYFT_NAME
    data_dir: str = ""  # JUPYTER_SYFT_DATA_DIR
    db_url: str = ""  # JUPYTER_SYFT_DB_URL
    root_email: str = ""  # JUPYTER_SYFT_ROOT_EMAIL
    root_password: str = ""  # JUPYTER_SYFT_ROOT_PASSWORD
    dask_scheduler: str = ""  # JUPYTER_SYFT_DASK_SCHEDULER
    seed_demo: bool = False  # JUPYTER_SYFT_SEED_DEMO=1 (or true, yes)
    release: str = ""  # JUPYTER_SYFT_RELEASE: on_approval, checked or manual
    # JUPYTER_SYFT_WARM_ENVIRONMENTS: environments (besides the default) with warm workers
    warm_environments: str = ""

    @classmethod
    def read(cls) -> HostEnvironment:
        def env(setting: str) -> str:
            return os.environ.get(variable(setting), "").strip()

        return cls(
            home=env("home"),
            name=env("name"),
            data_dir=env("data_dir"),
            db_url=env("db_url"),
            root_email=env("root_email"),
            root_password=env("root_password"),
            dask_scheduler=env("dask_scheduler"),
            seed_demo=env("seed_demo").lower() in ("1", "true", "yes"),
            release=env("release").lower(),
            warm_environments=env("warm_environments"),
        )


def variable(setting: str) -> str:
    """A ``HostEnvironment`` field's variable: ``db_url`` -> ``JUPYTER_SYFT_DB_URL``."""
    return "JUPYTER_SYFT_" + setting.upper()


# --- where a Datasite's data lives -------------------------------------------------------------
def datasites_root() -> Path:
    """Where Datasites keep their data: ``$JUPYTER_SYFT_HOME`` or Jupyter's data dir."""
    home = HostEnvironment.read().home
    if home:
        return Path(home)
    from jupyter_core.paths import jupyter_data_dir

    return Path(jupyter_data_dir()) / "jupyter_syft" / "datasites"


def datasite_folder(name: str) -> Path:
    """The data folder of the Datasite called ``name`` under ``datasites_root()``."""
    return datasites_root() / folder_name(name)


def folder_name(name: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip(".-")
    if not slug:
        raise SyftException(
            f"{name!r} cannot name a Datasite: use letters, digits, '-', '_' or '.'."
        )
    return slug


# --- starting one ------------------------------------------------------------------------------
def config_from_env(
    name: str,
    data_dir: Path,
    db_url: str | None = None,
    dask_scheduler: str | None = None,
    env: HostEnvironment | None = None,
) -> DatasiteConfig:
    """A Datasite's config: what the host was given, the rest from the environment."""
    from ..server.datasite import DEFAULT_ROOT_EMAIL, DatasiteConfig

    env = env or HostEnvironment.read()
    return DatasiteConfig(
        name=name,
        data_dir=data_dir,
        db_url=db_url or env.db_url or None,
        root_email=env.root_email or DEFAULT_ROOT_EMAIL,
        root_password=env.root_password or None,
        dask_scheduler=dask_scheduler or env.dask_scheduler or None,
        warm_environments=_warm_environments(env.warm_environments),
    )


def _warm_environments(value: str) -> int:
    if not value:
        return 3
    if not value.isdigit() or int(value) > 64:
        raise SyftException(
            f"{variable('warm_environments')} takes a number from 0 to 64 (how many "
            f"environments keep warm workers), not {value[:20]!r}."
        )
    return int(value)


# How each host releases results of runs on private data (the Datasite setting ``release``,
# ``wire.enums.ReleaseMode``): a Datasite people serve checks every result and holds what fails;
# sy.orchestra.launch releases on approval, as PySyft does, so its tutorials run unchanged.
RELEASE_SERVED = "checked"
RELEASE_ORCHESTRA = "on_approval"
RELEASE_MODES = ("on_approval", "checked", "manual")


def release_mode(host_default: str, env: HostEnvironment | None = None) -> tuple[str, bool]:
    """The release mode to start with, and whether it was asked for (``JUPYTER_SYFT_RELEASE``)
    rather than the host's default."""
    asked = (env or HostEnvironment.read()).release
    if not asked:
        return host_default, False
    if asked not in RELEASE_MODES:
        raise SyftException(
            f"{variable('release')}={asked[:40]!r} is not a release mode: use "
            f"{', '.join(RELEASE_MODES)}."
        )
    return asked, True


def import_server() -> None:
    """Import the Datasite's server (SQLAlchemy, the tables, the services, tornado) with the
    collector paused: ``sy.orchestra.launch`` in a kernel. (``jupyter-syft serve`` imports
    them with its module, in a process of its own with little else to walk.)"""
    with collector_paused():
        import tornado.httpserver
        import tornado.web  # noqa: F401

        from ..server import datasite  # noqa: F401


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while the server's modules are imported.

    Importing them allocates hundreds of thousands of long-lived objects (SQLAlchemy, the
    tables, the services), which sets off full collections that walk every object in the
    process, pandas' and the notebook's included: 60 to 80 ms of a launch in a kernel that
    has imported pandas. Nothing an import makes is garbage worth collecting. Only imports:
    opening a Datasite makes sessions and connections whose cycles must go at once (their
    connections back to the pool). Nested uses leave it to the outermost.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if not gc.get_freeze_count():
                # What start-up made goes straight to the oldest generation: the young
                # collections that would walk it all now (~40 ms) have nothing to find there.
                gc.freeze()
                gc.unfreeze()
            gc.enable()


def open_datasite(
    config: DatasiteConfig,
    *,
    announce_password: Callable[[str, str], None] | None = None,
    seed_demo: bool = False,
    on_demo_added: Callable[[], None] | None = None,
    release: str = RELEASE_SERVED,
    start: RunnerStart | None = None,
) -> Datasite:
    """Open (or create) the Datasite of ``config``, as every host does.

    ``announce_password(email, password)`` is called once, when the root account was just
    created with a generated password: the host prints or logs it, and it is never shown
    again. With ``seed_demo`` the demo dataset is added unless it is there already
    (``on_demo_added()`` then says it was). ``release`` is the host's default release mode:
    it is set where the Datasite has none yet (an owner's choice stays); the variable
    ``JUPYTER_SYFT_RELEASE`` sets it at every start instead. ``start``: its code runner,
    already being started (``server.startup``); stopped if the Datasite cannot open.
    """
    try:
        from ..server.datasite import Datasite

        mode, asked = release_mode(release)
        datasite = Datasite(config, start)
    except BaseException:
        if start is not None:
            start.close()
        raise
    try:
        if not config.front:  # (a front's primary set them up)
            if asked:
                datasite.services.settings.force(release=mode)
            else:
                datasite.services.settings.initialize(release=mode)
        password = datasite.generated_root_password
        if password and announce_password is not None:
            announce_password(config.root_email, password)
        if seed_demo:
            from ..demo import seed_demo_data

            if seed_demo_data(datasite) and on_demo_added is not None:
                on_demo_added()
    except BaseException:
        datasite.close()
        raise
    return datasite
