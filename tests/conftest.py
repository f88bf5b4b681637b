"""Shared fixtures: real Datasites on loopback ports, with their data in a temp folder."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

import jupyter_syft as sy

ROOT_EMAIL = "info@openmined.org"
ROOT_PASSWORD = "changethis"
pytest_plugins = ["postgres", "pytest_jupyter.jupyter_server"]


@pytest.fixture(autouse=True)
def _store_backend(request: pytest.FixtureRequest) -> None:
    # JUPYTER_SYFT_TEST_DB=postgresql: every launched Datasite uses a fresh PostgreSQL database.
    if (
        os.environ.get("JUPYTER_SYFT_TEST_DB") == "postgresql"
        and "backend" not in request.fixturenames
    ):
        request.getfixturevalue("postgres_everywhere")


@pytest.fixture(autouse=True)
def _isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Launched Datasites and Jupyter state go to temp folders, never to ~.
    base = tmp_path_factory.getbasetemp()
    monkeypatch.setenv("JUPYTER_SYFT_HOME", str(base / "datasites"))
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(base / "jupyter-data"))
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(base / "jupyter-config"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(base / "jupyter-runtime"))
    monkeypatch.setenv("IPYTHONDIR", str(base / "ipython"))


@pytest.fixture
def node(request: pytest.FixtureRequest) -> Iterator[sy.orchestra.ServerHandle]:  # type: ignore[name-defined]
    name = f"test-{request.node.name}"[:60]
    handle = sy.orchestra.launch(name=name, port="auto", reset=True, verbose=False)
    yield handle
    handle.land()


@pytest.fixture
def root(node):
    return sy.login(url=node.url, email=ROOT_EMAIL, password=ROOT_PASSWORD, verbose=False)


@pytest.fixture
def scientist(node, root):
    root.users.create(
        sy.UserCreate(
            email="ds@example.org",
            name="Dana Scientist",
            password="pw-ds-123",
            role=sy.ServiceRole.DATA_SCIENTIST,
        )
    )
    return sy.login(url=node.url, email="ds@example.org", password="pw-ds-123", verbose=False)


@pytest.fixture
def frames():
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    private = pd.DataFrame({"age": rng.integers(18, 90, 50), "score": rng.normal(size=50)})
    mock = pd.DataFrame({"age": rng.integers(18, 90, 50), "score": rng.normal(size=50)})
    return private, mock


@pytest.fixture
def uploaded(root, frames):
    private, mock = frames
    dataset = sy.Dataset(name="Patients", summary="Ages and scores", description="Synthetic.")
    dataset.add_asset(sy.Asset(name="table", data=private, mock=mock))
    root.upload_dataset(dataset, progress=False)
    return private, mock


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("TQDM_DISABLE", "1")
