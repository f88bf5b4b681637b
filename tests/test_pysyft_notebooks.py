"""``jupyter-syft run-pysyft``: PySyft notebooks run with only their imports changed."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from jupyter_syft import cli
from jupyter_syft.pysyft_notebooks import run_notebooks, swap_imports


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("import syft as sy", "import jupyter_syft as sy"),
        ("  import syft as syft_lib", "  import jupyter_syft as syft_lib"),
        ("import syft", "import jupyter_syft as syft"),
        ("from syft import ActionObject", "from jupyter_syft import ActionObject"),
        (
            "from syft.service.policy.policy import OutputPolicy, ExactMatch",
            "from jupyter_syft import OutputPolicy, ExactMatch",
        ),
    ],
)
def test_each_import_of_syft_becomes_one_of_jupyter_syft(before: str, after: str) -> None:
    swap = swap_imports(f"x = 1\n{before}\ny = 2")
    assert swap.source == f"x = 1\n{after}\ny = 2"
    assert swap.changes == [(before.strip(), after.strip())]


@pytest.mark.parametrize(
    "line",
    [
        "import syften",
        "import numpy as np",
        "from syftbox import x",
        "# import syft as sy is how PySyft starts",
        "text = 'import syft as sy'",
    ],
)
def test_nothing_else_changes(line: str) -> None:
    assert swap_imports(line).source == line
    assert swap_imports(line).changes == []


def test_installing_packages_is_commented_out_and_listed() -> None:
    swap = swap_imports(
        "%pip install -U syft==0.9.5 -q\n!pip install {package_string} -f x\nprint('pip install')"
    )
    first, second, third = swap.source.splitlines()
    assert first.startswith("# %pip install -U syft==0.9.5") and "not installed" in first
    assert second.startswith("# !pip install {package_string}")
    assert third == "print('pip install')"
    assert len(swap.changes) == 2


def _notebook(path: Path, *cells: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nbformat.write(nb, path)
    return path


def test_a_series_shares_its_datasite_and_a_failure_names_its_cell(tmp_path: Path) -> None:
    # Two notebooks as PySyft's tutorials are written: the first launches a Datasite and
    # uploads, the second (a new kernel) launches the same name again and finds the data.
    first = _notebook(
        tmp_path / "00-load.ipynb",
        "import syft as sy\nsy.requires('>=0.9,<1.0.0')",
        "server = sy.orchestra.launch(name='series', reset=True, dev_mode=True)\n"
        "client = server.login(email='info@openmined.org', password='changethis')",
        "import pandas as pd\n"
        "ds = sy.Dataset(name='d')\n"
        "ds.add_asset(sy.Asset(name='a', data=pd.DataFrame({'x': [1, 2]}),"
        " mock=pd.DataFrame({'x': [0, 0]})))\n"
        "client.upload_dataset(ds)\nserver.land()",
    )
    second = _notebook(
        tmp_path / "01-use.ipynb",
        "from syft import orchestra",
        "server = orchestra.launch(name='series', dev_mode=True)\n"
        "client = server.login(email='info@openmined.org', password='changethis')\n"
        "assert len(client.datasets.get_all()) == 1",
        "client.datasets[0].assets[0].no_such_attribute",
        "print('never reached')",
    )
    outcomes = run_notebooks([first, second], timeout=120)
    assert [o.ok for o in outcomes] == [True, False]
    failed = outcomes[1]
    assert failed.failed_cell == 3 and failed.code_cells == 4 and failed.cells_run == 3
    assert "no_such_attribute" in failed.failed_source
    assert failed.error.startswith("AttributeError") or "no_such_attribute" in failed.error
    assert ("from syft import orchestra", "from jupyter_syft import orchestra") in failed.changes


def test_the_command_reports_and_exits_non_zero_on_a_failure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = _notebook(tmp_path / "good.ipynb", "import syft as sy\nassert sy.__version__")
    bad = _notebook(tmp_path / "bad.ipynb", "import syft as sy\nassert sy.requires('>=2.0')")
    assert cli.main(["run-pysyft", str(good)]) == 0
    assert cli.main(["run-pysyft", str(good), str(bad)]) == 1
    out = capsys.readouterr().out
    assert "OK    " in out and "FAIL  " in out and "1 of 2 notebooks ran to the end." in out
    assert cli.main(["run-pysyft", str(tmp_path / "missing.ipynb")]) == 2
    assert "no such notebook" in capsys.readouterr().err


def test_relative_folders_are_found_from_the_kernels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The kernels run in <home>/work: a relative --cache or --home must not point there.
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "data.csv").write_text("x\n1\n")
    monkeypatch.chdir(tmp_path)
    nb = _notebook(
        tmp_path / "cached.ipynb",
        "import os, pathlib\n"
        "cache = pathlib.Path(os.environ['JUPYTER_SYFT_CACHE'])\n"
        "assert cache.is_absolute() and (cache / 'data.csv').is_file()\n"
        "assert pathlib.Path.home().is_absolute()",
    )
    [outcome] = run_notebooks([nb], home=Path("home"), cache=Path("cache"), timeout=120)
    assert outcome.ok, outcome.error
