"""What the activity and jobs Galata tests do on the Datasite with the Python client.

    python helpers/activity.py approved --url URL --tag TAG     # a request, approved; JSON
    python helpers/activity.py job --url URL --tag TAG --steps N --pause S
        # a scientist's approved function looping N steps of S seconds with progress, started
        # with blocking=False on the private data; prints JSON as soon as it is queued
    python helpers/activity.py job-status --url URL --id ID      # a job's status (owner)

Accounts and the seeded dataset as in helpers/datasite.py.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from datasite import _load, owner, scientist

APPROVED_FUNCTION = '''
import jupyter_syft as sy


def build(features):
    @sy.syft_function_single_use(data=features)
    def radius_max(data):
        """Largest worst radius ({tag})."""
        return float(data["worst radius"].max())

    return radius_max
'''

LOOP_FUNCTION = '''
import jupyter_syft as sy


def build(features):
    @sy.syft_function(
        input_policy=sy.ExactMatch(data=features),
        output_policy=sy.OutputPolicyExecuteCount(limit=3),
    )
    def slow_means(datasite, data):
        """A slow loop over the columns, with progress ({tag})."""
        import time

        steps, pause = {steps}, {pause}
        datasite.init_progress(steps)
        for i in range(steps):
            print("step", i + 1, "of", steps)
            time.sleep(pause)
            datasite.set_progress(i + 1)
        return float(data["worst radius"].mean())

    return slow_means
'''


def approved(url: str, tag: str) -> dict[str, str]:
    root, client = owner(url), scientist(url)
    features = client.datasets["Breast Cancer Wisconsin"].assets["BC Features"]
    function = _load(APPROVED_FUNCTION, tag, features)
    request = client.code.request_code_execution(function, reason=f"Largest radius ({tag})")
    next(r for r in root.requests if r.id == request.id).approve()
    return {"request_id": request.id, "function": "radius_max"}


def start_job(url: str, tag: str, steps: int, pause: float) -> dict[str, str]:
    root, client = owner(url), scientist(url)
    features = client.datasets["Breast Cancer Wisconsin"].assets["BC Features"]
    source = LOOP_FUNCTION.replace("{steps}", str(steps)).replace("{pause}", str(pause))
    function = _load(source, tag, features)
    request = client.code.request_code_execution(function, reason=f"Slow means ({tag})")
    next(r for r in root.requests if r.id == request.id).approve()
    job = client.code.slow_means(data=features, blocking=False)
    return {"job_id": job.id, "request_id": request.id, "function": "slow_means"}


def job_status(url: str, job_id: str) -> dict[str, str]:
    job = owner(url).jobs.get_by_id(job_id)
    return {"job_id": job_id, "status": job.status.value, "progress": job.progress}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    made = sub.add_parser("approved")
    made.add_argument("--url", required=True)
    made.add_argument("--tag", required=True)
    start = sub.add_parser("job")
    start.add_argument("--url", required=True)
    start.add_argument("--tag", required=True)
    start.add_argument("--steps", type=int, default=20)
    start.add_argument("--pause", type=float, default=0.5)
    check = sub.add_parser("job-status")
    check.add_argument("--url", required=True)
    check.add_argument("--id", required=True)
    args = parser.parse_args(argv)
    if args.command == "approved":
        answer = approved(args.url, args.tag)
    elif args.command == "job":
        answer = start_job(args.url, args.tag, args.steps, args.pause)
    else:
        answer = job_status(args.url, args.id)
    print(json.dumps(answer))


if __name__ == "__main__":
    main(sys.argv[1:])
