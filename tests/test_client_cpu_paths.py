"""The client's per-operation fast paths (issue #18) do the same as the slower code they
replace: DataFrame decoding skips pandas work only where nothing needs restoring and still
refuses inflated tables; JSON calls reach urllib3's pool directly and send what its
PoolManager sent; a Syft function still sees the Syft functions in its scope."""

from __future__ import annotations

import json
import struct
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import jupyter_syft as sy
from jupyter_syft.client.connection import Connection
from jupyter_syft.serde import FORMAT_VERSION, MAGIC, SerdeError, decode, dumps
from jupyter_syft.serde import arrow as serde_arrow
from jupyter_syft.serde.decoder import validate
from tests.loopback_http import recording_server

# --------------------------------------------------------------------------- DataFrames


def _study() -> pd.DataFrame:
    """The benchmark's asset shape (an int and 30 float columns), with object, categorical
    and nullable columns among them, not next to each other."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.random((40, 30)), columns=[f"f{i}" for i in range(30)])
    frame.insert(0, "a", np.arange(40))
    frame.insert(
        3, "label", pd.Series([f"x{i}" if i % 7 else None for i in range(40)], dtype=object)
    )
    frame.insert(9, "site", pd.Categorical(["a", "b"] * 20))
    frame.insert(17, "note", pd.Series(["n"] * 39 + [None], dtype=object))
    frame.insert(20, "count", pd.array([1, None] * 20, dtype="Int64"))
    frame.insert(25, "ok", pd.array([True, None, False, True] * 10, dtype="boolean"))
    frame.insert(28, "text", pd.array(["s", None] * 20, dtype="string"))
    return frame


def _objects(*values: Any) -> pd.Series:
    return pd.Series(values, dtype=object)


def _labelled(labels: pd.Index, *columns: Any) -> pd.DataFrame:
    frame = pd.DataFrame(dict(enumerate(columns)))
    frame.columns = labels
    return frame


FRAMES: dict[str, Callable[[], pd.DataFrame]] = {
    "study": _study,
    "numbers_only": lambda: pd.DataFrame({"a": [1, 2, 3], "b": [0.5, 1.5, np.nan]}),
    "objects_only": lambda: pd.DataFrame(
        {"o": _objects("x", None, "z"), "p": _objects("q", "q", "q")}
    ),
    "bytes_objects": lambda: pd.DataFrame({"b": [b"x", None], "n": [1, 2]}),
    "default_strings": lambda: pd.DataFrame({"s": ["x", "y", None], "n": [1.0, 2.0, 3.0]}),
    "string_index": lambda: pd.DataFrame({"o": _objects("a", "b", "c"), "n": [1, 2, 3]}).set_axis(
        pd.Index(["x", "y", "z"], name="key")
    ),
    "multi_index": lambda: pd.DataFrame({"o": _objects("a", "b"), "f": [1.0, 2.0]}).set_axis(
        pd.MultiIndex.from_tuples([("a", 1), ("b", 2)], names=["k", None])
    ),
    "default_labels": lambda: _labelled(
        pd.RangeIndex(3), _objects("a", "c"), [1.0, 2.0], _objects("b", None)
    ),
    "int_labels": lambda: _labelled(pd.Index([3, 7]), [1.0], _objects("a")),
    "multi_labels": lambda: _labelled(
        pd.MultiIndex.from_tuples([("a", 1), ("b", 2)]), _objects("a"), [2.0]
    ),
    "bool_labels": lambda: pd.DataFrame({False: pd.Series(["x"], dtype=object), True: [2]}),
    "no_rows": lambda: pd.DataFrame(
        {"o": pd.Series([], dtype=object), "f": pd.Series([], dtype="float64")}
    ),
    "no_columns": lambda: pd.DataFrame(index=pd.RangeIndex(4)),
    "categoricals": lambda: pd.DataFrame(
        {
            "c": pd.Categorical(["a", None, "b"]),
            "oc": pd.Categorical(["lo", "hi", "lo"], categories=["lo", "hi"], ordered=True),
            "o": pd.Series(["x", "y", "z"], dtype=object),
        }
    ),
}


def _assert_same(out: pd.DataFrame, df: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(out, df, check_exact=True)
    assert [str(t) for t in out.dtypes] == [str(t) for t in df.dtypes]
    assert type(out.index) is type(df.index) and type(out.columns) is type(df.columns)
    assert out.columns.dtype == df.columns.dtype and out.index.dtype == df.index.dtype
    for i in range(df.shape[1]):  # the Python objects in object columns, not just equal ones
        assert [type(x) for x in out.iloc[:, i]] == [type(x) for x in df.iloc[:, i]]


@pytest.mark.parametrize("infer_string", [False, True], ids=["default", "infer_string"])
@pytest.mark.parametrize("name", sorted(FRAMES))
def test_decoded_frames_keep_values_dtypes_and_labels(name, infer_string):
    # With string inference (pandas 3's default) pyarrow reads object string columns as
    # "str": the columns that need restoring are then found and restored, the others kept.
    with pd.option_context("future.infer_string", infer_string):
        df = FRAMES[name]()
        _assert_same(decode(dumps(df)), df)


def test_large_tables_convert_on_threads_to_the_same_frame(monkeypatch):
    df = _study()
    payload = dumps(df)
    unthreaded = decode(payload)
    monkeypatch.setattr(serde_arrow, "_THREADED_BYTES", 0)
    _assert_same(decode(payload), unthreaded)
    _assert_same(unthreaded, df)


def _payload(*batches: pa.RecordBatch) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batches[0].schema) as writer:
        for batch in batches:
            writer.write_batch(batch)
    segment = sink.getvalue().to_pybytes()
    # A header for one arrow segment, as the encoder writes it (see serde/__init__.py).
    header = {
        "v": FORMAT_VERSION,
        "root": ["dataframe", 0],
        "segments": [{"kind": "arrow", "size": len(segment)}],
        "summary": {"type": "DataFrame"},
    }
    text = json.dumps(header).encode()
    return struct.pack("<4sBBI", MAGIC, FORMAT_VERSION, 0, len(text)) + text + segment


def _batch(**columns: pa.Array) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays(list(columns.values()), names=list(columns))


def _nulls_lists(offsets: list[int]) -> pa.Array:
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), pa.nulls(offsets[-1]))


BOMBS = {
    # Many null columns, each far under the limit, together far over it: counted as rows
    # times columns without walking them.
    "null_columns": lambda: _payload(_batch(**{f"n{i}": pa.nulls(1 << 22) for i in range(40)})),
    "one_null_column": lambda: _payload(_batch(n=pa.nulls(2**31 - 1))),
    # A nested bomb in the last batch, after honest ones: every chunk of a walked column counts.
    "list_in_last_batch": lambda: _payload(
        *[_batch(x=pa.array([1.0, 2.0]), l=_nulls_lists([0, 1, 3])) for _ in range(5)],
        _batch(
            x=pa.array([1.0, 2.0]),
            l=_nulls_lists([0, 0, 2**31 - 1]),
        ),
    ),
    "dictionary": lambda: _payload(
        _batch(d=pa.DictionaryArray.from_arrays(pa.array([0], pa.int32()), pa.nulls(2**31 - 1)))
    ),
    "run_end_encoded": lambda: _payload(
        _batch(r=pa.RunEndEncodedArray.from_arrays(pa.array([10**9], pa.int64()), pa.array([1.0])))
    ),
    "struct_child": lambda: _payload(
        _batch(s=pa.StructArray.from_arrays([pa.nulls(2**31 - 1)], names=["n"]))
    ),
}


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_inflated_tables_are_still_refused(name):
    payload = BOMBS[name]()
    for check in (decode, validate):
        with pytest.raises(SerdeError, match=r"claims far more values .* \(a memory bomb\)"):
            check(payload)


def test_honest_chunked_and_nested_tables_still_decode():
    batches = [
        _batch(
            x=pa.array(np.arange(10, dtype="int64")),
            s=pa.array([str(i) for i in range(10)]),
            d=pa.array(["a", "b"] * 5).dictionary_encode(),
            l=pa.array([[i, i] for i in range(10)]),
            n=pa.nulls(10),
        )
        for _ in range(7)
    ]
    out = decode(_payload(*batches))
    expected = pa.Table.from_batches(batches).to_pandas()
    pd.testing.assert_frame_equal(out, expected, check_exact=True)
    validate(_payload(*batches))


# --------------------------------------------------------------------------- JSON calls


@pytest.fixture
def recorder():
    with recording_server("/base/") as served:
        yield served


CALLS = [
    ("GET", "users/me", None, None),
    ("GET", "datasets", {"limit": 500, "cursor": "a b/c", "q": None, "tags": ["x", "y"]}, None),
    ("GET", "requests/../users/me", None, None),  # urllib3 removes dot segments
    ("GET", "odd path/é?x#frag", None, None),  # and percent-encodes what needs it
    ("POST", "requests/abc%2F..%2Fdef/approve", None, {"approve_nested": False, "s": "é"}),
    ("PATCH", "users/1", None, {"x": [1, 2]}),
    ("DELETE", "datasets/1", None, None),
    ("POST", "things", None, {}),
]


def _via_pool_manager(connection: Connection, method: str, path: str, params, body) -> None:
    """What Connection._request sent before it skipped the PoolManager."""
    from urllib.parse import urlencode

    from jupyter_syft.client.connection import _json_body

    url = connection.api_url + path
    if params:
        query = urlencode([(k, v) for k, v in params.items() if v is not None], doseq=True)
        url += "?" + query if query else ""
    headers = connection._headers
    data = None
    if body is not None:
        data = _json_body(body)
        headers = {**headers, "Content-Type": "application/json"}
    connection._pool.request(
        method, url, body=data, headers=headers, timeout=connection._timeout, retries=False,
        redirect=False,
    )  # fmt: skip


@pytest.mark.parametrize("token", [None, "tok-123"])
def test_json_calls_send_what_the_pool_manager_sent(recorder, token):
    url, seen = recorder
    connection = Connection(url, token=token)
    for method, path, params, body in CALLS:
        seen.seen = []
        connection.call(method, path, params=params, json=body)
        sent = seen.seen
        seen.seen = []
        _via_pool_manager(Connection(url, token=token), method, path, params, body)
        assert sent == seen.seen, (method, path)
    assert sent[0].requestline.startswith("POST /base/")


def test_one_pool_per_connection_reused_and_headers_not_shared(recorder):
    url, seen = recorder
    connection = Connection(url, token="tok")
    connection.post("things", {"a": 1})
    pool = connection._origin_pool
    connection.get("things")
    assert connection._origin_pool is pool
    assert pool is not None and pool[1] is connection._pool.connection_from_url(connection.api_url)
    post, get = seen.seen
    assert ("Content-Type", "application/json") in post.headers
    assert "Content-Type" not in dict(get.headers)  # a body's header stays with bodies
    assert dict(get.headers)["Authorization"] == "Bearer tok"
    other = connection.with_token(None)
    other.post("things", {})
    assert "Authorization" not in dict(seen.seen[-1].headers)


def test_one_connection_shared_by_threads(recorder):
    # The benchmark's owner approves from every scientist's thread on one connection.
    url, seen = recorder
    connection = Connection(url)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for i in range(20):
                assert connection.post("things", {"i": i}) == {}
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(seen.seen) == 160


# --------------------------------------------------------------------------- Syft functions


def _nested_caller() -> Any:
    # Locals and globals both hold Syft functions here; only these names are "known".
    @sy.syft_function()
    def helper_in_locals(x):
        return x

    @sy.syft_function()
    def launches(datasite):
        return [datasite.launch_job(helper_in_locals), datasite.launch_job(helper_in_globals)]

    return launches


@sy.syft_function()
def helper_in_globals(x):
    return x


def test_syft_functions_in_scope_are_known_to_the_checks(capsys):
    launches = _nested_caller()
    assert not [f for f in launches.findings if f.kind == "free_name"]

    @sy.syft_function()
    def launches_unknown(datasite):
        return datasite.launch_job(not_a_syft_function)  # noqa: F821

    assert [f.name for f in launches_unknown.findings if f.kind == "free_name"] == [
        "not_a_syft_function"
    ]
