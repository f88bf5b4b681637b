"""serde.decoder.validate: as strict as decode, without a decoded copy in memory.

Uploads are checked with it at commit (server/blobs.py), on a memory map: a 1 GB table must
not become a 1 GB DataFrame in the server just to be checked.
"""

import tracemalloc

import numpy as np
import pandas as pd
import pytest

from jupyter_syft import serde
from jupyter_syft.serde.decoder import validate


def mixed_frame(rows=20):
    frame = pd.DataFrame(
        {
            "i": np.arange(rows),
            "f": np.linspace(0, 1, rows),
            "s": [f"name-{k}" for k in range(rows)],
            "c": pd.Categorical(["a", "b"] * (rows // 2)),
        }
    ).set_index("i")
    frame["o"] = pd.Series([f"x{k}" for k in range(rows)], index=frame.index, dtype=object)
    return frame


@pytest.mark.parametrize("flip", [0x01, 0x80])
def test_whatever_validate_accepts_decode_accepts_too(flip):
    raw = serde.dumps({"table": mixed_frame(), "series": mixed_frame()["f"], "n": 3})
    accepted = 0
    for position in range(len(raw)):
        corrupted = bytearray(raw)
        corrupted[position] ^= flip
        try:
            validate(bytes(corrupted))
        except serde.SerdeError:
            continue
        accepted += 1
        serde.decode(bytes(corrupted))  # raises if validate let through what decode refuses
    assert 0 < accepted < len(raw)  # some flips are harmless, many are caught


def test_validate_builds_no_decoded_copy():
    # Strings: decoding makes a Python object of each (which tracemalloc sees).
    frame = pd.DataFrame({"x": pd.Series([f"v{k}" for k in range(300_000)], dtype=object)})
    raw = serde.dumps(frame)
    tracemalloc.start()
    try:
        validate(raw)
        _current, peak_validate = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        decoded = serde.decode(raw)
        _current, peak_decode = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert decoded.shape == (300_000, 1)
    assert peak_validate < 4 << 20, peak_validate  # well under one copy of the values
    assert peak_decode > 16 << 20  # decoding does build the frame (the measure works)
