"""The SQL store: one engine per Datasite, SQLite (WAL) by default, PostgreSQL by URL."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import select
import shutil
import sqlite3
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlmodel import Session, SQLModel, create_engine

from ..errors import SyftException
from . import models  # (importing it registers the tables on SQLModel.metadata)

log = logging.getLogger(__name__)

# Services run on the Datasite's thread pool (8 threads by default) and a request may hold
# two sessions at once (its own and the audit log's): room for that, and for bursts.
PG_POOL_SIZE = 10
PG_MAX_OVERFLOW = 20
PG_POOL_TIMEOUT_S = 30
PG_POOL_RECYCLE_S = 1800  # before firewalls and server-side idle timeouts cut connections
PG_CONNECT_TIMEOUT_S = 10
SQLITE_POOL_SIZE = 16
# PostgreSQL's plain reads (``Store.plain_reads``): one-statement reads on most calls, from
# every thread that serves them. A connection beyond the pool's size is opened (a PostgreSQL
# backend started) and closed on each use: room for all of them.
PG_PLAIN_READ_POOL_SIZE = 10
PG_PLAIN_READ_MAX_OVERFLOW = 20
# A process's change relay (change_relay.py): a listening and a sending connection of its own.
PG_RELAY_CONNECTIONS = 2
PG_CONNECTIONS_PER_PROCESS = (
    PG_POOL_SIZE + PG_MAX_OVERFLOW + PG_PLAIN_READ_POOL_SIZE + PG_PLAIN_READ_MAX_OVERFLOW
) + PG_RELAY_CONNECTIONS
# The least a process can serve with: its 8 threads each holding two sessions at worst would
# wait for one another past 12, and plain reads hold theirs for one statement.
PG_MIN_SESSIONS = 12
PG_MIN_PLAIN_READS = 2
PG_MIN_CONNECTIONS_PER_PROCESS = PG_MIN_SESSIONS + PG_MIN_PLAIN_READS + PG_RELAY_CONNECTIONS


class StoreUnavailable(SyftException, ValueError):
    """The database behind ``db_url`` cannot be opened; the message says what to check."""


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def normalize_url(db_url: str) -> URL:
    """``db_url`` parsed, with ``postgresql://`` (and ``postgres://``) using psycopg 3."""
    try:
        url = make_url(db_url)
    except ArgumentError:
        raise StoreUnavailable(
            f"{_mask(db_url)!r} is not a database URL: use sqlite:///path/to/file.db or "
            "postgresql://user:password@host:port/database."
        ) from None
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url


def pool_limits(connections: int | None, plain_reads: bool) -> dict[str, int]:
    """PostgreSQL: the pool of a process that may hold ``connections`` in all (None: the
    defaults; see ``connection_budget``), the sessions' or (``plain_reads``) the plain reads'.
    A smaller share is split evenly, past each pool's least."""
    if connections is None or connections >= PG_CONNECTIONS_PER_PROCESS:
        if plain_reads:
            size, overflow = PG_PLAIN_READ_POOL_SIZE, PG_PLAIN_READ_MAX_OVERFLOW
        else:
            size, overflow = PG_POOL_SIZE, PG_MAX_OVERFLOW
        return {"pool_size": size, "max_overflow": overflow}
    pooled = max(connections, PG_MIN_CONNECTIONS_PER_PROCESS) - PG_RELAY_CONNECTIONS
    reads = max(PG_MIN_PLAIN_READS, min(pooled // 2, pooled - PG_MIN_SESSIONS))
    total = reads if plain_reads else pooled - reads
    size = min(PG_PLAIN_READ_POOL_SIZE if plain_reads else PG_POOL_SIZE, total)
    return {"pool_size": size, "max_overflow": total - size}


def make_engine(
    db_url: str,
    plain_reads: bool = False,
    connections: int | None = None,
    poolclass: Any = None,
) -> Engine:
    """The engine of ``db_url``. ``plain_reads`` (PostgreSQL): an engine whose connections
    are in autocommit, for ``Store.plain_reads``. ``connections``: the most this process
    may hold (``pool_limits``). ``poolclass``: SQLAlchemy's (NullPool: one-off reads)."""
    url = normalize_url(db_url)
    if url.get_backend_name() == "sqlite":
        pool: dict[str, Any] = {}
        if sqlite_file(url):  # SQLAlchemy's QueuePool
            # Room for every thread that opens sessions (the pool's, notifications, push, jobs):
            # a connection beyond the pool would be opened, set up and closed on each use.
            pool = {"pool_size": SQLITE_POOL_SIZE, "max_overflow": PG_MAX_OVERFLOW}
        engine = create_engine(
            url,
            # Services run on a thread pool; each thread gets its own connection from the pool.
            connect_args={"check_same_thread": False, "timeout": 30},
            **pool,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    options: dict[str, Any] = {"pool_pre_ping": True}
    if url.get_backend_name() == "postgresql":
        if poolclass is None:
            options.update(
                pool_limits(connections, plain_reads),
                pool_timeout=PG_POOL_TIMEOUT_S,
                pool_recycle=PG_POOL_RECYCLE_S,
            )
        else:
            options.update(poolclass=poolclass)
        if "connect_timeout" not in url.query:
            options["connect_args"] = {"connect_timeout": PG_CONNECT_TIMEOUT_S}
        # Whatever the database's default: a read after a lock must see what the lock's
        # previous holder committed (each statement's own snapshot), as the audit log's
        # append relies on (services/audit.py).
        options["isolation_level"] = "READ COMMITTED"
        if plain_reads:
            options.update(isolation_level="AUTOCOMMIT")
            # Reads only, enforced by the database: a write sent by mistake through a read
            # session (``Store.read_session``) fails instead of committing on its own.
            given = url.query.get("options")
            read_only = "-c default_transaction_read_only=on"
            options.setdefault("connect_args", {})["options"] = (
                f"{given} {read_only}" if isinstance(given, str) and given else read_only
            )
    try:
        engine = create_engine(url, **options)
    except (ImportError, NoSuchModuleError) as exc:
        driver = url.drivername
        hint = (
            "Install it with: pip install 'psycopg[binary]>=3.1'"
            if url.get_backend_name() == "postgresql"
            else f"Install the Python driver for {driver}"
        )
        raise StoreUnavailable(
            f"Cannot use the database {_mask(url)}: its driver is missing ({exc}). {hint}."
        ) from None
    if engine.dialect.name == "postgresql":
        # (PlainRead replaces NUL in its one value itself: its raw path skips this)
        event.listen(engine, "before_cursor_execute", _without_nul, retval=True)
        if engine.dialect.driver == "psycopg":
            engine.dialect.do_ping = _local_ping(engine.dialect.do_ping)  # type: ignore[method-assign]
            engine.dialect.do_rollback = _rollback_keeping_prepared  # type: ignore[method-assign]
    return engine


def _local_ping(ping: Any) -> Any:
    """A pre-ping that asks the server only when the connection looks unwell.

    The pool checks a connection at every checkout, and a round trip (``SELECT 1``) for each
    was a third of a cheap call's statements. A connection the server ended (a restart,
    ``pg_terminate_backend``, an idle timeout) has its socket readable: the server's goodbye,
    or end of file. An idle, healthy one has nothing to read. So: closed or broken, not
    alive; nothing to read, alive; something to read, the real ping decides.
    """

    def do_ping(dbapi_connection: Any) -> bool:
        try:
            if dbapi_connection.closed or dbapi_connection.broken:
                return False
            readable, _, _ = select.select([dbapi_connection.pgconn.socket], [], [], 0)
        except Exception:  # no socket to look at: let the server answer
            return bool(ping(dbapi_connection))
        return True if not readable else bool(ping(dbapi_connection))

    return do_ping


def _rollback_keeping_prepared(dbapi_connection: Any) -> None:
    """ROLLBACK, and the connection keeps its prepared statements.

    psycopg prepares a statement the fifth time a connection runs it, so PostgreSQL no longer
    parses and plans it. But its ``rollback()`` forgets them all (and sends DEALLOCATE ALL),
    in case the transaction dropped or altered what they use. Every session that only reads
    ends with a ROLLBACK, so on a busy Datasite each pooled connection lost its statements
    every few uses: PostgreSQL planned nearly every statement again, a third of its CPU in
    the mixed load. The Datasite changes its schema only while it opens, before it serves,
    and a prepared statement outlives a ROLLBACK in PostgreSQL itself: so it is kept here.
    The libpq call releases the GIL as psycopg's own does.
    """
    from psycopg import OperationalError, pq

    pgconn = dbapi_connection.pgconn
    if pgconn.transaction_status == pq.TransactionStatus.IDLE:
        return  # (as psycopg: nothing to end)
    result = pgconn.exec_(b"ROLLBACK")
    if result.status != pq.ExecStatus.COMMAND_OK:
        detail = (pgconn.error_message or b"").decode(errors="replace").strip()
        raise OperationalError(f"ROLLBACK failed: {detail or result.status.name}")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL is durable across app crashes
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _without_nul(
    _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool
) -> tuple[str, Any]:
    """PostgreSQL text cannot hold NUL characters (SQLite's can): store U+FFFD instead.

    Text a Datasite stores can come from anywhere (a run's stdout, a description), and a NUL
    in it must not turn into a failed write. JSON values are unaffected: they escape it.
    """
    return statement, replace_nul(parameters)


def replace_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd") if "\x00" in value else value
    if isinstance(value, dict):
        return {k: replace_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [replace_nul(v) for v in value]
    if isinstance(value, tuple):
        return tuple(replace_nul(v) for v in value)
    return value


def _statement_hooks(engine: Engine) -> int:
    on = engine.dispatch
    return (
        len(on.before_execute)
        + len(on.before_cursor_execute)
        + len(on.after_cursor_execute)
        + len(on.after_execute)
    )


def _mask(url: URL | str) -> str:
    """The URL as it may be shown: without its password."""
    if isinstance(url, str):
        try:
            return make_url(url).render_as_string(hide_password=True)
        except ArgumentError:
            return "<unparsable URL>" if "@" in url else url
    return url.render_as_string(hide_password=True)


def _first_line(exc: DBAPIError) -> str:
    lines = str(exc.orig if exc.orig is not None else exc).strip().splitlines()
    return lines[0].rstrip(".") if lines else type(exc).__name__


def unreachable(url: URL, exc: DBAPIError) -> StoreUnavailable:
    detail = _first_line(exc)
    if url.get_backend_name() == "sqlite":
        checks = (
            f"Check that the folder of {url.database!r} exists and is writable, "
            "and that the file is an SQLite database."
        )
    else:
        host, port = _postgres_address(url)
        if host.startswith("/"):  # libpq: a folder is where the server's Unix socket is
            where = f"its Unix socket {host}/.s.PGSQL.{port}"
        else:
            where = f"{host}:{port}"
        checks = (
            f"Check that the database server is running and accepts connections at {where}, "
            f"that the user {url.username or '(none)'!r} and its password in the URL are right, "
            f"and that the database {url.database!r} exists "
            f"(e.g. createdb -h {host} -p {port} {url.database or '<name>'})."
        )
    return StoreUnavailable(f"Cannot open the database {_mask(url)}: {detail}. {checks}")


def _postgres_address(url: URL) -> tuple[str, str]:
    """Where libpq connects for ``url``: host (or socket folder) and port. The query's
    ``host=``/``port=`` win over the URL's own, as in libpq (``postgresql://u@/db?host=/run``)."""

    def query(name: str) -> str | None:
        value = url.query.get(name)
        if isinstance(value, tuple):  # given more than once: libpq tries them in order
            value = value[0] if value else None
        return value or None

    host = query("host") or url.host or "localhost"
    port = query("port") or (str(url.port) if url.port else "5432")
    return host, port


def _add_missing_columns(connection: Connection) -> None:
    """Bring a database made by an older version up to date, additively: ``create_all`` makes
    missing tables but never missing columns. Every new column must have a default in its
    model, which fills the rows already there; nothing is renamed or dropped."""
    inspector = inspect(connection)
    tables = {m.__tablename__: m for m in vars(models).values() if _is_table(m)}
    for table in SQLModel.metadata.sorted_tables:
        if table.name not in tables or not inspector.has_table(table.name):
            continue
        present = {c["name"] for c in inspector.get_columns(table.name)}
        fields = tables[table.name].model_fields
        for column in table.columns:
            if column.name in present:
                continue
            kind = column.type.compile(dialect=connection.dialect)
            literal = _sql_literal(fields[column.name].get_default(call_default_factory=True))
            connection.execute(
                text(f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}{literal}')
            )


def _migrate_values(connection: Connection) -> None:
    """Rewrite values an older version stored in words the wire no longer uses; idempotent
    (a row already in today's words matches nothing). Code once said "denied" where its
    request said "rejected": one word for both now (``wire.enums.Decision``)."""
    connection.execute(text("UPDATE user_codes SET status = 'rejected' WHERE status = 'denied'"))


def _is_table(obj: Any) -> bool:
    return isinstance(obj, type) and issubclass(obj, SQLModel) and hasattr(obj, "__table__")


def _sql_literal(value: Any) -> str:
    """`` DEFAULT <value>`` for a column's default, or nothing (the column allows NULL)."""
    if isinstance(value, bool):
        return " DEFAULT TRUE" if value else " DEFAULT FALSE"
    if isinstance(value, (int, float)):
        return f" DEFAULT {value}"
    if isinstance(value, (list, dict)):
        value = json.dumps(value)
    if isinstance(value, str):
        return " DEFAULT '" + value.replace("'", "''") + "'"
    return ""


def sqlite_file(url: URL) -> bool:
    """Whether ``url`` is a SQLite database in a file (not in memory, not another backend)."""
    return url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")


def not_shareable(db_url: str | None) -> str | None:
    """Why several processes cannot serve one Datasite from ``db_url`` (None: they can, on
    a PostgreSQL database or a SQLite file: they tell each other their changes through
    ``change_relay`` or ``group_relay``). None is the default SQLite file."""
    if db_url is None:
        return None
    url = normalize_url(db_url)
    backend = url.get_backend_name()
    if backend == "sqlite" and not sqlite_file(url):
        return "an in-memory SQLite database is each process's own: give it a file"
    if backend not in ("sqlite", "postgresql"):
        return f"processes share a Datasite on SQLite or PostgreSQL, not {backend}"
    return None


def _new_sqlite_file(db_url: str) -> Path | None:
    """The file of a SQLite URL that does not exist yet (None: another URL, or it exists)."""
    url = normalize_url(db_url)
    if not sqlite_file(url):
        return None
    path = Path(str(url.database))
    return None if path.exists() else path


class SchemaCache:
    """Empty SQLite databases of the current schema, one file per schema version: a new
    Datasite's store is a copy of one (a file copy) instead of ~40 CREATE statements
    rendered by SQLAlchemy (~25 ms of a launch; the first launch of a version saves it).

    A version is the text of ``models.py`` and the SQLAlchemy, SQLModel and SQLite versions
    that render it, so a changed table never meets an old copy. Tables defined anywhere else
    (a notebook's own SQLModel tables share its metadata) make every store be created as
    before, as then the copy would not be what ``create_all`` makes."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    @property
    def path(self) -> Path | None:
        """This schema version's file (None: the metadata holds tables of others)."""
        ours = {m.__tablename__ for m in vars(models).values() if _is_table(m)}
        if set(SQLModel.metadata.tables) != ours:
            return None
        import sqlalchemy
        import sqlmodel

        digest = hashlib.sha256(Path(models.__file__).read_bytes())
        for version in (sqlalchemy.__version__, sqlmodel.__version__, sqlite3.sqlite_version):
            digest.update(b"\0" + version.encode())
        return self.folder / f"schema-{digest.hexdigest()[:24]}.db"

    def copy_to(self, target: Path) -> bool:
        """Make ``target`` (not there yet, in a folder that is) a copy of this version's empty
        database; False when there is none yet, or it cannot: then it is created as before
        (which says what is wrong, e.g. a missing folder)."""
        source = self.path
        try:
            if source is None or not _looks_like_sqlite(source):
                return False
            partial = target.with_name(target.name + ".schema-copy")
            shutil.copyfile(source, partial)
            try:
                os.link(partial, target)  # never over a file that appeared meanwhile
            finally:
                partial.unlink()
        except OSError:
            return False
        return True

    def save_from(self, engine: Engine) -> None:
        """Keep an empty database just created by ``engine`` as this version's copy (written
        aside, then renamed: a reader sees all of it or none)."""
        target = self.path
        if target is None or target.exists():
            return
        partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            raw = engine.raw_connection()
            try:
                copy = sqlite3.connect(partial)
                try:
                    raw.driver_connection.backup(copy)  # type: ignore[union-attr]
                finally:
                    copy.close()
            finally:
                raw.close()
            os.replace(partial, target)
        except (OSError, sqlite3.Error):  # no copy: the next new store is created as before
            with contextlib.suppress(OSError):
                partial.unlink()


def _looks_like_sqlite(path: Path) -> bool:
    try:
        with path.open("rb") as file:
            return file.read(16) == b"SQLite format 3\0"
    except OSError:
        return False


# PostgreSQL's transaction-level advisory lock on ``_advisory_key(name)``
_ADVISORY_LOCK = text("SELECT pg_advisory_xact_lock(:key)")


def _wrapped(exc: Exception, sql: str, params: Any, dbapi_error: type) -> Exception:
    """A driver's error as SQLAlchemy raises it (``IntegrityError``, ``OperationalError``...),
    for statements sent on the driver's connection: callers catch one kind either way."""
    return DBAPIError.instance(sql, params, exc, dbapi_error)


def _advisory_key(name: str) -> int:
    return zlib.crc32(f"jupyter_syft:{name}".encode()) - (1 << 31)  # a signed 32-bit key


class Store:
    """Owns the engine and hands out sessions; knows nothing about HTTP or rules.

    ``schema_cache``: a folder for empty databases of the current schema (``SchemaCache``): a
    new SQLite file starts as a copy of one instead of running every CREATE. ``created``
    says whether this open created the tables (a new database: nothing in it to recover).
    ``connections`` (PostgreSQL): the most this process may hold (``pool_limits``).
    """

    def __init__(
        self, db_url: str, schema_cache: Path | None = None, connections: int | None = None
    ):
        self.db_url = db_url
        cache = SchemaCache(schema_cache) if schema_cache is not None else None
        new_file = _new_sqlite_file(db_url) if cache is not None else None
        self.created = cache is not None and new_file is not None and cache.copy_to(new_file)
        self.engine = make_engine(db_url, connections=connections)
        self.dialect = self.engine.dialect.name  # "sqlite" | "postgresql" | ...
        # A SQLite file (in WAL mode: _sqlite_pragmas): a read waits for no writer, of this
        # process or another, and takes tens of microseconds. (An in-memory database has no
        # WAL; a PostgreSQL read is a round trip.)
        self.reads_never_wait = sqlite_file(self.engine.url)
        # One-row reads on most calls (a token, a view's generation: view_cache.PlainRead).
        # On PostgreSQL a pooled connection would send BEGIN, the SELECT, and ROLLBACK when
        # it goes back to the pool: three round trips for one row. In autocommit, one.
        # (SQLite's reads cost no round trip: the same engine.)
        self.plain_reads = (
            make_engine(db_url, plain_reads=True, connections=connections)
            if self.dialect == "postgresql"
            else self.engine
        )
        if connections is not None and self.dialect == "postgresql":
            sessions = sum(pool_limits(connections, False).values())
            reads = sum(pool_limits(connections, True).values())
            log.info(
                "This process holds at most %d PostgreSQL connections: %d for sessions, %d for "
                "plain reads, %d for the change relay",
                sessions + reads + PG_RELAY_CONNECTIONS,
                sessions,
                reads,
                PG_RELAY_CONNECTIONS,
            )
        self._own_hooks = _statement_hooks(self.engine)
        self._compiled: dict[Any, tuple[str, dict[str, Any], dict[str, Any]]] = {}
        try:
            connection = self.engine.connect()
        except DBAPIError as exc:
            self.engine.dispose()
            raise unreachable(self.engine.url, exc) from None
        if self.created:  # a copy of this schema's empty database: nothing to create
            connection.close()
            return
        try:
            with connection, connection.begin():
                # Two Datasites starting at once on one empty PostgreSQL database would both
                # create the tables; the second would fail on the system catalogs.
                self._lock(connection, "schema")
                present = set(inspect(connection).get_table_names())
                self.created = not present & set(SQLModel.metadata.tables)
                SQLModel.metadata.create_all(connection)
                if not self.created:  # tables made now have every column and no old values
                    _add_missing_columns(connection)
                    _migrate_values(connection)
            if self.created and cache is not None and new_file is not None:
                cache.save_from(self.engine)
        except DBAPIError as exc:
            self.engine.dispose()
            raise StoreUnavailable(
                f"Cannot create the Datasite's tables in {_mask(self.engine.url)}: "
                f"{_first_line(exc)}. Check that the user may create tables there "
                "(on PostgreSQL 15 and later: make the user the database's owner, or "
                "GRANT CREATE ON SCHEMA public TO the user)."
            ) from None

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextlib.contextmanager
    def read_session(self) -> Iterator[Session]:
        """A session for reads only (a service's GET). On PostgreSQL its connection comes
        from the plain reads' pool, in autocommit: no BEGIN before the first read and no
        ROLLBACK after the last, two round trips fewer, and each statement sees what was
        committed when it began, as in the READ COMMITTED transaction of ``session``. The
        database refuses a write sent through it. On SQLite (or while a test watches every
        statement): ``session``."""
        engine = self.engine if self.statements_watched() else self.plain_reads
        with Session(engine, expire_on_commit=False, autoflush=False) as session:
            yield session

    def lock(self, session: Session, name: str) -> None:
        """Serialize ``name`` across processes until ``session``'s transaction ends.

        On PostgreSQL this is a transaction-level advisory lock, for rules that other
        processes sharing the database must also respect (an in-process lock does not reach
        them). On SQLite it does nothing: one process serves the calls that take it (in a
        ``serve --processes N`` group the primary: its fronts forward them), and its writes
        queue on the file's write lock.
        """
        self._lock(session.connection(), name)

    def lock_writes(self, session: Session, name: str) -> None:
        """Serialize ``name`` across threads and processes until ``session``'s transaction
        ends, also on SQLite: there by holding the database's write lock from now on (its
        pending writes flushed, or ``BEGIN IMMEDIATE``), so what the transaction reads next
        no other writer can change before it commits. For a short step at the end of a
        write (the audit log's head): no other lock may be waited for while holding it."""
        if self.dialect != "sqlite":
            self.lock(session, name)
            return
        session.flush()  # pending writes begin the transaction and take the write lock
        connection = session.connection()
        if not connection.connection.driver_connection.in_transaction:  # type: ignore[union-attr]
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    def _lock(self, connection: Connection, name: str) -> None:
        if self.dialect == "postgresql":
            connection.execute(_ADVISORY_LOCK, {"key": _advisory_key(name)})

    # Writers queue on ``lock_writes`` for as long as one of them holds it, so on PostgreSQL
    # its holder's round trips are everyone's: each is also a wait for this process's GIL
    # under load (1.3-1.6 ms apiece measured in bench_load's mixed row, for a ~0.1 ms trip).
    # There ``commit_under_lock`` sends the lock, the writes and the COMMIT in one round trip.
    # The two methods below are the same steps through SQLAlchemy (SQLite's write lock; any
    # backend while a test watches every statement).

    def lock_writes_and_read(self, session: Session, name: str, statement: Any) -> Any:
        """``lock_writes(name)``, then ``statement``'s first row or None. Pending ORM writes
        are flushed first, so no row lock is waited for while holding it."""
        session.flush()
        self.lock_writes(session, name)
        return session.connection().execute(statement).first()

    def write_and_commit(self, session: Session, statement: Any, rows: Any) -> None:
        """Execute ``statement`` with ``rows`` in ``session``'s transaction and commit it."""
        session.flush()  # the ORM's pending writes: in this transaction, before the rows
        session.connection().execute(statement, rows)
        session.commit()

    def one_trip_locked_writes(self) -> bool:
        """Whether ``commit_under_lock`` may be used: PostgreSQL, and nothing watching every
        statement (then the caller takes the lock and writes through SQLAlchemy instead)."""
        return self.dialect == "postgresql" and not self.statements_watched()

    def commit_under_lock(
        self,
        session: Session,
        name: str,
        statement: Any,
        rows: list[dict[str, Any]],
        writes: Sequence[tuple[Any, dict[str, Any]]] = (),
    ) -> list[Any]:
        """PostgreSQL: run ``writes``, take lock ``name`` (as ``lock_writes``), run
        ``statement`` once per row, commit ``session``'s transaction, and give each run's
        first row (its RETURNING), all in one round trip (psycopg's pipeline mode). The lock
        is held from its grant to the COMMIT by the database's own work only. Each statement
        sees what the writers before committed (its own snapshot, taken after the lock).
        Rows hold the driver's values (text, numbers, datetimes: cast what else in the SQL).

        ``writes``: Core statements with their values as ``Connection.execute`` takes them
        (a row from ``rows.new_row``: JSON as dicts), which need no answer: a code request's
        INSERTs. Sent with the rest instead of one round trip each, before the lock: a write
        that waits (for a concurrent insert of the same key) never waits while holding it.
        A failing statement raises (as SQLAlchemy's error: ``IntegrityError`` for a
        duplicate) and nothing of the transaction is kept."""
        if not self.one_trip_locked_writes():
            raise RuntimeError("commit_under_lock is PostgreSQL's; see one_trip_locked_writes")
        session.flush()  # the ORM's pending writes, before the lock: none waits while held
        connection = session.connection()
        driver = connection.connection.driver_connection
        assert driver is not None
        lock_sql, _ = self._driver_sql(_ADVISORY_LOCK)
        sql, _ = self._driver_sql(statement)
        sent = [self._driver_write(write, values) for write, values in writes]
        dbapi_error = self.engine.dialect.loaded_dbapi.Error
        cursors = []
        try:
            with driver.pipeline():
                for write_sql, values in sent:
                    driver.cursor().execute(write_sql, values)
                driver.cursor().execute(lock_sql, {"key": _advisory_key(name)})
                for row in rows:
                    cursor = driver.cursor()
                    cursor.execute(sql, {k: self._clean(v) for k, v in row.items()})
                    cursors.append(cursor)
                driver.commit()
            found = [cursor.fetchone() for cursor in cursors]  # (read at the pipeline's end)
        except dbapi_error as exc:  # a failing statement raises at the COMMIT
            statements = ";\n".join([*(write_sql for write_sql, _ in sent), sql])
            raise _wrapped(exc, statements, rows, dbapi_error) from exc
        # The driver's transaction is over; the session's commit ends its own and hands the
        # connection back to the pool, which must never get it in pipeline mode.
        session.commit()
        return found

    @staticmethod
    def _clean(value: Any) -> Any:
        return replace_nul(value) if isinstance(value, str) else value

    def _driver_sql(self, statement: Any) -> tuple[str, dict[str, Any]]:
        """``statement`` as the driver's SQL and the values bound in it."""
        sql, bound, _ = self._for_driver(statement)
        return sql, bound

    def _driver_write(self, statement: Any, values: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """A Core statement and its Python values (with the values bound in the statement
        itself) as the driver's SQL and values: each converted by its column's type as
        SQLAlchemy converts it (a JSON column's dict to its text), NUL replaced as the
        store's statement filter does."""
        sql, bound, converters = self._for_driver(statement)
        driver_values = {}
        for key, value in {**bound, **values}.items():
            convert = converters[key]  # (a value the statement has no place for: KeyError)
            driver_values[key] = self._clean(value if convert is None else convert(value))
        return sql, driver_values

    def _for_driver(self, statement: Any) -> tuple[str, dict[str, Any], dict[str, Any]]:
        """``statement`` compiled once: its SQL, the values bound in it, and each bound
        value's converter (None: the driver takes the value as it is)."""
        if statement not in self._compiled:
            dialect = self.engine.dialect
            compiled = statement.compile(dialect=dialect)
            converters = {
                key: bind.type.dialect_impl(dialect).bind_processor(dialect)
                for key, bind in compiled.binds.items()
            }
            self._compiled[statement] = (str(compiled), dict(compiled.params), converters)
        return self._compiled[statement]

    def drop_all(self) -> None:
        """Remove every table of the Datasite (``reset=True`` on a database that outlives it)."""
        with self.engine.begin() as connection:
            self._lock(connection, "schema")
            SQLModel.metadata.drop_all(connection)

    def connect_outside_pool(self) -> Any:
        """A new driver connection of its own, in autocommit mode, that the caller closes
        (PostgreSQL's LISTEN and NOTIFY, see ``change_relay``)."""
        args, params = self.engine.dialect.create_connect_args(self.engine.url)
        return self.engine.dialect.loaded_dbapi.connect(*args, **params, autocommit=True)

    def audit_detail(self, seq: int) -> dict[str, Any]:
        """The detail of the audit event ``seq`` ({} when there is none)."""
        from .models import AuditEvent

        with self.session() as session:
            event = session.get(AuditEvent, seq)
        return event.detail if event is not None and isinstance(event.detail, dict) else {}

    def statements_watched(self) -> bool:
        """Whether something besides the store itself listens to its statements (a test that
        counts them): then every statement must go through SQLAlchemy, plain reads too."""
        return _statement_hooks(self.engine) != self._own_hooks

    def close(self) -> None:
        self.engine.dispose()
        if self.plain_reads is not self.engine:
            self.plain_reads.dispose()
