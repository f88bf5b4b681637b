"""Issue 11, item 9: every list is paged on the server (keyset pages, a few queries per page),
and the Python client pages through.

Rows are written straight into the store (fast); every list is read through real HTTP.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select
from statements import statements

import jupyter_syft as sy
from jupyter_syft.client.connection import Connection
from jupyter_syft.errors import SyftException
from jupyter_syft.server import models
from jupyter_syft.server.services import view_cache
from jupyter_syft.server.services.paging import MAX_LIMIT

LISTS = ["requests", "code", "jobs", "projects", "users", "datasets"]


# --- seeding -----------------------------------------------------------------------------------
def _user(node: Any, email: str, name: str = "") -> str:
    with node.datasite.store.session() as session:
        user = session.exec(select(models.User).where(models.User.email == email)).first()
        if user is None:
            user = models.User(
                email=email,
                name=name or email,
                role=int(sy.ServiceRole.DATA_SCIENTIST),
                password_hash="x",
            )
            session.add(user)
            session.commit()
        return user.id


def _seed(
    node: Any, user_id: str, n: int, tag: str = "f", tie: int = 3, project: bool = True
) -> dict[str, list[str]]:
    """``n`` of each kind of row for ``user_id``; every ``tie`` rows share a created_at, so the
    id has to break ties in the order."""
    keyed: dict[str, list[tuple[int, str]]] = {
        "code": [],
        "requests": [],
        "jobs": [],
        "executions": [],
    }
    with node.datasite.store.session() as session:
        proj = models.Project(user_id=user_id, name=f"{tag}-project", description="paging")
        session.add(proj)
        session.flush()
        base = models.utcnow()
        codes = []
        for i in range(n):
            raw = f"def {tag}{i}(x):\n    return x + {i}\n"
            code = models.UserCode(
                user_id=user_id,
                service_func_name=f"{tag}{i}",
                raw_code=raw,
                code=raw,
                code_hash=f"{tag}{i}",
                parameters=["x"],
                input_policy={"type": "EmptyInputPolicy", "inputs": {}},
                output_policy={"type": "OutputPolicyExecuteOnce", "limit": 1},
                submit_time=base + timedelta(milliseconds=i // tie),
            )
            session.add(code)
            codes.append(code)
        session.flush()
        for i, code in enumerate(codes):
            at = base + timedelta(milliseconds=i // tie)
            request = models.Request(
                code_id=code.id,
                user_id=user_id,
                project_id=proj.id if project and i % 2 else None,
                reason=f"r{i}",
                created_at=at,
            )
            execution = models.Execution(
                code_id=codes[0].id, user_id=user_id, ok=True, created_at=at
            )
            session.add(request)
            session.add(execution)
            session.flush()
            job = models.Job(code_id=code.id, user_id=user_id, status="completed", created_at=at)
            job.execution_id = execution.id
            session.add(job)
            for kind, row in [
                ("code", code),
                ("requests", request),
                ("executions", execution),
                ("jobs", job),
            ]:
                keyed[kind].append((i // tie, row.id))
        session.commit()
    # the order every list promises: (created_at, id)
    ids = {kind: [row_id for _, row_id in sorted(rows)] for kind, rows in keyed.items()}
    ids["project"] = [proj.id]
    ids["ran"] = [codes[0].id]  # the code every execution belongs to
    return ids


def _add_request(node: Any, user_id: str, name: str) -> str:
    with node.datasite.store.session() as session:
        raw = f"def {name}(x):\n    return x\n"
        code = models.UserCode(
            user_id=user_id,
            service_func_name=name,
            raw_code=raw,
            code=raw,
            code_hash=name,
            parameters=["x"],
        )
        session.add(code)
        session.flush()
        request = models.Request(code_id=code.id, user_id=user_id)
        session.add(request)
        session.commit()
        return request.id


def _walk(client: Any, path: str, limit: int, after_page: Any = None, **params: Any) -> list:
    items: list = []
    cursor = None
    for _ in range(10_000):  # a bound that only catches a cursor that never ends
        page = client.connection.get(
            path, limit=limit, **({"cursor": cursor} if cursor else {}), **params
        )
        assert set(page) == {"items", "next_cursor", "total"}
        assert len(page["items"]) <= limit
        items.extend(page["items"])
        if after_page is not None:
            after_page()
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("the pages never ended")


def _status(call: Any) -> tuple[int | None, str]:
    with pytest.raises(SyftException) as caught:
        call()
    return caught.value.status, caught.value.public_message


# --- walking -----------------------------------------------------------------------------------
def test_pages_walk_every_request_once_in_order_while_requests_arrive(node, root, scientist):
    ds = _user(node, "ds@example.org")
    before = _seed(node, ds, 40)["requests"]
    added: list[str] = []

    def arrive() -> None:  # a scientist submits while the owner pages through
        added.append(_add_request(node, ds, f"late{len(added)}"))

    seen = [r["id"] for r in _walk(root, "requests", 7, after_page=arrive)]
    assert len(seen) == len(set(seen)), "a request was shown twice"
    assert seen[:40] == before, "every request there at the start, once, oldest first"
    assert set(seen[40:]) <= set(added)  # new ones come after, never in between
    times = [r["created_at"] for r in _walk(root, "requests", 500)]
    assert times == sorted(times)

    newest = [r["id"] for r in _walk(root, "requests", 9, order="newest")]
    everything = before + added
    assert newest == everything[::-1]


def test_every_list_pages_and_counts(node, root, scientist):
    ds = _user(node, "ds@example.org")
    ids = _seed(node, ds, 12)
    code_id, project_id = ids["ran"][0], ids["project"][0]
    for _ in range(5):
        _event(node, project_id)
    expected = {
        "requests": ids["requests"],
        "code": ids["code"],
        "jobs": ids["jobs"],
        f"code/{code_id}/executions": ids["executions"],
    }
    for path, want in expected.items():
        first = root.connection.get(path, limit=5)
        assert first["total"] == len(want) and len(first["items"]) == 5, path
        assert [row["id"] for row in _walk(root, path, 5)] == want, path
    events = _walk(root, f"projects/{project_id}/events", 2)
    assert len(events) == 5 and {e["kind"] for e in events} == {"code_request"}
    projects = root.connection.get("projects", limit=1)
    assert projects["total"] == 1 and projects["next_cursor"] is None
    assert len(projects["items"][0]["request_ids"]) == 6  # the odd ones are in the project
    users = _walk(root, "users", 1)
    assert {u["email"] for u in users} == {ROOT, "ds@example.org"}
    assert root.connection.get("datasets", limit=3) == {
        "items": [],
        "next_cursor": None,
        "total": 0,
    }


ROOT = "info@openmined.org"


def _event(node: Any, project_id: str) -> None:
    with node.datasite.store.session() as session:
        session.add(models.ProjectEvent(project_id=project_id, kind="code_request"))
        session.commit()


# --- bad input ---------------------------------------------------------------------------------
@pytest.mark.parametrize("path", LISTS)
def test_bad_limits_are_4xx_with_a_message(node, root, path):
    for bad in ["0", str(MAX_LIMIT + 1), "-1", "1.5", "ten", "\u0661\u0662", "\u00b2", "9" * 40]:
        status, message = _status(lambda: root.connection.get(path, limit=bad))
        assert status == 400, (path, bad)
        assert "limit" in message and str(MAX_LIMIT) in message
    assert root.connection.get(path, limit=str(MAX_LIMIT))["items"] is not None
    status, message = _status(lambda: root.connection.get(path, order="random"))
    assert status == 400 and "oldest or newest" in message


def test_bad_cursors_are_4xx_with_a_message(node, root, scientist):
    ds = _user(node, "ds@example.org")
    ids = _seed(node, ds, 6)
    code_cursor = root.connection.get("code", limit=2)["next_cursor"]
    oldest_cursor = root.connection.get("requests", limit=2)["next_cursor"]
    for path, bad in [
        ("requests", "garbage"),
        ("requests", "!!!"),
        ("requests", "x" * 5000),
        ("requests", "\u00e9t\u00e9"),
        ("requests", "WyJyZXF1ZXN0cyIsIm9sZGVzdCJd"),  # ["requests","oldest"]: too short
        ("requests", code_cursor),  # another list's cursor
        ("jobs", code_cursor),
        (f"code/{ids['code'][0]}/executions", code_cursor),
    ]:
        status, message = _status(lambda: root.connection.get(path, cursor=bad))
        assert status == 400, (path, bad)
        assert "cursor" in message and "without a cursor" in message
    # a cursor keeps its order: an oldest-first cursor does not continue a newest-first walk
    status, _ = _status(
        lambda: root.connection.get("requests", cursor=oldest_cursor, order="newest")
    )
    assert status == 400


# --- who sees what -----------------------------------------------------------------------------
def test_a_scientists_pages_never_show_another_scientists_rows(node, root, scientist):
    root.users.create(
        sy.UserCreate(
            email="other@example.org",
            name="Other",
            password="pw-other-123",
            role=sy.ServiceRole.DATA_SCIENTIST,
        )
    )
    mine = _seed(node, _user(node, "ds@example.org"), 9, tag="mine")
    theirs = _seed(node, _user(node, "other@example.org"), 11, tag="theirs")
    owner_cursor = root.connection.get("requests", limit=1)["next_cursor"]
    for path in ["requests", "code", "jobs", "projects"]:
        rows = _walk(scientist, path, 2)
        want = mine[path] if path != "projects" else mine["project"]
        assert [r["id"] for r in rows] == want, path
        first = scientist.connection.get(path, limit=2)
        assert first["total"] == len(want), path  # not even a count of the other's rows
    # starting from a cursor taken from the owner's view shows only the scientist's own rows
    rest = scientist.connection.get("requests", cursor=owner_cursor, limit=500)["items"]
    assert {r["id"] for r in rest} <= set(mine["requests"])
    assert [u["email"] for u in _walk(scientist, "users", 1)] == ["ds@example.org"]
    with pytest.raises(SyftException):
        scientist.connection.get(f"code/{theirs['code'][0]}/executions")
    with pytest.raises(SyftException):
        scientist.connection.get(f"projects/{theirs['project'][0]}/events")


# --- the Python client -------------------------------------------------------------------------
def test_client_collections_see_every_item_beyond_one_page(node, root, scientist, monkeypatch):
    monkeypatch.setattr(Connection, "page_size", 4)
    ds = _user(node, "ds@example.org")
    ids = _seed(node, ds, 10)
    for i in range(6):
        _dataset(node, f"data-{i}", ds)
        _event(node, ids["project"][0])
        root.users.create(
            sy.UserCreate(
                email=f"u{i}@example.org", name=f"U{i}", password="pw-u-12345",
                role=sy.ServiceRole.DATA_SCIENTIST,
            )
        )  # fmt: skip
    calls: list[dict[str, Any]] = []
    original = Connection.get

    def counting(self: Connection, path: str, **params: Any) -> Any:
        calls.append({"path": path, **params})
        return original(self, path, **params)

    monkeypatch.setattr(Connection, "get", counting)
    assert [r.id for r in root.requests] == ids["requests"]
    assert [r.id for r in scientist.requests] == ids["requests"]
    assert [c.id for c in root.code.get_all()] == ids["code"]
    assert [j.id for j in root.jobs.get_all()] == ids["jobs"]
    assert len(root.users.get_all()) == 2 + 6
    assert [d.name for d in root.datasets.get_all()] == [f"data-{i}" for i in range(6)]
    assert len(root.projects.get_all()) == 1
    project = root.projects.get_all()[0]
    assert len(project.events) == 6
    (first,) = [c for c in root.code.get_all() if c.service_func_name == "f0"]
    assert len(first.output_history) == 10
    assert all(c.get("limit") == 4 for c in calls), "every list call asks for a page"
    assert sum(c["path"] == "requests" for c in calls) == 2 * 3  # 10 rows: 3 pages, twice
    # a remote function is resolved by name on the server: the client reads no page of code
    calls.clear()
    with contextlib.suppress(SyftException):
        scientist.code.f7()
    assert [c for c in calls if c["path"] == "code"] == []


def _dataset(node: Any, name: str, uploader: str) -> None:
    with node.datasite.store.session() as session:
        session.add(models.Dataset(name=name, uploader_id=uploader))
        _changed_datasets(session)
        session.commit()


def _changed_datasets(session: Any) -> None:
    """What every write of datasets does: the list's kept copies are built again."""
    view_cache.bump(session, view_cache.DATASETS)


# --- cost --------------------------------------------------------------------------------------
def _statements(node: Any) -> Any:
    return statements(node.datasite.store.engine)


@pytest.mark.parametrize("path", ["requests", "code", "jobs", "projects", "datasets", "users"])
def test_a_page_costs_a_few_queries_not_one_per_row(node, root, scientist, path):
    ds = _user(node, "ds@example.org")
    _seed(node, ds, 60)
    for i in range(60):
        if path == "datasets":
            _dataset(node, f"d{i}", ds)
        if path == "projects":
            with node.datasite.store.session() as session:
                session.add(models.Project(user_id=ds, name=f"p{i}"))
                session.commit()
        if path == "users":
            _user(node, f"u{i}@example.org")
    root.connection.get(path, limit=5)  # warm: settings and the like are read once
    counts = {}
    for limit in (5, 50):
        if path == "datasets":  # a page built, not one kept from the warm call
            with node.datasite.store.session() as session:
                _changed_datasets(session)
                session.commit()
        with _statements(node) as seen:
            page = root.connection.get(path, limit=limit)
        assert len(page["items"]) == limit
        counts[limit] = len(seen)
    assert counts[50] == counts[5], f"{path}: more rows cost more queries: {counts}"
    assert counts[50] <= 12, f"{path}: {counts[50]} statements for one page"
    if path == "datasets":  # unchanged since: the kept page, after the caller and generation
        with _statements(node) as seen:
            again = root.connection.get(path, limit=50)
        assert again == page and len(seen) == 2, seen
