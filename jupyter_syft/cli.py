"""``jupyter-syft``: run a standalone Datasite (``jupyter-syft serve --name demo --port 8083``)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path


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
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    from .hosts import standalone
    from .hosts.bootstrap import datasite_folder

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


if __name__ == "__main__":
    sys.exit(main())
