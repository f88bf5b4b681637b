"""One way to page every list: keyset pages over (sort key, id), a small constant number of
queries per page.

A list route answers a ``wire.models.Page``: ``{"items": [...], "next_cursor": str | None,
"total": int}``. Pass
``next_cursor`` back as ``cursor`` for the next page; ``None`` means there is no next page.
``limit`` is 1..MAX_LIMIT (default DEFAULT_LIMIT); ``order`` is ``oldest`` (default) or
``newest``. Cursors are opaque (base64 of the list's name, the order and the last row's key):
a page starts strictly after the previous one's last row, so rows inserted while a client walks
the pages never make it see a row twice or skip one that was there when it started. ``total``
counts the rows the caller may see under the filters, at the time of that page.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_
from sqlmodel import col, select

from ...wire.models import Page
from .errors import BadRequest

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
ORDERS = ("oldest", "newest")


@dataclass(frozen=True)
class PageParams:
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None
    order: str = "oldest"

    @classmethod
    def parse(
        cls, limit: str | None = None, cursor: str | None = None, order: str | None = None
    ) -> PageParams:
        """From query-string values (None: not given); BadRequest says what to send instead."""
        if limit is None or limit == "":
            number = DEFAULT_LIMIT
        else:
            # ASCII digits only: str.isdigit() also accepts e.g. "²" and "٣", which int() rejects
            if not (limit.isascii() and limit.isdigit()) or len(limit) > 6:
                raise BadRequest(f"limit must be a whole number from 1 to {MAX_LIMIT}.")
            number = int(limit)
            if not 1 <= number <= MAX_LIMIT:
                raise BadRequest(
                    f"limit must be from 1 to {MAX_LIMIT}; follow next_cursor for more rows."
                )
        if order is None or order == "":
            order = "oldest"
        if order not in ORDERS:
            raise BadRequest("order is oldest or newest.")
        return cls(number, cursor or None, order)


def preload(session: Any, model: Any, ids: Any) -> dict[Any, Any]:
    """Load the rows with these ids in one query. Later ``session.get`` calls for them are
    answered from the session's identity map, without another query."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.exec(select(model).where(col(model.id).in_(wanted))).all()
    # The identity map holds rows weakly: keep them alive as long as the session, or the
    # session.get calls that follow would go back to the store for each one.
    session.info.setdefault("preloaded", []).append(rows)
    return {row.id: row for row in rows}


def page(
    session: Any,
    query: Any,
    name: str,
    key: Any,
    row_id: Any,
    params: PageParams | None,
    views: Callable[[Sequence[Any]], list[Any]],
) -> Page[Any]:
    """One page of ``query`` (filtered, unordered), ordered by (``key``, ``row_id``).

    ``name`` ties cursors to this list; ``views`` turns the page's rows into wire models,
    loading what they refer to in a few IN-queries (see ``preload``), never a query per row.
    """
    params = params or PageParams()
    unfiltered = query
    newest = params.order == "newest"
    if params.cursor is not None:
        last_key, last_id = _decode(params.cursor, name, params.order)
        if newest:
            after = or_(key < last_key, and_(key == last_key, row_id < last_id))
        else:
            after = or_(key > last_key, and_(key == last_key, row_id > last_id))
        query = query.where(after)
    ordering = (key.desc(), row_id.desc()) if newest else (key.asc(), row_id.asc())
    rows = session.exec(query.order_by(*ordering).limit(params.limit + 1)).all()
    more = len(rows) > params.limit
    rows = rows[: params.limit]
    if params.cursor is None and not more:
        total = len(rows)  # the first page holds them all: no count query needed
    else:
        total = session.exec(select(func.count()).select_from(unfiltered.subquery())).one()
    next_cursor = None
    if more and rows:
        last = rows[-1]
        next_cursor = _encode(name, params.order, getattr(last, key.key), getattr(last, row_id.key))
    return Page[Any](items=views(rows), next_cursor=next_cursor, total=int(total))


def _encode(name: str, order: str, key: Any, row_id: Any) -> str:
    value: Any = {"t": key.isoformat()} if isinstance(key, datetime) else key
    raw = json.dumps([name, order, value, row_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, name: str, order: str) -> tuple[Any, Any]:
    bad = BadRequest(
        f"This cursor was not given by this {name} list (in this order); "
        "start again without a cursor and follow next_cursor."
    )
    if len(cursor) > 400 or not cursor.isascii():
        raise bad
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw)
    except (binascii.Error, ValueError):
        raise bad from None
    if not (isinstance(value, list) and len(value) == 4 and value[:2] == [name, order]):
        raise bad
    key, row_id = value[2], value[3]
    if isinstance(key, dict) and isinstance(key.get("t"), str):
        try:
            key = datetime.fromisoformat(key["t"])
        except ValueError:
            raise bad from None
    elif not (isinstance(key, int) and not isinstance(key, bool)):
        raise bad
    if not (isinstance(row_id, (str, int)) and not isinstance(row_id, bool)):
        raise bad
    return key, row_id
