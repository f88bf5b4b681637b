"""Views kept between calls while the rows behind them stand.

A view that many callers read and few writes change (the datasets list: 32 scientists listing
at once) is built once per *generation*: a number in the database that every write changing
those rows bumps, in the write's own transaction. A reader compares one primary-key read with
the generation its copy was built at, so a Datasite never serves a stale copy, even when
another process (the Jupyter extension beside ``jupyter-syft serve``) made the write.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from .. import models
from ..store import Store, replace_nul

T = TypeVar("T")
MAX_ENTRIES = 256  # views per cache (e.g. page sizes and cursors); all dropped when full

# The datasets list (services/datasets.py): bumped by a dataset's creation or deletion and by
# a change of an account's name or email (shown as its datasets' uploader). Assets and stored
# values never change once made.
DATASETS = "datasets"
# The Datasite's settings (services/settings.py): bumped by every write of a setting (an
# owner's change, a host's start-up values).
SETTINGS = "settings"

_GENERATIONS = models.ViewGeneration.__table__  # type: ignore[attr-defined]
_READ = select(_GENERATIONS.c.value).where(_GENERATIONS.c.name == bindparam("view"))
_BUMP = (
    update(_GENERATIONS)
    .where(_GENERATIONS.c.name == bindparam("view"))
    .values(value=_GENERATIONS.c.value + 1)
)


class PlainRead:
    """A one-row SELECT that runs on most calls (the caller's token, a view's generation),
    sent on a pooled DBAPI connection: a quarter of the CPU of ``Connection.execute``, whose
    per-statement machinery (execution context, result objects) was most of its cost. The
    same SQL through the store's ``plain_reads`` pool (checked at checkout; on PostgreSQL in
    autocommit: one round trip), with each column converted by its own type, so the row is
    the one Core would give.

    While anything else listens to the store's statements (a test that counts them), it goes
    through ``Connection.execute``: every statement is still seen.
    """

    def __init__(self, store: Store, statement: Any, param: str):
        self.store, self.statement, self.param = store, statement, param
        dialect = store.engine.dialect
        compiled = statement.compile(dialect=dialect)
        self.sql = str(compiled)
        self.positional = compiled.positional  # "?" (SQLite) or "%(name)s" (psycopg)
        # PostgreSQL text cannot hold NUL: as the store's statement filter does (store.py)
        self.clean = replace_nul if store.dialect == "postgresql" else None
        self.convert = [
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in statement.selected_columns
        ]

    def row(self, value: Any) -> tuple[Any, ...] | None:
        if self.store.statements_watched():
            with self.store.engine.connect() as connection:
                found = connection.execute(self.statement, {self.param: value}).first()
            return None if found is None else tuple(found)
        if self.clean is not None:
            value = self.clean(value)
        params: Any = (value,) if self.positional else {self.param: value}
        driver_error = self.store.engine.dialect.loaded_dbapi.Error
        try:
            pooled = self.store.plain_reads.raw_connection()
            try:
                cursor = pooled.cursor()
                try:
                    cursor.execute(self.sql, params)
                    raw = cursor.fetchone()
                finally:
                    cursor.close()
            finally:
                pooled.close()  # back to the pool
        except driver_error as exc:  # as SQLAlchemy raises it (callers catch one kind)
            raise DBAPIError.instance(self.sql, params, exc, driver_error) from exc
        if raw is None:
            return None
        return tuple(v if f is None else f(v) for f, v in zip(self.convert, raw, strict=True))


def bump(session: Any, name: str) -> None:
    """Mark the rows behind view ``name`` changed, in ``session``'s transaction (call it
    before that commit)."""
    session.execute(_BUMP, {"view": name})


class ViewCache(Generic[T]):
    """Copies of one kind of view, by key (what else the view depends on: the caller's
    role, the page asked for), each valid while generation ``name`` is unchanged."""

    def __init__(self, store: Store, name: str):
        self.store = store
        self.name = name
        self._entries: dict[Hashable, tuple[int, T]] = {}
        self._lock = threading.Lock()
        self._read = PlainRead(store, _READ, "view")
        self._ensure_row()

    def _ensure_row(self) -> None:
        with self.store.engine.begin() as connection:
            if connection.execute(_READ, {"view": self.name}).first() is None:
                try:
                    with connection.begin_nested():
                        connection.execute(insert(_GENERATIONS).values(name=self.name, value=0))
                except IntegrityError:
                    pass  # another process made it first

    def generation(self) -> int:
        found = self._read.row(self.name)
        return int(found[0] or 0) if found else 0

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        """The view for ``key``: the kept copy if nothing changed since it was built, else
        ``build()`` (which reads the rows after the generation was read: never older)."""
        generation = self.generation()
        kept = self._entries.get(key)
        if kept is not None and kept[0] == generation:
            return kept[1]
        view = build()
        with self._lock:
            kept = self._entries.get(key)
            # A build of the same generation that finished first stands: every caller at a
            # generation gets one copy (a slower build may have read rows a later write,
            # bumped or not, changed). An older build is never kept over a newer one.
            if kept is not None and kept[0] >= generation:
                return kept[1] if kept[0] == generation else view
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = (generation, view)
        return view
