"""Base handler shared by every Datasite route, whichever server hosts it."""

from __future__ import annotations

import functools
import json
import logging
import math
import re
import secrets
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import tornado.web
from pydantic import BaseModel
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from tornado.ioloop import IOLoop

from ...roles import ServiceRole
from ...wire.contract import VALUE_MEDIA_TYPE, Op
from ..services import limits
from ..services.actor import Actor
from ..services.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    ServiceError,
    TooManyRequests,
    Unauthorized,
    Unavailable,
    Unprocessable,
)
from .validation import validated

if TYPE_CHECKING:
    from ..datasite import Datasite

log = logging.getLogger("jupyter_syft.server")
T = TypeVar("T")
STREAM_CHUNK = 4 << 20
# The database did not answer a call: no pooled connection came free in time, a new one was
# refused (PostgreSQL's connection limits, a restart), or it gave up waiting for a lock. The
# same call may work a moment later: a 503 that says so, not an internal error.
STORE_UNAVAILABLE = (
    "The Datasite's database did not answer (busy, or unreachable): try again in a moment. "
    "If it keeps failing, tell the Datasite's owner; its log says why."
)


# The HTTP status of each service error class (services know no HTTP). A subclass takes its
# nearest listed ancestor's; an HTTP-layer error (the remote proxy) may carry ``http_status``.
HTTP_STATUS: dict[type[ServiceError], int] = {
    BadRequest: 400,
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    PayloadTooLarge: 413,
    Unprocessable: 422,
    TooManyRequests: 429,
    Unavailable: 503,
}


def http_status(error: ServiceError) -> int:
    explicit = getattr(error, "http_status", None)
    if isinstance(explicit, int):
        return explicit
    return next((HTTP_STATUS[k] for k in type(error).__mro__ if k in HTTP_STATUS), 400)


if TYPE_CHECKING:  # the mixins always end up on a RequestHandler: let mypy see its methods
    _HandlerBase = tornado.web.RequestHandler
else:
    _HandlerBase = object


class JsonApiMixin(_HandlerBase):
    """JSON answers, and every error as ``{"error": code, "detail": message}`` JSON.

    The one envelope of every host: the standalone server, the Jupyter server extension's
    Datasite routes and its remote-Datasite proxy. ``ServiceError`` s give their code and
    detail, ``HTTP_STATUS`` their status; a 500 never shows a path or a traceback, only a
    reference to its log line.
    """

    internal_error = (
        "The Datasite hit an internal error (reference {ref}). "
        "Its log has the details; please report the reference to the Datasite's owner."
    )

    @property
    def error_log(self) -> logging.Logger | logging.LoggerAdapter[Any]:
        """Where refused calls and internal errors are logged (Jupyter's own log in Jupyter)."""
        return log

    def set_default_headers(self) -> None:
        super().set_default_headers()
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Cache-Control", "no-store")

    def compute_etag(self) -> str | None:
        # Answers are "no-store": nobody revalidates them, so hashing each body is wasted.
        return None

    def send_json(self, value: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(encode_json(value))

    def send_error_json(self, status: int, exc: BaseException | None) -> None:
        if isinstance(exc, ServiceError):
            status, code, detail = http_status(exc), exc.code, exc.detail
        elif isinstance(exc, tornado.web.HTTPError) and status < 500:
            code = "http_error"
            detail = exc.log_message or self._reason
        elif status < 500:
            code, detail = "http_error", self._reason
        else:
            # Never leak paths or internals: log them, give the user a reference to quote.
            ref = secrets.token_hex(4)
            self.error_log.error("internal error %s", ref, exc_info=exc)
            code, detail = "internal", self.internal_error.format(ref=ref)
        self.clear()
        self.set_status(status)
        if isinstance(exc, TooManyRequests):  # after clear(), which would drop it
            self.set_header("Retry-After", str(int(exc.retry_after) + 1))
        self.set_header("Content-Type", "application/json; charset=utf-8")
        if not getattr(self.request.connection, "_read_finished", True):
            # Refused before the request was read (in prepare: 401, 404, 413): tornado closes
            # the connection after this answer. Say so, or a client that reuses it may send
            # its next call into the closing socket and meet a reset.
            self.set_header("Connection", "close")
        self.finish(json.dumps({"error": code, "detail": detail}))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc_info = kwargs.get("exc_info")
        self.send_error_json(status_code, exc_info[1] if exc_info else None)

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if isinstance(value, ServiceError):
            self.error_log.info(
                "%s %s -> %s: %s",
                self.request.method,
                self.request.path,
                http_status(value),
                value.detail,
            )
        elif isinstance(value, tornado.web.HTTPError):
            super().log_exception(typ, value, tb)
        # Internal errors are logged once, with a reference, in send_error_json.


class DatasiteHandlerMixin(JsonApiMixin):
    """Resolves the caller from the Authorization header and bounds request bodies.

    Mixed into ``tornado.web.RequestHandler`` here and into Jupyter's ``APIHandler`` by the
    server extension, so both hosts share one behaviour.
    """

    datasite: Datasite
    actor: Actor
    # Public routes (metadata) skip resolving the caller; streaming ones read their body in chunks.
    public = False
    # A route whose verbs use ``self.actor`` only as an argument of ``self.run`` (and call it
    # before answering), and read the body only inside that call, may resolve the caller in
    # that call: see ``resolve_actor``.
    defer_actor = False
    streams_body = False
    # The largest JSON body a caller with a session may send here (callers without one get
    # limits.ANONYMOUS_JSON_BODY). Every route receives its body through ``data_received``, so
    # the limit is applied from Content-Length before tornado reads any of it.
    json_limit = limits.JSON_BODY

    def initialize(self, datasite: Datasite) -> None:
        self.datasite = datasite
        self._body = bytearray()
        self._body_limit = limits.ANONYMOUS_JSON_BODY
        self._body_overflow = False

    def limit_body(self, authenticated: bool) -> None:
        """Bound this request's JSON body; 413 at once if its declared length is over it.

        Called from ``prepare``, i.e. before tornado reads the body: a refused body is never
        read, and an accepted one is never larger than the limit (chunked ones included).
        """
        if self.streams_body:
            return  # uploads set their own limit
        limit = self.json_limit if authenticated else limits.ANONYMOUS_JSON_BODY
        self._body_limit = limit
        set_max = getattr(self.request.connection, "set_max_body_size", None)
        if set_max is not None:
            set_max(limit)
        declared = declared_length(self.request)
        if declared is not None and declared > limit:
            raise PayloadTooLarge(
                f"The request body is {declared} bytes; this route takes at most {limit} bytes"
                + ("." if authenticated else " without a session: log in first.")
            )

    def data_received(self, chunk: bytes) -> Awaitable[None] | None:
        if self._finished or self._body_overflow:
            return None  # answered already (e.g. 401): the rest of the body is dropped, not kept
        if len(self._body) + len(chunk) > self._body_limit:
            self._body_overflow = True  # e.g. a gzip body that inflates: refused in json_body
            self._body = bytearray()
            return None
        self._body += chunk
        return None

    async def resolve_actor(self) -> None:
        if self.defer_actor and _anyone_may_send(self.request):
            # Resolved with the verb's first service call, on that call's thread hop: one
            # hand-off to the pool and back per call instead of two. Until then the actor is
            # a placeholder with no role at all, so any use of it before that call is refused,
            # and the body is bounded as a caller's without a session (which this one is not
            # over): a forged token gets no more read than no token does.
            self.actor = _PENDING
            return
        self.actor = await self.run(
            self.datasite.services.auth.actor_for, self.request.headers.get("Authorization")
        )

    async def reauthorize(self) -> Actor:
        """Who the caller is now (a long-lived stream checks its reader is still allowed)."""
        return await self.run(
            self.datasite.services.auth.actor_for, self.request.headers.get("Authorization")
        )

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a (blocking) service call on the Datasite's thread pool (first resolving the
        caller there, when ``defer_actor`` put that off: see ``resolve_actor``)."""
        call = self._call(fn, args, kwargs)
        try:
            return await IOLoop.current().run_in_executor(self.datasite.executor, call)
        except (PoolTimeout, OperationalError) as exc:
            raise self._unavailable(exc) from None

    async def read(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """A short read: as ``run``, but where the store's reads never wait (a SQLite file:
        ``Store.reads_never_wait``) it runs right here, on the event loop's thread.

        Handing a call to the pool and back costs about a quarter of a millisecond of CPU
        (waking a worker, the GIL passing to it and back, waking the loop): more than a read
        of one row, and a quarter of the busiest calls' cost. Only for service calls that
        write nothing and take at most a few milliseconds (one row, a cached page).
        """
        if not self.datasite.store.reads_never_wait:
            return await self.run(fn, *args, **kwargs)
        try:
            return self._call(fn, args, kwargs)()
        except (PoolTimeout, OperationalError) as exc:
            raise self._unavailable(exc) from None

    def _call(self, fn: Callable[..., T], args: Any, kwargs: Any) -> Callable[[], T]:
        call = functools.partial(fn, *args, **kwargs)
        if getattr(self, "actor", None) is _PENDING:  # (not set yet while it is resolved)
            return functools.partial(self._as_actor, call)
        return call

    def _unavailable(self, exc: Exception) -> Unavailable:
        text = str(exc).strip()
        first = text.splitlines()[0] if text else type(exc).__name__
        self.error_log.warning("The database did not answer a call: %s", first[:500])
        return Unavailable(STORE_UNAVAILABLE)

    def _as_actor(self, call: functools.partial[T]) -> T:
        actor = self.datasite.services.auth.actor_for(self.request.headers.get("Authorization"))
        self.actor = actor
        args = [actor if a is _PENDING else a for a in call.args]
        kwargs = {k: actor if v is _PENDING else v for k, v in call.keywords.items()}
        return call.func(*args, **kwargs)

    @property
    def services(self) -> Any:
        return self.datasite.services

    def json_body(self) -> dict[str, Any]:
        if getattr(self, "actor", None) is _PENDING:
            # A defer_actor verb reads its body inside its service call, after the caller:
            # a body refused (400) before a forged token is (401) would be the wrong answer.
            raise RuntimeError("The body was read before the caller was known.")
        if self._body_overflow:
            raise PayloadTooLarge(
                f"The request body is larger than this route takes ({self._body_limit} bytes)."
            )
        return parse_json_object(self._body)

    async def stream_file(self, path: Any, size: int) -> None:
        """Send a value file in chunks: the whole value is never held in memory."""
        self.set_header("Content-Type", VALUE_MEDIA_TYPE)
        self.set_header("Content-Length", str(size))
        with open(path, "rb") as f:
            if size <= STREAM_CHUNK:  # (most mocks) one read, sent with the headers
                self.finish(f.read())
                return
            while chunk := f.read(STREAM_CHUNK):
                self.write(chunk)
                await self.flush()
        self.finish()


# The caller of a ``defer_actor`` route until its first service call: no session, no role.
_PENDING = Actor(user_id=None, email="", name="(caller not yet resolved)", role=ServiceRole.NONE)


def _anyone_may_send(request: Any) -> bool:
    """Whether the request's body (if any) is one a caller without a session may send: its
    length declared and within that limit, and not compressed (which could inflate past it)."""
    headers = request.headers
    if "Transfer-Encoding" in headers or "Content-Encoding" in headers:
        return False
    return (declared_length(request) or 0) <= limits.ANONYMOUS_JSON_BODY


def encode_json(value: Any) -> bytes | str:
    """A wire model (what its view left unset stays absent) or plain JSON data, as JSON.

    Wire models are written by pydantic's own serializer, three times faster than dumping to
    Python and then to text. It refuses text that UTF-8 cannot hold (a lone surrogate, which
    no request body can bring in, but stored text might): that goes the slower way, which
    escapes it.
    """
    if isinstance(value, BaseModel):
        try:
            return value.model_dump_json(exclude_unset=True)
        except ValueError:
            value = value.model_dump(mode="json", exclude_unset=True)
    return json.dumps(value)


def declared_length(request: Any) -> int | None:
    """The request's Content-Length, or None without one; 400 unless it is plain digits."""
    raw = request.headers.get("Content-Length")
    if raw is None:
        return None
    if not _DIGITS.fullmatch(raw):  # int() would take " 1_0", "²" and other non-lengths
        raise BadRequest(f"Content-Length must be a whole number of bytes, not {limits.clip(raw)}.")
    return int(raw)


_DIGITS = re.compile(r"[0-9]{1,19}")


def parse_json_object(body: bytes | bytearray) -> dict[str, Any]:
    """A JSON object the services can take as it is: 400 for anything they could choke on
    (deep nesting, lone surrogates, NaN or infinite numbers, integers beyond 64 bits)."""
    try:
        value = json.loads(
            body or b"{}",
            parse_constant=_refuse_constant,
            parse_float=_finite_float,
            parse_int=_int64,
        )
    except RecursionError:
        raise BadRequest(_too_deep()) from None
    except _BadNumber as exc:
        raise BadRequest(str(exc)) from None
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("The request body is not valid JSON.") from None
    if not isinstance(value, dict):
        raise BadRequest("The request body must be a JSON object.")
    _check_json(value)
    return value


class _BadNumber(ValueError):
    pass


def _refuse_constant(name: str) -> Any:
    raise _BadNumber(f"The request body holds {name}, which is not a number JSON allows.")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _BadNumber(f"The number {limits.clip(text)} is too large.")
    return value


def _int64(text: str) -> int:
    value = int(text)
    if not -(2**63) <= value < 2**63:
        raise _BadNumber(f"The number {limits.clip(text)} is too large (64-bit integers only).")
    return value


def _too_deep() -> str:
    return f"The request body is nested too deeply: {limits.JSON_DEPTH} levels at most."


def _check_json(value: Any) -> None:
    """Walk the parsed body without recursion: depth, and text that UTF-8 cannot store."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
            for key in item:
                _check_text(key)
        elif isinstance(item, list):
            children = item
        else:
            if isinstance(item, str):
                _check_text(item)
            continue
        if depth > limits.JSON_DEPTH:
            raise BadRequest(_too_deep())
        stack.extend((child, depth + 1) for child in children)


def _check_text(text: str) -> None:
    if text.isascii():
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise BadRequest(
            "The request body holds text with a lone surrogate (e.g. \\ud800), which is not "
            "valid Unicode; send valid UTF-8 text."
        ) from None


class Endpoint(DatasiteHandlerMixin):
    """Base of the endpoint classes: they hold only the verbs. ``route_table`` combines each one
    with a host class (standalone tornado, or Jupyter's ``APIHandler``) that brings the rest."""

    # Per verb, what the route takes and answers (``wire.contract.Op``): handlers.py.
    contract: ClassVar[dict[str, Op]] = {}

    def body(self) -> Any:
        """The JSON body as this verb's ``Op.body`` model: 400 naming the field if it is not."""
        model = self.contract[str(self.request.method).lower()].body
        return validated(model, self.json_body())


class DatasiteHandler(DatasiteHandlerMixin, tornado.web.RequestHandler):
    """Standalone host: Datasite tokens only."""

    async def prepare(self) -> None:
        self.limit_body(authenticated="Authorization" in self.request.headers)
        if not self.public:
            await self.resolve_actor()
        self.limit_body(authenticated=not self.public and not self.actor.is_anonymous)
