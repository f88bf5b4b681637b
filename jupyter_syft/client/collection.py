"""The list protocol every ``client.<things>`` shares: all pages fetched on first use, then by
position or by key, ``len``, iteration, ``get_all()``, and a table as repr in notebooks."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, overload

from .. import display

if TYPE_CHECKING:
    from .session import Session

T = TypeVar("T")


class Collection(Generic[T]):
    """A subclass says what it lists (``title``, ``headers``, ``_fetch``, ``_row``) and, if its
    items have names, how a string key finds one (``_find``)."""

    title: ClassVar[str]
    headers: ClassVar[Sequence[str]]
    # Listed when created, so ``client.datasets`` fails at once when it cannot be read; a
    # collection mostly used for other things (``client.code``) lists on first use instead.
    list_when_created: ClassVar[bool] = True

    def __init__(self, session: Session):
        self._session = session
        self._loaded: list[T] | None = None
        if self.list_when_created:
            self._loaded = list(self._fetch())

    def _fetch(self) -> Iterable[T]:
        """Every item, in the Datasite's order (the api pages through them)."""
        raise NotImplementedError

    def _row(self, item: T) -> list[Any]:
        """The item's cells in the table, one per header."""
        raise NotImplementedError

    def _find(self, key: str) -> T:
        raise TypeError(f"{self.title} are numbered: use an int, not {key!r}.")

    def _no_position(self, index: Any) -> Exception:
        return IndexError(f"There are {len(self)} {self.title.lower()}; none at {index}.")

    @property
    def _items(self) -> list[T]:
        if self._loaded is None:
            self._loaded = list(self._fetch())
        return self._loaded

    def table(self, items: Iterable[T]) -> list[T]:
        """``items`` as a list that shows as this collection's table in notebooks."""
        return display.TableList(items, self.title, self.headers, self._row)

    def get_all(self) -> list[T]:
        return self.table(self._items)

    @overload
    def __getitem__(self, key: int | str) -> T: ...

    @overload
    def __getitem__(self, key: slice) -> list[T]: ...

    def __getitem__(self, key: int | str | slice) -> T | list[T]:
        if isinstance(key, str):
            return self._find(key)
        try:
            return self._items[key]
        except IndexError:
            raise self._no_position(key) from None

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[T]:
        return iter(self._items)

    def _rows(self) -> list[list[Any]]:
        return [self._row(item) for item in self._items]

    def __repr__(self) -> str:
        return display.text_table(self.headers, self._rows())

    def _repr_html_(self) -> str:
        return display.listing(self.title, self.headers, self._rows())
