"""``client.settings``: read and change a Datasite's settings (owners)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import display
from ..errors import SyftException, SyftSuccess
from . import eager

if TYPE_CHECKING:
    from .session import Session


class DatasiteSettings:
    def __init__(self, values: dict[str, Any]):
        self._values = dict(values)

    def __getattr__(self, key: str) -> Any:
        try:
            return self._values[key]
        except KeyError:
            raise AttributeError(f"No setting {key!r}; settings: {', '.join(sorted(self._values))}")

    def to_dict(self) -> dict[str, Any]:
        return dict(self._values)

    def __repr__(self) -> str:
        return "DatasiteSettings(" + ", ".join(f"{k}={v!r}" for k, v in self._values.items()) + ")"

    def _repr_html_(self) -> str:
        return display.listing(
            "Datasite settings", ["Setting", "Value"], list(self._values.items())
        )


class Welcome:
    """A Datasite's welcome message (Markdown), as PySyft's ``welcome_show()`` gives it: shown
    as formatted text in a notebook; any HTML in it is shown as text, never run."""

    def __init__(self, markdown: str):
        self.markdown = markdown

    def __str__(self) -> str:
        return self.markdown

    def __repr__(self) -> str:
        return self.markdown or "(no welcome message; owners set one with welcome_customize)"

    def _repr_html_(self) -> str:
        return f'{display.STYLE}<div class="jsyft">{display.markdown_html(self.markdown)}</div>'


# PySyft 0.9's settings that have no setting here: why (a value that would change the outcome
# is refused in _from_pysyft).
PYSYFT_ONLY_SETTINGS = {
    "association_request_auto_approval": "Datasites do not associate with each other here",
    "eager_execution_enabled": "there is no eager execution: code runs as Syft functions",
}
# PySyft's names of settings that have another name here.
PYSYFT_SETTING_NAMES = {"notifications_enabled": "mail_enabled"}
_NO_HTML = (
    "A welcome message here is Markdown (markdown=...): raw HTML (html=...) would run in "
    "every visitor's notebook, so it is not taken."
)


def _from_pysyft(changes: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """``changes`` in our names, and a note for each PySyft setting that has no job here."""
    if changes.get("eager_execution_enabled"):
        eager.refuse("eager_execution_enabled=True")
    ours: dict[str, Any] = {}
    notes: list[str] = []
    for key, value in changes.items():
        if key in PYSYFT_ONLY_SETTINGS:
            notes.append(f"{key} ({PYSYFT_ONLY_SETTINGS[key]})")
        else:
            ours[PYSYFT_SETTING_NAMES.get(key, key)] = value
    return ours, notes


class SettingsAPI:
    def __init__(self, session: Session):
        self._session = session

    def get(self) -> DatasiteSettings:
        return DatasiteSettings(self._session.api.settings().to_json())

    def update(self, **changes: Any) -> SyftSuccess:
        """Change settings (owners): ``update(name=, organization=, description=,
        admin_email=, signup_enabled=, ...)``; ``client.settings`` lists them. PySyft's own
        ``association_request_auto_approval`` and ``eager_execution_enabled=False`` are taken
        and said to be not needed here; ``notifications_enabled`` is ``mail_enabled``."""
        changes, notes = _from_pysyft(changes)
        not_needed = f" Not needed here, so not used: {'; '.join(notes)}." if notes else ""
        if not changes:
            return SyftSuccess("No setting changed." + not_needed)
        values = self._session.api.update_settings(changes).to_json()
        metadata = self._session.metadata
        self._session.metadata = metadata.model_copy(
            update={k: v for k, v in values.items() if k in type(metadata).model_fields}
        )
        return SyftSuccess(
            "Settings updated: " + ", ".join(sorted(changes)) + "." + not_needed,
            value=DatasiteSettings(values),
        )

    def set(self, settings: DatasiteSettings | dict[str, Any]) -> SyftSuccess:
        """Save a whole settings object (``s = client.settings.get()`` ... ``set(s)``): the
        values that differ from the Datasite's are changed."""
        if isinstance(settings, DatasiteSettings):
            wanted = settings.to_dict()
        elif isinstance(settings, dict):
            wanted = dict(settings)
        else:
            raise SyftException(
                "client.settings.set takes the object client.settings.get() gave (or a dict "
                f"of settings), not {type(settings).__name__}."
            )
        current = self.get().to_dict()
        changes = {k: v for k, v in wanted.items() if k not in current or current[k] != v}
        return self.update(**changes)

    def welcome_preview(self, markdown: str = "", html: str = "") -> Welcome:
        """How ``markdown`` would look as the welcome message (nothing is saved)."""
        if html:
            raise SyftException(_NO_HTML)
        return Welcome(str(markdown))

    def welcome_customize(self, markdown: str = "", html: str = "") -> SyftSuccess:
        """Set the welcome message (Markdown; owners) that everyone sees when they log in."""
        if html:
            raise SyftException(_NO_HTML)
        self.update(welcome_markdown=str(markdown))
        return SyftSuccess(
            "Welcome message saved: everyone sees it when they log in "
            "(client.settings.welcome_show())."
        )

    def welcome_show(self) -> Welcome:
        """The Datasite's welcome message (anyone may read it)."""
        metadata = self._session.api.metadata()
        text = metadata.get("welcome_markdown", "") if isinstance(metadata, dict) else ""
        return Welcome(text if isinstance(text, str) else "")

    def allow_guest_signup(self, enable: bool = True) -> SyftSuccess:
        self.update(signup_enabled=bool(enable))
        return SyftSuccess(
            f"Registration feature successfully {'enabled' if enable else 'disabled'}"
        )

    def enable_notifications(
        self,
        email_username: str | None = None,
        email_password: str | None = None,
        email_sender: str | None = None,
        email_server: str | None = None,
        email_port: int | None = None,
        password_env: str | None = None,
    ) -> SyftSuccess:
        """PySyft's call (owners): send notifications by mail through this SMTP server. The
        password is never sent or stored: put it in an environment variable of the Datasite's
        process and name it (``password_env=``, the setting ``smtp_password_env``)."""
        if email_password is not None:
            raise SyftException(
                "The mail server's password is not sent to the Datasite: set it in an "
                "environment variable of the Datasite's process (e.g. SMTP_PASSWORD) and "
                "name it: client.settings.enable_notifications(..., password_env='SMTP_PASSWORD')."
            )
        given = {
            "smtp_user": email_username,
            "mail_from": email_sender,
            "smtp_host": email_server,
            "smtp_port": email_port,
            "smtp_password_env": password_env,
        }
        self.update(mail_enabled=True, **{k: v for k, v in given.items() if v is not None})
        return SyftSuccess("Notifications by mail enabled.")

    def disable_notifications(self) -> SyftSuccess:
        """Stop sending notifications by mail (inboxes keep filling)."""
        self.update(mail_enabled=False)
        return SyftSuccess("Notifications by mail disabled.")

    def __repr__(self) -> str:
        return repr(self.get())

    def _repr_html_(self) -> str:
        return self.get()._repr_html_()
