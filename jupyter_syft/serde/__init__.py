"""The one versioned binary format for values that cross jupyter_syft's trust boundary.

Datasets, arguments and results travel and are stored in this format. It never uses
pickle: decoding only ever builds plain Python values, numpy arrays (from ``.npy`` bytes
with ``allow_pickle`` semantics off) and pandas objects (from Arrow IPC streams). A
malicious payload cannot run code on decode; anything malformed raises ``SerdeError``.

Layout, format version 1
------------------------
::

    offset 0    magic    b"JSYF"
    4           u8       format version (1)
    5           u8       flags (0, reserved)
    6           u32 LE   header length H
    10          H bytes  UTF-8 JSON object:
                         {"v": 1, "root": <node>,
                          "segments": [{"kind": "arrow" | "npy" | "bytes", "size": <int>}, ...],
                          "summary": {"type": ..., ...}}
    10 + H      the segments' bytes, concatenated in order, each exactly "size" bytes

The total length is exactly ``10 + H + sum(sizes)``; fewer or more bytes are an error.
The encoder pads the JSON with trailing spaces so the segment area starts 64-byte aligned,
and orders segments arrow, then npy, then bytes: Arrow streams are multiples of 8 bytes
and each ``.npy`` header is padded so its data starts 64-byte aligned, which lets decoding
hand out aligned zero-copy buffers. Decoders must not rely on either.

Nodes
-----
JSON ``null``, ``true``/``false``, integers (Python ``int``, up to ~4200 digits), finite
floats (exact: floats are written with ``repr``) and strings stand for themselves. Every
JSON array is a tagged node ``[tag, ...]``; JSON objects never appear in the value tree.

=======================================  ==================================================
``["float", "nan"|"inf"|"-inf"]``        non-finite float (NaN payload and sign are lost)
``["list"|"tuple", [nodes]]``            list, tuple
``["set"|"frozenset", [nodes]]``         set, frozenset
``["dict"|"odict", [[k, v], ...]]``      dict, collections.OrderedDict (keys are nodes)
``["bytes"|"bytearray"|"bytesio", i]``   bytes-like value in segment ``i`` (kind bytes);
                                         io.BytesIO holds its whole buffer, position 0
``["complex", re, im]``                  re, im: float nodes
``["datetime", iso, zone|null]``         zone: zoneinfo key, so the zone round-trips;
                                         otherwise the ISO offset is kept (fixed offset)
``["date", iso]``, ``["time", iso]``     datetime.date / datetime.time
``["timedelta", days, seconds, us]``     datetime.timedelta
``["decimal", str]``, ``["uuid", hex]``  decimal.Decimal, uuid.UUID
``["range", a, b, c]``                   range (ints)
``["slice", n, n, n]``                   slice (nodes)
``["npscalar", dtype, hex]``             numpy scalar: ``dtype.str`` and its raw bytes;
                                         dtype kinds b, i, u, f, c, M, m only
``["ndarray", i]``                       segment kind npy (``.npy`` version 1.0 bytes);
                                         kinds b i u f c M m U S; no object/void/records
``["dataframe", i]``                     segment kind arrow: an Arrow IPC *stream* of
                                         ``pa.Table.from_pandas(df)``
``["series", i, name]``                  a one-column Arrow stream; name is a node
``["pdtimestamp", iso|"NaT", zone|null]``  pandas.Timestamp / pandas.NaT
``["pdtimedelta", ns]``                  pandas.Timedelta
``["ok", node]``, ``["err", node]``      :class:`Ok` / :class:`Err`
=======================================  ==================================================

Each segment is referenced exactly once. Nesting is limited to ``MAX_DEPTH`` nodes, the
header to ``MAX_HEADER_BYTES``, dtype strings to ``MAX_DTYPE_CHARS`` characters. The npy
segments are standard ``.npy`` files (``numpy.lib.format.read_array(...,
allow_pickle=False)`` reads them); their headers are parsed here without numpy. Arrow
segments must be uncompressed (a compressed body could inflate without bound); decoded
tables are fully validated and refused if they claim far more values than their bytes
can hold (null or run-end-encoded arrays).

pandas notes: the index is kept (a RangeIndex as metadata, others as columns), as are
column names of one type (str, int, float; also MultiIndex columns). Column names of
mixed types come back as strings (pyarrow warns). A DatetimeIndex loses its ``freq``.
Object columns of strings are restored as object; an object *index* of strings comes
back with pandas' default string dtype.

Encoding does not copy numpy or Arrow-convertible pandas data: the encoded segments
reference the original memory, so do not mutate a value until its ``Encoded`` is written.
``import jupyter_syft.serde`` does not import numpy, pandas or pyarrow.

Modules
-------
::

    layout.py        magic, version, prelude, alignment, segment kinds, limits
    errors.py        SerdeError and the helpers that word its messages
    results.py       Ok, Err
    encoded.py       Encoded: header + segments, streamed without copying
    encoder.py       encode(), dumps(): value -> node tree + segments, and the summary
    npy.py           numpy arrays as .npy segments (dtype checks, header write/parse, read)
    arrow.py         pandas objects as Arrow IPC segments (write, hardened read)
    header.py        prelude, header JSON and segment starts (no numpy/pandas/pyarrow)
    reader.py        Reader: the value tree, one decoder per tag
    decoder.py       decode(), loads(), decode_file(), read_summary()
    stream.py        StreamChecker: incremental validation of uploads
    lazy_imports.py  numpy / pandas / pyarrow, imported only when a payload needs them
"""

from __future__ import annotations

from .decoder import decode, decode_file, loads, read_summary
from .encoded import Encoded
from .encoder import dumps, encode
from .errors import SerdeError
from .layout import FORMAT_VERSION, MAGIC, MAX_DEPTH, MAX_DTYPE_CHARS, MAX_HEADER_BYTES
from .results import Err, Ok
from .stream import StreamChecker

__all__ = [
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

# The public classes keep the path they had when serde was one module: it shows in
# tracebacks and reprs, and pickles of Ok/Err (Dask sends results that way) name it.
for _cls in (Encoded, Err, Ok, SerdeError, StreamChecker):
    _cls.__module__ = __name__
del _cls
