"""Datasets and their assets: who may upload them, list them, and read mock or private values."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from ... import serde
from ...wire import models as wire
from .. import models
from ..blobs import BlobInfo, BlobStore, BlobWriter
from ..store import Store
from . import limits, paging
from .actor import Actor
from .audit import AuditLog
from .data_subjects import asset_subjects
from .errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    Unavailable,
    Unprocessable,
)
from .paging import PageParams, preload
from .retention import referenced_blobs
from .settings import SettingsService
from .view_cache import DATASETS, PlainRead, ViewCache, bump
from .views import iso, person

NO_ACCESS = (
    "You do not have permission to access private data. Prototype on asset.mock, then submit "
    "your code with @sy.syft_function and ask the data owner to approve it."
)
CONTRIBUTOR_FIELDS = ("name", "email", "role", "phone", "note")
TEXT_LIMITS = {"summary": limits.TEXT, "description": limits.TEXT, "citation": limits.TEXT}
MAX_CONTRIBUTORS = 100
MAX_DIMENSIONS = 64


class DatasetService:
    def __init__(self, store: Store, blobs: BlobStore, audit: AuditLog, settings: SettingsService):
        self.store = store
        self.blobs = blobs
        self.audit = audit
        self.settings = settings
        self._pages: ViewCache[wire.Page[wire.Dataset]] = ViewCache(store, DATASETS)
        # Every mock read of every scientist: the asset and its values' sizes in one row.
        self._value_row = PlainRead(store, _VALUE_QUERY, "asset_id")

    # --- uploading ---------------------------------------------------------------------------
    def open_upload(self, actor: Actor, declared_size: int | None) -> BlobWriter:
        """Start receiving a value from ``actor``, before any of it is read: refused if they may
        not upload or its declared size is over the limit. The writer takes at most that limit
        (``writer.max_size``); ``finish_upload`` stores it."""
        actor.require_owner("upload data")
        limit = int(self.settings.value("max_upload_bytes"))
        if declared_size is not None and declared_size > limit:
            raise PayloadTooLarge(
                f"This value is {declared_size} bytes; the Datasite accepts {limit} at most."
            )
        # Decoded in full before it is committed: a value that is stored can always be read.
        return self.blobs.open_writer(max_size=limit, decode_check=True, background=True)

    def finish_upload(self, actor: Actor, writer: BlobWriter) -> wire.BlobInfo:
        """Commit a received value (400 if it is not an acceptable one) and record it."""
        try:
            info = writer.commit()
        except ValueError as exc:  # SerdeError, BlobTooLarge: the body is not an acceptable value
            raise BadRequest(f"The uploaded value was rejected: {exc}") from None
        except OSError as exc:  # writing it failed, e.g. the Datasite's disk is full
            raise Unavailable(
                f"The Datasite could not store the value ({exc.strerror or exc}). Try again "
                "later; if it keeps failing, ask the Datasite's owner to free disk space."
            ) from None
        return self.register_blob(actor, info)

    def store_value(self, actor: Actor, value: Any) -> wire.BlobInfo:
        """Upload a value the Datasite holds in memory (e.g. the demo data) as ``actor``."""
        actor.require_owner("upload data")
        return self.register_blob(actor, self.blobs.write_value(value))

    def register_blob(self, actor: Actor, info: BlobInfo) -> wire.BlobInfo:
        actor.require_owner("upload data")
        with self.store.session() as session:
            row = session.get(models.Blob, info.id)
            if row is None:
                row = models.Blob(
                    id=info.id, size=info.size, summary=info.summary, created_by=actor.user_id
                )
            else:  # uploaded again: the orphan collector's grace period starts anew
                row.created_at = models.utcnow()
            session.add(row)
            try:
                session.commit()
            except IntegrityError:  # the same value, uploaded concurrently
                session.rollback()
        self.blobs.settled(info.id)
        return wire.BlobInfo(blob_id=info.id, size=info.size, summary=info.summary)

    def preflight(self, actor: Actor, name: str) -> None:
        """Fail fast, before any value is sent, if the dataset could not be created."""
        actor.require_owner("upload datasets")
        limits.check_text(name.strip(), "name", limits.NAME)
        with self.store.session() as session:
            if session.exec(select(models.Dataset).where(models.Dataset.name == name)).first():
                raise Conflict(_name_taken(name))

    def create(self, actor: Actor, payload: wire.DatasetCreate) -> wire.Dataset:
        actor.require_owner("upload datasets")
        name = _required_text(payload.name, "name", "A dataset needs a name.")
        assets = payload.assets
        if not assets:
            raise BadRequest(
                "A dataset needs at least one asset: use dataset.add_asset(sy.Asset(...))."
            )
        dataset = models.Dataset(
            name=name,
            contributors=_contributors(payload.contributors),
            uploader_id=actor.user_id or "",
            summary=_optional_text(payload.summary, "summary"),
            description=_optional_text(payload.description, "description"),
            citation=_optional_text(payload.citation, "citation"),
            url=_optional_text(payload.url, "url"),
        )
        rows: list[models.Asset] = []
        seen: set[str] = set()
        with self.store.session() as session:
            for position, spec in enumerate(assets):
                asset_name = _required_text(spec.name, "name", "Every asset needs a name.")
                if asset_name in seen:
                    raise BadRequest(
                        f"Two assets are named {asset_name!r}; asset names must differ."
                    )
                seen.add(asset_name)
                # texts first: cheap to refuse
                description = _optional_text(spec.description, "description")
                contributors = _contributors(spec.contributors)
                shape = _shape(spec.shape)
                data_subjects = asset_subjects(spec.data_subjects)
                data_blob = self._blob(session, spec.data, f"asset {asset_name!r} data")
                mock_id = spec.mock
                mock_blob = (
                    None
                    if mock_id is None
                    else self._blob(session, mock_id, f"asset {asset_name!r} mock")
                )
                mock_is_real = spec.mock_is_real
                if mock_is_real and mock_blob is None:
                    raise BadRequest(f"Asset {asset_name!r} says mock_is_real but has no mock.")
                shape = shape or data_blob.summary.get("shape")
                rows.append(
                    models.Asset(
                        dataset_id=dataset.id,
                        position=position,
                        name=asset_name,
                        description=description,
                        contributors=contributors,
                        data_blob_id=data_blob.id,
                        mock_blob_id=mock_blob.id if mock_blob else None,
                        mock_is_real=mock_is_real,
                        shape=list(shape) if isinstance(shape, (list, tuple)) else None,
                        data_subjects=data_subjects,
                    )
                )
            try:
                # A concurrent create of the same name fails here, at the dataset's flush.
                session.add(dataset)
                session.flush()
                for row in rows:
                    session.add(row)
                bump(session, DATASETS)
                session.commit()
            except IntegrityError:
                session.rollback()
                raise Conflict(_name_taken(name))
        self.audit.record(
            actor, "dataset.create", "dataset", dataset.id, name=name, assets=sorted(seen)
        )
        return self.get(actor, dataset.id)

    @staticmethod
    def _blob(session: Any, blob_id: str, what: str) -> models.Blob:
        blob = session.get(models.Blob, blob_id)
        if blob is None:
            raise BadRequest(
                f"The value for {what} was not uploaded (or not completely); upload it again."
            )
        return blob

    # --- reading -----------------------------------------------------------------------------
    def _require_browsing(self, actor: Actor) -> None:
        if actor.is_guest and not self.settings.value("allow_guest_sessions"):
            raise Forbidden("This Datasite does not allow guests; log in with an account.")

    def list(self, actor: Actor, page: PageParams | None = None) -> wire.Page[wire.Dataset]:
        """One page of the datasets (see ``paging``), built once per change of the datasets:
        a view depends on the page asked for and on whether the caller owns the data."""
        self._require_browsing(actor)
        page = page or PageParams()
        key = (actor.is_owner, page.limit, page.cursor, page.order)
        return self._pages.get(key, lambda: self._list(actor, page))

    def _list(self, actor: Actor, page: PageParams) -> wire.Page[wire.Dataset]:
        with self.store.session() as session:

            def views(rows: Sequence[models.Dataset]) -> list[wire.Dataset]:
                # assets, blobs and uploaders of the whole page in three IN-queries
                assets: dict[str, list[models.Asset]] = {d.id: [] for d in rows}
                if rows:
                    for asset in session.exec(
                        select(models.Asset)
                        .where(col(models.Asset.dataset_id).in_(list(assets)))
                        .order_by(col(models.Asset.position))
                    ):
                        assets[asset.dataset_id].append(asset)
                every = [a for group in assets.values() for a in group]
                blob_ids = {a.data_blob_id for a in every} | {a.mock_blob_id for a in every}
                blobs = preload(session, models.Blob, blob_ids)
                preload(session, models.User, {d.uploader_id for d in rows})
                return [self._view(session, actor, d, assets[d.id], blobs) for d in rows]

            return paging.page(
                session,
                select(models.Dataset),
                "datasets",
                col(models.Dataset.created_at),
                col(models.Dataset.id),
                page,
                views,
            )

    def get(self, actor: Actor, key: str) -> wire.Dataset:
        self._require_browsing(actor)
        with self.store.session() as session:
            dataset = (
                session.get(models.Dataset, key)
                or session.exec(select(models.Dataset).where(models.Dataset.name == key)).first()
            )
            if dataset is None:
                raise NotFound(f"No dataset {limits.clip(key)} on this Datasite.")
            return self._view(session, actor, dataset)

    def _view(
        self,
        session: Any,
        actor: Actor,
        dataset: models.Dataset,
        assets: Sequence[models.Asset] | None = None,
        blobs: dict[str, models.Blob] | None = None,
    ) -> wire.Dataset:
        """``assets`` and ``blobs``: already loaded for a whole page (``list``)."""
        if assets is None:
            assets = session.exec(
                select(models.Asset)
                .where(models.Asset.dataset_id == dataset.id)
                .order_by(col(models.Asset.position))
            ).all()
        uploader = session.get(models.User, dataset.uploader_id)
        if blobs is None:
            blob_ids = {a.data_blob_id for a in assets} | {
                a.mock_blob_id for a in assets if a.mock_blob_id
            }
            blobs = preload(session, models.Blob, blob_ids)
        views = [self._asset_view(actor, a, blobs) for a in assets]
        return wire.Dataset(
            id=dataset.id,
            name=dataset.name,
            summary=dataset.summary,
            description=dataset.description,
            citation=dataset.citation,
            url=dataset.url,
            contributors=[wire.Contributor(**c) for c in dataset.contributors],
            uploader=person(uploader),
            created_at=iso(dataset.created_at),
            mb_size=round(sum(blobs[a.data_blob_id].size for a in assets) / 1e6, 3),
            assets=views,
        )

    @staticmethod
    def _asset_view(actor: Actor, asset: models.Asset, blobs: dict[str, models.Blob]) -> wire.Asset:
        data = blobs[asset.data_blob_id]
        mock = blobs.get(asset.mock_blob_id or "")
        # The private value's column names etc. are private too: absent for everyone else.
        private: dict[str, Any] = (
            {"data_summary": data.summary, "data_size": data.size} if actor.is_owner else {}
        )
        return wire.Asset(
            id=asset.id,
            dataset_id=asset.dataset_id,
            name=asset.name,
            description=asset.description,
            contributors=[wire.Contributor(**c) for c in asset.contributors],
            shape=asset.shape,
            mock_is_real=asset.mock_is_real,
            has_mock=mock is not None,
            mock_summary=mock.summary if mock else None,
            mock_size=mock.size if mock else 0,
            data_type=data.summary.get("type"),
            can_read_data=actor.is_owner,
            created_at=iso(asset.created_at),
            data_subjects=list(asset.data_subjects),
            **private,
        )

    def open_value(self, actor: Actor, asset_id: str, which: str) -> tuple[Path, int]:
        """Where an asset's mock or private value is on disk, if ``actor`` may read it."""
        self._require_browsing(actor)
        if which not in ("mock", "data"):
            raise BadRequest("Ask for 'mock' or 'data'.")
        found = self._value_row.row(asset_id)
        if found is None:
            raise NotFound(f"No asset with id {asset_id}.")
        name, data_blob_id, mock_blob_id, data_size, mock_size = found
        if which == "data":
            if not actor.is_owner:
                raise Forbidden(NO_ACCESS)
            blob_id, size = data_blob_id, data_size
        else:
            if mock_blob_id is None:
                raise NotFound(f"Asset {name!r} has no mock: its owner uploaded it with no_mock().")
            blob_id, size = mock_blob_id, mock_size
        if actor.is_owner and which == "data":
            self.audit.record(actor, "asset.read_private", "asset", asset_id)
        return self.blobs.path(blob_id), size

    def preview(self, actor: Actor, asset_id: str, which: str, rows: int = 5) -> bytes:
        """The first rows of a value, encoded: cheap to send for a table preview."""
        path, _size = self.open_value(actor, asset_id, which)
        rows = max(1, min(int(rows), 100))
        value = decode_stored(path)
        head = getattr(value, "head", None)
        if callable(head):
            value = head(rows)
        elif type(value).__name__ == "ndarray" or isinstance(value, (list, tuple)):
            value = value[:rows]
        return serde.dumps(value)

    # --- deleting ----------------------------------------------------------------------------
    def delete(self, actor: Actor, key: str) -> None:
        actor.require_owner("delete datasets")
        dataset_id = self.get(actor, key).id
        with self.store.session() as session:
            assets = session.exec(
                select(models.Asset).where(models.Asset.dataset_id == dataset_id)
            ).all()
            blob_ids = {a.data_blob_id for a in assets} | {
                a.mock_blob_id for a in assets if a.mock_blob_id
            }
            for asset in assets:
                session.delete(asset)
            session.delete(session.get(models.Dataset, dataset_id))
            session.flush()
            # A value another asset, a run's result or a deposit still points at stays (as
            # that); the rest goes with the dataset.
            orphans = sorted(blob_ids - referenced_blobs(session, blob_ids))
            for blob_id in orphans:
                session.delete(session.get(models.Blob, blob_id))
            bump(session, DATASETS)
            session.commit()
        for blob_id in orphans:  # unless the same value was uploaded again meanwhile
            self.blobs.delete(blob_id, unless=functools.partial(self._blob_row_exists, blob_id))
        self.audit.record(actor, "dataset.delete", "dataset", dataset_id)

    def _blob_row_exists(self, blob_id: str) -> bool:
        with self.store.session() as session:
            return session.get(models.Blob, blob_id) is not None


def decode_stored(path: Path) -> Any:
    """A stored value, decoded: 422, not 500, if it cannot be (a payload stored before uploads
    were fully checked, or damaged on disk)."""
    try:
        return serde.decode_file(path)
    except serde.SerdeError as exc:
        raise Unprocessable(
            f"This value is stored but cannot be decoded ({exc}). Its owner can upload it again."
        ) from None


def _name_taken(name: str) -> str:
    return (
        f"A dataset named {limits.clip(name)} already exists. Choose another name, or delete it "
        "first."
    )


def _required_text(value: str, key: str, message: str) -> str:
    if not value.strip():
        raise BadRequest(message)
    return limits.check_text(value.strip(), key, limits.NAME)


def _optional_text(value: str | None, key: str) -> str:
    if value is None:
        return ""
    return limits.check_text(value, key, TEXT_LIMITS.get(key, limits.SHORT_TEXT))


def _shape(value: list[int] | None) -> list[int] | None:
    if value is None:
        return None
    if len(value) > MAX_DIMENSIONS or not all(n >= 0 for n in value):
        raise BadRequest("An asset's shape must be a list of whole numbers, e.g. [100, 3].")
    return list(value)


def _contributors(value: list[wire.ContributorBody] | None) -> list[dict[str, str]]:
    """As stored: only the fields given."""
    if value is None:
        return []
    if len(value) > MAX_CONTRIBUTORS:
        raise BadRequest(f"At most {MAX_CONTRIBUTORS} contributors can be listed.")
    out = []
    for item in value:
        given = item.model_dump(exclude_none=True)
        contributor = {k: given[k] for k in CONTRIBUTOR_FIELDS if k in given}
        for key, text in contributor.items():
            limit = limits.NAME if key == "name" else limits.SHORT_TEXT
            limits.check_text(text, f"A contributor's {key}", limit)
        out.append(contributor)
    return out


_ASSETS = models.Asset.__table__  # type: ignore[attr-defined]
_DATA_BLOB = models.Blob.__table__.alias("data_blob")  # type: ignore[attr-defined]
_MOCK_BLOB = models.Blob.__table__.alias("mock_blob")  # type: ignore[attr-defined]
_VALUE_QUERY = (
    sa_select(
        _ASSETS.c.name,
        _ASSETS.c.data_blob_id,
        _ASSETS.c.mock_blob_id,
        _DATA_BLOB.c.size.label("data_size"),
        _MOCK_BLOB.c.size.label("mock_size"),
    )
    .select_from(
        _ASSETS.join(_DATA_BLOB, _DATA_BLOB.c.id == _ASSETS.c.data_blob_id).outerjoin(
            _MOCK_BLOB, _MOCK_BLOB.c.id == _ASSETS.c.mock_blob_id
        )
    )
    .where(_ASSETS.c.id == bindparam("asset_id"))
)
