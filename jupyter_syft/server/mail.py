"""Notifications by mail: plain-text messages sent from a background thread, with retries.

The Datasite's owners set the mail server up in its settings (``smtp_host``, ``smtp_port``,
``smtp_security``, ``smtp_user``, ``smtp_password_env``, ``mail_from``, ``public_url``,
``mail_enabled``); the password is never stored: ``smtp_password_env`` names the environment
variable of the Datasite's process that holds it. Sending uses the standard library
(``smtplib``, ``email``). A message waits in a bounded queue and one thread sends it, trying
again with a growing pause (``backoff`` seconds, doubled each time) when the server cannot be
reached or answers with a temporary error; so a slow or failing mail server never slows or fails
the request whose change caused the mail. A message the queue has no room for is dropped and
logged (the notification itself stays in its inbox).
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import smtplib
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

log = logging.getLogger("jupyter_syft.server")

QUEUE_SIZE = 1000  # messages waiting to be sent
CONNECT_TIMEOUT_S = 20.0
SUBJECT_LIMIT = 200


@dataclass(frozen=True)
class MailSettings:
    """The Datasite's mail settings, as read when a message is sent."""

    enabled: bool = False
    host: str = ""
    port: int = 587
    security: str = "starttls"  # starttls | tls | none (wire.enums.SmtpSecurity)
    user: str = ""
    password_env: str = ""
    sender: str = ""
    public_url: str = ""

    @classmethod
    def from_values(cls, values: dict[str, Any]) -> MailSettings:
        return cls(
            enabled=bool(values.get("mail_enabled")),
            host=str(values.get("smtp_host") or ""),
            port=int(values.get("smtp_port") or 587),
            security=str(values.get("smtp_security") or "starttls"),
            user=str(values.get("smtp_user") or ""),
            password_env=str(values.get("smtp_password_env") or ""),
            sender=str(values.get("mail_from") or ""),
            public_url=str(values.get("public_url") or ""),
        )

    @property
    def ready(self) -> bool:
        """Mail is on and can be sent: a server and a sender address."""
        return self.enabled and bool(self.host) and bool(self.sender)

    def password(self) -> str | None:
        if not self.password_env:
            return None
        return os.environ.get(self.password_env)


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str
    # called on the mail thread once the message was accepted by the server
    on_sent: Callable[[], None] | None = None


class PermanentFailure(Exception):
    """Trying again will not help (wrong password, a refused address, a missing setting)."""


def build_message(settings: MailSettings, mail: Mail) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = mail.to
    # One line, bounded: a subject comes from names people chose (no header injection).
    subject = " ".join(mail.subject.split())[:SUBJECT_LIMIT]
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain=settings.sender.rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(mail.body)
    return message


def send_now(settings: MailSettings, message: EmailMessage) -> None:
    """Send one message; ``PermanentFailure`` when trying again cannot help, any other
    exception (``OSError``, ``smtplib.SMTPException``) when it may."""
    context = ssl.create_default_context()
    password = settings.password()
    if settings.user and password is None:
        raise PermanentFailure(
            f"smtp_user is set but the environment variable {settings.password_env or '(none)'} "
            "named by smtp_password_env is not: set it for the Datasite's process."
        )
    smtp: smtplib.SMTP
    if settings.security == "tls":
        smtp = smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=CONNECT_TIMEOUT_S, context=context
        )
    else:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=CONNECT_TIMEOUT_S)
    with smtp:
        smtp.ehlo()
        if settings.security == "starttls":
            smtp.starttls(context=context)
            smtp.ehlo()
        if settings.user:
            try:
                smtp.login(settings.user, password or "")
            except smtplib.SMTPAuthenticationError as exc:
                raise PermanentFailure(f"the mail server refused the login: {exc.smtp_code}")
        try:
            smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentFailure(f"the mail server refused {', '.join(exc.recipients)}")
        except smtplib.SMTPResponseException as exc:
            if 500 <= exc.smtp_code < 600:
                raise PermanentFailure(f"the mail server answered {exc.smtp_code}") from None
            raise


class Mailer:
    """Sends ``Mail`` on its own thread. ``settings`` is read for each message, so a change of
    the Datasite's settings applies to the next one."""

    def __init__(
        self,
        settings: Callable[[], MailSettings],
        retries: int = 4,
        backoff: float = 2.0,
    ):
        self.settings = settings
        self.retries = retries  # attempts after the first
        self.backoff = backoff  # seconds before the first retry; doubled each time
        self._queue: queue.Queue[Mail | None] = queue.Queue(QUEUE_SIZE)
        self._stop = threading.Event()
        self.stats = {"sent": 0, "failed": 0, "attempts": 0, "dropped": 0}
        self._idle = threading.Condition()
        self._busy = 0
        self._thread = threading.Thread(target=self._serve, name="datasite-mail", daemon=True)
        self._thread.start()

    def send(self, mail: Mail) -> bool:
        """Queue ``mail``; never blocks. False if the queue is full (the mail is dropped)."""
        with self._idle:
            self._busy += 1
        try:
            self._queue.put_nowait(mail)
        except queue.Full:
            self._done()
            self.stats["dropped"] += 1
            log.error("Mail queue full: a notification mail to %s was dropped", mail.to)
            return False
        return True

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Until every queued message was sent or given up (tests, and a graceful stop)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout)

    def close(self, timeout: float = 5.0) -> None:
        self._stop.set()
        with contextlib.suppress(queue.Full):
            self._queue.put_nowait(None)
        self._thread.join(timeout)

    def _done(self) -> None:
        with self._idle:
            self._busy -= 1
            self._idle.notify_all()

    def _serve(self) -> None:
        while not self._stop.is_set():
            mail = self._queue.get()
            if mail is None:
                return
            try:
                self._deliver(mail)
            except Exception:  # the thread must live on for the next message
                log.exception("Sending a notification mail failed")
            finally:
                self._done()

    def _deliver(self, mail: Mail) -> None:
        delay = self.backoff
        for attempt in range(self.retries + 1):
            settings = self.settings()
            if not settings.ready:
                return  # mail was turned off meanwhile
            self.stats["attempts"] += 1
            try:
                send_now(settings, build_message(settings, mail))
            except PermanentFailure as exc:
                self.stats["failed"] += 1
                log.error("A notification mail to %s cannot be sent: %s", mail.to, exc)
                return
            except (OSError, smtplib.SMTPException) as exc:
                if attempt == self.retries:
                    self.stats["failed"] += 1
                    log.error(
                        "A notification mail to %s was not sent after %d attempts: %s",
                        mail.to,
                        attempt + 1,
                        exc,
                    )
                    return
                log.warning("Mail server %s: %s; trying again in %.1f s", settings.host, exc, delay)
                if self._stop.wait(delay):
                    return
                delay *= 2
                continue
            self.stats["sent"] += 1
            if mail.on_sent is not None:
                mail.on_sent()
            return
