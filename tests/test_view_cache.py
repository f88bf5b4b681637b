"""The datasets list is built once per change of the rows behind it (services/view_cache.py):
every change shows at once, each caller gets the view of their role, and a write from another
process sharing the database (here: another engine) is seen through the generation."""

from __future__ import annotations

import threading

import pandas as pd
from sqlalchemy import create_engine, text

import jupyter_syft as sy
from jupyter_syft.server.services import view_cache
from jupyter_syft.wire import routes


def _upload(root, name: str) -> None:
    frame = pd.DataFrame({"a": [1, 2, 3]})
    root.upload_dataset(
        sy.Dataset(name=name, asset_list=[sy.Asset(name="t", data=frame, mock=frame * 0)]),
        progress=False,
    )


def _raw(client, **params):
    return client.session.api.connection.get(routes.DATASETS, **params)


def _names(client) -> list[str]:
    return [d.name for d in client.datasets.get_all()]


def test_creating_and_deleting_show_at_once(root, scientist):
    _upload(root, "first")
    assert _names(scientist) == ["first"]
    assert _names(scientist) == ["first"]  # served from the kept copy
    _upload(root, "second")
    assert _names(scientist) == ["first", "second"]
    root.datasets.delete("first")
    assert _names(scientist) == ["second"]
    assert _names(root) == ["second"]


def test_each_role_gets_its_own_view(root, scientist):
    _upload(root, "study")
    # The owner's view (with the private value's summary and size) is built first, then the
    # scientist's: neither copy may ever be served to the other role.
    for _ in range(2):
        owner_asset = _raw(root)["items"][0]["assets"][0]
        assert owner_asset["data_size"] > 0 and owner_asset["can_read_data"] is True
        scientist_asset = _raw(scientist)["items"][0]["assets"][0]
        assert "data_size" not in scientist_asset and "data_summary" not in scientist_asset
        assert scientist_asset["can_read_data"] is False


def test_renaming_the_uploader_shows(root, scientist):
    _upload(root, "study")
    assert scientist.datasets[0].uploader["name"] != "Renamed Owner"
    root.account.update(name="Renamed Owner")
    assert scientist.datasets[0].uploader["name"] == "Renamed Owner"


def test_pages_are_kept_apart(root, scientist):
    for name in ("a", "b", "c"):
        _upload(root, name)
    first = _raw(scientist, limit=2)
    assert [d["name"] for d in first["items"]] == ["a", "b"] and first["total"] == 3
    rest = _raw(scientist, limit=2, cursor=first["next_cursor"])
    assert [d["name"] for d in rest["items"]] == ["c"] and rest["next_cursor"] is None
    newest = _raw(scientist, limit=2, order="newest")
    assert [d["name"] for d in newest["items"]] == ["c", "b"]


def test_a_write_elsewhere_is_seen_through_the_generation(node, root, scientist):
    """Another process writing to the same database (another engine here) bumps the
    generation in its transaction; this Datasite then rebuilds its copy."""
    _upload(root, "before")
    assert _names(scientist) == ["before"]
    other = create_engine(node.datasite.store.engine.url.render_as_string(hide_password=False))
    try:
        with other.begin() as connection:
            connection.execute(text("UPDATE datasets SET name = 'renamed elsewhere'"))
        # Not bumped: the kept copy still stands (this is what the generation is for).
        assert _names(scientist) == ["before"]
        with other.begin() as connection:
            view_cache.bump(connection, view_cache.DATASETS)
        assert _names(scientist) == ["renamed elsewhere"]
    finally:
        other.dispose()


def _slow_build(cache, key: str, built: str) -> tuple[threading.Thread, threading.Event, dict]:
    """``cache.get(key)`` in a thread whose build waits for the returned event."""
    started, release, out = threading.Event(), threading.Event(), {}

    def build() -> str:
        started.set()
        assert release.wait(60), "the test never let the build finish"
        return built

    thread = threading.Thread(target=lambda: out.setdefault("got", cache.get(key, build)))
    thread.start()
    assert started.wait(60)
    return thread, release, out


def test_the_first_copy_built_at_a_generation_stands(node):
    """Two callers build at once: the one that finished first is the copy of that generation,
    and the slower one (which may have read rows a later write changed) gets it too."""
    cache = view_cache.ViewCache(node.datasite.store, "test-concurrent")
    thread, release, out = _slow_build(cache, "k", "slow")
    assert cache.get("k", lambda: "fast") == "fast"
    release.set()
    thread.join(60)
    assert out["got"] == "fast"
    assert cache.get("k", lambda: "rebuilt") == "fast"


def test_a_build_of_an_older_generation_is_not_kept_over_a_newer_one(node):
    store = node.datasite.store
    cache = view_cache.ViewCache(store, "test-older")
    thread, release, out = _slow_build(cache, "k", "old")
    with store.session() as session:
        view_cache.bump(session, "test-older")
        session.commit()
    assert cache.get("k", lambda: "new") == "new"
    release.set()
    thread.join(60)
    assert out["got"] == "old"  # what it built, for its own caller
    assert cache.get("k", lambda: "rebuilt") == "new"
