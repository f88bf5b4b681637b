"""Many scientists at once (#18, item 3): concurrent submissions, approvals and lists through
real HTTP keep every rule. Each request is stored once, every decision is audited once, the
audit hash chain still verifies, and no call fails.
"""

from __future__ import annotations

import contextlib
import io
import linecache
import threading
import types
from collections import Counter
from typing import Any

import jupyter_syft as sy

SCIENTISTS = 6
REQUESTS_EACH = 4


def _function(name: str, asset: Any) -> Any:
    """A Syft function of its own name (each one a new request), as a notebook cell makes it."""
    source = f"def {name}(data):\n    return int(data['age'].sum())\n"
    filename = f"<test {name}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    code = compile(source, filename, "exec")
    func = types.FunctionType(code.co_consts[0], {"__builtins__": __builtins__}, name)
    with contextlib.redirect_stdout(io.StringIO()):
        return sy.syft_function_single_use(data=asset)(func)


def test_concurrent_requests_are_stored_once_and_audited_in_one_chain(node, root, uploaded):
    clients = []
    for i in range(SCIENTISTS):
        email = f"ds{i}@example.org"
        root.users.create(sy.UserCreate(email=email, name=f"DS {i}", password="pw-ds-123"))
        clients.append(sy.login(url=node.url, email=email, password="pw-ds-123", verbose=False))
    asset = clients[0].datasets[0].assets[0]
    functions = {
        i: [_function(f"total_{i}_{n}", asset) for n in range(REQUESTS_EACH)]
        for i in range(SCIENTISTS)
    }
    owner = sy.login(url=node.url, email="info@openmined.org", password="changethis", verbose=False)
    submitted: list[str] = []
    failures: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(SCIENTISTS)

    def scientist(i: int) -> None:
        try:
            start.wait(timeout=60)
            for fn in functions[i]:
                request = clients[i].code.request_code_execution(fn)
                clients[i].datasets.get_all()
                # the owner approves from another session while others submit
                owner.session.api.approve_request(request.id, False, None)
                with lock:
                    submitted.append(request.id)
        except BaseException as exc:  # reported below, with the others
            with lock:
                failures.append(exc)

    threads = [threading.Thread(target=scientist, args=(i,)) for i in range(SCIENTISTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a scientist's calls hung"
    assert failures == []

    total = SCIENTISTS * REQUESTS_EACH
    assert len(set(submitted)) == total
    requests = root.requests.get_all()
    assert Counter(r.id for r in requests) == Counter(submitted)  # each stored once
    names = Counter(r.code.service_func_name for r in requests)
    assert set(names.values()) == {1} and len(names) == total
    assert all(r.status.name == "APPROVED" for r in requests)

    verdict = root.audit.verify()  # seq is hashed: a gap or a repeated seq fails it too
    assert verdict.ok, verdict.reason
    events: list[Any] = []
    page = root.audit.events(action="request.", page_size=500, order="oldest")
    while page is not None:
        events += list(page)
        page = page.next_page()
    created = Counter(e.object_id for e in events if e.action == "request.create")
    approved = Counter(e.object_id for e in events if e.action == "request.approved")
    assert created == Counter(submitted)
    assert approved == Counter(submitted)
