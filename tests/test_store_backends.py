"""The SQL store on SQLite and on PostgreSQL: the same Datasite, the same rules, either way.

The PostgreSQL cases run on a throwaway cluster started by the test session (tests/postgres.py);
without PostgreSQL installed they are skipped, except in CI (CI=true) where they fail.
"""

from __future__ import annotations

import concurrent.futures
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest
from sqlmodel import col, select

import jupyter_syft as sy
from jupyter_syft.server import models
from jupyter_syft.server.store import Store, StoreUnavailable, sqlite_url

pytest_plugins = ["postgres"]  # postgres_cluster, postgres_url

ROOT_EMAIL = "info@openmined.org"
ROOT_PASSWORD = "changethis"


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url(request: pytest.FixtureRequest, backend: str) -> str | None:
    """None (SQLite in the Datasite's folder) or a fresh PostgreSQL database."""
    if backend == "sqlite":
        return None
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def site(db_url):
    handle = sy.orchestra.launch(
        name=f"store-{uuid.uuid4().hex[:10]}", port="auto", reset=True, db_url=db_url, verbose=False
    )
    yield handle
    handle.land()


@pytest.fixture
def root(site):
    return site.login(email=ROOT_EMAIL, password=ROOT_PASSWORD, verbose=False)


@pytest.fixture
def scientist(site, root):
    root.users.create(
        sy.UserCreate(
            email="ds@example.org",
            name="Dana Scientist",
            password="pw-ds-123",
            role=sy.ServiceRole.DATA_SCIENTIST,
        )
    )
    return site.login(email="ds@example.org", password="pw-ds-123", verbose=False)


@pytest.fixture
def frames():
    private = pd.DataFrame({"age": [23, 45, 67, 34, 56, 78, 29], "score": [0.1, 0.5] * 3 + [0.9]})
    mock = pd.DataFrame({"age": [30, 30, 30, 30, 30, 30, 30], "score": [0.0] * 7})
    return private, mock


@pytest.fixture
def asset(root, scientist, frames):
    private, mock = frames
    dataset = sy.Dataset(name="Patients", summary="Ages and scores", description="Synthetic.")
    dataset.add_asset(sy.Asset(name="table", data=private, mock=mock))
    root.upload_dataset(dataset, progress=False)
    return scientist.datasets["Patients"].assets["table"]


def _single_use(asset):
    @sy.syft_function_single_use(data=asset)
    def mean_age(data):
        return float(data["age"].mean())

    return mean_age


def test_runs_on_the_chosen_backend(site, backend):
    store = site.datasite.store
    assert store.dialect == backend
    if backend == "postgresql":
        assert store.engine.url.drivername == "postgresql+psycopg"
        assert store.engine.pool.size() >= 8  # one connection per service thread at least


def test_store_basics(site, root, backend):
    contributor = sy.Contributor(name="John Doe", role="Uploader", email="john@example.org")
    root.users.create(
        sy.UserCreate(email="bob@example.org", name="Bob", password="pw", institution="Uni")
    )
    dataset = sy.Dataset(name="Two", description="Two assets", contributors=[contributor])
    dataset.add_asset(
        sy.Asset(name="features", data=[[1, 2], [3, 4]], mock=[[0, 0], [0, 0]], shape=(2, 2))
    )
    dataset.add_asset(sy.Asset(name="labels", data=["B", "M"], mock=["M", "M"]))
    root.upload_dataset(dataset, progress=False)
    root.settings.update(organization="OpenMined", signup_enabled=True)

    assert [u.email for u in root.users] == [ROOT_EMAIL, "bob@example.org"]
    assert root.users["bob@example.org"].institution == "Uni"
    remote = root.datasets["Two"]
    assert remote.contributors == [contributor]
    assert list(remote.assets.keys()) == ["features", "labels"]
    assert remote.assets["features"].data == [[1, 2], [3, 4]]
    assert remote.assets["labels"].mock == ["M", "M"]
    settings = root.settings.get()
    assert settings.organization == "OpenMined" and settings.signup_enabled is True
    with pytest.raises(sy.SyftException, match="already exists"):
        root.users.create(sy.UserCreate(email="bob@example.org", name="Bob 2", password="pw"))

    datasite = site.datasite
    with datasite.store.session() as session:
        users = session.exec(select(models.User).order_by(col(models.User.created_at))).all()
        assert [u.email for u in users] == [ROOT_EMAIL, "bob@example.org"]
        for user in users:  # datetimes come back aware, in UTC
            assert user.created_at.utcoffset() == timedelta(0)
            assert datetime.now(timezone.utc) - user.created_at < timedelta(minutes=5)
        row = session.exec(select(models.Dataset)).one()
        assert row.contributors[0]["name"] == "John Doe"  # JSON columns
        assets = session.exec(select(models.Asset).order_by(col(models.Asset.position))).all()
        assert [a.name for a in assets] == ["features", "labels"] and assets[0].shape == [2, 2]
        blob = session.get(models.Blob, assets[0].data_blob_id)
        assert blob is not None and blob.summary["type"] == "list"
        assert session.get(models.Setting, "organization").value == "OpenMined"

    # Values of every JSON kind, and a datetime in another zone, round-trip unchanged.
    odd = datetime(2024, 2, 29, 23, 59, 58, 123456, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    value = {"text": "é ✓", "n": [1, 2.5, None, True], "nested": {"k": {}}, "empty": []}
    with datasite.store.session() as session:
        session.add(models.Blob(id="f" * 64, size=1, summary=value, created_at=odd))
        session.add(models.Setting(key="test.null", value=None))
        session.commit()
    with datasite.store.session() as session:
        blob = session.get(models.Blob, "f" * 64)
        assert blob is not None and blob.summary == value
        assert blob.created_at == odd and blob.created_at.utcoffset() == timedelta(0)
        assert blob.created_at.microsecond == 123456
        assert session.get(models.Setting, "test.null").value is None
        session.delete(blob)
        session.delete(session.get(models.Setting, "test.null"))
        session.commit()

    # PostgreSQL text cannot hold NUL: it is stored as U+FFFD rather than failing the write.
    nul = sy.Dataset(name="NUL", description="before\x00after")
    nul.add_asset(sy.Asset(name="a", data=[1], mock=[0]))
    root.upload_dataset(nul, progress=False)
    kept = "before\x00after" if backend == "sqlite" else "before\ufffdafter"
    assert root.datasets["NUL"].description == kept
    with datasite.store.session() as session:  # JSON escapes it: unchanged everywhere
        session.add(models.Setting(key="test.nul", value={"k\x00": "v\x00"}))
        session.commit()
    with datasite.store.session() as session:
        assert session.get(models.Setting, "test.nul").value == {"k\x00": "v\x00"}

    audit = datasite.services.audit
    actions = [e["action"] for e in audit.events()]
    assert {"user.create", "dataset.create", "settings.update"} <= set(actions)
    assert audit.verify()
    with datasite.store.session() as session:  # tampering is detected
        event = session.exec(select(models.AuditEvent).where(models.AuditEvent.seq == 1)).one()
        event.actor_email = "someone@else.org"
        session.add(event)
        session.commit()
    assert not audit.verify()


def test_end_to_end_single_use_code(site, root, scientist, asset, frames):
    private, mock = frames
    pd.testing.assert_frame_equal(asset.mock, mock)
    assert asset.data is None  # a scientist never sees the private data

    request = scientist.code.request_code_execution(_single_use(asset), reason="average age")
    assert request.status == sy.RequestStatus.PENDING
    with pytest.raises(sy.SyftException, match="waiting for approval"):
        scientist.code.mean_age(data=asset)
    root.requests[0].approve()
    assert scientist.requests[0].status == sy.RequestStatus.APPROVED

    result = scientist.code.mean_age(data=asset)
    assert result.get() == pytest.approx(private["age"].mean()) and result.on_private_data
    again = scientist.code.mean_age(data=asset)
    assert again.get() == result.get() and "allows no more runs" in again.execution["notice"]

    with site.datasite.store.session() as session:
        code = session.exec(select(models.UserCode)).one()
        assert code.runs_used == 1 and code.status == "approved"
        assert code.input_policy and code.output_policy  # JSON columns
    assert site.datasite.services.audit.verify()


def test_twenty_concurrent_calls_run_on_private_data_once(site, root, scientist, asset):
    scientist.code.request_code_execution(_single_use(asset))
    root.requests[0].approve()

    def call(_):
        try:
            return scientist.code.mean_age(data=asset).execution
        except sy.SyftException as exc:
            return {"error": str(exc)}

    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        outcomes = list(pool.map(call, range(20)))

    with site.datasite.store.session() as session:
        runs = session.exec(
            select(models.Execution).where(col(models.Execution.on_private_data).is_(True))
        ).all()
        code = session.exec(select(models.UserCode)).one()
    assert len(runs) == 1 and code.runs_used == 1
    fresh = [o for o in outcomes if o.get("ok") and not o.get("notice")]
    assert len(fresh) == 1
    for outcome in outcomes:
        assert outcome.get("ok") or "running on the private data right now" in outcome.get(
            "error", ""
        )
    assert site.datasite.services.audit.verify()


def test_reopened_datasite_keeps_its_data(db_url):
    name = f"reopen-{uuid.uuid4().hex[:10]}"
    node = sy.orchestra.launch(name=name, port="auto", reset=True, db_url=db_url, verbose=False)
    try:
        client = node.login(email=ROOT_EMAIL, password=ROOT_PASSWORD, verbose=False)
        client.account.set_password("a-new-root-pw", confirm=False)
        client.users.create(sy.UserCreate(email="kept@example.org", name="Kept", password="pw"))
        ds = sy.Dataset(name="Kept")
        ds.add_asset(sy.Asset(name="a", data=[1, 2, 3], mock=[0, 0, 0]))
        client.upload_dataset(ds, progress=False)
        client.settings.update(organization="Persistent")
    finally:
        node.land()

    node = sy.orchestra.launch(name=name, port="auto", db_url=db_url, verbose=False)
    try:
        again = node.login(email=ROOT_EMAIL, password="a-new-root-pw", verbose=False)
        assert [d.name for d in again.datasets] == ["Kept"]
        assert again.datasets["Kept"].assets["a"].data == [1, 2, 3]
        assert again.settings.get().organization == "Persistent"
        kept = node.login(email="kept@example.org", password="pw", verbose=False)
        assert kept.account.name == "Kept"
        assert node.datasite.services.audit.verify()
    finally:
        node.land()


def test_unreachable_database_is_a_clear_error(backend, tmp_path, request):
    if backend == "sqlite":
        url = sqlite_url(tmp_path / "no such folder" / "datasite.db")
        with pytest.raises(StoreUnavailable, match="Cannot open the database") as info:
            sy.orchestra.launch(name="unreachable", port="auto", db_url=url, verbose=False)
        assert "exists and is writable" in str(info.value)
        return

    from postgres import free_port

    secret = "s3cret-pw"
    closed = f"postgresql://syft:{secret}@127.0.0.1:{free_port()}/datasite"
    with pytest.raises(StoreUnavailable) as info:
        sy.orchestra.launch(name="unreachable", port="auto", db_url=closed, verbose=False)
    message = str(info.value)
    assert isinstance(info.value, ValueError) and isinstance(info.value, sy.SyftException)
    assert "Cannot open the database postgresql+psycopg://syft:***@127.0.0.1:" in message
    assert "server is running" in message and "database 'datasite' exists" in message
    assert secret not in message and "Traceback" not in message

    # A Unix socket (libpq's host=/folder) is named as the socket libpq looked for, port
    # included: the URL's missing port is the usual mistake.
    cluster = request.getfixturevalue("postgres_cluster")
    no_port = f"postgresql://syft@/datasite?host={cluster.base}"
    with pytest.raises(StoreUnavailable) as info:
        Store(no_port)
    message = str(info.value)
    assert f"at its Unix socket {cluster.base}/.s.PGSQL.5432," in message
    assert f"createdb -h {cluster.base} -p 5432 datasite" in message
    database = cluster.create_database()
    try:  # the same URL with the port: it opens
        Store(f"postgresql://syft@/{database}?host={cluster.base}&port={cluster.port}").close()
    finally:
        cluster.drop_database(database)

    missing = cluster.url("no_such_database")
    with pytest.raises(StoreUnavailable, match='database "no_such_database" does not exist'):
        Store(missing)
    wrong = cluster.url().replace(cluster.password, "wrong-password")
    with pytest.raises(StoreUnavailable, match="password authentication failed"):
        Store(wrong)
    with pytest.raises(StoreUnavailable, match="is not a database URL"):
        Store("not a url")


def test_store_helpers_on_both_backends(backend, db_url, tmp_path):
    url = db_url or sqlite_url(tmp_path / "helpers.db")
    if backend == "postgresql":
        # Datasites starting together on one empty database create the tables once, no errors.
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            stores = list(pool.map(lambda _: Store(url), range(4)))
    else:  # one SQLite file has one host process, which opens its store once
        stores = [Store(url) for _ in range(4)]
    try:
        with stores[0].session() as session:
            session.add(models.Setting(key="x", value=[1]))
            session.commit()

        # Store.lock serializes a critical section across engines (processes on PostgreSQL).
        inside, overlaps = [0], []
        guard = threading.Lock()

        def critical(store):
            with store.session() as session:
                store.lock(session, "test")
                with guard:
                    inside[0] += 1
                    overlaps.append(inside[0])
                session.exec(select(models.Setting)).all()
                threading.Event().wait(0.02)
                with guard:
                    inside[0] -= 1
                session.commit()

        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            list(pool.map(critical, stores))
        if backend == "postgresql":
            assert max(overlaps) == 1

        stores[0].drop_all()  # what reset=True needs when the database outlives the data folder
    finally:
        for store in stores:
            store.close()
    fresh = Store(url)
    try:
        with fresh.session() as session:
            assert session.exec(select(models.Setting)).all() == []
    finally:
        fresh.close()


def test_calls_work_after_the_server_ended_every_pooled_connection(postgres_url):
    """The pool pings a connection only when its socket says the server spoke (store's
    ``_local_ping``): connections PostgreSQL ended (a restart, pg_terminate_backend, an idle
    timeout) must still be noticed before a call uses one."""
    import psycopg

    site = sy.orchestra.launch(
        name=f"store-{uuid.uuid4().hex[:10]}",
        port="auto",
        reset=True,
        db_url=postgres_url,
        verbose=False,
    )
    try:
        root = site.login(email=ROOT_EMAIL, password=ROOT_PASSWORD, verbose=False)
        pool = site.datasite.store.engine.pool
        # several idle connections in the pool, from calls made at once
        with concurrent.futures.ThreadPoolExecutor(6) as threads:
            list(threads.map(lambda _: root.users.get_all(), range(24)))
        assert pool.checkedin() >= 2
        database = postgres_url.rsplit("/", 1)[1]
        others = "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            pids = [pid for (pid,) in admin.execute(others, (database,)).fetchall()]
            assert len(pids) >= 2
            for pid in pids:
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
            # pg_terminate_backend only signals: wait until the backends are gone, as after a
            # restart (a call racing a backend's exit is not what this checks)
            deadline = time.monotonic() + 30
            while set(pids) & {p for (p,) in admin.execute(others, (database,)).fetchall()}:
                assert time.monotonic() < deadline, "the backends did not exit"
                time.sleep(0.05)
        for _ in range(12):  # each may take a pooled connection the server ended
            assert ROOT_EMAIL in {u.email for u in root.users.get_all()}
    finally:
        site.land()


def test_the_local_ping_asks_the_server_only_when_the_socket_is_readable(postgres_url):
    import psycopg

    from jupyter_syft.server.store import _local_ping

    asked = []
    ping = _local_ping(lambda connection: asked.append(connection) or True)
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        assert ping(connection) is True and asked == []  # idle and quiet: no round trip
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            pid = connection.info.backend_pid
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        deadline = time.monotonic() + 30
        while not asked and time.monotonic() < deadline:  # the goodbye arrives
            ping(connection)
            time.sleep(0.05)
        assert asked == [connection]
    assert ping(connection) is False  # closed


def test_plain_reads_give_cores_row_in_one_statement_on_both_backends(site, root, backend):
    """``view_cache.PlainRead`` (a token, a view's generation: most calls): the row Core gives;
    a NUL in the value is a miss, not an error (PostgreSQL text cannot hold one); on
    PostgreSQL its connections are in autocommit, so no BEGIN or ROLLBACK goes with it, and
    it leaves no transaction open; a listener on the store still sees every statement."""
    from sqlalchemy import event

    from jupyter_syft.server.security import token_hash
    from jupyter_syft.server.services import auth as auth_module
    from jupyter_syft.server.services.view_cache import PlainRead

    store = site.datasite.store
    read = PlainRead(store, auth_module._ACTOR_QUERY, "token_hash")
    hashed = token_hash(root.connection.token)
    with store.engine.connect() as connection:
        core = tuple(connection.execute(auth_module._ACTOR_QUERY, {"token_hash": hashed}).one())
    assert read.row(hashed) == core
    assert read.row("\x00" + hashed[1:]) is None
    if backend == "postgresql":
        assert store.plain_reads is not store.engine
        raw = store.plain_reads.raw_connection()  # one of the plain reads' connections
        try:
            assert raw.driver_connection.autocommit is True
            cursor = raw.cursor()
            cursor.execute(read.sql, {"token_hash": hashed})
            assert cursor.fetchone() is not None
            cursor.close()
            # no transaction began: nothing to roll back when it goes back to the pool
            assert raw.driver_connection.info.transaction_status.name == "IDLE"
        finally:
            raw.close()
    else:
        assert store.plain_reads is store.engine
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(store.engine, "before_cursor_execute", count)
    try:
        assert store.statements_watched()
        assert read.row(hashed) == core
    finally:
        event.remove(store.engine, "before_cursor_execute", count)
    assert not store.statements_watched()
    assert len(seen) == 1 and "api_tokens" in seen[0]
    assert root.users.get_all()  # the Datasite still serves


def _wait_until_it_waits_for_a_lock(url: str, waiting: concurrent.futures.Future) -> None:
    """Until PostgreSQL shows a session waiting for an advisory lock (``waiting``'s)."""
    import psycopg

    waiters = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
    deadline = time.monotonic() + 60  # a hang, not a duration
    with psycopg.connect(url, autocommit=True) as admin:
        while admin.execute(waiters).fetchone()[0] == 0:
            assert not waiting.done(), waiting.result()
            assert time.monotonic() < deadline, "the second never waited"
            time.sleep(0.02)


def test_a_writer_under_the_audit_lock_reads_and_commits(backend, db_url, tmp_path):
    """``Store.lock_writes_and_read`` and ``write_and_commit`` (the audit log's append on
    SQLite, and wherever a test watches every statement): the head read under the lock sees
    what the writer before committed, pending ORM writes commit with the rows, a failing row
    keeps nothing of its transaction, and no connection goes back to the pool in pipeline
    mode."""
    import psycopg
    from sqlalchemy import event
    from sqlalchemy import select as sa_select
    from sqlalchemy.exc import IntegrityError

    from jupyter_syft.server.rows import inserting, new_row

    url = db_url or sqlite_url(tmp_path / "pipelines.db")
    store = Store(url)
    events = models.AuditEvent.__table__
    head = sa_select(events.c.seq, events.c.hash).order_by(events.c.seq.desc()).limit(1)
    insert = inserting(models.AuditEvent)

    def event_row(seq: int) -> dict:
        return new_row(models.AuditEvent, seq=seq, action="test.pipeline", hash=f"h{seq}")

    checked_in_piped: list[object] = []
    if backend == "postgresql":

        def on_checkin(dbapi_connection, _record):
            if dbapi_connection.pgconn.pipeline_status != psycopg.pq.PipelineStatus.OFF:
                checked_in_piped.append(dbapi_connection)

        event.listen(store.engine, "checkin", on_checkin)

    def settings() -> set[str]:
        with store.session() as session:
            return {s.key for s in session.exec(select(models.Setting)).all()}

    def seqs() -> list[int]:
        with store.session() as session:
            return [e.seq for e in session.exec(select(models.AuditEvent)).all()]

    try:
        with store.session() as session:
            assert store.lock_writes_and_read(session, "audit", head) is None  # empty log
            store.write_and_commit(session, insert, [event_row(1)])
        assert seqs() == [1]

        with store.session() as session:  # an ORM write pending: it commits with the rows
            session.add(models.Setting(key="with-events", value=[1]))
            assert tuple(store.lock_writes_and_read(session, "audit", head)) == (1, "h1")
            store.write_and_commit(session, insert, [event_row(2), event_row(3)])
        assert seqs() == [1, 2, 3] and settings() == {"with-events"}

        with store.session() as session:  # a taken seq: nothing of the transaction is kept
            session.add(models.Setting(key="rolled-back", value=[1]))
            store.lock_writes_and_read(session, "audit", head)
            with pytest.raises(IntegrityError):
                store.write_and_commit(session, insert, [event_row(4), event_row(3)])
        assert seqs() == [1, 2, 3] and settings() == {"with-events"}

        with store.session() as session:  # and the store goes on
            assert tuple(store.lock_writes_and_read(session, "audit", head)) == (3, "h3")
            store.write_and_commit(session, insert, [event_row(4)])
        assert seqs() == [1, 2, 3, 4]

        if backend == "postgresql":
            # A second writer (another store: another process) waits for the lock; its head
            # read runs once the first commits, and sees the first's event.
            other = Store(url)
            try:
                with store.session() as first:
                    store.lock_writes_and_read(first, "audit", head)
                    with concurrent.futures.ThreadPoolExecutor(1) as pool:

                        def second() -> tuple:
                            with other.session() as session:
                                found = other.lock_writes_and_read(session, "audit", head)
                                session.rollback()
                                return tuple(found)

                        waiting = pool.submit(second)
                        _wait_until_it_waits_for_a_lock(url, waiting)
                        store.write_and_commit(first, insert, [event_row(5)])
                        assert waiting.result(timeout=60) == (5, "h5")
            finally:
                other.close()
            assert checked_in_piped == []
    finally:
        store.close()


def test_the_audit_append_in_one_round_trip_links_to_the_committed_head(backend, db_url, tmp_path):
    """PostgreSQL: ``Store.commit_under_lock`` with the audit log's own statement (lock,
    INSERT ... SELECT of the head, COMMIT in one pipeline). The database's link hash is
    Python's (``audit_chain.link_hash``); a writer that waited for the lock links to what the
    holder committed (the statement's snapshot is taken after the grant); pending ORM writes
    commit with the events; a failing event keeps nothing; no connection goes back to the
    pool in pipeline mode. SQLite has no such path: it is refused there."""
    import psycopg
    from sqlalchemy import event
    from sqlalchemy.exc import IntegrityError

    from jupyter_syft.audit_chain import link_hash
    from jupyter_syft.server.services.audit import _APPEND

    url = db_url or sqlite_url(tmp_path / "one-trip.db")
    if backend == "postgresql":  # a database whose transactions default to one snapshot
        import psycopg

        with psycopg.connect(url, autocommit=True) as admin:
            database = admin.execute("SELECT current_database()").fetchone()[0]
            admin.execute(
                f'ALTER DATABASE "{database}" SET default_transaction_isolation TO '
                "'repeatable read'"
            )
    store = Store(url)

    def row(content: str, action: str | None = "test.append") -> dict:
        return {
            "hash_version": 3,
            "at": models.utcnow(),
            "actor_id": None,
            "actor_email": "a@b.c",
            "action": action,
            "object_type": "",
            "object_id": "",
            "detail": "{}",
            "content": content,
        }

    def chain() -> list[tuple]:
        with store.session() as session:
            events = session.exec(select(models.AuditEvent).order_by(models.AuditEvent.seq))
            return [(e.seq, e.prev_hash, e.hash) for e in events]

    def settings() -> set[str]:
        with store.session() as session:
            return {s.key for s in session.exec(select(models.Setting)).all()}

    try:
        if backend == "sqlite":
            assert not store.one_trip_locked_writes()
            with store.session() as session, pytest.raises(RuntimeError, match="PostgreSQL"):
                store.commit_under_lock(session, "audit", _APPEND, [row("c1")])
            return

        checked_in_piped: list[object] = []

        def on_checkin(dbapi_connection, _record):
            if dbapi_connection.pgconn.pipeline_status != psycopg.pq.PipelineStatus.OFF:
                checked_in_piped.append(dbapi_connection)

        event.listen(store.engine, "checkin", on_checkin)
        assert store.one_trip_locked_writes()
        with store.session() as session:  # the empty log; an ORM write pending
            session.add(models.Setting(key="with-events", value=[1]))
            found = store.commit_under_lock(session, "audit", _APPEND, [row("c1"), row("c2")])
        assert [tuple(f) for f in found] == [(1,), (2,)]
        first = link_hash("", 1, "c1")
        assert chain() == [(1, "", first), (2, first, link_hash(first, 2, "c2"))]
        assert settings() == {"with-events"}

        before = chain()
        with store.session() as session:  # NOT NULL broken: nothing of it is kept
            session.add(models.Setting(key="rolled-back", value=[1]))
            with pytest.raises(IntegrityError):
                store.commit_under_lock(session, "audit", _APPEND, [row("c3"), row("x", None)])
        assert chain() == before and settings() == {"with-events"}

        # Another store (another process) waits for the lock the first holds, then links to
        # the event the first committed.
        other = Store(url)
        try:
            with store.session() as holder:
                store.lock_writes(holder, "audit")
                with concurrent.futures.ThreadPoolExecutor(1) as pool:

                    def second() -> list:
                        with other.session() as session:
                            return other.commit_under_lock(session, "audit", _APPEND, [row("w")])

                    waiting = pool.submit(second)
                    _wait_until_it_waits_for_a_lock(url, waiting)
                    held = link_hash(before[-1][2], 3, "held")
                    holder.connection().execute(
                        models.AuditEvent.__table__.insert(),
                        {**row("held"), "seq": 3, "prev_hash": before[-1][2], "hash": held,
                         "detail": {}},
                    )  # fmt: skip
                    holder.commit()
                    assert [tuple(f) for f in waiting.result(timeout=60)] == [(4,)]
        finally:
            other.close()
        assert chain()[-2:] == [(3, before[-1][2], held), (4, held, link_hash(held, 4, "w"))]
        assert checked_in_piped == []
    finally:
        store.close()


def test_writes_sent_with_the_audit_commit_keep_their_values_and_fail_as_one(
    backend, db_url, tmp_path
):
    """``AuditLog.commit(writes=...)``: a change's last statements go in with its event (on
    PostgreSQL in the commit's one round trip, ``Store.commit_under_lock``). Each value is
    converted by its column's type as SQLAlchemy converts it (a JSON column's dict, a
    datetime, NUL in text); a duplicate among them raises ``IntegrityError`` and keeps
    nothing: not the other writes, not the event."""
    from sqlalchemy import update
    from sqlalchemy.exc import IntegrityError

    from jupyter_syft.server.rows import inserting, new_row
    from jupyter_syft.server.services.actor import SYSTEM
    from jupyter_syft.server.services.audit import AuditLog

    store = Store(db_url or sqlite_url(tmp_path / "writes.db"))
    audit = AuditLog(store)
    assert store.one_trip_locked_writes() is (backend == "postgresql")
    user = new_row(
        models.User, email="w@example.org", name="Nul\x00name", password_hash="x", role=1
    )
    setting = {"key": "k1", "value": {"a": [1, "two"], "b": None}}
    renamed = (
        update(models.User.__table__)
        .where(models.User.__table__.c.email == "w@example.org")
        .values(institution="Uni")
    )

    def events() -> list[str]:
        with store.session() as session:
            return [e.action for e in session.exec(select(models.AuditEvent))]

    try:
        with store.session() as session:
            audit.commit(
                session,
                SYSTEM,
                [("test.write", "user", user["id"], {})],
                writes=[(inserting(models.User), user), (inserting(models.Setting), setting)],
            )
        with store.session() as session:
            audit.commit(session, SYSTEM, [("test.update", "", "", {})], writes=[(renamed, {})])
        with store.session() as session:
            kept = session.get(models.User, user["id"])
            assert kept is not None and kept.name == "Nul\x00name".replace(
                "\x00", "\ufffd" if backend == "postgresql" else "\x00"
            )
            assert kept.created_at == user["created_at"] and kept.institution == "Uni"
            assert session.get(models.Setting, "k1").value == setting["value"]
        assert events() == ["test.write", "test.update"]

        again = {"key": "k2", "value": [2]}
        with store.session() as session, pytest.raises(IntegrityError):
            audit.commit(
                session,
                SYSTEM,
                [("test.duplicate", "", "", {})],
                writes=[(inserting(models.Setting), again), (inserting(models.User), user)],
            )
        with store.session() as session:
            assert session.get(models.Setting, "k2") is None
        assert events() == ["test.write", "test.update"]
        assert AuditLog(store).verify()
    finally:
        store.close()


def test_the_same_code_submitted_at_once_is_stored_once_and_the_others_told_why(
    site, root, scientist, asset, backend
):
    """The same function sent by four calls at once: its rows go in with the audit event
    (PostgreSQL: in the commit's one round trip), so the tables' unique keys decide. One
    request is stored and audited; each other call is told the code exists (a 409, no
    500), and the chain still verifies."""
    fn = _single_use(asset)
    barrier = threading.Barrier(4)

    def submit() -> str:
        barrier.wait(timeout=60)
        try:
            return scientist.code.request_code_execution(fn).id
        except sy.SyftException as exc:
            return str(exc)

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: submit(), range(4)))
    stored = [r.id for r in root.requests.get_all()]
    assert len(stored) == 1 and answers.count(stored[0]) == 1, answers
    refused = [a for a in answers if a != stored[0]]
    assert len(refused) == 3 and all("already exists: 'mean_age'" in a for a in refused), refused
    created = [e for e in root.audit.events() if e.action == "request.create"]
    assert [e.object_id for e in created] == stored
    assert root.audit.verify().ok


def test_a_read_session_reads_what_was_committed_and_refuses_writes(backend, db_url, tmp_path):
    """``Store.read_session``: on PostgreSQL a connection of the plain reads' pool, in
    autocommit (no BEGIN before the reads, no transaction left to end after them), on which
    the database refuses writes; NUL in a value is replaced as in every session. On SQLite
    an ordinary session."""
    import psycopg
    from sqlalchemy.exc import DBAPIError

    store = Store(db_url or sqlite_url(tmp_path / "reads.db"))
    try:
        with store.session() as session:
            session.add(models.Setting(key="committed", value={"a": 1}))
            session.commit()
        with store.read_session() as session:
            assert session.get(models.Setting, "committed").value == {"a": 1}
            assert session.get(models.Setting, "nul\x00key") is None
            if backend == "postgresql":
                driver = session.connection().connection.driver_connection
                assert driver.autocommit
                assert driver.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        if backend == "postgresql":
            with store.read_session() as session, pytest.raises(DBAPIError, match="read-only"):
                session.add(models.Setting(key="written", value=[1]))
                session.commit()
        with store.session() as session:
            assert {s.key for s in session.exec(select(models.Setting))} == {"committed"}
    finally:
        store.close()


def _prepared_here(session) -> set[str]:
    """The statements PostgreSQL holds prepared for ``session``'s connection."""
    rows = session.connection().exec_driver_sql("SELECT statement FROM pg_prepared_statements")
    return {row[0] for row in rows}


def test_a_rollback_keeps_the_connections_prepared_statements(postgres_url):
    store = Store(postgres_url)
    try:
        query = select(models.User).where(col(models.User.email) == "nobody@example.org")
        with store.engine.connect() as connection:
            pooled = connection.connection.dbapi_connection
        for _ in range(6):  # psycopg prepares it at the fifth run on a connection
            with store.session() as session:  # a read: the session ends with a ROLLBACK
                assert session.connection().connection.dbapi_connection is pooled
                session.exec(query).all()
        with store.session() as session:
            assert any("FROM users" in s for s in _prepared_here(session)), (
                "the ROLLBACKs dropped the prepared statements"
            )
            session.exec(query).all()
            session.rollback()
            assert any("FROM users" in s for s in _prepared_here(session))
    finally:
        store.close()


def test_a_rollback_still_undoes_the_transaction_and_ends_a_failed_one(postgres_url):
    store = Store(postgres_url)
    try:
        email = f"{uuid.uuid4().hex}@example.org"
        with store.session() as session:
            session.add(models.User(email=email, name="Gone", password_hash="x", role=1))
            session.flush()  # written in the transaction, never committed
        with store.session() as session:
            assert (
                session.exec(select(models.User).where(models.User.email == email)).first() is None
            )
            with pytest.raises(Exception, match="division by zero"):
                session.connection().exec_driver_sql("SELECT 1/0")
            session.rollback()  # the failed transaction ended: the connection serves again
            assert session.connection().exec_driver_sql("SELECT 2").scalar() == 2
    finally:
        store.close()


# --- the busiest reads: on the event loop's thread where reads never wait ----------------------
API = "/syft/api/v1/"


def _hot_reads(site, asset, request_id: str) -> dict[str, str]:
    """The busiest read routes (what the mixed load calls most), by name: their URLs."""
    base = site.url.rstrip("/") + API
    return {
        "me": base + "users/me",
        "datasets": base + "datasets",
        "mock": base + f"assets/{asset.id}/mock",
        "request": base + f"requests/{request_id}",
    }


def test_the_busiest_reads_skip_the_pool_only_where_reads_never_wait(
    site, root, scientist, asset, backend, monkeypatch
):
    import requests

    request_id = scientist.code.request_code_execution(_single_use(asset)).id
    headers = {"Authorization": f"Bearer {root.connection.token}"}
    store = site.datasite.store
    assert store.reads_never_wait == (backend == "sqlite")
    from handoffs import counting_handoffs

    submitted = counting_handoffs(site.datasite, monkeypatch)
    answers = {}
    for name, url in _hot_reads(site, asset, request_id).items():
        submitted.clear()
        answer = requests.get(url, headers=headers, timeout=30)
        assert answer.status_code == 200, (name, answer.text)
        answers[name] = answer.content
        # SQLite: answered on the loop's thread; PostgreSQL: one hand-off (a round trip)
        assert len(submitted) == (0 if backend == "sqlite" else 1), name
    # the same answers through the pool
    monkeypatch.setattr(store, "reads_never_wait", False)
    for name, url in _hot_reads(site, asset, request_id).items():
        submitted.clear()
        answer = requests.get(url, headers=headers, timeout=30)
        assert answer.content == answers[name], name
        assert len(submitted) == 1, name
    # a write still goes to the pool on either store
    monkeypatch.setattr(store, "reads_never_wait", backend == "sqlite")
    submitted.clear()
    root.requests.get_by_id(request_id).approve()
    # get_by_id's read (on PostgreSQL only), then the approval
    assert len(submitted) == (1 if backend == "sqlite" else 2)
    assert "_approve" in repr(submitted[-1])


def test_the_busiest_reads_write_nothing_and_keep_every_check(
    site, root, scientist, asset, backend
):
    """What runs on the loop's thread must never wait for SQLite's write lock (so it writes
    nothing), and refuses as it did on the pool: a forged token, another's request, a
    database that does not answer."""
    import requests
    from sqlalchemy.exc import OperationalError
    from statements import statements

    request_id = scientist.code.request_code_execution(_single_use(asset)).id
    hot = _hot_reads(site, asset, request_id)
    as_root = {"Authorization": f"Bearer {root.connection.token}"}
    loop_thread = site.server._thread  # the thread that serves HTTP

    def on_loop_thread(_statement: str) -> bool:
        return threading.current_thread() is loop_thread

    with statements(site.datasite.store.engine, keep=on_loop_thread) as seen:
        for url in hot.values():
            assert requests.get(url, headers=as_root, timeout=30).status_code == 200
    if backend == "sqlite":
        assert seen and all(s.lstrip().upper().startswith("SELECT") for s in seen), seen
    else:
        assert seen == []  # every statement on the pool: a round trip never holds the loop
    forged = {"Authorization": "Bearer forged-token"}
    for name, url in hot.items():
        answer = requests.get(url, headers=forged, timeout=30)
        assert answer.status_code == 401 and answer.json()["error"] == "unauthorized", name
    # a request of someone else's is not there for another scientist
    root.users.create(
        sy.UserCreate(
            email="other@example.org",
            name="O",
            password="pw-other-1",
            role=sy.ServiceRole.DATA_SCIENTIST,
        )
    )
    other = site.login(email="other@example.org", password="pw-other-1", verbose=False)
    answer = requests.get(
        hot["request"], headers={"Authorization": f"Bearer {other.connection.token}"}, timeout=30
    )
    assert answer.status_code == 404 and "No request" in answer.json()["detail"]
    # the database not answering, on the loop's thread too: a 503 that says to try again
    services = site.datasite.services

    def unanswered(*_args, **_kwargs):
        raise OperationalError("SELECT 1", {}, Exception("database is locked"))

    original = services.users.me
    services.users.me = unanswered
    try:
        answer = requests.get(hot["me"], headers=as_root, timeout=30)
    finally:
        services.users.me = original
    assert answer.status_code == 503, answer.text
    assert "try again in a moment" in answer.json()["detail"]
    assert requests.get(hot["me"], headers=as_root, timeout=30).status_code == 200
