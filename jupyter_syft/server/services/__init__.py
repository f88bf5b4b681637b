"""Services hold every rule of the Datasite. They know nothing about HTTP or Jupyter."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..blobs import BlobStore
from ..execution import Runner
from ..store import Store
from .audit import AuditLog
from .auth import AuthService
from .code import CodeService
from .data_subjects import DataSubjectService
from .datasets import DatasetService
from .environments import EnvironmentService
from .jobs import JobService
from .notifications import NotificationService
from .outputs import OutputService
from .previews import PreviewService
from .projects import ProjectService
from .requests import RequestService
from .settings import SettingsService
from .users import UserService


@dataclass
class Services:
    audit: AuditLog
    settings: SettingsService
    auth: AuthService
    users: UserService
    datasets: DatasetService
    data_subjects: DataSubjectService
    code: CodeService
    projects: ProjectService
    requests: RequestService
    jobs: JobService
    previews: PreviewService
    outputs: OutputService
    notifications: NotificationService
    environments: EnvironmentService

    @classmethod
    def build(
        cls, store: Store, blobs: BlobStore, runner: Callable[[], Runner], work_dir: Path
    ) -> Services:
        audit = AuditLog(store)
        settings = SettingsService(store, audit)
        code = CodeService(store, blobs, audit, settings, runner, work_dir)
        projects = ProjectService(store, audit)
        datasets = DatasetService(store, blobs, audit, settings)
        return cls(
            audit=audit,
            settings=settings,
            auth=AuthService(store, audit, settings),
            users=UserService(store, audit, settings),
            datasets=datasets,
            data_subjects=DataSubjectService(store, audit, settings),
            code=code,
            projects=projects,
            requests=RequestService(store, audit, settings, code, projects),
            jobs=JobService(store, audit, code),
            previews=PreviewService(datasets, code),
            outputs=OutputService(store, audit, blobs, settings),
            notifications=NotificationService(store, audit, settings),
            # next to the work folder, in the Datasite's data folder
            environments=EnvironmentService(
                store, audit, settings, work_dir.parent / "environments"
            ),
        )
