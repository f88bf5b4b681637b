"""A database made by an older version gains the columns added since, with their defaults."""

import sqlite3

from sqlmodel import select

from jupyter_syft.server import models
from jupyter_syft.server.store import Store, sqlite_url


def test_missing_columns_are_added_with_their_defaults(tmp_path):
    path = tmp_path / "old.db"
    store = Store(sqlite_url(path))
    with store.session() as session:
        user = models.User(email="a@b.c", role=1, password_hash="!")
        session.add(user)
        session.flush()
        session.add(
            models.UserCode(
                user_id=user.id, service_func_name="f", raw_code="x", code="x", code_hash="h"
            )
        )
        session.commit()
    store.close()
    # What an older version left: the table without the newer columns.
    with sqlite3.connect(path) as db:
        db.execute("ALTER TABLE user_codes DROP COLUMN nested_plan")
        db.execute("ALTER TABLE user_codes DROP COLUMN nested_calls")
        db.execute("ALTER TABLE users DROP COLUMN mock_execution_permission")

    store = Store(sqlite_url(path))
    with store.session() as session:
        code = session.exec(select(models.UserCode)).one()
        user = session.exec(select(models.User)).one()
    store.close()
    assert code.nested_plan == {} and code.nested_calls == []
    assert user.mock_execution_permission is False


def test_code_an_older_version_stored_as_denied_says_rejected(tmp_path):
    """One status word for requests and their code: old rows are rewritten at start, once."""
    url = sqlite_url(tmp_path / "old.db")
    store = Store(url)
    with store.session() as session:
        user = models.User(email="a@b.c", role=1, password_hash="!")
        session.add(user)
        session.flush()
        for name, status in (("f", "denied"), ("g", "approved")):
            session.add(
                models.UserCode(
                    user_id=user.id,
                    service_func_name=name,
                    raw_code="x",
                    code="x",
                    code_hash=name,
                    status=status,
                )
            )
        session.commit()
    store.close()
    for _ in range(2):  # and again: nothing more changes
        store = Store(url)
        with store.session() as session:
            statuses = {
                c.service_func_name: c.status for c in session.exec(select(models.UserCode))
            }
        store.close()
        assert statuses == {"f": "rejected", "g": "approved"}
