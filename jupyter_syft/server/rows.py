"""Rows without the ORM's unit of work, for the hot writes (a code request, a decision).

``new_row`` gives every column of a new row (its defaults filled in as the model's constructor
fills them), for one Core INSERT whose values stay in hand for the answer. ``loaded`` makes a
row object from values in hand the way SQLAlchemy makes the rows it loads: no pydantic
construction, no session. Building an SQLModel row and flushing it costs several times more.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar

from pydantic_core import PydanticUndefined
from sqlalchemy import insert
from sqlalchemy.orm import Session, configure_mappers

from .models import Table

RowT = TypeVar("RowT", bound=Table)


def new_row(model: type[Table], **values: Any) -> dict[str, Any]:
    """Every column of a new ``model`` row: ``values``, the others their defaults."""
    row: dict[str, Any] = {}
    for name, default, factory in _defaults(model):
        if name in values:
            row[name] = values.pop(name)
        elif factory is not None:
            row[name] = factory()
        elif default is PydanticUndefined:
            raise TypeError(f"{model.__name__}.{name} has no default: give it a value.")
        else:
            row[name] = copy.copy(default)
    if values:
        raise TypeError(f"{model.__name__} has no column {', '.join(values)}.")
    return row


def insert_row(session: Session, model: type[Table], row: dict[str, Any]) -> None:
    """One Core INSERT of ``row`` (from ``new_row``) in ``session``'s transaction (on its
    connection: the ORM's execute adds nothing to a Core INSERT but its cost)."""
    session.connection().execute(inserting(model), row)


@cache
def inserting(model: type[Table]) -> Any:
    """``model``'s INSERT, built once: a statement built anew is built and keyed anew."""
    return insert(model.__table__)  # type: ignore[attr-defined]


def loaded(model: type[RowT], values: dict[str, Any]) -> RowT:
    """A ``model`` object holding ``values``, made as SQLAlchemy makes a row it loads (in no
    session: changing it writes nothing). Give it every column that its reader reads."""
    row = _new_instance(model)()
    row.__dict__.update(values)  # SQLAlchemy keeps a row's values in its __dict__
    return row


def set_values(row: Table, **values: Any) -> None:
    """Change the values of a row ``loaded`` made (in no session: there is nothing to track,
    so not through the ORM's attribute events)."""
    row.__dict__.update(values)


@cache
def _defaults(model: type[Table]) -> tuple[tuple[str, Any, Callable[[], Any] | None], ...]:
    return tuple(
        (name, field.default, field.default_factory)  # type: ignore[misc]
        for name, field in model.model_fields.items()
    )


@cache
def _new_instance(model: type[RowT]) -> Callable[[], RowT]:
    configure_mappers()  # a mapper's attributes are set up when it is first configured
    return model.__mapper__.class_manager.new_instance  # type: ignore[attr-defined]
