"""Each process's share of PostgreSQL's connections in ``serve --processes N``
(server/connection_budget.py, store.pool_limits). The groups themselves, on a database whose
role has a CONNECTION LIMIT, are in tests/test_serve_processes.py."""

from __future__ import annotations

import pytest

from jupyter_syft.server import connection_budget
from jupyter_syft.server.connection_budget import NoRoom, Room, plan, room_of
from jupyter_syft.server.store import (
    PG_CONNECTIONS_PER_PROCESS,
    PG_MIN_CONNECTIONS_PER_PROCESS,
    PG_MIN_PLAIN_READS,
    PG_MIN_SESSIONS,
    PG_RELAY_CONNECTIONS,
    pool_limits,
)

pytest_plugins = ["tests.postgres"]


def _total(limits: dict[str, int]) -> int:
    return limits["pool_size"] + limits["max_overflow"]


def test_the_defaults_when_the_share_holds_them():
    for share in (None, PG_CONNECTIONS_PER_PROCESS, 500):
        sessions, reads = pool_limits(share, False), pool_limits(share, True)
        assert _total(sessions) + _total(reads) + PG_RELAY_CONNECTIONS == (
            PG_CONNECTIONS_PER_PROCESS
        )


@pytest.mark.parametrize("share", range(PG_MIN_CONNECTIONS_PER_PROCESS, PG_CONNECTIONS_PER_PROCESS))
def test_a_smaller_share_is_never_exceeded_and_keeps_each_pools_least(share):
    sessions, reads = pool_limits(share, False), pool_limits(share, True)
    assert _total(sessions) + _total(reads) + PG_RELAY_CONNECTIONS == share
    assert _total(sessions) >= PG_MIN_SESSIONS and _total(reads) >= PG_MIN_PLAIN_READS
    assert min(sessions.values()) >= 0 and min(reads.values()) >= 0
    assert _total(reads) <= _total(sessions)  # sessions nest; plain reads never do


def test_the_tightest_limit_is_the_room():
    server = room_of(100, 3, -1, -1, 10, 0, 0)
    assert server == Room(87, "max_connections is 100, 3 kept for superusers, 10 in use")
    role = room_of(100, 3, 40, -1, 10, 7, 0)
    assert role.free == 33 and "the role's CONNECTION LIMIT is 40, 7 in use" in role.why
    database = room_of(100, 3, 40, 20, 10, 7, 5)
    assert database.free == 15 and "the database's CONNECTION LIMIT is 20" in database.why
    assert room_of(10, 3, -1, -1, 50, 0, 0).free == 0  # (past the limit already: none)


def test_a_group_that_fits_keeps_the_defaults():
    assert plan(Room(197, "why"), 3) == connection_budget.Plan(3, None)


def test_a_group_that_does_not_fit_shares_the_room_and_says_so():
    chosen = plan(Room(100, "the role's CONNECTION LIMIT is 100, 0 in use"), 4)
    assert (chosen.processes, chosen.per_process) == (4, 25)
    assert chosen.note is not None
    assert "room for 100 more connections (the role's CONNECTION LIMIT is 100" in chosen.note
    assert f"each holding at most 25 (instead of {PG_CONNECTIONS_PER_PROCESS})" in chosen.note


def test_a_group_without_room_for_the_least_is_refused_with_what_to_change():
    with pytest.raises(NoRoom) as refused:
        plan(Room(40, "max_connections is 43, 3 kept for superusers, 0 in use"), 3)
    said = str(refused.value)
    least = 3 * PG_MIN_CONNECTIONS_PER_PROCESS
    assert f"--processes 3 needs at least {least} PostgreSQL connections" in said
    assert "room for 40 (max_connections is 43" in said
    assert "use --processes 2 or fewer, or raise the limit" in said
    with pytest.raises(NoRoom) as none:
        plan(Room(5, "why"), 2)
    assert "--processes 0" not in str(none.value) and "raise the limit" in str(none.value)


def test_auto_takes_fewer_processes_instead_of_refusing():
    chosen = plan(Room(40, "why"), 8, auto=True)
    assert (chosen.processes, chosen.per_process) == (2, 20)
    assert chosen.note is not None and "2 processes instead of 8" in chosen.note
    one = plan(Room(20, "why"), 2, auto=True)
    assert one.processes == 1 and one.note is not None and "1 process instead of 2" in one.note
    with pytest.raises(NoRoom):
        plan(Room(PG_MIN_CONNECTIONS_PER_PROCESS - 1, "why"), 2, auto=True)


def test_the_room_read_from_postgresql(limited_database):
    url = limited_database(30)
    found = connection_budget.room(url)
    assert found.free == 30 and "the role's CONNECTION LIMIT is 30, 0 in use" in found.why
    import psycopg

    held = [psycopg.connect(url) for _ in range(3)]
    try:
        now = connection_budget.room(url)
        assert now.free == 27 and "CONNECTION LIMIT is 30, 3 in use" in now.why
    finally:
        for connection in held:
            connection.close()


def test_a_superuser_is_held_to_the_servers_limit_only(postgres_url):
    found = connection_budget.room(postgres_url)
    assert "max_connections is" in found.why and found.free > 0


def test_a_database_that_refuses_connections_is_a_503_that_says_so(
    limited_database, postgres_cluster
):
    import requests

    import jupyter_syft as sy
    from jupyter_syft.wire import routes

    url = limited_database(40)
    role = url.split("://", 1)[1].split(":", 1)[0]
    node = sy.orchestra.launch(
        name="refusing-db", port="auto", reset=True, db_url=url, verbose=False
    )
    try:
        root = sy.login(url=node.url, email="info@openmined.org", password="changethis")
        headers = {"Authorization": f"Bearer {root.session.api.connection.token}"}
        me = node.url + "/" + routes.API_PREFIX + routes.ME
        assert requests.get(me, headers=headers, timeout=30).ok
        with postgres_cluster._admin() as admin:  # every connection cut, and no new one
            admin.execute(f"ALTER ROLE {role} CONNECTION LIMIT 0")
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
                (role,),
            )
        answer = requests.get(me, headers=headers, timeout=60)
        assert answer.status_code == 503, answer.text
        assert answer.json()["error"] == "unavailable"
        assert "database did not answer" in answer.json()["detail"]
        assert "try again in a moment" in answer.json()["detail"]
        with postgres_cluster._admin() as admin:
            admin.execute(f"ALTER ROLE {role} CONNECTION LIMIT -1")
        assert requests.get(me, headers=headers, timeout=30).ok  # it recovers by itself
    finally:
        node.land()
