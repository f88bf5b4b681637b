"""What the Galata tests do on the Datasite with the Python client, as the seeds do it.

    python helpers/datasite.py request --url URL --tag TAG   # a scientist asks; prints JSON
    python helpers/datasite.py status --url URL --id ID      # the request's status, as the owner
    python helpers/datasite.py held-output --url URL --tag T # a run whose output is held; JSON
    python helpers/datasite.py output --url URL --id ID      # an output's state, as the owner
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


# A frequency table with small cells: radii binned by 5, counted. The largest bins hold fewer
# than 10 samples, so the disclosure checks fail those cells and the output is held.
COUNTS_FUNCTION = '''
import jupyter_syft as sy


def build(features):
    @sy.syft_function_single_use(data=features)
    def radius_counts(data):
        """Samples per 5-unit band of the worst radius ({tag})."""
        return (data["worst radius"] // 5 * 5).value_counts().sort_index()

    return radius_counts
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


def _load(source: str, tag: str, features):
    folder = Path(tempfile.mkdtemp(prefix="syft-galata-"))
    module_path = folder / f"function_{tag.replace('-', '_')}.py"
    module_path.write_text(textwrap.dedent(source).replace("{tag}", tag))
    spec = importlib.util.spec_from_file_location(module_path.stem, module_path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build(features)


def held_output(url: str, tag: str) -> dict[str, str]:
    """Release mode "checked": a scientist's request, approved by the owner, run on the
    private data; its small cells fail the checks, so its output is held for review."""
    root = owner(url)
    root.settings.update(release="checked")
    client = scientist(url)
    features = client.datasets["Breast Cancer Wisconsin"].assets["BC Features"]
    function = _load(COUNTS_FUNCTION, tag, features)
    request = client.code.request_code_execution(function, reason=f"Radius bands ({tag})")
    next(r for r in root.requests if r.id == request.id).approve()
    result = client.code.radius_counts(data=features)
    if not getattr(result, "held", False):
        raise SystemExit(f"The output was not held: {result!r}")
    output = next(o for o in root.outputs.held if o.request_id == request.id)
    return {
        "execution_id": output.execution_id,
        "function": output.service_func_name,
        "outcome": output.outcome,
        "request_id": request.id,
    }


def output_state(url: str, execution_id: str) -> dict[str, str]:
    output = owner(url).outputs[execution_id]
    return {"execution_id": execution_id, "state": output.state, "note": output.decision_note}


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
    held = sub.add_parser("held-output")
    held.add_argument("--url", required=True)
    held.add_argument("--tag", required=True)
    state = sub.add_parser("output")
    state.add_argument("--url", required=True)
    state.add_argument("--id", required=True)
    sub.add_parser("serve-remote")
    args = parser.parse_args(argv)
    if args.command == "serve-remote":
        serve_remote()
        return
    if args.command == "request":
        answer = make_request(args.url, args.tag)
    elif args.command == "held-output":
        answer = held_output(args.url, args.tag)
    elif args.command == "output":
        answer = output_state(args.url, args.id)
    else:
        answer = status(args.url, args.id)
    print(json.dumps(answer))


if __name__ == "__main__":
    main(sys.argv[1:])
