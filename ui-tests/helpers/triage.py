"""Seeding for the triage Galata test (tests/triage.spec.ts), with the Python client.

    python helpers/triage.py seed --url URL       # 24 pending requests; prints JSON
    python helpers/triage.py statuses --url URL --ids ID,ID,...   # as the owner; JSON
    python helpers/triage.py records --url URL     # a request returning raw rows; JSON

Three scientists each ask 8 times, 4 times in each of two projects ("Radius study" and
"Texture study"; a project belongs to one scientist, so each has their own of each name). Ada's
4th request in the Radius study is a second version of her first function (same name, changed
code): 24 pending requests in all.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
import time
from pathlib import Path

from datasite import owner

import jupyter_syft as sy

SCIENTISTS = [
    ("Ada Lovelace-Byron of the Analytical Engine", "ada.lovelace@triage.example", "pw-ada-12345"),
    ("Ben Okafor", "ben.okafor@triage.example", "pw-ben-12345"),
    ("Chen Wei", "chen.wei@triage.example", "pw-chen-12345"),
]
PROJECTS = {
    "Radius study of the Wisconsin nuclei": [
        ("mean", "worst radius"),
        ("median", "worst radius"),
        ("max", "mean radius"),
        ("min", "mean radius"),
    ],
    "Texture study": [
        ("mean", "worst texture"),
        ("median", "worst texture"),
        ("max", "mean texture"),
        ("min", "mean texture"),
    ],
}

TEMPLATE = '''
import jupyter_syft as sy


def build(features):
    @sy.syft_function_single_use(data=features)
    def {name}(data):
        """The {stat} of {column} ({who})."""
        return data["{column}"].{stat}(){extra}

    return {name}
'''


def _function(features, stat: str, column: str, who: str, extra: str = ""):
    name = f"{stat}_{column.replace(' ', '_')}"
    source = TEMPLATE.format(name=name, stat=stat, column=column, who=who, extra=extra)
    folder = Path(tempfile.mkdtemp(prefix="syft-triage-"))
    path = folder / f"triage_{name}_{who.split('@')[0].replace('.', '_')}{len(extra)}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build(features)


def _scientist(url: str, root, name: str, email: str, password: str):
    if not any(user.email == email for user in root.users):
        root.users.create(
            sy.UserCreate(
                email=email,
                name=name,
                password=password,
                password_verify=password,
                institution="University of Examples",
                role=sy.ServiceRole.DATA_SCIENTIST,
            )
        )
    return sy.login(url=url, email=email, password=password, verbose=False)


def seed(url: str) -> dict:
    root = owner(url)
    made = []
    for who, (name, email, password) in enumerate(SCIENTISTS):
        client = _scientist(url, root, name, email, password)
        features = client.datasets["Breast Cancer Wisconsin"].assets["BC Features"]
        for title, functions in PROJECTS.items():
            project = sy.Project(name=title, description="Triage test", members=[client]).send()
            second_version = who == 0 and title.startswith("Radius")
            # 24 in all: Ada's 4th request in the Radius study is her second version
            for stat, column in functions[:3] if second_version else functions:
                fn = _function(features, stat, column, email)
                request = project.create_code_request(fn, client)
                made.append(_row(request, fn, email, title))
            if second_version:
                time.sleep(1.1)  # the Datasite's times are to the second: resubmitted later
                # a second version of her first function: same name, changed code
                fn = _function(features, "mean", "worst radius", email, extra=".round(2)")
                request = project.create_code_request(fn, client)
                made.append(_row(request, fn, email, title, version=2))
    return {"requests": made}


def _row(request, fn, email: str, project: str, version: int = 1) -> dict:
    request = getattr(request, "request", request)
    return {
        "id": str(request.id),
        "function": fn.service_func_name if hasattr(fn, "service_func_name") else fn.__name__,
        "requester": email,
        "project": project,
        "version": version,
    }


RECORDS = '''
import jupyter_syft as sy


def build(features):
    @sy.syft_function_single_use(data=features)
    def first_rows(data):
        """The first rows, as records (what a reviewer must see as a table)."""
        return data[["mean radius", "mean texture", "worst radius"]].head(50).to_dict("records")

    return first_rows
'''


def records(url: str) -> dict:
    from datasite import scientist

    client = scientist(url)
    features = client.datasets["Breast Cancer Wisconsin"].assets["BC Features"]
    folder = Path(tempfile.mkdtemp(prefix="syft-triage-"))
    path = folder / "triage_records.py"
    path.write_text(RECORDS)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fn = module.build(features)
    request = client.code.request_code_execution(fn, reason="First rows, to check the columns")
    return {"id": str(getattr(request, "id", "")), "function": "first_rows"}


def statuses(url: str, ids: list[str]) -> dict:
    found = {str(r.id): r for r in owner(url).requests}
    return {
        "statuses": {
            i: {
                "status": found[i].status.name if i in found else "missing",
                "reason": getattr(found.get(i), "deny_reason", "") or "",
            }
            for i in ids
        }
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("seed").add_argument("--url", required=True)
    check = sub.add_parser("statuses")
    check.add_argument("--url", required=True)
    check.add_argument("--ids", required=True)
    sub.add_parser("records").add_argument("--url", required=True)
    args = parser.parse_args(argv)
    if args.command == "seed":
        answer = seed(args.url)
    elif args.command == "records":
        answer = records(args.url)
    else:
        answer = statuses(args.url, [i for i in args.ids.split(",") if i])
    print(json.dumps(answer))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    main(sys.argv[1:])
