"""The byte layout of a payload: magic, version, prelude, alignment, segment kinds, limits.

The format itself is documented in the package docstring (``jupyter_syft/serde/__init__.py``).
"""

from __future__ import annotations

import re
import struct

FORMAT_VERSION = 1
MAGIC = b"JSYF"
MAX_HEADER_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 100
MAX_DTYPE_CHARS = 32

PRELUDE = struct.Struct("<4sBBI")  # magic, version, flags, header length
PRELUDE_SIZE = PRELUDE.size
ALIGN = 64
KIND_RANK = {"arrow": 0, "npy": 1, "bytes": 2}
# Smallest possible valid segment: Arrow needs its 8-byte message prefix, npy its preamble.
MIN_SEGMENT = {"arrow": 8, "npy": 10, "bytes": 0}
ARROW_MARKER = b"\xff\xff\xff\xff"
MAX_SEGMENT = 2**62

# A time zone name as the format carries it (encoder and decoder agree on this).
ZONE_RE = re.compile(r"[A-Za-z0-9_+\-]+(?:/[A-Za-z0-9_+\-]+)*")
