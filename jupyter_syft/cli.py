"""``jupyter-syft``: run a standalone Datasite (``jupyter-syft serve --name demo --port 8083``)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
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
    return asyncio.run(_serve(args))


async def _serve(args: argparse.Namespace) -> int:
    from .orchestra import _folder_name, datasites_root
    from .server.app import make_app, make_http_server
    from .server.datasite import Datasite, DatasiteConfig

    data_dir = args.data_dir or datasites_root() / _folder_name(args.name)
    from .server.store import StoreUnavailable

    try:
        config = DatasiteConfig.from_env(args.name, data_dir, args.db_url)
        config.dask_scheduler = args.dask_scheduler or config.dask_scheduler
        datasite = Datasite(config)
    except StoreUnavailable as exc:
        print(exc, file=sys.stderr)
        return 2
    if datasite.generated_root_password:
        print(
            f"Created the root account {datasite.config.root_email} with password "
            f"{datasite.generated_root_password}\n"
            "(shown once; set JUPYTER_SYFT_ROOT_PASSWORD to choose it)",
            flush=True,
        )
    if args.seed_demo:
        from .demo import seed_demo_data

        seed_demo_data(datasite)
    server = make_http_server(make_app(datasite))
    try:
        server.listen(args.port, address=args.host)
    except OSError as exc:
        print(f"Cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 2
    port = next(iter(server._sockets.values())).getsockname()[1]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # Announced only once a stop signal is handled, so whoever waits for this line can stop us.
    print(
        f"Datasite {args.name!r} serving at http://{args.host}:{port} (data in {data_dir})",
        flush=True,
    )
    await stop.wait()
    server.stop()
    await server.close_all_connections()
    datasite.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
