"""``client.audit`` (owners): read the Datasite's hash-chained audit log and prove it.

- ``events(user=, object_id=, object_type=, action=, since_seq=, page_size=, page=)``: one
  page of events, newest first (``order="oldest"`` for the other way), as a table;
  ``.next_page()`` for the next one, ``.total`` for how many match.
- ``verify()``: the server checks the whole chain (ok, count, head; or the first bad event's
  seq and why). ``verify(since=checkpoint)``: that the log still extends a checkpoint.
- ``checkpoint()``: the head ``{"seq", "hash", "at"}``, a plain dict to keep elsewhere.
- ``export(path)``: every event as JSON lines, oldest first, for the offline check
  ``jupyter-syft audit verify FILE [--since SEQ:HASH]``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import display
from ..errors import SyftException

if TYPE_CHECKING:
    from ..wire import models
    from .session import Session

HEADERS = ("Seq", "At", "Actor", "Action", "Object", "Detail")
PROGRESS_MIN_EVENTS = 2000  # shorter logs export before a bar would be useful
EXPORT_PAGE = 500


def _row(event: models.AuditEvent) -> list[Any]:
    obj = f"{event.object_type} {event.object_id}".strip()
    detail = json.dumps(event.detail, sort_keys=True, default=str)
    if len(detail) > 120:
        detail = detail[:119] + "…"
    return [event.seq, event.at, event.actor_email, event.action, obj, detail]


class AuditPage(display.TableList):
    """One page of audit events (a list of ``wire.models.AuditEvent``), shown as a table."""

    def __init__(
        self,
        session: Session,
        page: models.Page[models.AuditEvent],
        query: dict[str, Any],
        number: int,
    ):
        super().__init__(page.items, "Audit events", HEADERS, _row)
        self._session = session
        self._query = query
        self.total = page.total
        self.next_cursor = page.next_cursor
        self.page = number

    def next_page(self) -> AuditPage | None:
        """The page after this one (None: this is the last)."""
        if not self.next_cursor:
            return None
        answer = self._session.api.audit_page(**self._query, cursor=self.next_cursor)
        return AuditPage(self._session, answer, self._query, self.page + 1)

    def _caption(self) -> str:
        more = "; .next_page() for more" if self.next_cursor else ""
        return f"page {self.page}: {len(self)} event(s), {self.total} in all{more}"

    def __repr__(self) -> str:
        if not self:
            return f"No audit events ({self._caption()})."
        return f"{super().__repr__()}\n({self._caption()})"

    def _repr_html_(self) -> str:
        caption = f'<p class="muted">{display.esc(self._caption())}</p>'
        table = display.listing(self._kind, self._headers, self._rows())
        return table[: -len("</div>")] + caption + "</div>"


class AuditVerification:
    """What ``client.audit.verify()`` found: true when ``ok``; ``count``, ``head`` (seq,
    hash); else ``bad_seq`` (the first bad event) and ``reason``. ``to_dict()`` for JSON."""

    def __init__(self, model: models.AuditVerification):
        self._model = model
        self.ok = model.ok
        self.count = model.count
        self.head = (model.head_seq, model.head_hash) if model.head_seq is not None else None
        self.bad_seq = model.bad_seq
        self.reason = model.reason
        self.since_seq = model.since_seq

    def __bool__(self) -> bool:
        return self.ok

    def __getitem__(self, key: str) -> Any:
        return self.to_dict()[key]

    def to_dict(self) -> dict[str, Any]:
        return self._model.model_dump()

    def summary(self) -> str:
        since = f" (since checkpoint seq {self.since_seq})" if self.since_seq is not None else ""
        if not self.ok:
            return f"Audit log NOT intact{since}: event seq {self.bad_seq}: {self.reason}."
        if self.head is None:
            return f"Audit log intact{since}: no events."
        seq, digest = self.head
        return f"Audit log intact{since}: {self.count} event(s), head seq {seq} hash {digest}."

    def __repr__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        kind = "Audit log intact" if self.ok else "Audit log NOT intact"
        fields = [
            ("Events checked", self.count),
            ("Head seq", self.head[0] if self.head else None),
            ("Head hash", self.head[1] if self.head else None),
            ("Since checkpoint seq", self.since_seq),
            ("First bad event seq", self.bad_seq),
            ("Why", self.reason),
        ]
        return display.card(kind, fields, kind="Audit")


def parse_checkpoint(since: Any) -> tuple[int, str]:
    """A checkpoint as ``checkpoint()`` gave it (a dict), ``"SEQ:HASH"`` or ``(seq, hash)``."""
    if isinstance(since, Mapping):
        seq, digest = since.get("seq"), since.get("hash")
    elif isinstance(since, str) and ":" in since:
        seq_text, digest = since.split(":", 1)
        seq = int(seq_text) if seq_text.strip().isdigit() else None
    elif isinstance(since, (tuple, list)) and len(since) == 2:
        seq, digest = since
    else:  # e.g. a wire.models.AuditCheckpoint
        seq, digest = getattr(since, "seq", None), getattr(since, "hash", None)
    if not (isinstance(seq, int) and not isinstance(seq, bool) and seq >= 0) or not isinstance(
        digest, str
    ):
        raise SyftException(
            "since must be a checkpoint from client.audit.checkpoint() (a dict with seq and "
            "hash), or 'SEQ:HASH'."
        )
    return seq, digest


class AuditAPI:
    """``client.audit`` (owners): scientists and guests are refused by the Datasite."""

    def __init__(self, session: Session):
        self._session = session

    def events(
        self,
        user: str | None = None,
        object_id: str | None = None,
        object_type: str | None = None,
        action: str | None = None,
        since_seq: int | None = None,
        page_size: int = 100,
        page: int = 1,
        order: str = "newest",
    ) -> AuditPage:
        """Page ``page`` (from 1) of the events matching the filters, ``page_size`` a page
        (at most 500). ``user``: an email or user id; ``action``: a prefix (``"output."``)."""
        if not isinstance(page, int) or isinstance(page, bool) or page < 1:
            raise SyftException("page is a whole number from 1.")
        query = {
            "user": user,
            "object_id": object_id,
            "object_type": object_type,
            "action": action,
            "since_seq": since_seq,
            "limit": page_size,
            "order": order,
        }
        query = {k: v for k, v in query.items() if v is not None}
        answer = self._session.api.audit_page(**query)
        result = AuditPage(self._session, answer, query, 1)
        while result.page < page:
            following = result.next_page()
            if following is None:
                raise SyftException(
                    f"There are {result.total} matching event(s): page {page} "
                    f"({page_size} a page) is past the end."
                )
            result = following
        return result

    def verify(self, since: Any = None) -> AuditVerification:
        """The server checks the whole hash chain; with ``since`` (a ``checkpoint()``), that
        the log still extends it: that event still has that hash, and the chain from it to the
        head is intact (a log rewritten with recomputed hashes no longer matches)."""
        if since is None:
            return AuditVerification(self._session.api.audit_verify())
        seq, digest = parse_checkpoint(since)
        return AuditVerification(self._session.api.audit_verify(seq, digest))

    def checkpoint(self) -> dict[str, Any]:
        """The log's head now, ``{"seq", "hash", "at"}``: keep it somewhere else (a notebook,
        a ticket, an email) to check later with ``verify(since=...)``."""
        return self._session.api.audit_checkpoint().model_dump()

    def export(self, path: str | os.PathLike[str], progress: bool = True) -> int:
        """Write every event to ``path`` as JSON lines, oldest first (every hashed field, seq
        and hash); check it offline with ``jupyter-syft audit verify FILE``. Returns how many
        events were written."""
        target = Path(path)
        partial = target.with_name(target.name + ".partial")
        count = 0
        bar = None
        try:
            with partial.open("w", encoding="utf-8") as out:
                for total, event in self._all_oldest_first():
                    if bar is None and progress and total >= PROGRESS_MIN_EVENTS:
                        from tqdm.auto import tqdm

                        bar = tqdm(total=total, desc="Exporting the audit log", unit="event")
                    out.write(json.dumps(event.model_dump(), sort_keys=True) + "\n")
                    count += 1
                    if bar is not None:
                        bar.update(1)
            partial.replace(target)
        finally:
            if bar is not None:
                bar.close()
            if partial.exists():
                partial.unlink()
        return count

    def _all_oldest_first(self) -> Iterator[tuple[int, models.AuditEvent]]:
        query: dict[str, Any] = {"order": "oldest", "limit": EXPORT_PAGE}
        cursor = None
        while True:
            page = self._session.api.audit_page(**query, cursor=cursor)
            for event in page.items:
                yield page.total, event
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    def __repr__(self) -> str:
        return (
            "client.audit: events(...), verify(since=None), checkpoint(), export(path). "
            "Owners only."
        )
