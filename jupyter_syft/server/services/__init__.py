"""Services hold every rule of the Datasite. They know nothing about HTTP or Jupyter."""

from __future__ import annotations

from dataclasses import dataclass

from ..blobs import BlobStore
from ..store import Store
from .audit import AuditLog
from .auth import AuthService
from .datasets import DatasetService
from .settings import SettingsService
from .users import UserService


@dataclass
class Services:
    audit: AuditLog
    settings: SettingsService
    auth: AuthService
    users: UserService
    datasets: DatasetService

    @classmethod
    def build(cls, store: Store, blobs: BlobStore) -> Services:
        audit = AuditLog(store)
        settings = SettingsService(store, audit)
        return cls(
            audit=audit,
            settings=settings,
            auth=AuthService(store, audit, settings),
            users=UserService(store, audit, settings),
            datasets=DatasetService(store, blobs, audit, settings),
        )
