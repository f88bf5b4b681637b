"""numpy, pandas and pyarrow, imported only when a payload needs them.

``import jupyter_syft.serde`` must not import them; decoding a payload that holds their
data imports them here, with a SerdeError that says what to install when one is missing.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import SerdeError


def import_numpy() -> Any:
    try:
        import numpy
    except ImportError:
        raise SerdeError("This payload contains numpy data: install numpy to decode it.") from None
    return numpy


def import_pandas() -> Any:
    try:
        import pandas
    except ImportError:
        raise SerdeError(
            "This payload contains pandas data: install pandas to decode it."
        ) from None
    return pandas


def import_pyarrow() -> Any:
    try:
        import pyarrow
    except ImportError:
        raise SerdeError(
            "This payload contains a DataFrame or Series: install pyarrow to decode it."
        ) from None
    version = tuple(int(p) for p in re.findall(r"[0-9]+", pyarrow.__version__)[:3])
    if version < (14, 0, 1):
        # Older pyarrow can unpickle "PyExtensionType" columns (CVE-2023-47248).
        raise SerdeError(
            f"pyarrow {pyarrow.__version__} is unsafe for untrusted data; install pyarrow>=14.0.1."
        )
    return pyarrow
