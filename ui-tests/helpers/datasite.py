"""What the Galata tests do on the Datasite with the Python client, as the seeds do it.

    python helpers/datasite.py request --url URL --tag TAG   # a scientist asks; prints JSON
    python helpers/datasite.py status --url URL --id ID      # the request's status, as the owner
    python helpers/datasite.py serve-remote                  # another Datasite, until stdin closes

The JupyterLab under test hosts the Datasite (its owner: info@openmined.org, with the password
in JUPYTER_SYFT_ROOT_PASSWORD, set by jupyter_server_test_config.py's defaults).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import tempfile
import textwrap
from pathlib import Path

import jupyter_syft as sy

ROOT_EMAIL = "info@openmined.org"
ROOT_PASSWORD = os.environ.get("JUPYTER_SYFT_ROOT_PASSWORD", "galata-owner-pw-1")
DS_EMAIL, DS_PASSWORD = "dana@uni.example", "pw-dana-123"
ORCHESTRA_PASSWORD = "changethis"  # noqa: S105 - sy.orchestra.launch's root password

# The scientist's Syft function, written to a file so the client can read its source. The
# tag makes each test's submission distinct (a Datasite refuses the same code twice).
FUNCTION = '''
import jupyter_syft as sy


def build(features):
    @sy.syft_function_single_use(data=features)
    def mean_worst_radius(data):
        """Mean of the worst radius over all samples ({tag})."""
        return data["worst radius"].mean()

    return mean_worst_radius
'''


def owner(url: str):
    return sy.login(url=url, email=ROOT_EMAIL, password=ROOT_PASSWORD, verbose=False)


def scientist(url: str):
    root = owner(url)
    if not any(user.email == DS_EMAIL for user in root.users):
        root.users.create(
            sy.UserCreate(
                email=DS_EMAIL,
                name="Dana Scientist",
                password=DS_PASSWORD,
                password_verify=DS_PASSWORD,
                institution="University of Examples",
                role=sy.ServiceRole.DATA_SCIENTIST,
            )
        )
    return sy.login(url=url, email=DS_EMAIL, password=DS_PASSWORD, verbose=False)


def make_request(url: str, tag: str) -> dict[str, str]:
    client = scientist(url)
    features = client.datasets["Breast Cancer Wisconsin"].assets["BC Features"]
    folder = Path(tempfile.mkdtemp(prefix="syft-galata-"))
    module_path = folder / f"request_{tag.replace('-', '_')}.py"
    module_path.write_text(textwrap.dedent(FUNCTION).replace("{tag}", tag))
    spec = importlib.util.spec_from_file_location(module_path.stem, module_path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    function = module.build(features)

    project = sy.Project(
        name=f"Radius study {tag}",
        description="How large are the nuclei, on average?",
        members=[client],
    ).send()
    request = project.create_code_request(
        function, reason=f"Average nucleus size for the study ({tag})"
    )
    return {
        "request_id": request.id,
        "function": "mean_worst_radius",
        "project": f"Radius study {tag}",
        "status": request.status.name,
    }


def status(url: str, request_id: str) -> dict[str, str]:
    for request in owner(url).requests:
        if request.id == request_id:
            return {"request_id": request_id, "status": request.status.name}
    raise SystemExit(f"No request {request_id} on the Datasite at {url}.")


def serve_remote() -> None:
    """A second, standalone Datasite with a scientist account and a small dataset, for the
    sidebar to connect to. Prints its address and account as JSON, then runs until stdin
    closes (the test ends)."""
    import pandas as pd

    node = sy.orchestra.launch(name="galata-remote", port="auto", reset=True, verbose=False)
    try:
        root = node.login(email=ROOT_EMAIL, password=ORCHESTRA_PASSWORD, verbose=False)
        dataset = sy.Dataset(name="Remote Trial", summary="A small trial on another Datasite")
        dataset.add_asset(
            sy.Asset(
                name="Visits",
                data=pd.DataFrame({"visits": [3, 1, 4, 1, 5]}),
                mock=pd.DataFrame({"visits": [2, 2, 2, 2, 2]}),
            )
        )
        root.upload_dataset(dataset, progress=False)
        root.users.create(
            sy.UserCreate(
                email=DS_EMAIL,
                name="Dana Scientist",
                password=DS_PASSWORD,
                password_verify=DS_PASSWORD,
                role=sy.ServiceRole.DATA_SCIENTIST,
            )
        )
        print(json.dumps({"url": node.url, "email": DS_EMAIL, "password": DS_PASSWORD}))
        sys.stdout.flush()
        sys.stdin.read()  # until the test closes our stdin (or ends)
    finally:
        node.land()


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    ask = sub.add_parser("request")
    ask.add_argument("--url", required=True)
    ask.add_argument("--tag", required=True)
    check = sub.add_parser("status")
    check.add_argument("--url", required=True)
    check.add_argument("--id", required=True)
    sub.add_parser("serve-remote")
    args = parser.parse_args(argv)
    if args.command == "serve-remote":
        serve_remote()
        return
    if args.command == "request":
        answer = make_request(args.url, args.tag)
    else:
        answer = status(args.url, args.id)
    print(json.dumps(answer))


if __name__ == "__main__":
    main(sys.argv[1:])
