"""The job queue takes turns between scientists."""

import threading

from jupyter_syft.server.execution.fair_queue import FairQueue


def test_round_robin_across_owners():
    queue = FairQueue()
    for i in range(5):
        queue.put("alice", f"a{i}")
    queue.put("bob", "b0")
    queue.put("carol", "c0")
    order = [queue.get() for _ in range(7)]
    assert order == ["a0", "b0", "c0", "a1", "a2", "a3", "a4"]


def test_late_arrival_is_served_before_the_long_queue_finishes():
    queue = FairQueue()
    for i in range(100):
        queue.put("alice", i)
    assert queue.get() == 0
    queue.put("bob", "bob's only job")
    assert queue.get() == 1  # alice was already at the front of the line
    assert queue.get() == "bob's only job"


def test_get_blocks_until_put_and_close_releases_waiters():
    queue = FairQueue()
    got = []
    worker = threading.Thread(target=lambda: got.append(queue.get()))
    worker.start()
    queue.put("x", 42)
    worker.join(5)
    assert got == [42]
    waiter = threading.Thread(target=lambda: got.append(queue.get()))
    waiter.start()
    queue.close()
    waiter.join(5)
    assert got == [42, None]
