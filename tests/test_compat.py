"""``sy.requires`` and ``sy.__version__`` as PySyft 0.9's tutorials use them (issue 14, item 1)."""

from __future__ import annotations

import pytest

import jupyter_syft as sy
from jupyter_syft.compat import PYSYFT_VERSION


@pytest.mark.parametrize(
    "spec", [">=0.9,<1.0.0", ">=0.9.5,<0.9.6", "==0.9.5", ">=0.9.2", "  >=0.9 , <1.0  "]
)
def test_the_requirements_of_pysyft_09_tutorials_pass_silently(spec, capsys):
    assert sy.requires(spec) is True
    assert capsys.readouterr().out == ""


def test_another_pysyft_version_warns_and_says_what_we_follow(capsys):
    assert sy.requires(">=0.8.3,<0.8.4") is False
    out = capsys.readouterr().out
    assert "SyftWarning" in out and ">=0.8.3,<0.8.4" in out and PYSYFT_VERSION in out
    assert sy.requires(">=0.8.3,<0.8.4", silent=True) is False
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("bad", ["latest", "0.9", "x" * 1000, 0.9])
def test_a_requirement_that_is_not_a_specifier_is_refused_with_an_example(bad):
    with pytest.raises(sy.SyftException) as refused:
        sy.requires(bad)
    message = str(refused.value)
    assert "0.9" in message and ("specifier" in message or "characters" in message)


def test_version_is_ours_and_its_repr_names_the_pysyft_api():
    from importlib.metadata import version

    assert sy.__version__ == version("jupyter_syft") and isinstance(sy.__version__, str)
    assert f"PySyft {PYSYFT_VERSION}" in repr(sy.__version__)
    assert str(sy.__version__) == version("jupyter_syft")
