"""Notifications by mail (issue 15), sent to a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import email
import email.policy
import socket
import ssl

import pandas as pd
import pytest

import jupyter_syft as sy

aiosmtpd = pytest.importorskip("aiosmtpd")
from aiosmtpd.controller import Controller  # noqa: E402
from aiosmtpd.smtp import AuthResult, LoginPassword  # noqa: E402

from jupyter_syft.server.services.notifications import Draft  # noqa: E402
from jupyter_syft.wire.enums import NotificationKind  # noqa: E402

MARKER = "PRIVATE-MAIL-39d2"
SENDER = "datasite@example.org"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Received:
    """What the SMTP server was sent: one parsed message per mail, with its envelope."""

    def __init__(self) -> None:
        self.mails: list[tuple[list[str], email.message.EmailMessage]] = []
        self.logins: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's handler hook
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.mails.append((list(envelope.rcpt_tos), message))
        return "250 OK"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for rcpt, m in self.mails if address in rcpt]

    def everything(self) -> str:
        return "\n".join(m.as_string() for _, m in self.mails)


@pytest.fixture
def smtp():
    received = Received()
    controller = Controller(received, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield received, controller.port
    controller.stop()


def _service(node):
    return node.datasite.services.notifications


def _delivered(node) -> None:
    assert _service(node).flush(30)
    assert _service(node).mailer.wait_idle(60)


def _mail_on(root, port: int, security: str = "none", **more) -> None:
    root.settings.update(
        mail_enabled=True,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security=security,
        mail_from=SENDER,
        public_url="https://lab.example.org/",
        **more,
    )


@pytest.fixture
def secret(root):
    private = pd.DataFrame({"name": [MARKER, "b"], "v": [1, 2]})
    mock = pd.DataFrame({"name": ["m1", "m2"], "v": [0, 0]})
    root.upload_dataset(
        sy.Dataset(name="Secret", asset_list=[sy.Asset(name="t", data=private, mock=mock)]),
        progress=False,
    )


def test_instant_mail_says_what_happened_and_never_a_private_value(
    node, root, scientist, secret, smtp
):
    received, port = smtp
    asset = scientist.datasets[0].assets[0]

    @sy.syft_function_single_use(data=asset)
    def shout(data):
        raise ValueError(data["name"][0])

    scientist.code.request_code_execution(shout)
    _delivered(node)
    assert received.mails == []  # mail is off until an owner sets it up
    _mail_on(root, port)
    root.requests[0].approve()
    job = scientist.code.shout(data=asset, blocking=False)
    with pytest.raises(sy.SyftException):
        job.wait(timeout=120).get()
    _delivered(node)
    mails = received.to("ds@example.org")
    subjects = sorted(str(m["Subject"]) for m in mails)
    assert subjects == [
        f"[{root.name}] Approved: shout",
        f"[{root.name}] Job failed: shout",
    ], subjects
    failed = next(m for m in mails if "Job failed" in str(m["Subject"]))
    assert failed["From"] == SENDER and failed["Auto-Submitted"] == "auto-generated"
    body = failed.get_content()
    assert "read why with client.jobs" in body
    assert "https://lab.example.org/" in body and 'set_email("instant"' in body
    # The inbox repeats the error its reader already sees on client.jobs; mail never does.
    note = next(n for n in scientist.notifications if n.kind == "job_failed")
    assert "ValueError" in note.text
    assert MARKER not in received.everything()
    assert all(n.to_json().get("mailed") is None for n in scientist.session.api.notifications())


def test_starttls_with_a_password_from_the_environment(node, root, tmp_path, monkeypatch):
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))  # the Datasite trusts this test CA
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "s3cret-pw")
    received = Received()

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.password == b"s3cret-pw"
        received.logins.append(auth_data.login if ok else b"refused")
        return AuthResult(success=ok, handled=False)  # aiosmtpd then answers 535

    controller = Controller(
        received,
        hostname="127.0.0.1",
        port=_free_port(),
        tls_context=server_context,
        require_starttls=True,
        auth_required=True,
        authenticator=authenticator,
    )
    controller.start()
    try:
        _mail_on(
            root,
            controller.port,
            security="starttls",
            smtp_user="mailer",
            smtp_password_env="TEST_SMTP_PASSWORD",
        )
        settings = root.settings.get()
        assert settings.smtp_password_env == "TEST_SMTP_PASSWORD"
        assert "s3cret" not in repr(settings)  # the password itself is never stored
        root.settings.allow_guest_signup(enable=True)
        node.register(name="Sam", email="sam@example.org", password="pw-sam-123")
        _delivered(node)
        [mail] = received.to("info@openmined.org")
        assert str(mail["Subject"]).endswith("New account: sam@example.org")
        assert received.logins == [b"mailer"]
        # a refused login is not tried again: another password will not come by waiting
        monkeypatch.setenv("TEST_SMTP_PASSWORD", "wrong")
        mailer = _service(node).mailer
        before = dict(mailer.stats)
        node.register(name="Kim", email="kim@example.org", password="pw-kim-123")
        _delivered(node)
        assert mailer.stats["attempts"] - before["attempts"] == 1
        assert mailer.stats["failed"] - before["failed"] == 1
        assert len(received.mails) == 1 and received.logins[-1] == b"refused"
    finally:
        controller.stop()


def test_a_failing_mail_server_is_retried_and_never_fails_the_request(node, root, scientist):
    service = _service(node)
    service.mailer.backoff = 0.01  # the real pause starts at 2 s
    _mail_on(root, _free_port())  # nothing listens there: connection refused
    before = dict(service.mailer.stats)
    root.settings.allow_guest_signup(enable=True)
    user = node.register(name="Sam", email="sam@example.org", password="pw-sam-123")
    assert user is not None  # the sign-up itself went through
    _delivered(node)
    stats = service.mailer.stats
    assert stats["attempts"] - before["attempts"] == service.mailer.retries + 1
    assert stats["failed"] - before["failed"] == 1 and stats["sent"] == before["sent"]
    # the notification is in the inbox all the same
    assert [n.kind for n in root.notifications] == ["signup"]


def test_daily_digest_of_what_is_still_unread(node, root, scientist, smtp):
    received, port = smtp
    _mail_on(root, port)
    scientist.notifications.set_email("digest")
    root.notifications.set_email("off")
    me = scientist.account.id
    _service(node)._write(
        [
            Draft([me, root.account.id], NotificationKind.DATASET_NEW, f"Note {i}", f"text {i}")
            for i in range(3)
        ]
    )
    _delivered(node)
    assert received.mails == []  # digest and off: nothing at once
    scientist.notifications[0].mark_read()  # read ones are not mailed
    assert _service(node).send_digests(force=True) == 1
    _delivered(node)
    [digest] = received.to("ds@example.org")
    assert str(digest["Subject"]).endswith("2 unread notifications")
    body = digest.get_content()
    assert "- Note 1: text 1" in body and "- Note 0: text 0" in body and "Note 2" not in body
    assert received.to("info@openmined.org") == []
    # what went out is not mailed again, and the next digest waits a day
    assert _service(node).send_digests(force=True) == 0
    assert _service(node).send_digests() == 0
    _delivered(node)
    assert len(received.mails) == 1


def test_mail_settings_are_checked(root):
    with pytest.raises(sy.SyftException, match="'starttls', 'tls' or 'none'"):
        root.settings.update(smtp_security="ssl3")
    with pytest.raises(sy.SyftException, match="too large"):
        root.settings.update(smtp_port=70000)
    with pytest.raises(sy.SyftException, match="too long"):
        root.settings.update(mail_from="x" * 500)


def test_pysyfts_enable_notifications_never_takes_a_password(root, smtp):
    _received, port = smtp
    with pytest.raises(sy.SyftException, match="environment variable"):
        root.settings.enable_notifications(email_password="hunter2", email_server="127.0.0.1")
    root.api.services.settings.enable_notifications(
        email_username="mailer",
        email_sender=SENDER,
        email_server="127.0.0.1",
        email_port=port,
        password_env="SMTP_PASSWORD",
    )
    settings = root.settings.get()
    assert settings.mail_enabled and settings.smtp_port == port
    assert settings.smtp_password_env == "SMTP_PASSWORD"
    assert root.notifications.preferences.mail_enabled
    root.settings.disable_notifications()
    assert not root.settings.get().mail_enabled
