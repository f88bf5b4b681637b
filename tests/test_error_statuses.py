"""Services know no HTTP: each error class says what went wrong, the HTTP layer its status."""

import ast
import pathlib

import jupyter_syft.hosts.extension.remotes
import jupyter_syft.server.services.code.runs
from jupyter_syft.server.http.base import HTTP_STATUS, http_status
from jupyter_syft.server.services import errors

SERVICES = pathlib.Path(errors.__file__).parent


def _subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


def test_every_service_error_has_a_status_from_the_http_layer():
    for cls in _subclasses(errors.ServiceError):
        if cls.__name__ == "RemoteError":
            continue  # an HTTP-layer error: it relays a status (below)
        assert "status" not in vars(cls), f"{cls.__name__} sets an HTTP status in a service"
        mapped = [k for k in cls.__mro__ if k in HTTP_STATUS]
        assert mapped, f"{cls.__name__} has no HTTP status in server/http/base.py HTTP_STATUS"


def test_statuses():
    assert http_status(errors.NotFound("x")) == 404
    assert http_status(errors.TooManyRequests("x", 1.0)) == 429
    assert http_status(jupyter_syft.server.services.code.runs.RunInterrupted("x")) == 503
    remote = jupyter_syft.hosts.extension.remotes.RemoteError(502, "bad_gateway", "down")
    assert http_status(remote) == 502


def test_services_import_nothing_of_http():
    for path in SERVICES.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                assert not name.startswith(("tornado", "jupyter_server")), (path, name)
                assert "http" not in name.split("."), (path, name)
