"""The three hosts read the JUPYTER_SYFT_* variables in one place (``hosts/bootstrap.py``) and
the same way: surrounding blanks ignored, a blank variable counts as unset."""

from __future__ import annotations

import pytest

import jupyter_syft as sy
from jupyter_syft.hosts.bootstrap import (
    HostEnvironment,
    config_from_env,
    datasite_folder,
    variable,
)
from jupyter_syft.hosts.extension.app import SyftExtension

# What `jupyter-syft serve` and the extension both take from the environment.
SHARED = {
    "db_url": "sqlite:////nowhere/datasite.db",
    "root_email": "owner@example.org",
    "root_password": "pw-from-env",
    "dask_scheduler": "tcp://scheduler.example:8786",
}


def test_serve_and_the_extension_take_the_same_settings(monkeypatch, tmp_path):
    for setting, value in SHARED.items():
        monkeypatch.setenv(variable(setting), f"  {value}\n")
    served = config_from_env("site", tmp_path)
    extension = SyftExtension()
    for setting, value in SHARED.items():
        assert getattr(served, setting) == value == getattr(extension, setting), setting


def test_blank_variables_count_as_unset(monkeypatch, tmp_path):
    for setting in (*SHARED, "name", "data_dir", "seed_demo", "home"):
        monkeypatch.setenv(variable(setting), "  ")
    assert HostEnvironment.read() == HostEnvironment()
    served = config_from_env("site", tmp_path)
    assert served.root_email == "info@openmined.org" and served.root_password is None
    assert served.db_url is None and served.dask_scheduler is None
    extension = SyftExtension()
    assert extension.datasite_name == "jupyterlab" and not extension.seed_demo


@pytest.mark.parametrize(("flag", "seeds"), [("1", True), ("Yes", True), ("0", False)])
def test_the_extension_takes_its_name_and_demo_flag(monkeypatch, flag, seeds):
    monkeypatch.setenv("JUPYTER_SYFT_NAME", " lab site ")
    monkeypatch.setenv("JUPYTER_SYFT_SEED_DEMO", flag)
    extension = SyftExtension()
    assert extension.datasite_name == "lab site" and extension.seed_demo is seeds


def test_every_host_keeps_a_named_datasite_under_the_home(monkeypatch, tmp_path):
    monkeypatch.setenv("JUPYTER_SYFT_HOME", str(tmp_path))
    monkeypatch.setenv("JUPYTER_SYFT_NAME", "lab site")
    assert datasite_folder("lab site") == tmp_path / "lab-site"  # `jupyter-syft serve`
    assert SyftExtension().data_dir == str(tmp_path / "lab-site")
    node = sy.orchestra.launch(name="lab site", port="auto", reset=True, verbose=False)
    try:
        assert node.data_dir == tmp_path / "lab-site"
    finally:
        node.land()
    monkeypatch.setenv("JUPYTER_SYFT_DATA_DIR", str(tmp_path / "elsewhere"))
    assert SyftExtension().data_dir == str(tmp_path / "elsewhere")
