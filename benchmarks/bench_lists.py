"""Lists benchmark: the owner's request list with 5,000 requests (issue 11, item 9).

    .venv/bin/python benchmarks/bench_lists.py [--requests 5000] [--limit 100]

Setup writes the scientist's code and requests straight into the store (fast); every number is
measured through real HTTP on loopback, as the owner: the first page's latency and bytes, and
the time to walk every page. A server that answers with a bare array (before pagination) is
measured as one unpaged "page" holding everything.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from typing import Any

os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("JUPYTER_SYFT_HOME", tempfile.mkdtemp(prefix="bench-lists-"))


def _seed(datasite: Any, owner_email: str, n: int) -> None:
    from jupyter_syft.roles import ServiceRole
    from jupyter_syft.server import models

    with datasite.store.session() as session:
        user = models.User(
            email="bench-ds@example.org",
            name="Bench Scientist",
            role=int(ServiceRole.DATA_SCIENTIST),
            password_hash="x",
        )
        session.add(user)
        session.flush()  # no ORM relationships: insert parents first
        project = models.Project(user_id=user.id, name="bench", description="many requests")
        session.add(project)
        session.flush()
        codes = []
        for i in range(n):
            raw = f"def f{i}(x):\n    return x + {i}\n"
            code = models.UserCode(
                user_id=user.id,
                service_func_name=f"f{i}",
                raw_code=raw,
                code=raw,
                code_hash=f"{i:064x}",
                parameters=["x"],
                input_policy={"type": "EmptyInputPolicy", "inputs": {}},
                output_policy={"type": "OutputPolicyExecuteOnce", "limit": 1},
            )
            session.add(code)
            codes.append(code)
        session.flush()
        for i, code in enumerate(codes):
            session.add(
                models.Request(
                    code_id=code.id,
                    user_id=user.id,
                    project_id=project.id if i % 2 else None,
                    reason=f"request {i}",
                )
            )
        session.commit()


def _get(session: Any, url: str, **params: Any) -> tuple[float, int, Any]:
    start = time.perf_counter()
    response = session.get(url, params=params, timeout=600)
    took = time.perf_counter() - start
    response.raise_for_status()
    return took, len(response.content), response.json()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5, help="first-page samples (median)")
    args = parser.parse_args()

    import requests

    import jupyter_syft as sy

    node = sy.orchestra.launch(name="bench-lists", port="auto", reset=True, verbose=False)
    try:
        root = sy.login(
            url=node.url, email="info@openmined.org", password="changethis", verbose=False
        )
        _seed(node.datasite, "info@openmined.org", args.requests)
        http = requests.Session()
        http.trust_env = False
        http.headers["Authorization"] = f"Bearer {root.connection.token}"
        url = root.connection.api_url + "requests"
        _get(http, url, limit=args.limit)  # warm up (runner, caches)

        firsts = [_get(http, url, limit=args.limit) for _ in range(args.repeat)]
        first_s = statistics.median(t for t, _, _ in firsts)
        first_bytes = firsts[0][1]
        paged = isinstance(firsts[0][2], dict)

        start = time.perf_counter()
        seen, pages, cursor = 0, 0, None
        while True:
            params: dict[str, Any] = {"limit": args.limit}
            if cursor:
                params["cursor"] = cursor
            _, _, body = _get(http, url, **params)
            pages += 1
            items = body["items"] if paged else body
            seen += len(items)
            cursor = body.get("next_cursor") if paged else None
            if not cursor:
                break
        walk_s = time.perf_counter() - start
    finally:
        node.land()

    shape = f"paged (limit={args.limit})" if paged else "unpaged (one array)"
    print(f"\nLists benchmark: owner's GET requests, {args.requests} requests, {shape}\n")
    print("| measure | value |")
    print("|---|---|")
    print(f"| first page latency (median of {args.repeat}) | {first_s * 1000:.0f} ms |")
    print(f"| first page bytes | {first_bytes:,} |")
    print(f"| items on the first page | {len(firsts[0][2]['items'] if paged else firsts[0][2])} |")
    print(f"| full walk: pages | {pages} |")
    print(f"| full walk: items | {seen} |")
    print(f"| full walk time | {walk_s * 1000:.0f} ms |")


if __name__ == "__main__":
    main()
