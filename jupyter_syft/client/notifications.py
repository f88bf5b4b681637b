"""``client.notifications``: your inbox on a Datasite, as PySyft has it.

``client.notifications`` lists your notifications newest first (``get_all()``, ``[0]``, ``len``,
a table in notebooks); ``get_all_unread()`` / ``.unread``, ``get_all_read()``, ``unread_count``;
``mark_read()`` / ``mark_unread()`` for all of them, and on one notification; PySyft's
``mark_as_read(uid)`` / ``mark_as_unread(uid)``. ``notification.link`` opens what it is about
(the request, job, output, dataset, account or project). How notifications come by mail:
``preferences``, ``set_email("instant" | "digest" | "off")``, PySyft's ``activate()`` (instant)
and ``deactivate()`` (off). The Datasite keeps each inbox to its reader: another account's
notification is "not found".
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from typing import TYPE_CHECKING, Any

from .. import display
from ..errors import SyftException, SyftSuccess
from .collection import Collection
from .view import Field, View

if TYPE_CHECKING:
    from ..wire import models
    from .session import Session

MAIL_CHOICES = ("instant", "digest", "off")


class NotificationStatus(Enum):
    """PySyft's notification status."""

    UNREAD = 0
    READ = 1


class Notification(View):
    _model: models.Notification

    id = Field()
    subject = Field()
    text = Field()
    object_type = Field()
    object_id = Field()
    project_id = Field()
    created_at = Field()

    @property
    def kind(self) -> str:
        """What it is about: request_new, request_denied, job_failed... (see wire.enums)."""
        return str(self._model.kind.value)

    @property
    def read(self) -> bool:
        return bool(self._model.read)

    @property
    def status(self) -> NotificationStatus:
        return NotificationStatus.READ if self.read else NotificationStatus.UNREAD

    @property
    def linked_obj(self) -> str | None:
        """What it is about, as ``"<type> <id>"`` (None: nothing)."""
        if not self._model.object_id:
            return None
        return f"{self._model.object_type} {self._model.object_id}"

    @property
    def link(self) -> Any:
        """The object it is about, fetched now: a request, job, output (owners), dataset,
        account or project; None when there is nothing you can open."""
        target = self._model.link
        if not target:
            return None
        session = self._session
        kind, _, key = target.partition("/")
        if kind == "requests":
            from .requests import RequestView

            return RequestView(session, session.api.request(key))
        if kind == "jobs":
            from .jobs import Job

            return Job(session, session.api.job(key))
        if kind == "outputs":
            from .outputs import OutputView

            return OutputView(session, session.api.output(key))
        if kind == "projects":
            from .projects import RemoteProject

            return RemoteProject(session, session.api.project(key))
        if kind == "datasets":
            from .datasets import DatasetCollection

            return DatasetCollection(session).get_by_id(key)
        if kind == "users":
            from .users import UserCollection

            return UserCollection(session)[key]
        return None

    @property
    def project(self) -> Any:
        """The project it belongs to (None: none)."""
        if not self._model.project_id:
            return None
        from .projects import RemoteProject

        return RemoteProject(self._session, self._session.api.project(self._model.project_id))

    def mark_read(self) -> SyftSuccess:
        self._model = self._session.api.mark_notification(self.id, True)
        return SyftSuccess(f"Notification {self.id} marked read.")

    def mark_unread(self) -> SyftSuccess:
        self._model = self._session.api.mark_notification(self.id, False)
        return SyftSuccess(f"Notification {self.id} marked unread.")

    def __repr__(self) -> str:
        return (
            f"Notification({self.subject!r}, status={self.status.name}, "
            f"created_at={self.created_at}, id={self.id})"
        )

    def _repr_html_(self) -> str:
        return display.card(
            self.subject,
            [("Status", self.status.name), ("Created at", self.created_at), ("About", self.text),
             ("Linked object", self.linked_obj), ("Id", self.id)],
            kind="Notification",
        )  # fmt: skip


class NotificationCollection(Collection[Notification]):
    """``client.notifications``: your inbox, newest first."""

    title = "Notifications"
    headers = ("Subject", "Status", "Created at", "Linked object", "ID")
    list_when_created = False  # an inbox may be long: read it when it is used

    def __init__(self, session: Session, status: str | None = None):
        session.ensure_user()
        self._status = status
        super().__init__(session)

    def _fetch(self) -> Iterable[Notification]:
        items = self._session.api.notifications(status=self._status)
        return (Notification(self._session, n) for n in items)

    def _row(self, n: Notification) -> list[Any]:
        return [n.subject, n.status.name.capitalize(), n.created_at, n.linked_obj or "", n.id]

    def _find(self, key: str) -> Notification:
        for item in self._items:
            if item.id == key:
                return item
        return Notification(self._session, self._session.api.notification(key))

    # --- PySyft's names ----------------------------------------------------------------------
    def get_all_unread(self) -> list[Notification]:
        return NotificationCollection(self._session, "unread").get_all()

    def get_all_read(self) -> list[Notification]:
        return NotificationCollection(self._session, "read").get_all()

    @property
    def unread(self) -> list[Notification]:
        """Your unread notifications, newest first."""
        return self.get_all_unread()

    @property
    def unread_count(self) -> int:
        """How many of your notifications you have not read (asked of the Datasite)."""
        return int(self._session.api.notification_count().unread)

    def get_by_id(self, uid: str) -> Notification:
        return self._find(uid)

    def page(
        self, limit: int = 100, cursor: str | None = None, status: str | None = None
    ) -> tuple[list[Notification], str | None]:
        """One page, newest first: its notifications, and the cursor of the next page (None:
        this is the last one)."""
        answer = self._session.api.notifications_page(
            limit=limit, cursor=cursor, status=status, order="newest"
        )
        items = [Notification(self._session, n) for n in answer.items]
        return self.table(items), answer.next_cursor

    def mark_as_read(self, uid: str) -> Notification:
        return Notification(self._session, self._session.api.mark_notification(uid, True))

    def mark_as_unread(self, uid: str) -> Notification:
        return Notification(self._session, self._session.api.mark_notification(uid, False))

    def mark_read(self) -> SyftSuccess:
        """Mark all your notifications read."""
        answer = self._session.api.mark_notifications(True)
        self._loaded = None
        return SyftSuccess(f"{answer.changed} notification(s) marked read.")

    def mark_unread(self) -> SyftSuccess:
        """Mark all your notifications unread."""
        answer = self._session.api.mark_notifications(False)
        self._loaded = None
        return SyftSuccess(f"{answer.changed} notification(s) marked unread.")

    # --- mail --------------------------------------------------------------------------------
    @property
    def preferences(self) -> models.NotificationPreferences:
        """How you get notifications by mail, and whether this Datasite sends mail."""
        return self._session.api.notification_preferences()

    def user_settings(self) -> models.NotificationPreferences:
        """PySyft's name for ``preferences``."""
        return self.preferences

    def set_email(self, choice: str) -> SyftSuccess:
        """``"instant"`` (each one by mail), ``"digest"`` (the unread ones, once a day) or
        ``"off"``. Mail goes out only where the Datasite's owners set it up."""
        if choice not in MAIL_CHOICES:
            raise SyftException(
                f"Choose how notifications come by mail: one of {', '.join(MAIL_CHOICES)}, "
                f"not {str(choice)[:40]!r}."
            )
        answer = self._session.api.set_notification_preferences(choice)
        note = "" if answer.mail_enabled else " (this Datasite does not send mail yet)"
        return SyftSuccess(f"Notifications by mail: {answer.email.value}{note}.")

    def activate(self) -> SyftSuccess:
        """PySyft's name: each notification by mail as it happens."""
        return self.set_email("instant")

    def deactivate(self) -> SyftSuccess:
        """PySyft's name: no notifications by mail."""
        return self.set_email("off")

    def __repr__(self) -> str:
        if not self._items:
            return "No notifications."
        return super().__repr__()
