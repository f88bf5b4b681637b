"""`import jupyter_syft` stays light: nothing heavy is imported until it is used."""

import subprocess
import sys

HEAVY = ["pandas", "numpy", "pyarrow", "sqlalchemy", "sqlmodel", "tornado", "requests", "argon2"]


def test_import_does_not_pull_heavy_modules():
    code = (
        "import sys, jupyter_syft as sy; "
        "sy.Dataset, sy.Asset, sy.Contributor, sy.ServiceRole, sy.SyftException; "
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_unknown_attribute_is_a_clear_error():
    import jupyter_syft as sy

    try:
        sy.no_such_thing
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("expected AttributeError")
