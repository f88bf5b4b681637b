"""The Binder demo: its notebooks run top to bottom against a real JupyterLab Datasite.

One ``jupyter server`` is started the way Binder starts it, through ``binder/start`` (so the
start script is what configures and seeds the Datasite), on a free loopback port with its own
config, data, runtime and home folders. Notebooks 1 to 7 then run in order with nbclient, each in
a fresh kernel that finds the Datasite through ``JUPYTER_SYFT_CONNECTION_FILE``, as kernels that
JupyterLab starts do. They share nothing but the Datasite: each builds on what the previous ones
left there. Every notebook ends with ``assert`` cells, so a notebook that does not do what it
says fails here, with the failing cell and its error.
"""

from __future__ import annotations

import json
import os
import re
import runpy
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent.parent
BINDER = ROOT / "binder"
NOTEBOOKS_DIR = BINDER / "notebooks"
NOTEBOOKS = [
    "01-data-owner-setup.ipynb",
    "02-data-scientist-request.ipynb",
    "03-data-owner-review.ipynb",
    "04-data-scientist-result.ipynb",
    "05-data-owner-outputs.ipynb",
    "06-data-scientist-released.ipynb",
    "07-breast-cancer-study.ipynb",
]
CELL_TIMEOUT = 120  # seconds for one cell
START_TIMEOUT = 90  # seconds for the server to answer
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Lab:
    """A ``binder/start jupyter server`` process and what its kernels need to reach it."""

    def __init__(self, base: Path):
        self.base = base
        self.home = base / "home"
        self.runtime_dir = base / "runtime"
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.token = "binder-test-token"  # a throw-away server on loopback
        self.log_path = base / "server.log"
        self.outputs = base / "executed"
        self.outputs.mkdir()
        self.home.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER")}
        env.update(
            HOME=str(self.home),  # binder/start's default data folder is under ~
            IPYTHONDIR=str(base / "ipython"),
            JUPYTER_CONFIG_DIR=str(base / "config"),
            JUPYTER_DATA_DIR=str(base / "data"),
            JUPYTER_RUNTIME_DIR=str(self.runtime_dir),
            PYTHONUNBUFFERED="1",
        )
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None
        self.connection_file: Path | None = None

    def start(self) -> None:
        command = [
            str(BINDER / "start"),
            sys.executable, "-m", "jupyter_server",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            "--ServerApp.open_browser=False",
            "--ServerApp.allow_root=True",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={ROOT}",
        ]  # fmt: skip
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                command, env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=self.base
            )
        deadline = time.monotonic() + START_TIMEOUT
        # binder/start ends with `exec`: the server keeps the script's pid, and names its
        # connection file after it.
        expected = self.runtime_dir / f"jupyter_syft-{self.process.pid}.json"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the server exited with {self.process.returncode}:\n{self.log()}")
            if expected.is_file() and self._metadata() is not None:
                self.connection_file = expected
                return
            time.sleep(0.25)
        pytest.fail(
            f"no Datasite at {self.url}syft/api/v1/metadata or no {expected.name} after "
            f"{START_TIMEOUT}s:\n{self.log()}"
        )

    def _metadata(self) -> dict | None:
        try:
            with urllib.request.urlopen(f"{self.url}syft/api/v1/metadata", timeout=2) as answer:
                return json.loads(answer.read())
        except OSError:
            return None

    def kernel_env(self) -> dict[str, str]:
        assert self.connection_file is not None
        return dict(self.env, JUPYTER_SYFT_CONNECTION_FILE=str(self.connection_file))

    def log(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no server log)"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    server = Lab(tmp_path_factory.mktemp("binder"))
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def progress() -> dict[str, str]:
    """Notebooks that failed: the later ones need what they leave on the Datasite."""
    return {}


def test_start_script_seeds_the_demo_datasite(lab: Lab) -> None:
    metadata = lab._metadata()
    assert metadata is not None and metadata["name"] == "demo-datasite"
    info = json.loads(lab.connection_file.read_text())  # type: ignore[union-attr]
    assert info["url"] == lab.url and info["pid"] == lab.process.pid  # type: ignore[union-attr]
    # binder/start's default data folder, under the server's (temp) home
    assert (lab.home / ".jupyter_syft" / "demo" / "datasite.db").is_file()
    with urllib.request.urlopen(f"{lab.url}lab?token={lab.token}", timeout=10) as answer:
        assert answer.status == 200


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_top_to_bottom(lab: Lab, progress: dict[str, str], name: str) -> None:
    if progress:
        pytest.skip(f"{', '.join(progress)} failed; this notebook builds on it")
    nb = nbformat.read(NOTEBOOKS_DIR / name, as_version=4)
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS_DIR)}},
    )
    try:
        client.execute(env=lab.kernel_env())
    except CellExecutionError as exc:
        progress[name] = "failed"
        pytest.fail(
            f"{name}: a cell failed\n{ANSI.sub('', str(exc))}\n--- server log ---\n{lab.log(30)}",
            pytrace=False,
        )
    except BaseException:
        progress[name] = "failed"
        raise
    finally:
        nbformat.write(nb, lab.outputs / name)  # executed copy, to look at after a failure
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert "Done:" in "".join(o.get("text", "") for o in outputs if o.output_type == "stream")


def test_notebooks_are_committed_without_outputs_and_match_their_generator() -> None:
    generator = runpy.run_path(str(BINDER / "make_notebooks.py"))
    assert list(generator["NOTEBOOKS"]) == NOTEBOOKS
    for name in NOTEBOOKS:
        saved = nbformat.read(NOTEBOOKS_DIR / name, as_version=4)
        nbformat.validate(saved)
        for cell in saved.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, name
        built = generator["build"](generator["NOTEBOOKS"][name])
        assert [(c.cell_type, c.source) for c in saved.cells] == [
            (c.cell_type, c.source) for c in built.cells
        ], f"{name} differs from binder/make_notebooks.py: run it again"


@pytest.mark.parametrize("script", ["binder/start", "binder/postBuild", "scripts/start.sh"])
def test_scripts_are_valid_bash(script: str) -> None:
    path = ROOT / script
    assert os.access(path, os.X_OK) or script.endswith(".sh"), f"{script} is not executable"
    done = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_start_script_keeps_given_settings_and_resets_only_a_datasite(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_SYFT")}
    env.update(HOME=str(tmp_path), JUPYTER_SYFT_ROOT_PASSWORD="given")
    shown = subprocess.run(
        [str(BINDER / "start"), "env"], env=env, capture_output=True, text=True, check=True
    ).stdout
    settings = dict(line.split("=", 1) for line in shown.splitlines() if "=" in line)
    assert settings["JUPYTER_SYFT_SEED_DEMO"] == "1"
    assert settings["JUPYTER_SYFT_DATA_DIR"] == str(tmp_path / ".jupyter_syft" / "demo")
    assert settings["JUPYTER_SYFT_ROOT_PASSWORD"] == "given"

    # A reset deletes a Datasite's folder, and refuses any other folder.
    folder = tmp_path / "not-a-datasite"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    env.update(JUPYTER_SYFT_DATA_DIR=str(folder), JUPYTER_SYFT_DEMO_RESET="1")
    refused = subprocess.run([str(BINDER / "start"), "true"], env=env, capture_output=True)
    assert refused.returncode != 0 and (folder / "keep.txt").is_file()
    (folder / "datasite.db").write_text("")
    subprocess.run([str(BINDER / "start"), "true"], env=env, check=True, capture_output=True)
    assert not folder.exists()
