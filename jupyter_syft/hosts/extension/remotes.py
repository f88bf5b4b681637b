"""Remote Datasites the JupyterLab user works with as a data scientist, through the sidebar.

The browser sends the Datasite's address, email and password once (``POST syft/lab/remotes``);
this server logs in with the Datasite's REST API and keeps the Datasite token in memory only.
Neither the token nor the password ever goes back to the browser, into a log or onto disk.
The sidebar then calls ``syft/lab/remotes/{id}/api/v1/<path>``, which this server forwards
to the remote Datasite with the token. Only JSON comes back: a remote Datasite cannot serve
HTML or scripts from the JupyterLab origin through this proxy.

Every route needs Jupyter's login (``@tornado.web.authenticated``); the handlers are plain
Jupyter ``APIHandler`` s, so browser writes also need Jupyter's XSRF header.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import tornado.web
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest, HTTPResponse
from tornado.iostream import StreamClosedError

from ...server.http.base import parse_json_object
from ...server.services.errors import ServiceError
from ...wire import routes
from ...wire.contract import EVENT_STREAM
from .handlers import JupyterApiHandler

REMOTE_API = routes.API_PREFIX
CONNECT_TIMEOUT = 10.0
REQUEST_TIMEOUT = 600.0  # a run on mocks may take as long as the Datasite's run limits allow
MAX_JSON_BYTES = 16 << 20
STREAM_TIMEOUT = 3600.0  # longer than a remote stream lives (server/push.py MAX_AGE_SECONDS)
MAX_RELAYED_BYTES = 64 << 20  # one relayed stream at most; then the client reconnects
FORWARD_METHODS = ("GET", "POST", "PATCH", "DELETE")
SETTINGS_KEY = "jupyter_syft_remotes"


class RemoteError(ServiceError):
    """A failure to report to the browser as ``{"error": code, "detail": message}``.

    An HTTP-layer error (often a remote Datasite's own status, relayed): it carries its status.
    """

    def __init__(self, status: int, code: str, detail: str):
        super().__init__(detail)
        self.http_status = status
        self.code = code


@dataclass
class RemoteConnection:
    """One login to a remote Datasite. ``token`` stays on this server."""

    id: str
    url: str
    email: str
    name: str
    role: str
    token: str = field(repr=False)

    def view(self) -> dict[str, str]:
        return {
            "id": self.id,
            "url": self.url,
            "email": self.email,
            "name": self.name,
            "role": self.role,
        }


class RemoteRegistry:
    """The remote Datasites this server is logged into (in memory; gone on restart)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_id: dict[str, RemoteConnection] = {}

    def list(self) -> list[RemoteConnection]:
        with self._lock:
            return list(self._by_id.values())

    def get(self, remote_id: str) -> RemoteConnection:
        with self._lock:
            remote = self._by_id.get(remote_id)
        if remote is None:
            raise RemoteError(
                404,
                "not_found",
                "No such remote Datasite connection (JupyterLab restarted, or you logged out); "
                "connect again.",
            )
        return remote

    def add(self, remote: RemoteConnection) -> RemoteConnection | None:
        """Keep ``remote``; returns the connection it replaces (same address and email)."""
        with self._lock:
            replaced = next(
                (
                    other
                    for other in self._by_id.values()
                    if other.url == remote.url and other.email == remote.email
                ),
                None,
            )
            if replaced is not None:
                del self._by_id[replaced.id]
                remote.id = replaced.id  # the sidebar keeps showing the same connection
            self._by_id[remote.id] = remote
            return replaced

    def remove(self, remote_id: str) -> RemoteConnection:
        remote = self.get(remote_id)
        with self._lock:
            self._by_id.pop(remote_id, None)
        return remote


def normalize_url(url: Any) -> str:
    """A Datasite address as typed (``host:port``, ``http(s)://host[:port][/base/]``) ->
    its base URL with a trailing slash. Anything but http(s) is refused."""
    from ...client.connection import resolve_url
    from ...errors import SyftException

    if not isinstance(url, str) or not url.strip():
        raise RemoteError(400, "bad_request", "Give the remote Datasite's address (URL).")
    url = url.strip()
    if "://" in url and urlsplit(url).scheme.lower() not in ("http", "https"):
        raise RemoteError(
            400, "bad_request", "Only http:// and https:// Datasite addresses can be used."
        )
    try:
        typed = urlsplit(url if "://" in url else "http://" + url)
        typed.port  # noqa: B018 - raises ValueError for a port that is not a number
        base = resolve_url(url)
    except (SyftException, ValueError):
        raise RemoteError(
            400,
            "bad_request",
            f"{url!r} is not a Datasite address; use e.g. http://datasite.example.org:8080.",
        ) from None
    if typed.username or typed.password or typed.query or typed.fragment:
        raise RemoteError(
            400,
            "bad_request",
            "Give the Datasite's address without credentials, query or fragment.",
        )
    return base


def api_path(path: str) -> str:
    """Check and re-encode a Datasite API path from the proxy route (already URL-decoded)."""
    segments = path.split("/")
    if not path or any(s in ("", ".", "..") or "\\" in s for s in segments):
        raise RemoteError(400, "bad_request", "Not a Datasite API path.")
    return "/".join(quote(s, safe="") for s in segments)


def _detail_of(response: HTTPResponse | None, fallback: str) -> tuple[str, str]:
    """The remote Datasite's ``(error, detail)``, or ``fallback`` if its answer has none."""
    if response is not None and response.body:
        try:
            data = json.loads(response.body)
        except (ValueError, UnicodeDecodeError):
            data = None
        if isinstance(data, dict) and isinstance(data.get("detail"), str):
            return str(data.get("error") or "remote_error"), data["detail"]
    return "remote_error", fallback


class _RemoteHandler(JupyterApiHandler):
    """Errors as Datasite-style JSON; never an internal detail in a reply."""

    internal_error = (
        "The remote-Datasite proxy hit an internal error (reference {ref}); see the server's log."
    )

    @property
    def registry(self) -> RemoteRegistry:
        registry = self.settings.get(SETTINGS_KEY)
        if registry is None:
            registry = self.settings[SETTINGS_KEY] = RemoteRegistry()
        return registry

    def json_body(self) -> dict[str, Any]:
        body = self.request.body or b"{}"
        if len(body) > MAX_JSON_BYTES:
            raise RemoteError(413, "too_large", "The request body is too large.")
        return parse_json_object(body)


async def _call(
    method: str,
    url: str,
    *,
    token: str | None = None,
    body: bytes | None = None,
) -> HTTPResponse:
    """One call to a remote Datasite. Network failures become a clear RemoteError; HTTP
    errors come back as the response (``raise_error=False``)."""
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if body is not None:
        headers["Content-Type"] = "application/json"
    elif method in ("POST", "PATCH"):
        body = b"{}"
        headers["Content-Type"] = "application/json"
    request = HTTPRequest(
        url,
        method=method,
        headers=headers,
        body=body,
        connect_timeout=CONNECT_TIMEOUT,
        request_timeout=REQUEST_TIMEOUT,
        follow_redirects=False,  # a redirect must not carry the token to another address
        allow_nonstandard_methods=True,
    )
    where = urlsplit(url)
    try:
        return await AsyncHTTPClient().fetch(request, raise_error=False)
    except HTTPClientError as exc:  # a timeout (599): there is no response to pass on
        if exc.response is not None and exc.code != 599:
            return exc.response
        reason = exc.message or "no answer"
    except (OSError, asyncio.TimeoutError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    raise RemoteError(
        400,
        "unreachable",
        f"Could not reach a Datasite at {where.scheme}://{where.netloc}: {reason}. "
        "Check the address and that the Datasite is running.",
    )


def _json_or_error(response: HTTPResponse, what: str) -> Any:
    if response.code >= 400:
        code, detail = _detail_of(response, f"The Datasite answered {response.code} to {what}.")
        raise RemoteError(response.code if response.code < 500 else 502, code, detail)
    try:
        return json.loads(response.body)
    except (ValueError, UnicodeDecodeError):
        raise RemoteError(
            502, "not_a_datasite", f"The answer to {what} is not JSON: is this a Datasite?"
        ) from None


class RemotesHandler(_RemoteHandler):
    """``GET``: the connections. ``POST {url, email, password}``: log in to a Datasite."""

    @tornado.web.authenticated
    async def get(self) -> None:
        self.send_json([remote.view() for remote in self.registry.list()])

    @tornado.web.authenticated
    async def post(self) -> None:
        body = self.json_body()
        base = normalize_url(body.get("url"))
        email, password = body.get("email"), body.get("password")
        if not isinstance(email, str) or not email.strip():
            raise RemoteError(400, "bad_request", "Give the email of your account there.")
        if not isinstance(password, str) or not password:
            raise RemoteError(400, "bad_request", "Give the password of your account there.")
        metadata = _json_or_error(
            await _call("GET", base + REMOTE_API + routes.METADATA), "its metadata"
        )
        if not isinstance(metadata, dict) or metadata.get("server_type") != "datasite":
            raise RemoteError(
                400, "not_a_datasite", f"{base} answers, but it is not a jupyter_syft Datasite."
            )
        payload = json.dumps({"email": email.strip(), "password": password}).encode()
        answer = _json_or_error(
            await _call("POST", base + REMOTE_API + routes.LOGIN, body=payload), "the log-in"
        )
        token = answer.get("token") if isinstance(answer, dict) else None
        user = answer.get("user") if isinstance(answer, dict) else None
        if not isinstance(token, str) or not isinstance(user, dict):
            raise RemoteError(502, "not_a_datasite", "The Datasite's log-in answer is not valid.")
        remote = RemoteConnection(
            id=secrets.token_hex(8),
            url=base,
            email=str(user.get("email") or email.strip()),
            name=str(metadata.get("name") or urlsplit(base).netloc),
            role=str(user.get("role") or ""),
            token=token,
        )
        replaced = self.registry.add(remote)
        if replaced is not None and replaced.token != token:
            await _logout(replaced)
        self.log.info("jupyter_syft: connected to the Datasite at %s as %s", base, remote.email)
        self.send_json(remote.view(), 201)


async def _logout(remote: RemoteConnection) -> None:
    """End the session on the remote Datasite; it is forgotten here either way."""
    with contextlib.suppress(RemoteError):
        await _call("POST", remote.url + REMOTE_API + routes.LOGOUT, token=remote.token)


class RemoteHandler(_RemoteHandler):
    """``DELETE``: log out of a remote Datasite and forget the connection."""

    @tornado.web.authenticated
    async def delete(self, remote_id: str) -> None:
        remote = self.registry.remove(remote_id)
        await _logout(remote)
        self.send_json({"ok": True})


class RemoteProxyHandler(_RemoteHandler):
    """Forwards the sidebar's Datasite API calls to a remote Datasite, with its token."""

    async def _forward(self, remote_id: str, path: str) -> None:
        remote = self.registry.get(remote_id)
        url = remote.url + REMOTE_API + api_path(path)
        if self.request.query:
            url += "?" + self.request.query
        method = self.request.method or "GET"
        body = None
        if method in ("POST", "PATCH"):
            body = json.dumps(self.json_body()).encode()  # JSON only, checked
        response = await _call(method, url, token=remote.token, body=body)
        content_type = response.headers.get("Content-Type", "")
        if not content_type.startswith("application/json"):
            if response.code >= 400:
                raise RemoteError(
                    response.code if response.code < 500 else 502,
                    "remote_error",
                    f"The Datasite answered {response.code} to {path}.",
                )
            raise RemoteError(
                415,
                "not_json",
                f"{path} answers with a value, not JSON; read values with the Python client.",
            )
        if response.code >= 500:
            code, detail = _detail_of(response, f"The Datasite failed on {path}.")
            raise RemoteError(502, code, detail)
        self.set_status(response.code)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(response.body)

    @tornado.web.authenticated
    async def get(self, remote_id: str, path: str) -> None:
        await self._forward(remote_id, path)

    @tornado.web.authenticated
    async def post(self, remote_id: str, path: str) -> None:
        await self._forward(remote_id, path)

    @tornado.web.authenticated
    async def patch(self, remote_id: str, path: str) -> None:
        await self._forward(remote_id, path)

    @tornado.web.authenticated
    async def delete(self, remote_id: str, path: str) -> None:
        await self._forward(remote_id, path)


class RemoteEventsHandler(_RemoteHandler):
    """Relays a remote Datasite's push channel to the sidebar: its server-sent events as they
    come (``Accept: text/event-stream``), else its JSON catch-up, like any proxied route."""

    _gone = False

    @tornado.web.authenticated
    async def get(self, remote_id: str) -> None:
        remote = self.registry.get(remote_id)
        url = remote.url + REMOTE_API + routes.EVENTS
        if self.request.query:
            url += "?" + self.request.query
        if EVENT_STREAM not in self.request.headers.get("Accept", ""):
            response = await _call("GET", url, token=remote.token)
            self.set_status(response.code if response.code < 500 else 502)
            self.set_header("Content-Type", "application/json; charset=utf-8")
            self.finish(_json_bytes(response, "events"))
            return
        await self._relay(url, remote)

    async def _relay(self, url: str, remote: RemoteConnection) -> None:
        headers = {"Accept": EVENT_STREAM, "Authorization": f"Bearer {remote.token}"}
        last = self.request.headers.get("Last-Event-ID")
        if last:
            headers["Last-Event-ID"] = last[:200]  # the remote checks it
        start: dict[str, Any] = {"status": 0, "type": ""}
        refusal = bytearray()
        relayed = 0

        def on_header(line: str) -> None:
            if line.startswith("HTTP/"):
                start["status"] = int(line.split(" ", 2)[1])
            elif line.lower().startswith("content-type:"):
                start["type"] = line.split(":", 1)[1].strip()

        def on_chunk(chunk: bytes) -> None:
            nonlocal relayed
            if self._gone:
                raise StreamClosedError()  # the browser left: end the remote stream too
            if start["status"] != 200 or not start["type"].startswith(EVENT_STREAM):
                if len(refusal) < MAX_JSON_BYTES:
                    refusal.extend(chunk)
                return
            if relayed == 0:
                self.set_header("Content-Type", EVENT_STREAM + "; charset=utf-8")
                self.set_header("Cache-Control", "no-store")
                self.set_header("X-Accel-Buffering", "no")
            relayed += len(chunk)
            if relayed > MAX_RELAYED_BYTES:
                raise StreamClosedError()  # the client reconnects, resuming from its last id
            self.write(chunk)
            self.flush()

        request = HTTPRequest(
            url,
            headers=headers,
            connect_timeout=CONNECT_TIMEOUT,
            request_timeout=STREAM_TIMEOUT,
            follow_redirects=False,
            header_callback=on_header,
            streaming_callback=on_chunk,
        )
        try:
            response = await AsyncHTTPClient().fetch(request, raise_error=False)
        except (StreamClosedError, HTTPClientError, OSError, asyncio.TimeoutError):
            response = None
        if relayed:
            if not self._finished:
                with contextlib.suppress(StreamClosedError):
                    self.finish()
            return
        status = start["status"] or (response.code if response is not None else 0)
        if status == 0 or status >= 500 or status == 599:
            raise RemoteError(
                502, "unreachable", "The remote Datasite's live updates are not reachable now."
            )
        code, detail = "remote_error", f"The Datasite answered {status} to events."
        with contextlib.suppress(ValueError, UnicodeDecodeError):
            data = json.loads(bytes(refusal))
            if isinstance(data, dict) and isinstance(data.get("detail"), str):
                code, detail = str(data.get("error") or code), data["detail"]
        # A 200 that is not a stream (an older Datasite): the sidebar polls instead.
        raise RemoteError(status if status >= 400 else 415, code, detail)

    def on_connection_close(self) -> None:
        self._gone = True
        super().on_connection_close()


def _json_bytes(response: HTTPResponse, what: str) -> bytes:
    """A remote JSON answer, checked to be JSON (a proxy passes on nothing else)."""
    if not response.headers.get("Content-Type", "").startswith("application/json"):
        raise RemoteError(
            502 if response.code < 400 or response.code >= 500 else response.code,
            "not_json",
            f"The Datasite's answer to {what} is not JSON.",
        )
    return response.body


def remote_routes() -> list[tuple[str, type]]:
    """The remote-Datasite routes, relative to the server's base_url (no leading slash)."""
    remote_id = r"([0-9a-f]{16})"
    return [
        (r"syft/lab/remotes", RemotesHandler),
        (rf"{routes.REMOTES_PREFIX}{remote_id}", RemoteHandler),
        (
            rf"{routes.REMOTES_PREFIX}{remote_id}/api/{routes.API_VERSION}/{routes.EVENTS}",
            RemoteEventsHandler,
        ),
        (rf"{routes.REMOTES_PREFIX}{remote_id}/api/{routes.API_VERSION}/(.*)", RemoteProxyHandler),
    ]
