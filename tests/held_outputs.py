"""A Datasite over plain HTTP for the output-review tests (issue 13): the owner, a scientist and
a guest, a dataset, and functions the scientist asks to run and the owner approves.

Plain HTTP (``wire.routes``) rather than the Python client, so these server tests say exactly
which route answered what.
"""

from __future__ import annotations

import time
from typing import Any

import requests

from jupyter_syft.wire import routes

OWNER = ("info@openmined.org", "changethis")  # conftest's root
SCIENTIST = ("ds@example.org", "pw-ds-123")  # conftest's scientist

# Functions of the private frame ``data`` (conftest's ``frames``: 50 rows of age and score).
COUNTS = "def counts(data):\n    return (data['age'] > 50).value_counts()\n"
ROWS = (
    "def rows(data):\n"
    "    return {'rows': data.head(50).to_dict('records'), 'mean': float(data['age'].mean())}\n"
)


class Site:
    def __init__(self, url: str):
        self.base = url + "/" + routes.API_PREFIX
        self.tokens: dict[str, str] = {}

    def login(self, who: str, email: str, password: str) -> None:
        answer = self.call(None, "post", routes.LOGIN, {"email": email, "password": password})
        assert answer.ok, answer.text
        self.tokens[who] = answer.json()["token"]

    def guest(self) -> None:
        answer = self.call(None, "post", routes.GUEST)
        assert answer.ok, answer.text
        self.tokens["guest"] = answer.json()["token"]

    def call(
        self,
        who: str | None,
        verb: str,
        template: str,
        json: Any = None,
        query: dict[str, str] | None = None,
        **params: str,
    ) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        return requests.request(
            verb.upper(),
            self.base + routes.path(template, **params),
            headers=headers,
            json=json,
            params=query,
            timeout=120,
        )

    def ok(self, who: str | None, verb: str, template: str, json: Any = None, **kw: Any) -> Any:
        answer = self.call(who, verb, template, json, **kw)
        assert answer.ok, (verb, template, who, answer.status_code, answer.text[:500])
        if answer.headers.get("Content-Type", "").startswith("application/json"):
            return answer.json()
        return answer.content

    # --- the usual steps ---------------------------------------------------------------------
    def set_release(self, mode: str, rules: Any = None) -> None:
        change: dict[str, Any] = {"release": mode}
        if rules is not None:
            change["disclosure_rules"] = rules
        settings = self.ok("owner", "patch", routes.SETTINGS, change)
        assert settings["release"] == mode

    def asset(self) -> dict[str, Any]:
        return self.ok("owner", "get", routes.DATASETS)["items"][0]["assets"][0]

    def approved(self, name: str, source: str, who: str = "scientist") -> str:
        """``source`` submitted by ``who`` in a request the owner approved: its code id."""
        asset = self.asset()
        code = {
            "name": name,
            "raw_code": source,
            "input_policy": {
                "type": "ExactMatch",
                "inputs": {"data": {"kind": "asset", "id": asset["id"]}},
            },
            "output_policy": {"type": "OutputPolicyExecuteCount", "limit": 10},
        }
        request = self.ok(who, "post", routes.REQUESTS, {"code": code})
        self.ok("owner", "post", routes.REQUEST_APPROVE, {}, request_id=request["id"])
        return str(request["code"]["id"])

    def inputs(self) -> dict[str, Any]:
        return {"inputs": {"data": {"kind": "asset", "id": self.asset()["id"]}}}

    def run(self, code_id: str, who: str = "scientist") -> dict[str, Any]:
        execution = self.ok(who, "post", routes.CODE_RUN, self.inputs(), code_id=code_id)
        assert execution["ok"], execution
        return execution  # type: ignore[no-any-return]

    def run_as_job(self, code_id: str, who: str = "scientist") -> dict[str, Any]:
        job = self.ok(who, "post", routes.CODE_JOBS, self.inputs(), code_id=code_id)
        deadline = time.monotonic() + 60
        while job["status"] in ("created", "processing") and time.monotonic() < deadline:
            time.sleep(0.1)
            job = self.ok(who, "get", routes.JOB, job_id=job["id"])
        assert job["status"] == "completed", job
        return job  # type: ignore[no-any-return]


def rules_of(report: dict[str, Any], outcome: str) -> set[str]:
    """The rules of a report's checks that came out as ``outcome``."""
    return {c["rule"] for c in report["checks"] if c["outcome"] == outcome}
