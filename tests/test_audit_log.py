"""The audit log you can prove (#13): owners read it, the server verifies its hash chain, a
checkpoint kept elsewhere proves the log still extends it, and an export is checked offline.

Tampering is done the way an intruder with the database would: with sqlite3 on the Datasite's
SQLite file, or psycopg on its PostgreSQL database (JUPYTER_SYFT_TEST_DB=postgresql), never
through the Datasite. Each kind is caught at the right event.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import requests
from sqlalchemy.engine import make_url

import jupyter_syft as sy
from jupyter_syft import audit_chain, cli
from jupyter_syft.wire import routes

SCIENTIST = ("ds@example.org", "pw-ds-123")


# --- helpers -------------------------------------------------------------------------------------
class Database:
    """Raw SQL on a Datasite's own database, behind its back."""

    def __init__(self, node: Any):
        self.url = make_url(node.datasite.store.db_url)
        self.backend = self.url.get_backend_name()

    def _connect(self) -> Any:
        if self.backend == "sqlite":
            return sqlite3.connect(self.url.database)
        import psycopg

        plain = self.url.set(drivername="postgresql")
        return psycopg.connect(plain.render_as_string(hide_password=False))

    def run(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        if self.backend != "sqlite":
            sql = sql.replace("?", "%s")
        connection = self._connect()
        try:
            cursor = connection.execute(sql, params) if params else connection.execute(sql)
            rows = cursor.fetchall() if cursor.description else []
            connection.commit()
            return rows
        finally:
            connection.close()

    def content(self, seq: int) -> tuple[Any, ...]:
        """Every column of an event but seq."""
        (row,) = self.run(
            "SELECT at, actor_id, actor_email, action, object_type, object_id, detail, "
            "prev_hash, hash, hash_version FROM audit_events WHERE seq = ?",
            seq,
        )
        return row

    def put(self, seq: int, content: tuple[Any, ...]) -> None:
        detail = content[6] if isinstance(content[6], str) else json.dumps(content[6])
        self.run(
            "UPDATE audit_events SET at = ?, actor_id = ?, actor_email = ?, action = ?, "
            "object_type = ?, object_id = ?, detail = ?, prev_hash = ?, hash = ?, "
            "hash_version = ? WHERE seq = ?",
            *content[:6],
            detail,
            *content[7:],
            seq,
        )


def _raw_session(token: str | None) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    if token:
        session.headers["Authorization"] = f"Bearer {token}"
    return session


def _get(node: Any, token: str | None, template: str, **query: Any) -> requests.Response:
    url = f"{node.url}/{routes.API_PREFIX}{template}"
    return _raw_session(token).get(url, params=query, timeout=30)


def _busy_log(root: Any, n: int = 12) -> None:
    """A few dozen events of different kinds."""
    for i in range(n):
        root.settings.update(description=f"round {i}")
    root.users.create(
        sy.UserCreate(
            email=SCIENTIST[0],
            name="Dana",
            password=SCIENTIST[1],
            role=sy.ServiceRole.DATA_SCIENTIST,
        )
    )


def _all(root: Any) -> list[Any]:
    events: list[Any] = []
    page = root.audit.events(order="oldest", page_size=500)
    while page is not None:
        events += list(page)
        page = page.next_page()
    return events


@pytest.fixture
def busy(node: Any, root: Any) -> Iterator[Any]:
    _busy_log(root)
    yield root


# --- reading -------------------------------------------------------------------------------------
def test_events_newest_first_filtered_and_paged(node, busy):
    root = busy
    first = root.audit.events()
    assert first.total >= 14 and first.page == 1
    seqs = [e.seq for e in first]
    assert seqs == sorted(seqs, reverse=True)  # newest first by default
    head = root.audit.checkpoint()
    assert seqs[0] == head["seq"] and first[0].hash == head["hash"]
    # fields: every hashed one plus seq and hash, times to the microsecond
    event = first[0]
    assert len(event.hash) == 64 and event.hash_version == 3 and event.at.endswith("Z")
    assert event.prev_hash == first[1].hash

    # pages of 5 walk the whole log once, without overlap
    page, walked = root.audit.events(page_size=5), []
    while page is not None:
        assert len(page) <= 5
        walked += [e.seq for e in page]
        page = page.next_page()
    assert walked == sorted(walked, reverse=True) and len(set(walked)) == first.total
    assert [e.seq for e in root.audit.events(page_size=5, page=2)] == walked[5:10]
    with pytest.raises(sy.SyftException, match="past the end"):
        root.audit.events(page_size=500, page=3)

    # filters: who, what kind, which object, action prefix, after a seq
    mine = root.audit.events(user=root.email, page_size=500)
    assert mine.total == first.total and all(e.actor_email == root.email for e in mine)
    by_id = root.audit.events(user=root.account.id, page_size=500)
    assert by_id.total == mine.total
    created = root.audit.events(action="user.create")
    (creation,) = created
    assert creation.object_type == "user" and creation.detail["email"] == SCIENTIST[0]
    assert root.audit.events(object_id=creation.object_id).total >= 1
    assert {e.object_id for e in root.audit.events(object_id=creation.object_id)} == {
        creation.object_id
    }
    settings = root.audit.events(action="settings.", page_size=500)
    assert settings.total == 12 and all(e.action.startswith("settings.") for e in settings)
    assert root.audit.events(object_type="settings", page_size=500).total == 12
    assert root.audit.events(action="no-such-action.").total == 0  # matches nothing: fine
    assert root.audit.events(action="%").total == 0  # LIKE wildcards are plain text
    assert root.audit.events(action="user_create").total == 0
    after = root.audit.events(since_seq=head["seq"] - 3, order="oldest")
    assert [e.seq for e in after] == [head["seq"] - 2, head["seq"] - 1, head["seq"]]


def test_event_table_escapes_what_it_shows(node, root):
    root.settings.update(description="<script>alert(1)</script>")
    page = root.audit.events(action="settings.")
    html = page._repr_html_()
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert "settings.update" in repr(page) and "in all" in repr(page)
    assert "No audit events" in repr(root.audit.events(action="nothing."))
    verdict = root.audit.verify()
    assert "intact" in repr(verdict) and "Audit log intact" in verdict._repr_html_()


def test_only_owners_read_and_verify_the_log(node, busy, tmp_path):
    scientist = sy.login(url=node.url, email=SCIENTIST[0], password=SCIENTIST[1], verbose=False)
    for call in (
        scientist.audit.events,
        scientist.audit.verify,
        scientist.audit.checkpoint,
        lambda: scientist.audit.export(tmp_path / "never.jsonl"),
    ):
        with pytest.raises(sy.SyftException, match="Only data owners and admins") as refused:
            call()
        assert refused.value.status == 403
    guest_url = f"{node.url}/{routes.API_PREFIX}{routes.GUEST}"
    guest = _raw_session(None).post(guest_url, timeout=30).json()
    templates = (routes.AUDIT_EVENTS, routes.AUDIT_VERIFY, routes.AUDIT_CHECKPOINT)
    assert not (tmp_path / "never.jsonl").exists()
    for template in templates:
        answer = _get(node, guest["token"], template)
        assert answer.status_code == 403 and "Only data owners" in answer.json()["detail"]
        assert _get(node, None, template).status_code in (401, 403)
        assert _get(node, scientist.connection.token, template).status_code == 403


@pytest.mark.parametrize(
    ("template", "query", "says"),
    [
        (routes.AUDIT_EVENTS, {"limit": "501"}, "limit must be from 1 to 500"),
        (routes.AUDIT_EVENTS, {"limit": "0"}, "limit must be from 1 to 500"),
        (routes.AUDIT_EVENTS, {"limit": "ten"}, "limit must be a whole number"),
        (routes.AUDIT_EVENTS, {"order": "sideways"}, "order is oldest or newest"),
        (routes.AUDIT_EVENTS, {"cursor": "bogus"}, "cursor was not given by this audit list"),
        (routes.AUDIT_EVENTS, {"since_seq": "-1"}, "since_seq must be a whole number"),
        (routes.AUDIT_EVENTS, {"since_seq": "1e3"}, "since_seq must be a whole number"),
        (routes.AUDIT_EVENTS, {"user": "x" * 5000}, "user is too long"),
        (routes.AUDIT_EVENTS, {"action": "a" * 400}, "action is too long"),
        (routes.AUDIT_EVENTS, {"object_id": "a" * 400}, "object_id is too long"),
        (routes.AUDIT_EVENTS, {"object_type": "a" * 400}, "object_type is too long"),
        (routes.AUDIT_VERIFY, {"since_seq": "3"}, "Give both since_seq and since_hash"),
        (routes.AUDIT_VERIFY, {"since_hash": "a" * 64}, "Give both since_seq and since_hash"),
        (routes.AUDIT_VERIFY, {"since_seq": "x", "since_hash": "a" * 64}, "whole number"),
        (routes.AUDIT_VERIFY, {"since_seq": "3", "since_hash": "zz"}, "64 hex digits"),
        (routes.AUDIT_VERIFY, {"since_seq": "3", "since_hash": "<b>" * 50}, "64 hex digits"),
    ],
)
def test_bad_query_values_are_refused_with_a_message(node, root, template, query, says):
    answer = _get(node, root.connection.token, template, **query)
    assert answer.status_code == 400, answer.text
    detail = answer.json()["detail"]
    assert says in detail and len(detail) < 400  # never echoes a long input back


def test_paging_through_the_client_is_capped(node, root):
    with pytest.raises(sy.SyftException, match="limit must be from 1 to 500") as refused:
        root.audit.events(page_size=501)
    assert refused.value.status == 400
    with pytest.raises(sy.SyftException, match=r"checkpoint from client\.audit\.checkpoint"):
        root.audit.verify(since="not a checkpoint")


# --- verifying -----------------------------------------------------------------------------------
def test_verify_and_checkpoint_on_an_intact_log(node, busy):
    root = busy
    verdict = root.audit.verify()
    events = _all(root)
    assert verdict and verdict.ok and verdict.count == len(events)
    assert verdict.head == (events[-1].seq, events[-1].hash) and verdict.bad_seq is None
    assert verdict["ok"] is True and verdict.to_dict()["count"] == len(events)
    # events are numbered 1, 2, 3... with no gap, each linked to the one before
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[0].prev_hash == "" and all(
        b.prev_hash == a.hash for a, b in itertools.pairwise(events)
    )
    checkpoint = root.audit.checkpoint()
    assert set(checkpoint) == {"seq", "hash", "at"} and checkpoint["seq"] == len(events)
    root.settings.update(description="after the checkpoint")
    later = root.audit.verify(since=checkpoint)
    assert later.ok and later.count == 2 and later.since_seq == checkpoint["seq"]
    again = root.audit.verify(since=f"{checkpoint['seq']}:{checkpoint['hash']}")
    assert again.ok and again.head == later.head
    assert root.audit.verify(since={"seq": 0, "hash": ""}).count == len(events) + 1
    assert node.datasite.services.audit.verify()


def test_verification_reads_the_chain_in_pages(node, busy, monkeypatch):
    from jupyter_syft.server.services import audit

    monkeypatch.setattr(audit, "VERIFY_PAGE", 4)  # many pages, each a bounded read
    total = busy.audit.checkpoint()["seq"]
    assert total > 8
    assert busy.audit.verify().count == total
    db = Database(node)
    db.run("UPDATE audit_events SET actor_email = 'x@y.z' WHERE seq = ?", total - 1)
    assert busy.audit.verify().bad_seq == total - 1


def test_an_edited_event_is_found(node, busy):
    db = Database(node)
    db.run("UPDATE audit_events SET detail = ? WHERE seq = 5", json.dumps({"changes": {}}))
    verdict = busy.audit.verify()
    assert not verdict and verdict.bad_seq == 5 and "edited" in verdict.reason
    assert not node.datasite.services.audit.verify()


def test_an_edited_time_is_found(node, busy):
    db = Database(node)
    at = db.content(4)[0]
    if isinstance(at, datetime):
        db.run("UPDATE audit_events SET at = at + interval '1 second' WHERE seq = 4")
    else:
        db.run("UPDATE audit_events SET at = ? WHERE seq = 4", at.replace("20", "19", 1))
    verdict = busy.audit.verify()
    assert verdict.bad_seq == 4 and "edited" in verdict.reason


def test_a_deleted_event_is_found(node, busy):
    Database(node).run("DELETE FROM audit_events WHERE seq = 6")
    verdict = busy.audit.verify()
    assert verdict.bad_seq == 7 and "seq 6" in verdict.reason and "deleted" in verdict.reason


def test_the_deleted_first_event_is_found(node, busy):
    Database(node).run("DELETE FROM audit_events WHERE seq = 1")
    verdict = busy.audit.verify()
    assert verdict.bad_seq == 2 and "deleted" in verdict.reason


def test_swapped_events_are_found(node, busy):
    db = Database(node)
    five, six = db.content(5), db.content(6)
    db.put(5, six)
    db.put(6, five)
    verdict = busy.audit.verify()
    assert verdict.bad_seq == 5 and "reordered" in verdict.reason


def test_a_renumbered_event_is_found(node, busy):
    db = Database(node)
    head = busy.audit.checkpoint()["seq"]
    db.run("UPDATE audit_events SET seq = ? WHERE seq = ?", head + 1, head)
    db.run("UPDATE audit_events SET seq = ? WHERE seq = ?", head, head - 1)
    db.run("UPDATE audit_events SET seq = ? WHERE seq = ?", head - 1, head + 1)
    verdict = busy.audit.verify()
    assert verdict.bad_seq == head - 1 and not verdict.ok


def test_a_truncated_log_no_longer_reaches_the_checkpoint(node, busy):
    checkpoint = busy.audit.checkpoint()
    Database(node).run("DELETE FROM audit_events WHERE seq = ?", checkpoint["seq"])
    # the rest is a consistent chain on its own ...
    alone = busy.audit.verify()
    assert alone.ok and alone.count == checkpoint["seq"] - 1
    # ... but not what the owner saw
    verdict = busy.audit.verify(since=checkpoint)
    assert not verdict.ok and verdict.bad_seq == checkpoint["seq"]
    assert "truncated" in verdict.reason


def test_a_rewritten_chain_does_not_extend_the_checkpoint(node, busy):
    """Someone edits event 5 and recomputes every hash after it: the chain is consistent
    again, but the event at the checkpoint no longer has the hash the owner kept."""
    root = busy
    checkpoint = root.audit.checkpoint()
    events = [e.model_dump() for e in _all(root)]
    db = Database(node)
    events[4]["detail"] = {"changes": {"description": "nothing to see"}}
    for i in range(4, len(events)):
        if i > 4:
            events[i]["prev_hash"] = events[i - 1]["hash"]
        events[i]["hash"] = audit_chain.event_hash(events[i])
        db.run(
            "UPDATE audit_events SET detail = ?, prev_hash = ?, hash = ? WHERE seq = ?",
            json.dumps(events[i]["detail"]),
            events[i]["prev_hash"],
            events[i]["hash"],
            events[i]["seq"],
        )
    assert root.audit.verify().ok  # the forgery is self-consistent
    verdict = root.audit.verify(since=checkpoint)
    assert not verdict.ok and verdict.bad_seq == checkpoint["seq"]
    assert "rewritten" in verdict.reason


def test_events_from_before_hash_version_2_keep_verifying(node, root):
    """A database written by the previous version: events hashed without seq (hash_version
    1) and no hash_version column. Opening it adds the column (1 for those rows); new events
    are version 3 and continue the chain; on PostgreSQL, in another time zone (where the
    database itself computes the new events' links)."""
    root.settings.update(description="old")
    events = [e.model_dump() for e in _all(root)]
    name = node.name
    db = Database(node)
    wanted = os.environ.get("JUPYTER_SYFT_TEST_DB") == "postgresql"
    assert db.backend == ("postgresql" if wanted else "sqlite")  # the store under test
    prev = ""
    for event in events:
        event["prev_hash"] = prev
        # what the previous version computed, at record time, with an aware UTC datetime
        at = datetime.fromisoformat(event["at"].replace("Z", "+00:00"))
        body = json.dumps(
            [
                prev,
                at.isoformat(),
                event["actor_id"],
                event["actor_email"],
                event["action"],
                event["object_type"],
                event["object_id"],
                event["detail"],
            ],
            sort_keys=True,
            default=str,
        )
        event["hash"] = hashlib.sha256(body.encode()).hexdigest()
        db.run(
            "UPDATE audit_events SET prev_hash = ?, hash = ? WHERE seq = ?",
            prev,
            event["hash"],
            event["seq"],
        )
        prev = event["hash"]
    db.run("ALTER TABLE audit_events DROP COLUMN hash_version")
    if db.backend == "postgresql":
        db.run(f"ALTER DATABASE \"{db.url.database}\" SET timezone TO 'Asia/Kolkata'")
    node.land()

    again = sy.orchestra.launch(name=name, port="auto", verbose=False)
    try:
        owner = again.login(email=root.email, password="changethis", verbose=False)
        owner.settings.update(description="new")
        after = _all(owner)
        versions = [e.hash_version for e in after]
        assert versions[: len(events)] == [1] * len(events) and set(versions[len(events) :]) == {3}
        assert [e.hash for e in after[: len(events)]] == [e["hash"] for e in events]
        verdict = owner.audit.verify()
        assert verdict.ok and verdict.count == len(after), verdict
        db = Database(again)
        if db.backend == "postgresql":
            (zone,) = db.run("SHOW timezone")[0]
            assert zone == "Asia/Kolkata"
        # a legacy event edited is still caught; a legacy one made to look new is too
        db.run("UPDATE audit_events SET actor_email = 'x@y.z' WHERE seq = 2")
        assert owner.audit.verify().bad_seq == 2
        db.run(
            "UPDATE audit_events SET actor_email = ?, hash_version = 2 WHERE seq = 2", root.email
        )
        assert owner.audit.verify().bad_seq == 2
        db.run("UPDATE audit_events SET hash_version = 1 WHERE seq = 2")
        assert owner.audit.verify().ok
        last = after[-1].seq
        db.run("UPDATE audit_events SET hash_version = 1 WHERE seq = ?", last)
        downgraded = owner.audit.verify()
        assert downgraded.bad_seq == last and "older way" in downgraded.reason
    finally:
        again.land()


# --- export and the offline check ----------------------------------------------------------------
def _verify_file(path: Any, *extra: str, capsys: Any) -> tuple[int, str, str]:
    code = cli.main(["audit", "verify", str(path), *extra])
    out, err = capsys.readouterr()
    return code, out, err


def test_export_then_verify_offline(node, busy, tmp_path, capsys):
    root = busy
    path = tmp_path / "audit.jsonl"
    count = root.audit.export(path)
    checkpoint = root.audit.checkpoint()
    lines = path.read_text().splitlines()
    assert count == len(lines) == checkpoint["seq"]
    first = json.loads(lines[0])
    assert set(first) == set(audit_chain.FIELDS)
    assert [json.loads(line)["seq"] for line in lines] == list(range(1, count + 1))

    code, out, _ = _verify_file(path, capsys=capsys)
    assert code == 0
    assert out.strip() == f"{count} events, head seq {count} hash {checkpoint['hash']}, ok"
    since = f"{checkpoint['seq']}:{checkpoint['hash']}"
    code, out, _ = _verify_file(path, "--since", since, capsys=capsys)
    assert code == 0 and "extends checkpoint seq" in out
    code, _, err = _verify_file(path, "--since", f"{count}:{'0' * 64}", capsys=capsys)
    assert code == 1 and f"line {count} " in err and "rewritten" in err
    code, _, err = _verify_file(path, "--since", f"{count + 5}:{'0' * 64}", capsys=capsys)
    assert code == 1 and "truncated" in err
    code, _, err = _verify_file(path, "--since", "nonsense", capsys=capsys)
    assert code == 2 and "SEQ:HASH" in err

    # one character of one line changed: that line is named
    edited = list(lines)
    event = json.loads(edited[6])
    event["actor_email"] = "someone@else.org"
    edited[6] = json.dumps(event, sort_keys=True)
    path.write_text("\n".join(edited) + "\n")
    code, out, err = _verify_file(path, capsys=capsys)
    assert code == 1 and out == "" and "line 7 (event seq 7)" in err and "edited" in err

    # a line removed: the next one is named
    path.write_text("\n".join(lines[:3] + lines[4:]) + "\n")
    code, _, err = _verify_file(path, capsys=capsys)
    assert code == 1 and "line 4 (event seq 5)" in err and "deleted" in err

    # two lines swapped
    path.write_text("\n".join([*lines[:3], lines[4], lines[3], *lines[5:]]) + "\n")
    code, _, err = _verify_file(path, capsys=capsys)
    assert code == 1 and "line 4 " in err

    # not JSON, or fields missing
    path.write_text("\n".join([*lines[:2], "{not json", *lines[3:]]) + "\n")
    code, _, err = _verify_file(path, capsys=capsys)
    assert code == 1 and "line 3: not a JSON event" in err
    path.write_text("\n".join([*lines[:2], '{"seq": 3}', *lines[3:]]) + "\n")
    code, _, err = _verify_file(path, capsys=capsys)
    assert code == 1 and "line 3: the event has no" in err
    code, _, err = _verify_file(tmp_path / "missing.jsonl", capsys=capsys)
    assert code == 2 and "Cannot read" in err

    # the installed command, as an auditor runs it: exit status and what it prints
    path.write_text("\n".join(lines) + "\n")
    command = [sys.executable, "-m", "jupyter_syft.cli", "audit", "verify", str(path)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0 and done.stdout.strip().endswith(", ok")
    path.write_text("\n".join(edited) + "\n")
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1 and "line 7 (event seq 7)" in done.stderr


def test_export_of_a_long_log_pages_through_the_route(node, root, tmp_path, monkeypatch):
    from jupyter_syft.client import audit

    monkeypatch.setattr(audit, "EXPORT_PAGE", 7)
    for i in range(20):
        root.settings.update(description=f"n{i}")
    pages: list[Any] = []
    real = root.connection.get

    def counting(path: str, **params: Any) -> Any:
        if path == routes.AUDIT_EVENTS:
            pages.append(params)
        return real(path, **params)

    monkeypatch.setattr(root.connection, "get", counting)
    count = root.audit.export(tmp_path / "a.jsonl")
    assert count == root.audit.checkpoint()["seq"] >= 21
    assert len(pages) >= 3 and all(p["limit"] == 7 for p in pages)
    assert cli.main(["audit", "verify", str(tmp_path / "a.jsonl")]) == 0
    assert not (tmp_path / "a.jsonl.partial").exists()


# --- the hash itself -----------------------------------------------------------------------------
def test_the_hashed_time_does_not_depend_on_the_zone_it_is_read_in():
    from datetime import timedelta, timezone

    utc = datetime(2026, 1, 31, 12, 0, 0, 123456, tzinfo=timezone.utc)
    kolkata = utc.astimezone(timezone(timedelta(hours=5, minutes=30)))
    naive = utc.replace(tzinfo=None)
    texts = {audit_chain.at_text(t) for t in (utc, kolkata, naive)}
    texts |= {audit_chain.at_text("2026-01-31T12:00:00.123456Z")}
    assert texts == {"2026-01-31T12:00:00.123456+00:00"}
    event = {
        "seq": 1,
        "hash_version": 2,
        "at": kolkata,
        "actor_id": None,
        "actor_email": "a@b.c",
        "action": "x",
        "object_type": "",
        "object_id": "",
        "detail": {"k": [1, 2.5, None]},
        "prev_hash": "",
    }
    digest = audit_chain.event_hash(event)
    assert digest == audit_chain.event_hash({**event, "at": utc})
    assert digest != audit_chain.event_hash({**event, "seq": 2})  # seq is covered

    # version 3: the content's digest, then "prev_hash:seq:content" (what PostgreSQL hashes)
    v3 = {**event, "hash_version": 3}
    content = audit_chain.content_digest(v3)
    assert content == audit_chain.content_digest({**v3, "at": utc, "seq": 9, "prev_hash": "x"})
    linked = hashlib.sha256(f":1:{content}".encode()).hexdigest()
    assert audit_chain.event_hash(v3) == audit_chain.link_hash("", 1, content) == linked
    assert audit_chain.event_hash({**v3, "seq": 2}) != linked  # seq is covered
    assert audit_chain.event_hash({**v3, "prev_hash": "ab"}) != linked  # and the link
    assert audit_chain.event_hash({**v3, "detail": {"k": [1]}}) != linked  # and the content


def test_hash_versions_never_go_down_along_a_chain():
    """1 -> 2 -> 3 verifies (a database upgraded twice); any step back is refused."""

    def chain(versions: list[int]) -> list[dict]:
        events, prev = [], ""
        for seq, version in enumerate(versions, start=1):
            event = {
                "seq": seq,
                "hash_version": version,
                "at": "2026-01-31T12:00:00Z",
                "actor_id": None,
                "actor_email": "a@b.c",
                "action": "x",
                "object_type": "",
                "object_id": "",
                "detail": {},
                "prev_hash": prev,
            }
            event["hash"] = prev = audit_chain.event_hash(event)
            events.append(event)
        return events

    def verdict(versions: list[int]) -> audit_chain.Verdict:
        checker = audit_chain.ChainChecker()
        for event in chain(versions):
            if not checker.feed(event):
                break
        return checker.verdict

    for ok in ([1, 1, 2, 2, 3, 3], [2, 3], [3, 3], [1, 3]):
        assert verdict(ok).ok, ok
    for bad, at in (([3, 2], 2), ([2, 3, 1], 3), ([1, 3, 3, 2], 4)):
        found = verdict(bad)
        assert not found.ok and found.bad_seq == at and "older way" in found.reason, bad


def test_nul_and_odd_details_hash_as_stored(node, root):
    """Text the store changes (PostgreSQL turns NUL into U+FFFD) and values JSON changes
    (tuples, non-text keys) are recorded as stored, so the chain verifies on both stores."""
    node.datasite.services.audit.record(
        sy_actor(), "test.odd\x00", "thing", "id\x00", values=(1, 2), nested={1: "a\x00"}
    )
    (event,) = root.audit.events(action="test.odd")
    assert event.action == "test.odd\ufffd" and event.detail == {
        "values": [1, 2],
        "nested": {"1": "a\ufffd"},
    }
    assert root.audit.verify().ok


def sy_actor() -> Any:
    from jupyter_syft.server.services.actor import SYSTEM

    return SYSTEM


def test_concurrent_events_keep_one_numbered_chain(node, root):
    """Events recorded from many threads at once: seq numbers without gaps or repeats, one
    linear chain (the log's lock; on PostgreSQL also an advisory lock)."""
    import concurrent.futures

    from jupyter_syft.server.services.actor import SYSTEM

    log = node.datasite.services.audit
    before = root.audit.checkpoint()["seq"]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: log.record(SYSTEM, "test.parallel", "n", str(i)), range(40)))
    events = _all(root)
    assert [e.seq for e in events] == list(range(1, before + 41))
    assert sorted(int(e.object_id) for e in events if e.action == "test.parallel") == list(
        range(40)
    )
    assert root.audit.verify().count == before + 40


def test_two_stores_sharing_the_database_keep_one_chain(node, root):
    """Another store on the same database (as another process would open it) appends to the
    same log at the same time: one numbered chain, on SQLite as on PostgreSQL (the write
    lock is the database's, not a lock of one process)."""
    import concurrent.futures

    from jupyter_syft.server.services.actor import SYSTEM
    from jupyter_syft.server.services.audit import AuditLog
    from jupyter_syft.server.store import Store

    ours = node.datasite.services.audit
    other_store = Store(node.datasite.store.db_url)
    try:
        theirs = AuditLog(other_store)
        before = root.audit.checkpoint()["seq"]
        logs = [ours, theirs] * 20
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda i: logs[i].record(SYSTEM, "test.shared", "n", str(i)), range(40)))
    finally:
        other_store.close()
    events = _all(root)
    assert [e.seq for e in events] == list(range(1, before + 41))
    assert sorted(int(e.object_id) for e in events if e.action == "test.shared") == list(range(40))
    assert root.audit.verify().ok
