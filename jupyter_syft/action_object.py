"""``sy.ActionObject``: PySyft's wrapper of every value, kept for the names its tutorials use.

Values here are plain Python, pandas and numpy objects. What remains of PySyft's class:
``ActionObject.empty()``, the "no mock" marker (``sy.Asset(..., mock=sy.ActionObject.empty())``
or ``asset.mock = sy.ActionObject.empty()``); ``isinstance(result, sy.ActionObject)`` for the
result pointer a Syft function's run returns (its ``syft_action_data`` is the value, as
``.get()``); and ``ActionObject.from_obj(x)``, whose ``send(client)`` (PySyft's eager upload)
says how values reach a Datasite here.
"""

from __future__ import annotations

import abc
from typing import Any, NoReturn

from .errors import SyftException


class ActionObject(abc.ABC):  # noqa: B024 (an ABC for its registry: result pointers join it)
    def __init__(self, value: Any = None, empty: bool = False):
        self._value = value
        self.is_empty = empty

    @classmethod
    def empty(cls) -> ActionObject:
        """The "no mock" marker: the asset is published without a mock."""
        return EMPTY

    @classmethod
    def from_obj(cls, obj: Any) -> ActionObject:
        return cls(obj)

    @property
    def syft_action_data(self) -> Any:
        return self._value

    def send(self, client: Any) -> NoReturn:
        raise SyftException(
            "ActionObject.send is PySyft's eager upload, which jupyter_syft does not have: "
            "values reach a Datasite as dataset assets, with a mock. Upload it with "
            "ds = sy.Dataset(name=...); ds.add_asset(sy.Asset(name=..., data=value, "
            "mock=...)); client.upload_dataset(ds)."
        )

    def __repr__(self) -> str:
        return "ActionObject.empty()" if self.is_empty else f"ActionObject({self._value!r})"


EMPTY = ActionObject(empty=True)
