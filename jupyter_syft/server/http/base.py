"""Base handler shared by every Datasite route, whichever server hosts it."""

from __future__ import annotations

import functools
import json
import logging
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import tornado.web
from tornado.ioloop import IOLoop

from ..services.actor import Actor
from ..services.errors import BadRequest, ServiceError, TooManyRequests

if TYPE_CHECKING:
    from ..datasite import Datasite

log = logging.getLogger("jupyter_syft.server")
T = TypeVar("T")
MAX_JSON_BYTES = 16 << 20
VALUE_MEDIA_TYPE = "application/vnd.jupyter-syft.value"
STREAM_CHUNK = 4 << 20


if TYPE_CHECKING:  # the mixin always ends up on a RequestHandler: let mypy see its methods
    _HandlerBase = tornado.web.RequestHandler
else:
    _HandlerBase = object


class DatasiteHandlerMixin(_HandlerBase):
    """Resolves the caller from the Authorization header and maps service errors to JSON 4xx.

    Mixed into ``tornado.web.RequestHandler`` here and into Jupyter's ``APIHandler`` by the
    server extension, so both hosts share one behaviour.
    """

    datasite: Datasite
    actor: Actor
    # Public routes (metadata) skip resolving the caller; streaming ones read their body in chunks.
    public = False
    streams_body = False

    def initialize(self, datasite: Datasite) -> None:
        self.datasite = datasite

    async def resolve_actor(self) -> None:
        self.actor = await self.run(
            self.datasite.services.auth.actor_for, self.request.headers.get("Authorization")
        )

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a (blocking) service call on the Datasite's thread pool."""
        return await IOLoop.current().run_in_executor(
            self.datasite.executor, functools.partial(fn, *args, **kwargs)
        )

    @property
    def services(self) -> Any:
        return self.datasite.services

    def json_body(self) -> dict[str, Any]:
        body = self.request.body or b"{}"
        if len(body) > MAX_JSON_BYTES:
            raise BadRequest("The request body is too large for a JSON request.")
        try:
            value = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise BadRequest("The request body is not valid JSON.")
        if not isinstance(value, dict):
            raise BadRequest("The request body must be a JSON object.")
        return value

    def send_json(self, value: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps(value))

    async def stream_file(self, path: Any, size: int) -> None:
        """Send a value file in chunks: the whole value is never held in memory."""
        self.set_header("Content-Type", VALUE_MEDIA_TYPE)
        self.set_header("Content-Length", str(size))
        with open(path, "rb") as f:
            while chunk := f.read(STREAM_CHUNK):
                self.write(chunk)
                await self.flush()
        self.finish()

    def send_error_json(self, status: int, exc: BaseException | None) -> None:
        if isinstance(exc, ServiceError):
            status, code, detail = exc.status, exc.code, exc.detail
            if isinstance(exc, TooManyRequests):
                self.set_header("Retry-After", str(int(exc.retry_after) + 1))
        elif isinstance(exc, tornado.web.HTTPError) and status < 500:
            code = "http_error"
            detail = exc.log_message or self._reason
        elif status < 500:
            code, detail = "http_error", self._reason
        else:
            # Never leak paths or internals: log them, give the user a reference to quote.
            ref = secrets.token_hex(4)
            log.error("internal error %s", ref, exc_info=exc)
            code, detail = (
                "internal",
                (
                    f"The Datasite hit an internal error (reference {ref}). "
                    "Its log has the details; please report the reference to the Datasite's owner."
                ),
            )
        self.clear()
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps({"error": code, "detail": detail}))


class Endpoint(DatasiteHandlerMixin):
    """Base of the endpoint classes: they hold only the verbs. ``route_table`` combines each one
    with a host class (standalone tornado, or Jupyter's ``APIHandler``) that brings the rest."""


class DatasiteHandler(DatasiteHandlerMixin, tornado.web.RequestHandler):
    """Standalone host: Datasite tokens only."""

    def set_default_headers(self) -> None:
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Cache-Control", "no-store")

    async def prepare(self) -> None:
        if not self.public:
            await self.resolve_actor()

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc_info = kwargs.get("exc_info")
        self.send_error_json(status_code, exc_info[1] if exc_info else None)

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if isinstance(value, ServiceError):
            log.info(
                "%s %s -> %s: %s",
                self.request.method,
                self.request.path,
                value.status,
                value.detail,
            )
        elif isinstance(value, tornado.web.HTTPError):
            super().log_exception(typ, value, tb)
        # Internal errors are logged once, with a reference, in send_error_json.
