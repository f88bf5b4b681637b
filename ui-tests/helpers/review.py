"""What the review-tab Galata tests (tests/review.spec.ts) do on the Datasite with the client.

    python helpers/review.py request --url URL --tag TAG          # a scientist asks; JSON
    python helpers/review.py decide --url URL --id ID --approve    # the owner approves; JSON
    python helpers/review.py decide --url URL --id ID --deny WHY   # the owner denies; JSON
    python helpers/review.py status --url URL --id ID              # status and who decided
    python helpers/review.py held-output --url URL --tag TAG       # approved, run, held; JSON

Requests are made as helpers/datasite.py makes them (same scientist, same function).
"""

from __future__ import annotations

import argparse
import json
import sys

from datasite import held_output, make_request, owner


def _request(url: str, request_id: str):
    for request in owner(url).requests:
        if request.id == request_id:
            return request
    raise SystemExit(f"No request {request_id} on the Datasite at {url}.")


def decide(url: str, request_id: str, approve: bool, reason: str) -> dict[str, str]:
    request = _request(url, request_id)
    if approve:
        request.approve()
    else:
        request.deny(reason)
    return status(url, request_id)


def status(url: str, request_id: str) -> dict[str, str]:
    request = _request(url, request_id)
    return {"request_id": request_id, "status": request.status.name, "decided": request.decided}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    ask = sub.add_parser("request")
    ask.add_argument("--url", required=True)
    ask.add_argument("--tag", required=True)
    take = sub.add_parser("decide")
    take.add_argument("--url", required=True)
    take.add_argument("--id", required=True)
    which = take.add_mutually_exclusive_group(required=True)
    which.add_argument("--approve", action="store_true")
    which.add_argument("--deny", metavar="REASON")
    check = sub.add_parser("status")
    check.add_argument("--url", required=True)
    check.add_argument("--id", required=True)
    held = sub.add_parser("held-output")
    held.add_argument("--url", required=True)
    held.add_argument("--tag", required=True)
    args = parser.parse_args(argv)
    if args.command == "request":
        answer = make_request(args.url, args.tag)
    elif args.command == "held-output":
        answer = held_output(args.url, args.tag)
    elif args.command == "decide":
        answer = decide(args.url, args.id, args.approve, args.deny or "")
    else:
        answer = status(args.url, args.id)
    print(json.dumps(answer))


if __name__ == "__main__":
    main(sys.argv[1:])
