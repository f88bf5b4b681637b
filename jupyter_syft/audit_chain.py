"""The audit log's hash chain: how an event is hashed and how a chain of events is checked.

Stdlib only, so the server (``server/services/audit.py``) and the offline checker
(``jupyter-syft audit verify FILE``) use this one function and cannot disagree.

An event is a mapping with ``seq``, ``at``, ``actor_id``, ``actor_email``, ``action``,
``object_type``, ``object_id``, ``detail``, ``prev_hash``, ``hash`` and ``hash_version``.
Each event's ``hash`` is the sha256 of a JSON text of its fields, ``prev_hash`` included, so
it covers every event before it.

Two versions of that text exist, told apart by the event's ``hash_version`` (a column):

- 1 (events written before version 2 existed): a JSON list of prev_hash, at, actor_id,
  actor_email, action, object_type, object_id, detail. ``seq`` is not covered: renumbering
  goes unseen, and seq numbers may have gaps (a PostgreSQL sequence skips numbers), so only
  the links are checked.
- 2: a JSON object of those fields plus ``seq`` and ``"v": 2``. seq is assigned as the
  previous event's + 1 under the log's lock, so it has no gaps: a gap means events were
  deleted, and a renumbered event no longer matches its hash.
- 3 (every event written now): the same fields in two steps. The event's *content* (a JSON
  object of at, actor_id, actor_email, action, object_type, object_id, detail and ``"v": 3``)
  is hashed first; the event's hash is then the sha256 of the text ``prev_hash:seq:content``
  (the content's hex digest). What covers the event is unchanged; the split lets PostgreSQL
  compute the link itself (its ``sha256()``), so an append is one statement that reads the
  head and writes the event under the log's lock, without a round trip to the server in
  between (see ``services/audit.py``).

Versions never go down along a chain: after a version-2 event, a version-1 event is refused,
and after a version-3 event a version-2 or version-1 one (a "downgrade" would hide a
renumbering). ``at`` is hashed as UTC ISO text (``2026-01-31T12:00:00.123456
+00:00``; the same text Python's ``isoformat`` gave when the event was recorded), whatever
time zone the database hands it back in; a naive datetime is taken as UTC.

What a chain proves: an edited event no longer matches its hash; a deleted or reordered one
breaks the next event's ``prev_hash`` (or, for version 2, the seq numbering). Someone who can
write the database could recompute every hash after an edit: keep a *checkpoint* (the head's
seq and hash) elsewhere, and check later that the log still extends it (``since``): a
rewritten chain no longer has that hash at that seq, a truncated one no longer reaches it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

HASH_VERSION = 3  # what new events are hashed with
FIELDS = (
    "seq",
    "hash_version",
    "at",
    "actor_id",
    "actor_email",
    "action",
    "object_type",
    "object_id",
    "detail",
    "prev_hash",
    "hash",
)


def at_text(value: datetime | str) -> str:
    """The hashed text of an event's time: UTC ISO with the ``+00:00`` offset."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat()


def content_digest(event: Mapping[str, Any]) -> str:
    """Version 3's first step: the sha256 (hex) of the event's content, everything but its
    place in the chain (seq, prev_hash)."""
    body = {"v": 3, **_content(event)}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def _content(event: Mapping[str, Any]) -> dict[str, Any]:
    """What an event says, apart from its place in the chain (hashed by versions 2 and 3)."""
    return {
        "at": at_text(event["at"]),
        "actor_id": event["actor_id"],
        "actor_email": event["actor_email"],
        "action": event["action"],
        "object_type": event["object_type"],
        "object_id": event["object_id"],
        "detail": event["detail"],
    }


def link_hash(prev_hash: str, seq: int, content: str) -> str:
    """Version 3's hash: the event's content digest linked to its seq and the hash before.
    PostgreSQL computes the same text's digest in ``services/audit.py``'s append: keep the
    two in step."""
    return hashlib.sha256(f"{prev_hash}:{seq}:{content}".encode()).hexdigest()


def event_hash(event: Mapping[str, Any]) -> str:
    """The sha256 (hex) of ``event`` as its ``hash_version`` hashes it (missing: 1)."""
    version = event.get("hash_version") or 1
    if version == 3:
        return link_hash(event["prev_hash"], event["seq"], content_digest(event))
    if version == 1:
        body: Any = [
            event["prev_hash"],
            at_text(event["at"]),
            event["actor_id"],
            event["actor_email"],
            event["action"],
            event["object_type"],
            event["object_id"],
            event["detail"],
        ]
    elif version == 2:
        body = {"v": 2, "seq": event["seq"], "prev_hash": event["prev_hash"], **_content(event)}
    else:
        raise ValueError(f"unknown audit hash version {version!r}")
    text = json.dumps(body, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Verdict:
    """What checking a chain found: ``ok``, how many events were checked (``count``), the
    head (``head_seq``, ``head_hash``), or the first bad event (``bad_seq``) and ``reason``.
    ``position``: where the bad event is in what was fed (e.g. a file's line number)."""

    ok: bool = True
    count: int = 0
    head_seq: int | None = None
    head_hash: str = ""
    bad_seq: int | None = None
    reason: str = ""
    position: int | None = None
    since_seq: int | None = None

    def summary(self) -> str:
        if not self.ok:
            where = f"event seq {self.bad_seq}" if self.bad_seq is not None else "the log"
            return f"{where}: {self.reason}"
        head = f"head seq {self.head_seq} hash {self.head_hash}" if self.count else "empty"
        since = f", extends checkpoint seq {self.since_seq}" if self.since_seq is not None else ""
        return f"{self.count} events, {head}{since}, ok"


@dataclass
class ChainChecker:
    """Checks events fed in seq order, one at a time (memory stays constant).

    ``since_seq``/``since_hash``: a checkpoint; events before it are skipped, the one at it
    must still have that hash, and the chain must go on from it unbroken. Without one, the
    first event must start the chain (``prev_hash`` empty).
    """

    since_seq: int | None = None
    since_hash: str | None = None
    verdict: Verdict = field(default_factory=Verdict)
    _prev: Mapping[str, Any] | None = None
    _started: bool = False
    _highest_version: int = 1

    def __post_init__(self) -> None:
        self.verdict.since_seq = self.since_seq
        if self.since_seq == 0:  # the checkpoint of an empty log: the whole chain extends it
            self.since_seq = self.since_hash = None

    def feed(self, event: Mapping[str, Any], position: int | None = None) -> bool:
        """Check one more event; False once the chain is broken (stop feeding then)."""
        if not self.verdict.ok:
            return False
        seq = event["seq"]
        if self.since_seq is not None and not self._started:
            if seq < self.since_seq:
                return True  # before the checkpoint: not this check's business
            if seq > self.since_seq:
                return self._fail(
                    seq,
                    f"the checkpoint's event (seq {self.since_seq}) is gone: events were "
                    "deleted or renumbered since the checkpoint",
                    position,
                )
            if event["hash"] != self.since_hash:
                return self._fail(
                    seq,
                    "its hash is not the checkpoint's: the log was rewritten since the "
                    "checkpoint (events edited and their hashes recomputed)",
                    position,
                )
        self._started = True
        problem = self._problem(event)
        if problem:
            return self._fail(seq, problem, position)
        self._prev = event
        self.verdict.count += 1
        self.verdict.head_seq = seq
        self.verdict.head_hash = event["hash"]
        return True

    def _problem(self, event: Mapping[str, Any]) -> str:
        version = event.get("hash_version") or 1
        prev = self._prev
        if version not in (1, 2, 3):
            return f"unknown hash version {version!r}: edited"
        if version < self._highest_version:
            return "hashed an older way after newer events: edited"
        self._highest_version = version
        if prev is not None and version >= 2 and event["seq"] != prev["seq"] + 1:
            if event["seq"] <= prev["seq"]:
                return f"its seq does not follow {prev['seq']}: events were reordered"
            missing = (
                f"seq {prev['seq'] + 1}"
                if event["seq"] == prev["seq"] + 2
                else f"seq {prev['seq'] + 1} to {event['seq'] - 1}"
            )
            return f"the events before it ({missing}) were deleted"
        if prev is not None and event["prev_hash"] != prev["hash"]:
            return (
                "it does not link to the event before it (its prev_hash differs): "
                "events were deleted or reordered"
            )
        if prev is None and self.since_seq is None and event["prev_hash"] != "":
            return (
                "the log does not start here (the first event links to an earlier one): "
                "the events before it were deleted"
            )
        try:
            recomputed = event_hash(event)
        except (KeyError, TypeError, ValueError) as exc:
            return f"it cannot be hashed ({exc}): edited"
        if recomputed != event["hash"]:
            return "its content does not match its hash: it was edited"
        return ""

    def _fail(self, seq: int, reason: str, position: int | None) -> bool:
        self.verdict.ok = False
        self.verdict.bad_seq = seq
        self.verdict.reason = reason
        self.verdict.position = position
        return False

    def finish(self) -> Verdict:
        """The verdict, once every event was fed."""
        if self.verdict.ok and self.since_seq and not self._started:
            self._fail(
                self.since_seq,
                "the log no longer reaches the checkpoint: events were deleted since it "
                "(the log was truncated)",
                None,
            )
        return self.verdict
