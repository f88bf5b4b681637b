"""The SQL store: one engine per Datasite, SQLite (WAL) by default, PostgreSQL by URL."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, create_engine

from . import models  # noqa: F401  (registers the tables on SQLModel.metadata)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def make_engine(db_url: str) -> Engine:
    if db_url.startswith("sqlite"):
        engine = create_engine(
            db_url,
            # Services run on a thread pool; each thread gets its own connection from the pool.
            connect_args={"check_same_thread": False, "timeout": 30},
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if db_url.startswith("postgresql://"):
        db_url = "postgresql+psycopg://" + db_url.removeprefix("postgresql://")
    return create_engine(db_url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL is durable across app crashes
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class Store:
    """Owns the engine and hands out sessions; knows nothing about HTTP or rules."""

    def __init__(self, db_url: str):
        self.db_url = db_url
        self.engine = make_engine(db_url)
        SQLModel.metadata.create_all(self.engine)

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    def close(self) -> None:
        self.engine.dispose()
