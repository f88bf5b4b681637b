"""``ServerIdentity``: which Datasite something belongs to, as PySyft names it.

PySyft keys a Syft function's inputs by Datasite (``fn.kwargs[ServerIdentity.from_api(
client.api)]`` is ``{parameter: asset id}``), so code can name inputs on several Datasites.
Here a Datasite is its name and its address; a function's inputs are still listed by
parameter name (``fn.kwargs["data"]``), and also answer to the Datasite's identity.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import SyftException

if TYPE_CHECKING:
    from .session import Session


@dataclass(frozen=True)
class ServerIdentity:
    """A Datasite: its name and its address (``url``)."""

    server_name: str
    url: str

    @classmethod
    def from_session(cls, session: Session) -> ServerIdentity:
        return cls(server_name=session.name, url=session.url.rstrip("/"))

    @classmethod
    def from_api(cls, api: Any) -> ServerIdentity:
        """The Datasite of ``client.api`` (or of a client)."""
        session = getattr(getattr(api, "_client", api), "session", None)
        if session is None:
            raise SyftException(
                "ServerIdentity.from_api takes a client's api (client.api) or a client."
            )
        return cls.from_session(session)

    from_client = from_api

    def __repr__(self) -> str:
        return f"ServerIdentity(server_name={self.server_name!r}, url={self.url!r})"


class InputKwargs(dict[str, Any]):
    """``fn.kwargs``: a function's inputs by parameter name (``fn.kwargs["data"]``, as
    submitted); PySyft's ``fn.kwargs[ServerIdentity]`` gives ``{parameter: asset id}`` of the
    inputs on that Datasite."""

    def __init__(self, by_name: dict[str, Any], by_server: dict[ServerIdentity, dict[str, str]]):
        super().__init__(by_name)
        self.by_server = by_server

    def __contains__(self, key: object) -> bool:
        if isinstance(key, ServerIdentity):
            return key in self.by_server
        return super().__contains__(key)

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, ServerIdentity):
            if key not in self.by_server:
                raise KeyError(
                    f"No inputs on {key.server_name} ({key.url}); the inputs are on "
                    f"{', '.join(i.server_name for i in self.by_server) or 'no Datasite'}."
                )
            return self.by_server[key]
        return super().__getitem__(key)


def inputs_by_server(policy: Any) -> dict[ServerIdentity, dict[str, str]]:
    """``{Datasite: {parameter: asset id}}`` of a policy's asset inputs (PySyft's
    ``input_policy_init_kwargs``). An input whose Datasite is not known (an asset named by
    its id alone) is left out."""
    origins = getattr(policy, "origins", None)
    if origins is None:  # a custom input policy: its own __init__ ran, not InputPolicy's
        origins = {
            name: value.server_identity
            for name, value in getattr(policy, "init_kwargs", {}).items()
            if isinstance(getattr(value, "server_identity", None), ServerIdentity)
        }
    out: dict[ServerIdentity, dict[str, str]] = {}
    for name, spec in policy.inputs.items():
        identity = origins.get(name)
        if identity is not None and spec.get("kind") == "asset":
            out.setdefault(identity, {})[name] = spec["id"]
    return out
