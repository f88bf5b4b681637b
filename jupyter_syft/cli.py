"""``jupyter-syft``: run a standalone Datasite (``jupyter-syft serve --name demo --port 8083``);
check an exported audit log offline (``jupyter-syft audit verify audit.jsonl``); run PySyft
notebooks with only their imports changed (``jupyter-syft run-pysyft 00-load-data.ipynb``)."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="jupyter-syft", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run a Datasite until interrupted")
    serve.add_argument("--name", default="datasite", help="the Datasite's name")
    serve.add_argument(
        "--port", type=int, default=8083, help="port to listen on (0: any free port)"
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: loopback only)"
    )
    serve.add_argument("--data-dir", type=Path, help="folder for the database and values")
    serve.add_argument("--db-url", help="SQL store URL (default: SQLite in the data folder)")
    serve.add_argument(
        "--dask-scheduler", help="run submitted code on this Dask cluster (tcp://host:8786)"
    )
    serve.add_argument(
        "--seed-demo", action="store_true", help="add a demo dataset if there is none"
    )
    serve.add_argument(
        "--processes",
        type=_processes,
        default=1,
        help="serve from this many processes, or 'auto': one per core this process may use "
        "(default 1; a SQLite file or PostgreSQL): the first runs code and jobs, the others "
        "answer plain calls and forward the rest to it",
    )
    serve.add_argument(
        "--log-level",
        choices=["debug", "info", "warning", "error"],
        default="info",
        help="what the log shows (default info; debug adds a line per answered call)",
    )
    audit = sub.add_parser("audit", help="check an audit log exported with client.audit.export")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_sub.add_parser(
        "verify",
        help="recompute every hash and link of an exported audit log (exit 1 at the first "
        "bad line)",
    )
    verify.add_argument("file", type=Path, help="the JSON-lines file client.audit.export wrote")
    verify.add_argument(
        "--since",
        metavar="SEQ:HASH",
        help="also check that the log extends this checkpoint (client.audit.checkpoint())",
    )
    from . import pysyft_notebooks

    pysyft_notebooks.add_arguments(
        sub.add_parser(
            "run-pysyft",
            help="run PySyft notebooks on jupyter_syft with only their imports changed",
        )
    )
    args = parser.parse_args(argv)
    if args.command == "audit":
        return verify_export(args.file, args.since)
    if args.command == "run-pysyft":
        return pysyft_notebooks.run(args)
    auto = args.processes == "auto"
    processes = _cores() if auto else args.processes
    pid = " [%(process)d]" if processes != 1 else ""  # which process wrote the line
    logging.basicConfig(
        level=args.log_level.upper(),
        format=f"%(asctime)s %(levelname)s %(name)s{pid}: %(message)s",
    )
    from .hosts import standalone
    from .hosts.bootstrap import datasite_folder

    if processes != 1:
        from .hosts.processes import serve_group

        return serve_group(
            args.name,
            args.data_dir or datasite_folder(args.name),
            args.port,
            processes,
            host=args.host,
            db_url=args.db_url,
            dask_scheduler=args.dask_scheduler,
            seed_demo=args.seed_demo,
            auto=auto,
        )

    return asyncio.run(
        standalone.serve(
            args.name,
            args.data_dir or datasite_folder(args.name),
            args.port,
            host=args.host,
            db_url=args.db_url,
            dask_scheduler=args.dask_scheduler,
            seed_demo=args.seed_demo,
        )
    )


def _processes(text: str) -> int | str:
    """``--processes``: a whole number, or "auto" (``_cores``; fewer where PostgreSQL has no
    room for them: ``connection_budget``)."""
    if text == "auto":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"takes a whole number of processes or 'auto', not {text[:40]!r}"
        ) from None


def _cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1


def verify_export(path: Path, since: str | None = None) -> int:
    """``jupyter-syft audit verify FILE``: 0 and a summary when every event checks out, 1 and
    the first bad line (and why) otherwise; 2 when the file or checkpoint cannot be used."""
    from .audit_chain import FIELDS, ChainChecker

    checkpoint: tuple[int | None, str | None] = (None, None)
    if since is not None:
        seq_text, _, digest = since.partition(":")
        if not (seq_text.isascii() and seq_text.isdigit()) or (
            seq_text != "0" and (len(digest) != 64 or not _is_hex(digest))
        ):
            print(
                f"--since must be SEQ:HASH as client.audit.checkpoint() gave them "
                f"(e.g. 42:{'0' * 64}), not {since[:80]!r}.",
                file=sys.stderr,
            )
            return 2
        checkpoint = (int(seq_text), digest.lower())
    checker = ChainChecker(*checkpoint)
    required = [f for f in FIELDS if f != "hash_version"]
    try:
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                event = _event(line, required)
                if isinstance(event, str):
                    print(f"{path}: line {number}: {event}", file=sys.stderr)
                    return 1
                if not checker.feed(event, position=number):
                    break
    except (OSError, UnicodeDecodeError) as exc:
        print(f"Cannot read {path}: {exc}", file=sys.stderr)
        return 2
    verdict = checker.finish()
    if not verdict.ok:
        where = f"line {verdict.position} " if verdict.position is not None else ""
        print(f"{path}: {where}(event seq {verdict.bad_seq}): {verdict.reason}", file=sys.stderr)
        return 1
    print(verdict.summary())
    return 0


def _event(line: str, required: list[str]) -> dict[str, Any] | str:
    """One exported event, or what is wrong with the line."""
    try:
        event = json.loads(line)
    except ValueError as exc:
        return f"not a JSON event ({exc}): edited or cut"
    if not isinstance(event, dict):
        return "not a JSON object: edited"
    missing = [f for f in required if f not in event]
    if missing:
        return f"the event has no {', '.join(missing)}: edited"
    if not isinstance(event["seq"], int) or not isinstance(event["hash"], str):
        return "its seq or hash has the wrong type: edited"
    return event


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in text)


if __name__ == "__main__":
    sys.exit(main())
