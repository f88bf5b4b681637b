"""How an endpoint declares its side of the contract, per HTTP verb.

Each endpoint class in ``server/http/handlers.py`` carries ``contract = {"post": Op(...)}``.
The handler validates its body with ``Op.body``; ``openapi.py`` writes the OpenAPI file from
the same declarations, so what is served and what is documented cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

JSON = "application/json"
VALUE_MEDIA_TYPE = "application/vnd.jupyter-syft.value"
EVENT_STREAM = "text/event-stream"


@dataclass(frozen=True)
class Op:
    summary: str
    # A wire model (pydantic) or type the answer is, e.g. Page[Code]; None: the body is a
    # value stream (``media_type``), not JSON.
    response: Any = None
    # The JSON body's model; None: the route takes no body (or, for uploads, a value stream).
    body: Any = None
    # The query parameters' model (its fields are the parameters).
    query: Any = None
    status: int = 200
    media_type: str = JSON
    # True: callable without a session (login, sign-up, metadata).
    public: bool = False
    # A model the route also streams, one per server-sent event, to a caller that sends
    # ``Accept: text/event-stream`` (the push channel); None: no stream.
    stream: Any = None
