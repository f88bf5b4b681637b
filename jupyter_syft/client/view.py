"""What every remote view shares: the session it calls through and the wire model it shows.

A view's plain attributes are the model's fields, declared with ``Field()`` (so they show in
``dir()`` and tab completion); what a view adds (PySyft's names, enums, navigation) is written
as properties and methods.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .session import Session


class View:
    """A subclass declares which model it wraps (``_model: models.Request``)."""

    _model: Any

    def __init__(self, session: Session, model: Any):
        self._session = session
        self._model = model


class Field:
    """``reason = Field()``: the wrapped model's field of the same name, read-only;
    ``request_time = Field("created_at")`` reads another."""

    def __init__(self, name: str | None = None):
        self.field = name

    def __set_name__(self, owner: type, name: str) -> None:
        self.field = self.field or name

    def __get__(self, view: Any, owner: type | None = None) -> Any:
        if view is None:
            return self
        return getattr(view._model, str(self.field))
