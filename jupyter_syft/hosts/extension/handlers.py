"""Host classes that put the Datasite's endpoints inside Jupyter's server.

Two kinds of callers reach the same endpoints:

- the person running JupyterLab (the sidebar, with Jupyter's own login) acts as the Datasite's
  owner, under ``{base_url}syft/lab/api/v1/``;
- remote data scientists (``sy.login(url=...)``) use Datasite tokens, under
  ``{base_url}syft/api/v1/``, exactly as on a standalone Datasite. There Jupyter's login counts
  for nothing: holding the Jupyter token does not make anyone a Datasite user.
"""

from __future__ import annotations

import logging
from typing import Any

import tornado.web
from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.base.handlers import APIHandler

from ...server.http.base import DatasiteHandlerMixin, JsonApiMixin
from ...server.http.handlers import route_table
from ...server.services.actor import Actor
from ...wire import routes

LAB_PREFIX = "/" + routes.LAB_API_PREFIX
REMOTE_PREFIX = "/" + routes.API_PREFIX


class JupyterApiHandler(JsonApiMixin, APIHandler):
    """Jupyter's checks (host, origin, identity) first, then errors as Datasite JSON, logged
    in Jupyter's log. The base of every jupyter_syft route inside Jupyter."""

    @property
    def error_log(self) -> logging.Logger | logging.LoggerAdapter[Any]:
        return self.log


class _JupyterDatasiteHandler(DatasiteHandlerMixin, JupyterApiHandler):
    """A Datasite route inside Jupyter."""


class LabDatasiteHandler(_JupyterDatasiteHandler):
    """Jupyter-authenticated: whoever runs JupyterLab is the Datasite's owner."""

    async def prepare(self) -> None:  # type: ignore[override]
        # Jupyter's server takes bodies of up to 512 MB: bound ours before it reads any.
        self.limit_body(authenticated=True)
        await super().prepare()
        if self.current_user is None:
            self.limit_body(authenticated=False)
            return  # @tornado.web.authenticated on the verb answers 403
        self.actor = await self.run(self.services.auth.owner_actor)

    async def reauthorize(self) -> Actor:
        return await self.run(self.services.auth.owner_actor)


class RemoteDatasiteHandler(_JupyterDatasiteHandler):
    """Datasite-token routes for remote clients, the same as a standalone Datasite's."""

    async def prepare(self) -> None:  # type: ignore[override]
        # Jupyter's server takes bodies of up to 512 MB: bound ours before it reads any.
        self.limit_body(authenticated="Authorization" in self.request.headers)
        await super().prepare()
        if not self.public:
            await self.resolve_actor()
        self.limit_body(authenticated=not self.public and not self.actor.is_anonymous)

    def check_xsrf_cookie(self) -> None:
        # These routes never read cookies: the caller is whoever the Authorization header says.
        # A browser never sends that header by itself, so a forged cross-site request can only
        # ever act as an anonymous guest. Token-less state changes still need the XSRF cookie.
        if self.request.headers.get("Authorization") or self.public_write:
            return
        super().check_xsrf_cookie()

    @property
    def public_write(self) -> bool:
        """Log-in and sign-up: a remote client has no token yet."""
        return self.request.path.endswith(PUBLIC_WRITES)


PUBLIC_WRITES = ("/auth/login", "/auth/register", "/auth/guest")


class NotFoundHandler(RemoteDatasiteHandler):
    public = True
    _stream_request_body = True  # its body is bounded (and dropped) like any route's

    @allow_unauthenticated
    async def get(self, *_: Any) -> None:
        raise tornado.web.HTTPError(404, "No such Datasite route. Is the client up to date?")

    post = patch = delete = get


def datasite_routes(datasite: Any) -> list[tuple[str, type, dict[str, Any]]]:
    """Both route tables, relative to the server's base_url (the ExtensionApp prefixes it)."""
    kwargs = {"datasite": datasite}
    routes = [
        (pattern.lstrip("/"), handler, kwargs)
        for prefix, host, guard in (
            (LAB_PREFIX, LabDatasiteHandler, tornado.web.authenticated),
            (REMOTE_PREFIX, RemoteDatasiteHandler, allow_unauthenticated),
        )
        for pattern, handler in route_table(prefix, host, guard)
    ]
    routes.append((REMOTE_PREFIX.lstrip("/") + "(.*)", NotFoundHandler, kwargs))
    return routes
