"""A queue that takes turns between people: one scientist's 200 jobs cannot starve another's."""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from typing import Generic, TypeVar

T = TypeVar("T")


class FairQueue(Generic[T]):
    """FIFO per owner, round-robin across owners. ``get`` blocks; ``None`` once closed."""

    def __init__(self) -> None:
        self._queues: OrderedDict[str, deque[T]] = OrderedDict()
        self._ready = threading.Condition()
        self._closed = False

    def put(self, owner: str, item: T) -> None:
        with self._ready:
            self._queues.setdefault(owner, deque()).append(item)
            self._ready.notify()

    def get(self) -> T | None:
        with self._ready:
            while not self._queues and not self._closed:
                self._ready.wait()
            if self._closed:
                return None
            owner, queue = next(iter(self._queues.items()))
            item = queue.popleft()
            del self._queues[owner]
            if queue:  # back of the line: everyone else with work goes first
                self._queues[owner] = queue
            return item

    def close(self) -> None:
        with self._ready:
            self._closed = True
            self._ready.notify_all()
