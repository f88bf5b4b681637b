"""Data subjects: who or what a Datasite's data is about (PySyft's data subject registry).
Owners register them, each with its members; everyone who may browse datasets may list them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from ...wire import models as wire
from .. import models
from ..store import Store
from . import limits, paging
from .actor import Actor
from .audit import AuditLog
from .errors import BadRequest, Conflict, Forbidden
from .paging import PageParams
from .settings import SettingsService
from .views import iso

MAX_BATCH = 1_000  # subjects registered in one call (a subject and all its members)
MAX_ALIASES = 100
MAX_MEMBERS = 1_000
MAX_ASSET_SUBJECTS = 1_000
ADD_HOW = "client.data_subject_registry.add_data_subject(sy.DataSubject(name=...))"


class DataSubjectService:
    def __init__(self, store: Store, audit: AuditLog, settings: SettingsService):
        self.store = store
        self.audit = audit
        self.settings = settings

    def add(self, actor: Actor, payload: wire.DataSubjectCreate) -> wire.DataSubjectAdded:
        """Register ``subjects[0]`` (its name must be new: 409 otherwise) and its members
        (``subjects[1:]``; one already registered is linked as it is). All or nothing."""
        actor.require_owner("add data subjects")
        subjects = payload.subjects
        if not subjects:
            raise BadRequest(f"Give a data subject to add: {ADD_HOW}.")
        if len(subjects) > MAX_BATCH:
            raise BadRequest(f"At most {MAX_BATCH} data subjects can be added at once.")
        batch: dict[str, wire.DataSubjectBody] = {}
        for subject in subjects:
            name = subject_name(subject.name)
            if name in batch and _definition(batch[name]) != _definition(subject):
                raise BadRequest(
                    f"The data subject {limits.clip(name)} is given twice, differently: "
                    "give each name once."
                )
            batch[name] = subject
            limits.check_text(
                subject.description or "", "A data subject's description", limits.TEXT
            )
            for key, values, most in (
                ("aliases", subject.aliases, MAX_ALIASES),
                ("members", subject.members, MAX_MEMBERS),
            ):
                if values is not None and len(values) > most:
                    raise BadRequest(f"A data subject has at most {most} {key}.")
                for value in values or ():
                    if not value.strip():
                        raise BadRequest(f"A data subject's {key} cannot be empty names.")
                    limits.check_text(value, f"A data subject's {key[:-1]}", limits.NAME)
        top = subject_name(subjects[0].name)
        with self.store.session() as session:
            self.store.lock(session, "data_subjects")
            existing = {
                row.name: row
                for row in session.exec(
                    select(models.DataSubject).where(col(models.DataSubject.name).in_(list(batch)))
                )
            }
            if top in existing:
                raise Conflict(
                    f"A data subject named {limits.clip(top)} is already registered; data "
                    "subject names are unique. Choose another name, or use the registered one "
                    "(client.data_subject_registry.get_all())."
                )
            for name, subject in batch.items():
                for member in subject.members or ():
                    member = member.strip()
                    if member == name:
                        raise BadRequest(
                            f"The data subject {limits.clip(name)} cannot be its own member."
                        )
                    if (
                        member not in batch
                        and not session.exec(
                            select(models.DataSubject.id).where(models.DataSubject.name == member)
                        ).first()
                    ):
                        raise BadRequest(
                            f"The member {limits.clip(member)} of {limits.clip(name)} is not a "
                            f"registered data subject: add it with {ADD_HOW}, or send it along."
                        )
            added: list[str] = []
            for name, subject in batch.items():
                if name in existing:
                    continue
                session.add(
                    models.DataSubject(
                        name=name,
                        description=subject.description or "",
                        aliases=_unique(a.strip() for a in subject.aliases or ()),
                        members=_unique(m.strip() for m in subject.members or ()),
                        created_by=actor.user_id,
                    )
                )
                added.append(name)
            try:
                session.commit()
            except IntegrityError:  # a concurrent add of the same name
                session.rollback()
                raise Conflict(
                    "A data subject of this batch was registered meanwhile; "
                    "list them with client.data_subject_registry.get_all() and try again."
                ) from None
            row = session.exec(select(models.DataSubject).where(models.DataSubject.name == top))
            view = _view(row.one())
        self.audit.record(actor, "data_subject.add", "data_subject", view.id, added=added)
        return wire.DataSubjectAdded(subject=view, added=added)

    def list(self, actor: Actor, page: PageParams | None = None) -> wire.Page[wire.DataSubject]:
        """One page of the registered data subjects (see ``paging``)."""
        if actor.is_guest and not self.settings.value("allow_guest_sessions"):
            raise Forbidden("This Datasite does not allow guests; log in with an account.")
        with self.store.session() as session:

            def views(rows: Sequence[models.DataSubject]) -> list[wire.DataSubject]:
                return [_view(row) for row in rows]

            return paging.page(
                session,
                select(models.DataSubject),
                "data_subjects",
                col(models.DataSubject.created_at),
                col(models.DataSubject.id),
                page,
                views,
            )


def subject_name(value: str) -> str:
    """A data subject's name as stored: stripped, not empty, at most ``limits.NAME``."""
    name = value.strip()
    if not name:
        raise BadRequest(f"A data subject needs a name: {ADD_HOW}.")
    return limits.check_text(name, "A data subject's name", limits.NAME)


def asset_subjects(values: list[str] | None) -> list[str]:
    """An asset's data subject names as stored: checked, in order, each once."""
    if not values:
        return []
    if len(values) > MAX_ASSET_SUBJECTS:
        raise BadRequest(f"An asset names at most {MAX_ASSET_SUBJECTS} data subjects.")
    return _unique(subject_name(v) for v in values)


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _definition(subject: wire.DataSubjectBody) -> tuple[object, ...]:
    return (
        subject.description or "",
        _unique(a.strip() for a in subject.aliases or ()),
        _unique(m.strip() for m in subject.members or ()),
    )


def _view(row: models.DataSubject) -> wire.DataSubject:
    return wire.DataSubject(
        id=row.id,
        name=row.name,
        description=row.description,
        aliases=list(row.aliases),
        members=list(row.members),
        created_at=iso(row.created_at),
    )
