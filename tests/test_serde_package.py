"""jupyter_syft.serde is a package now: every name of the old single module is still there,
and importing it stays light."""

import pickle
import subprocess
import sys
from pathlib import Path

import jupyter_syft.serde

REPO = Path(__file__).resolve().parents[1]  # so the subprocess imports this checkout

# Everything serde.py exported before it became a package (its __all__).
OLD_NAMES = [
    "FORMAT_VERSION",
    "MAGIC",
    "MAX_DEPTH",
    "MAX_DTYPE_CHARS",
    "MAX_HEADER_BYTES",
    "Encoded",
    "Err",
    "Ok",
    "SerdeError",
    "StreamChecker",
    "decode",
    "decode_file",
    "dumps",
    "encode",
    "loads",
    "read_summary",
]


def test_old_names_are_importable():
    namespace: dict = {}
    exec(f"from jupyter_syft.serde import {', '.join(OLD_NAMES)}", namespace)
    assert all(name in namespace for name in OLD_NAMES)
    assert sorted(jupyter_syft.serde.__all__) == sorted(OLD_NAMES)


def test_public_classes_keep_their_old_path():
    # Tracebacks and pickles (Ok/Err travel through Dask) name jupyter_syft.serde.
    for name in ("Encoded", "Err", "Ok", "SerdeError", "StreamChecker"):
        assert getattr(jupyter_syft.serde, name).__module__ == "jupyter_syft.serde"
    ok = jupyter_syft.serde.Ok([1, "a"])
    assert pickle.loads(pickle.dumps(ok)) == ok


def test_import_does_not_load_numpy_pandas_or_pyarrow():
    code = (
        "import sys, jupyter_syft.serde; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'numpy', 'pandas', 'pyarrow'}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
