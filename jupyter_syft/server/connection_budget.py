"""How many PostgreSQL connections each process of ``serve --processes N`` may hold.

Each process's store has two pools (``store.pool_limits``) and its change relay two
connections of its own: ``store.PG_CONNECTIONS_PER_PROCESS`` at most. N processes may ask for
more than the database allows (PostgreSQL's ``max_connections`` is 100 by default; a role or
a database may have a ``CONNECTION LIMIT``), and the connection past the limit would fail a
user's call under load. So before it forks, the supervisor reads what the database has room
for (``room``) and gives each process an equal share (``plan``): the defaults when they fit,
smaller pools when not, and a refusal that says what to change when even the least a process
needs does not fit. ``--processes auto`` takes fewer processes instead of refusing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from .store import (
    PG_CONNECTIONS_PER_PROCESS,
    PG_MIN_CONNECTIONS_PER_PROCESS,
    make_engine,
    unreachable,
)

# One row: the server's limit and what is kept from it, the role's and the database's limits
# (-1: none; a superuser has none), and the connections each of the three counts now
# (without this one).
_ROOM_SQL = text(
    """
    SELECT current_setting('max_connections')::int,
           current_setting('superuser_reserved_connections')::int
             + coalesce(current_setting('reserved_connections', true), '0')::int,
           (SELECT CASE WHEN rolsuper THEN -1 ELSE rolconnlimit END
              FROM pg_roles WHERE rolname = current_user),
           (SELECT CASE WHEN (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
                   THEN -1 ELSE datconnlimit END
              FROM pg_database WHERE datname = current_database()),
           (SELECT count(*) FROM pg_stat_activity
             WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()),
           (SELECT count(*) FROM pg_stat_activity
             WHERE usename = current_user AND pid <> pg_backend_pid()),
           (SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid())
    """
)


@dataclass(frozen=True)
class Room:
    """What one PostgreSQL database allows now: ``free`` more connections, and why."""

    free: int
    why: str  # the limit that leaves the least room, for messages


def room_of(
    max_connections: int,
    reserved: int,
    role_limit: int,
    database_limit: int,
    in_use: int,
    role_in_use: int,
    database_in_use: int,
) -> Room:
    """The tightest of the server's, the role's and the database's limits."""
    server_free = max_connections - reserved - in_use
    rooms = [
        Room(
            max(0, server_free),
            f"max_connections is {max_connections}, {reserved} kept for superusers, "
            f"{in_use} in use",
        )
    ]
    if role_limit >= 0:
        rooms.append(
            Room(
                max(0, role_limit - role_in_use),
                f"the role's CONNECTION LIMIT is {role_limit}, {role_in_use} in use",
            )
        )
    if database_limit >= 0:
        rooms.append(
            Room(
                max(0, database_limit - database_in_use),
                f"the database's CONNECTION LIMIT is {database_limit}, {database_in_use} in use",
            )
        )
    return min(rooms, key=lambda room: room.free)


def room(db_url: str) -> Room:
    """Read what the database at ``db_url`` has room for (``store.StoreUnavailable`` if it
    cannot be reached)."""
    engine = make_engine(db_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            row = connection.execute(_ROOM_SQL).one()
    except DBAPIError as exc:
        raise unreachable(engine.url, exc) from None
    finally:
        engine.dispose()
    return room_of(*(int(value) for value in row))


@dataclass(frozen=True)
class Plan:
    """How many processes, each holding at most ``per_process`` connections (None: the
    defaults fit), and what to tell whoever started the group (None: nothing)."""

    processes: int
    per_process: int | None
    note: str | None = None


class NoRoom(ValueError):
    """Not even one connection share fits; the message says what to change."""


def plan(room: Room, processes: int, auto: bool = False) -> Plan:
    """Each process's share of ``room``. ``auto``: fewer processes when the least each
    needs does not fit ``processes`` of them (refused otherwise)."""
    if processes * PG_CONNECTIONS_PER_PROCESS <= room.free:
        return Plan(processes, None)
    fits = room.free // PG_MIN_CONNECTIONS_PER_PROCESS
    if fits < processes and not (auto and fits >= 1):
        least = processes * PG_MIN_CONNECTIONS_PER_PROCESS
        instead = f"use --processes {fits} or fewer, or " if fits >= 1 else ""
        raise NoRoom(
            f"--processes {processes} needs at least {least} PostgreSQL connections "
            f"({PG_MIN_CONNECTIONS_PER_PROCESS} per process) and the database has room for "
            f"{room.free} ({room.why}): {instead}raise the limit"
        )
    chosen = min(processes, fits)
    share = min(PG_CONNECTIONS_PER_PROCESS, room.free // chosen)
    fewer = f"{_processes(chosen)} instead of {processes}, " if chosen < processes else ""
    return Plan(
        chosen,
        share,
        f"PostgreSQL has room for {room.free} more connections ({room.why}): {fewer}each "
        f"holding at most {share} (instead of {PG_CONNECTIONS_PER_PROCESS}). Calls may wait "
        "for a connection under load; raise the limit to give them more.",
    )


def _processes(count: int) -> str:
    return f"{count} process" if count == 1 else f"{count} processes"
