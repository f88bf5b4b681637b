"""A JSON body, checked against its route's wire model; what is wrong, said in plain words.

A pydantic ``ValidationError`` lists errors as locations and codes; a caller gets a 400 that
names the field and what it takes instead, e.g. ``assets[0].name must be text, not a number.``
Messages repeat at most ``limits.clip`` of anything the caller sent (field names included).
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ..services import limits
from ..services.errors import BadRequest

M = TypeVar("M", bound=BaseModel)
FIELD_ECHO = 40  # a field name is the caller's text too (an unknown one, a dict key)
# What a field of each type takes, in words; pydantic's error type -> the words.
TAKES = {
    "string_type": "text",
    "int_type": "a whole number",
    "float_type": "a number",
    "bool_type": "True or False",
    "list_type": "a list",
    "dict_type": "an object",
    "model_type": "an object",
}
# Where a value matched none of a union's members, pydantic adds each member to the location.
UNION_MEMBERS = {"str", "int", "float", "bool", "none", "list", "dict"}


def validated(model: type[M], data: Any) -> M:
    """``data`` as a ``model``, or a BadRequest naming the first field that is wrong."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise BadRequest(describe(exc.errors(include_url=False), model)) from None


def describe(errors: list[Any], model: type[BaseModel]) -> str:
    """The first pydantic error, as a sentence."""
    error = errors[0]
    kind, value = error["type"], error.get("input")
    loc = _field_of(error["loc"])
    field = _where(loc)
    members = [e for e in errors if _field_of(e["loc"]) == loc and e["loc"] != loc]
    if len(members) > 1:  # none of a union's types (e.g. a role is a name or a number)
        takes = " or ".join(dict.fromkeys(TAKES.get(e["type"], e["type"]) for e in members))
        return f"{field} must be {takes}, not {_kind(value)}."
    if kind == "missing":
        return f"{field} is required."
    if kind == "extra_forbidden":
        noun = getattr(model, "unknown_field", "field")
        known = ", ".join(sorted(model.model_fields))
        return f"Unknown {noun} {limits.clip(error['loc'][-1])}. You can send: {known}."
    if kind in ("string_type", "string_sub_type"):
        return f"{field} must be text, not {_kind(value)}."
    if kind in ("bool_type", "bool_parsing"):
        return f"{field} takes True or False, not {_shown(value)}."
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"{field} takes a whole number, not {_shown(value)}."
    if kind in ("float_type", "float_parsing"):
        return f"{field} takes a number, not {_shown(value)}."
    if kind in ("list_type", "tuple_type"):
        return f"{field} must be a list, not {_kind(value)}."
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"{field} must be an object, not {_kind(value)}."
    if kind in ("literal_error", "enum"):
        return f"{field} must be {error.get('ctx', {}).get('expected', 'one of its values')}."
    return f"{field}: {error['msg']}."


def _field_of(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """The field's location without the union member pydantic appends (``("role", "str")``)."""
    end = len(loc)
    while (
        end
        and isinstance(loc[end - 1], str)
        and (loc[end - 1] in UNION_MEMBERS or "[" in loc[end - 1])
    ):
        end -= 1
    return tuple(loc[:end])


def _where(loc: tuple[Any, ...]) -> str:
    """``("assets", 0, "name")`` -> ``assets[0].name``; the body itself if empty."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            name = str(part)
            name = name if len(name) <= FIELD_ECHO else name[: FIELD_ECHO - 1] + "…"
            text += f".{name}" if text else name
    return text or "The request body"


def _kind(value: Any) -> str:
    """What a JSON value is, in words."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _shown(value: Any) -> str:
    """The value itself if it is text or a number (clipped), else what it is."""
    if isinstance(value, str):
        return limits.clip(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return limits.clip(value)[1:-1]  # without clip's quotes: 1.5, not '1.5'
    return _kind(value)
