"""Datasite settings: what each one is, its default, and who may read or change it."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import select

from ...wire import models as wire
from ...wire.enums import ReleaseMode, SmtpSecurity
from .. import models
from ..store import Store
from . import limits, view_cache
from .actor import Actor
from .audit import AuditLog
from .errors import BadRequest
from .view_cache import ViewCache


@dataclass(frozen=True)
class SettingSpec:
    default: Any
    type: type
    public: bool  # shown to guests and scientists in the Datasite's metadata
    doc: str
    minimum: int = 1  # for whole numbers: the smallest value accepted


SETTINGS: dict[str, SettingSpec] = {
    "name": SettingSpec("datasite", str, True, "The Datasite's name."),
    "organization": SettingSpec("", str, True, "Who runs this Datasite."),
    "description": SettingSpec("", str, True, "What this Datasite is for."),
    "admin_email": SettingSpec("", str, True, "Whom scientists contact."),
    "signup_enabled": SettingSpec(False, bool, True, "Guests may register an account."),
    "allow_guest_sessions": SettingSpec(True, bool, True, "Guests may browse datasets and mocks."),
    "allow_guest_code_requests": SettingSpec(False, bool, True, "Guests may submit code."),
    "auto_approve": SettingSpec(False, bool, True, "Approve every code request at once (demos)."),
    "welcome_markdown": SettingSpec(
        "",
        str,
        True,
        "A welcome in Markdown, shown under the Datasite's summary to everyone who logs in "
        "(PySyft's welcome_customize); HTML in it is shown as text.",
    ),
    "exec_wall_seconds": SettingSpec(300, int, False, "Wall-clock limit for one run of code."),
    "exec_cpu_seconds": SettingSpec(300, int, False, "CPU-time limit for one run of code."),
    "exec_memory_mb": SettingSpec(4096, int, False, "Memory limit for one run of code."),
    "token_ttl_hours": SettingSpec(168, int, False, "How long a login stays valid."),
    "max_upload_bytes": SettingSpec(64 << 30, int, False, "Largest value one upload may be."),
    # History (see services/retention.py); the audit log is never pruned.
    "retention_days_runs": SettingSpec(
        0,
        int,
        False,
        "Days a run's record and result are kept; 0 keeps them for good (the default: they "
        "say what left the Datasite). The latest private result of each function always stays.",
        minimum=0,
    ),
    "retention_days_jobs": SettingSpec(
        90, int, False, "Days a finished job is kept (its run stays); 0 keeps them for good.", 0
    ),
    "orphan_grace_hours": SettingSpec(
        24, int, False, "Hours an uploaded value no dataset uses is kept before it is deleted."
    ),
    # Output checking (jupyter_syft.disclosure): public, so scientists know before they run.
    "release": SettingSpec(
        ReleaseMode.ON_APPROVAL.value,
        ReleaseMode,
        True,
        "When a result of a run on private data is released: 'on_approval' (at once, with its "
        "disclosure report), 'checked' (at once if every check passes, else held for an "
        "owner) or 'manual' (every one held for an owner).",
    ),
    "disclosure_rules": SettingSpec(
        "acro",
        dict,
        False,
        "The disclosure checks' rule set: a preset name ('acro', 'opensafely', 'datashield') "
        'or an object of values over a preset ({"preset": "acro", "safe_threshold": 5}).',
    ),
    "release_reviewers": SettingSpec(
        1,
        int,
        False,
        "How many owners decide a held output: 1 (one owner releases or withholds it) or 2 "
        "(two owners' votes must agree, each voting without seeing the other's; neither may be "
        "its requester).",
    ),
    "push_connections_per_user": SettingSpec(
        8,
        int,
        False,
        "Live-update streams (the sidebar's push channel) one account may have open at once; "
        "one more is refused with 429.",
    ),
    # Notifications (services/notifications.py) and their mail (server/mail.py).
    "notification_retention_days": SettingSpec(
        90, int, False, "Days a notification stays in its inbox; 0 keeps them for good.", 0
    ),
    "mail_enabled": SettingSpec(
        False, bool, False, "Send notifications by mail (needs smtp_host and mail_from)."
    ),
    "smtp_host": SettingSpec("", str, False, "The mail server's host name."),
    "smtp_port": SettingSpec(587, int, False, "The mail server's port (587, 465, 25...)."),
    "smtp_security": SettingSpec(
        SmtpSecurity.STARTTLS.value,
        SmtpSecurity,
        False,
        "How to talk to the mail server: 'starttls', 'tls' or 'none' (a relay on this machine).",
    ),
    "smtp_user": SettingSpec("", str, False, "The mail server's user name ('' for none)."),
    "smtp_password_env": SettingSpec(
        "",
        str,
        False,
        "The name of the environment variable of the Datasite's process that holds the mail "
        "server's password (the password itself is never stored).",
    ),
    "mail_from": SettingSpec("", str, False, "The address notifications are sent from."),
    "public_url": SettingSpec(
        "", str, False, "The URL people open this Datasite (or its JupyterLab) at, for links."
    ),
    # Environments for user code (server/environments/): where their packages come from.
    "environment_index_url": SettingSpec(
        "",
        str,
        False,
        "The package index environments are built from (an https:// URL, e.g. your own "
        "mirror's); '' is PyPI.",
    ),
    "environment_find_links": SettingSpec(
        "",
        str,
        False,
        "A folder on the Datasite (an absolute path) or a URL of wheels to build environments "
        "from as well, e.g. an offline mirror; '' for none.",
    ),
    "environment_no_index": SettingSpec(
        False,
        bool,
        False,
        "Build environments from environment_find_links only, never from a package index.",
    ),
    "environment_allow_sdist": SettingSpec(
        False,
        bool,
        False,
        "Let environments be built from source distributions, whose build code then runs on "
        "the Datasite (off: wheels only; an environment can also allow it for itself).",
    ),
}


# Texts are capped like any user-supplied text; numbers so that no use of them can overflow
# (a login's expiry, a run's limits).
TEXT_LIMITS = {
    "name": limits.NAME,
    "admin_email": limits.SHORT_TEXT,
    "smtp_host": limits.NAME,
    "smtp_user": limits.NAME,
    "smtp_password_env": limits.NAME,
    "mail_from": limits.NAME,
    "public_url": limits.SHORT_TEXT,
    "environment_index_url": limits.SHORT_TEXT,
    "environment_find_links": limits.SHORT_TEXT,
}
INT_LIMITS = {
    "token_ttl_hours": 24 * 365 * 10,
    "push_connections_per_user": 1000,
    "smtp_port": 65535,
}
MAX_INT = 1 << 50


_SETTINGS_TABLE = models.Setting.__table__  # type: ignore[attr-defined]
_STORED = sa_select(_SETTINGS_TABLE.c.key, _SETTINGS_TABLE.c.value)


class SettingsService:
    """Every read is one primary-key read (the settings' generation, ``view_cache.SETTINGS``)
    while nothing changed: the values are kept between calls, and every write of a setting
    bumps the generation in its own transaction, so a change made by another process sharing
    the database is seen on the next call."""

    def __init__(self, store: Store, audit: AuditLog):
        self.store = store
        self.audit = audit
        self._kept: ViewCache[dict[str, Any]] = ViewCache(store, view_cache.SETTINGS)

    def values(self) -> dict[str, Any]:
        """All settings, for the services' own use (the caller's copy)."""
        return {key: _copy(value) for key, value in self._current().items()}

    def value(self, key: str) -> Any:
        # Read on hot paths (each request's auto-approval, each upload's limit).
        return _copy(self._current()[key])

    def _current(self) -> dict[str, Any]:
        return self._kept.get("all", self._read)

    def _read(self) -> dict[str, Any]:
        with self.store.engine.connect() as connection:
            stored = {row.key: row.value for row in connection.execute(_STORED)}
        return {key: stored.get(key, spec.default) for key, spec in SETTINGS.items()}

    def public(self) -> dict[str, Any]:
        return {k: v for k, v in self.values().items() if SETTINGS[k].public}

    def get(self, actor: Actor) -> wire.Settings:
        """All of them for owners; the public ones for everyone else."""
        return wire.Settings(**(self.values() if actor.is_owner else self.public()))

    def update(self, actor: Actor, changes: wire.SettingsUpdate) -> wire.Settings:
        actor.require_owner("change the Datasite's settings")
        clean = self._validate(changes.given())
        with self.store.session() as session:
            for key, value in clean.items():
                session.merge(models.Setting(key=key, value=value))
            view_cache.bump(session, view_cache.SETTINGS)
            session.commit()
        self.audit.record(actor, "settings.update", "settings", "", changes=clean)
        return wire.Settings(**self.values())

    def initialize(self, **values: Any) -> None:
        """Set values at start-up only where none is stored yet."""
        clean = self._validate(values)
        with self.store.session() as session:
            stored = set(session.exec(select(models.Setting.key)))
            missing = {key: value for key, value in clean.items() if key not in stored}
            for key, value in missing.items():
                session.add(models.Setting(key=key, value=value))
            if missing:
                view_cache.bump(session, view_cache.SETTINGS)
            session.commit()

    def force(self, **values: Any) -> None:
        """Set values at start-up whatever is stored (a host's explicit configuration)."""
        clean = self._validate(values)
        with self.store.session() as session:
            for key, value in clean.items():
                session.merge(models.Setting(key=key, value=value))
            view_cache.bump(session, view_cache.SETTINGS)
            session.commit()

    @staticmethod
    def _validate(changes: dict[str, Any]) -> dict[str, Any]:
        clean: dict[str, Any] = {}
        for key, value in changes.items():
            spec = SETTINGS.get(key)
            if spec is None:
                known = ", ".join(sorted(SETTINGS))
                raise BadRequest(
                    f"Unknown setting {limits.clip(key)}. Settings you can change: {known}."
                )
            shown = limits.clip(value)
            if spec.type is ReleaseMode:
                clean[key] = _release_mode(value)
                continue
            if spec.type is SmtpSecurity:
                clean[key] = _smtp_security(value)
                continue
            if key == "disclosure_rules":
                clean[key] = _disclosure_rules(value)
                continue
            if spec.type is bool and not isinstance(value, bool):
                raise BadRequest(f"Setting {key!r} takes True or False, not {shown}.")
            if spec.type is int and (isinstance(value, bool) or not isinstance(value, int)):
                raise BadRequest(f"Setting {key!r} takes a whole number, not {shown}.")
            if spec.type is str and not isinstance(value, str):
                raise BadRequest(f"Setting {key!r} takes text, not {shown}.")
            if spec.type is str:
                limits.check_text(value, f"Setting {key!r}", TEXT_LIMITS.get(key, limits.TEXT))
            if spec.type is int and value > INT_LIMITS.get(key, MAX_INT):
                raise BadRequest(
                    f"Setting {key!r} is too large: {INT_LIMITS.get(key, MAX_INT)} at most."
                )
            if key in ("environment_index_url", "environment_find_links") and value:
                _package_source(key, value)
            if key == "release_reviewers" and value not in (1, 2):
                raise BadRequest(
                    f"Setting 'release_reviewers' takes 1 (one owner decides a held output) "
                    f"or 2 (two owners must agree), not {shown}."
                )
            if spec.type is int and value < spec.minimum:
                raise BadRequest(
                    f"Setting {key!r} must be positive."
                    if spec.minimum == 1
                    else f"Setting {key!r} must be at least {spec.minimum}."
                )
            clean[key] = value
        return clean


def _copy(value: Any) -> Any:
    """A kept value as the caller's own (an object, e.g. ``disclosure_rules``, is copied)."""
    return copy.deepcopy(value) if isinstance(value, (dict, list)) else value


def _package_source(key: str, value: str) -> None:
    """An index URL (http(s)) or, for find-links, also an absolute folder path; nothing that
    uv could read as an option."""
    if value != value.strip() or any(c.isspace() for c in value):
        raise BadRequest(f"Setting {key!r} takes a URL or path without spaces.")
    if value.startswith(("https://", "http://")):
        return
    if key == "environment_find_links" and value.startswith("/"):
        return
    where = "an http(s):// URL" + (" or an absolute folder path" if "find" in key else "")
    raise BadRequest(f"Setting {key!r} takes {where}, not {limits.clip(value)}.")


def _release_mode(value: Any) -> str:
    try:
        return ReleaseMode(value).value
    except ValueError:
        modes = ", ".join(repr(m.value) for m in ReleaseMode)
        raise BadRequest(f"Setting 'release' takes one of {modes}, not {limits.clip(value)}.")


def _smtp_security(value: Any) -> str:
    try:
        return SmtpSecurity(value).value
    except ValueError:
        choices = ", ".join(repr(m.value) for m in SmtpSecurity)
        raise BadRequest(
            f"Setting 'smtp_security' takes one of {choices}, not {limits.clip(value)}."
        ) from None


def _disclosure_rules(value: Any) -> Any:
    """A preset name or an object over one, checked by the rule engine; stored as given (None:
    the default preset)."""
    from ...disclosure import RuleSet  # the engine is pure and small, but only needed here

    if value is None:
        return SETTINGS["disclosure_rules"].default
    if isinstance(value, str):
        limits.check_text(value, "Setting 'disclosure_rules'", limits.SHORT_TEXT)
    elif isinstance(value, dict):
        if len(json.dumps(value, default=str)) > limits.SHORT_TEXT:
            raise BadRequest(
                f"Setting 'disclosure_rules' is too long: {limits.SHORT_TEXT} characters at most."
            )
    else:
        raise BadRequest(
            "Setting 'disclosure_rules' takes a preset name or an object, "
            f"not {limits.clip(value)}."
        )
    try:
        RuleSet.from_json(value)
    except ValueError as exc:
        raise BadRequest(f"Setting 'disclosure_rules': {limits.clip(str(exc), 300)}") from None
    return value


def rule_set(value: Any) -> Any:
    """The RuleSet a stored ``disclosure_rules`` value names (the default preset if the stored
    value no longer validates, e.g. after an upgrade renamed a rule)."""
    from ...disclosure import RuleSet

    try:
        return RuleSet.from_json(value)
    except ValueError:
        return RuleSet.from_json(None)
