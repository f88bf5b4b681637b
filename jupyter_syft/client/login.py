"""Connecting to a Datasite: ``sy.login`` and ``sy.login_as_guest``."""

from __future__ import annotations

from typing import Any

from ..errors import SyftException
from .api import DatasiteAPI
from .client import DatasiteClient
from .connection import resolve_url


def login(
    url: str | None = "localhost",
    port: int | str | None = None,
    email: str | None = None,
    password: str | None = None,
    verbose: bool = True,
    **_ignored: Any,
) -> DatasiteClient:
    """Log in with an account. Missing email or password are asked for (password hidden)."""
    base = resolve_url(url, port)
    if email is None:
        email = _ask("Email: ", secret=False)
    if password is None:
        password = _ask(f"Password for {email}: ", secret=True)
    client, warnings = DatasiteClient.log_in(base, email, password)
    if verbose:
        client._announce(warnings)
    return client


def login_as_guest(
    url: str | None = "localhost", port: int | str | None = None, verbose: bool = True, **_: Any
) -> DatasiteClient:
    client = DatasiteClient.connect(DatasiteAPI.at(resolve_url(url, port)), None)
    if verbose:
        print(f"Logged into <{client.name}: High side Datasite> as GUEST")
    return client


def login_local(
    email: str | None = None,
    password: str | None = None,
    verbose: bool = True,
    url: str | None = None,
) -> DatasiteClient:
    """Connect to the Datasite hosted by the JupyterLab that started this kernel.

    Without arguments you act as its owner (the person running JupyterLab), with no URL or
    password to type. With ``email`` and ``password`` you log in as that account instead, e.g.
    to try the data scientist's side of a demo on the same Datasite.

    In a kernel no JupyterLab started (a terminal, another JupyterLab's kernel), it joins the
    only JupyterLab Datasite running on this machine; when several run, say which with
    ``url=`` (it refuses to guess). The login message names the Datasite it joined.
    """
    from ..local_session import find

    info = find(url)
    if verbose:
        print(f"Joining the JupyterLab Datasite at {info['url']} ({info['how']}).")
    if email is not None or password is not None:
        return login(url=info["url"], email=email, password=password, verbose=verbose)
    api = DatasiteAPI.at(resolve_url(info["url"]), info["token"])
    try:
        user = api.me()
    except SyftException as exc:
        raise SyftException(
            f"The JupyterLab Datasite at {info['url']} did not accept this kernel's session "
            f"({exc}). Restart the kernel, or the JupyterLab server if it was restarted."
        ) from None
    client = DatasiteClient.connect(api, user)
    if verbose:
        client._announce([], how=" (owner)")
    return client


def _ask(prompt: str, secret: bool) -> str:
    try:
        if secret:
            import getpass

            return getpass.getpass(prompt)
        return input(prompt)
    except (EOFError, OSError):
        field = "password" if secret else "email"
        raise SyftException(
            f"No {field} given and none can be asked for here: pass {field}=..."
        ) from None
