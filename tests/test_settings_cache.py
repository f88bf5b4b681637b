"""The settings a Datasite keeps between calls (services/settings.py): while nothing changed, a
read costs one primary-key read (the settings' generation); every write of a setting bumps it
in its own transaction, so a change made by another process sharing the database (here: a
second store, its own engine) is seen on the next call."""

from __future__ import annotations

import threading

import pandas as pd
from sqlalchemy import event, text

import jupyter_syft as sy
from jupyter_syft.server.services import view_cache
from jupyter_syft.server.services.audit import AuditLog
from jupyter_syft.server.services.settings import SettingsService
from jupyter_syft.server.store import Store


def _url(node) -> str:
    return node.datasite.store.engine.url.render_as_string(hide_password=False)


def _settings(node) -> SettingsService:
    return node.datasite.services.settings


def _elsewhere(node) -> tuple[SettingsService, Store]:
    """The settings of another process sharing the database."""
    store = Store(_url(node))
    return SettingsService(store, AuditLog(store)), store


def test_a_change_made_by_another_process_is_seen_on_the_next_call(node, root, scientist):
    frame = pd.DataFrame({"a": [1, 2, 3]})
    root.upload_dataset(
        sy.Dataset(name="study", asset_list=[sy.Asset(name="t", data=frame, mock=frame * 0)]),
        progress=False,
    )
    asset = scientist.datasets[0].assets[0]

    @sy.syft_function_single_use(data=asset)
    def first(data):
        return len(data)

    @sy.syft_function_single_use(data=asset)
    def second(data):
        return len(data)

    assert root.session.api.settings().organization == ""
    scientist.code.request_code_execution(first)
    assert root.requests[0].status == sy.RequestStatus.PENDING  # both settings now kept
    other, store = _elsewhere(node)
    try:
        other.force(organization="Elsewhere", auto_approve=True)
    finally:
        store.close()
    assert root.session.api.settings().organization == "Elsewhere"
    assert _settings(node).values()["organization"] == "Elsewhere"
    scientist.code.request_code_execution(second)  # the hot path's own read sees it too
    statuses = {r.code.service_func_name: r.status for r in root.requests}
    assert statuses == {"first": sy.RequestStatus.PENDING, "second": sy.RequestStatus.APPROVED}


def test_a_write_that_does_not_bump_the_generation_is_not_seen(node):
    """What the generation is for: the kept values stand until it moves (a write through the
    service always moves it, in the write's own transaction)."""
    settings = _settings(node)
    assert settings.value("description") == ""
    _, other = _elsewhere(node)  # (its engine waits for a busy SQLite file as the Datasite's)
    try:
        with other.engine.begin() as connection:
            connection.execute(
                text("INSERT INTO settings (key, value) VALUES ('description', '\"raw\"')")
            )
        assert settings.value("description") == ""
        with other.engine.begin() as connection:
            view_cache.bump(connection, view_cache.SETTINGS)
        assert settings.value("description") == "raw"
        assert settings.values()["description"] == "raw"
    finally:
        other.close()


def test_a_kept_read_is_one_primary_key_read(node):
    settings = _settings(node)
    settings.values()  # kept from now on
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args):
        if threading.get_ident() == me:  # not the Datasite's background threads
            statements.append(" ".join(statement.split()))

    me = threading.get_ident()

    engine = node.datasite.store.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        settings.values()
        settings.value("auto_approve")
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert len(statements) == 2, statements
    assert all(
        s.startswith("SELECT view_generations.value FROM view_generations WHERE")
        for s in statements
    ), statements


def test_values_are_the_callers_own_copy(node):
    settings = _settings(node)
    settings.force(disclosure_rules={"preset": "acro", "safe_threshold": 5})
    mine = settings.values()
    mine["disclosure_rules"]["safe_threshold"] = 1
    mine["name"] = "changed"
    settings.value("disclosure_rules")["preset"] = "other"
    assert settings.values()["disclosure_rules"] == {"preset": "acro", "safe_threshold": 5}
    assert settings.value("name") != "changed"
