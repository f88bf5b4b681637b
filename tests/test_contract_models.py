"""The written contract holds: every route declares what it takes and answers, a real Datasite's
answers are exactly those models, and a body of the wrong shape gets a 400 naming the field.

Walks the server's route table, so a route added without a declaration, or whose answers drift
from its declared model, fails here.
"""

from __future__ import annotations

import time
from typing import Any, get_args

import pytest
import requests
from local_wheels import wheel_folder
from pydantic import BaseModel, TypeAdapter

from jupyter_syft.server.http.handlers import ROUTES, VERBS
from jupyter_syft.wire import models, routes
from jupyter_syft.wire.contract import JSON, VALUE_MEDIA_TYPE, Op
from jupyter_syft.wire.enums import Decision, JobStatus

OWNER = ("info@openmined.org", "changethis")  # conftest's root
SCIENTIST = ("ds@example.org", "pw-ds-123")  # conftest's scientist
SOURCE = "@sy.syft_function\ndef total(data):\n    return int(data['age'].sum())\n"


def _served(endpoint: type) -> set[str]:
    return {verb for verb in VERBS if any(verb in vars(k) for k in endpoint.__mro__)}


def _op(template: str, verb: str) -> Op:
    endpoint = dict(ROUTES)[template]
    return endpoint.contract[verb]


# --- the declarations --------------------------------------------------------------------------
def test_every_route_declares_each_verb_it_serves():
    for template, endpoint in ROUTES:
        contract = getattr(endpoint, "contract", {})
        assert set(contract) == _served(endpoint), (template, endpoint.__name__)
        for verb, op in contract.items():
            where = f"{verb.upper()} {template}"
            assert isinstance(op, Op) and op.summary.strip(), where
            if op.media_type == VALUE_MEDIA_TYPE:
                assert op.response is None, where  # a value stream, not JSON
            else:
                assert op.media_type == JSON and op.response is not None, where
                TypeAdapter(op.response).json_schema()  # a type pydantic can check and document
            assert op.body is None or issubclass(op.body, models.Body), where
            assert op.query is None or issubclass(op.query, models.Query), where
            assert 200 <= op.status < 300, where


def test_every_wire_model_says_what_it_is():
    for name, value in vars(models).items():
        if isinstance(value, type) and issubclass(value, BaseModel) and value is not BaseModel:
            assert (value.__doc__ or "").strip(), f"{name} needs a one-line docstring"


def test_the_statuses_are_one_lowercase_vocabulary():
    assert [d.value for d in Decision] == ["pending", "approved", "rejected"]
    assert all(s.value == s.value.lower() for s in JobStatus)


def test_settings_models_name_every_setting():
    from jupyter_syft.server.services.settings import SETTINGS

    public = {key for key, spec in SETTINGS.items() if spec.public}
    assert set(models.PublicSettings.model_fields) == public
    assert set(models.Settings.model_fields) == set(SETTINGS)
    assert set(models.SettingsUpdate.model_fields) == set(SETTINGS)


def test_query_models_state_the_bounds_the_server_applies():
    from jupyter_syft.server.services import paging, previews

    limit = models.PageQuery.model_fields["limit"]
    assert limit.default == paging.DEFAULT_LIMIT
    assert limit.metadata[0].ge == 1 and limit.metadata[1].le == paging.MAX_LIMIT
    assert get_args(models.PageQuery.model_fields["order"].annotation) == paging.ORDERS
    assert previews.MAX_ROWS == 100  # RowsQuery's docstring says so


# --- real answers --------------------------------------------------------------------------------
class Site:
    """A Datasite with one of everything, called over HTTP; each answer is checked against the
    model its route declares."""

    def __init__(self, url: str):
        self.url = url + "/" + routes.API_PREFIX
        self.tokens: dict[str, str] = {}
        self.checked: set[tuple[str, str]] = set()

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
        answer = requests.request(
            verb.upper(),
            self.url + routes.path(template, **params),
            headers=headers,
            json=json,
            params=query,
            timeout=60,
        )
        op = _op(template, verb)
        if answer.ok:
            assert answer.status_code == op.status, (verb, template, answer.text[:300])
            if op.media_type == VALUE_MEDIA_TYPE:
                assert answer.headers["Content-Type"] == VALUE_MEDIA_TYPE
            else:
                check(op.response, answer.json(), f"{verb.upper()} {template} as {who}")
            self.checked.add((verb, template))
        return answer

    def ok(
        self,
        who: str | None,
        verb: str,
        template: str,
        json: Any = None,
        query: dict[str, str] | None = None,
        **params: str,
    ) -> Any:
        answer = self.call(who, verb, template, json, query, **params)
        assert answer.ok, (verb, template, who, answer.status_code, answer.text[:500])
        return answer.json() if _op(template, verb).media_type == JSON else answer.content


def check(declared: Any, value: Any, where: str) -> None:
    """``value`` is exactly an instance of ``declared``: it validates (no unknown key, no wrong
    type) and, dumped again as the server dumps it, gives the same JSON (no key missing)."""
    adapter = TypeAdapter(declared)
    parsed = adapter.validate_python(value)
    again = adapter.dump_python(parsed, mode="json", exclude_unset=True)
    assert again == value, where


@pytest.fixture
def site(node, root, scientist, uploaded, tmp_path) -> tuple[Site, dict[str, str]]:
    site = Site(node.url)
    for who, (email, password) in {
        "owner": OWNER,
        "scientist": SCIENTIST,
    }.items():
        login = site.ok(None, "post", routes.LOGIN, {"email": email, "password": password})
        site.tokens[who] = login["token"]
    site.tokens["guest"] = site.ok(None, "post", routes.GUEST)["token"]
    site.ok(None, "get", routes.METADATA)
    dataset = site.ok("scientist", "get", routes.DATASETS)["items"][0]
    asset = dataset["assets"][0]
    project = site.ok("scientist", "post", routes.PROJECTS, {"name": "Study", "description": "x"})
    code = {
        "name": "total",
        "raw_code": SOURCE,
        "input_policy": {
            "type": "ExactMatch",
            "inputs": {"data": {"kind": "asset", "id": asset["id"]}},
        },
        "output_policy": {"type": "OutputPolicyExecuteCount", "limit": 5},
    }
    request = site.ok(
        "scientist", "post", routes.REQUESTS, {"code": code, "project_id": project["id"]}
    )
    assert request["status"] == "pending" and request["code"]["status"] == "pending"
    approved = site.ok("owner", "post", routes.REQUEST_APPROVE, {}, request_id=request["id"])
    assert approved["status"] == "approved" and approved["code"]["status"] == "approved"
    inputs = {"inputs": {"data": {"kind": "asset", "id": asset["id"]}}}
    code_id = request["code"]["id"]
    execution = site.ok("scientist", "post", routes.CODE_RUN, inputs, code_id=code_id)
    assert execution["ok"] and execution["on_private_data"]
    job = site.ok("scientist", "post", routes.CODE_JOBS, inputs, code_id=code_id)
    deadline = time.monotonic() + 60
    while job["status"] in ("created", "processing") and time.monotonic() < deadline:
        time.sleep(0.2)
        job = site.ok("scientist", "get", routes.JOB, job_id=job["id"])
    assert job["status"] == "completed", job
    me = {who: site.ok(who, "get", routes.ME)["id"] for who in ("owner", "scientist")}
    notes: list = []  # the owner's inbox (written in the background): the new request
    while not notes and time.monotonic() < deadline:
        notes = site.ok("owner", "get", routes.NOTIFICATIONS)["items"]
        time.sleep(0.05)
    assert notes, "no notification of the new request"
    # an environment (built from a folder of wheels: no network) and a request for another
    wheels = str(wheel_folder(tmp_path / "wheels"))
    site.ok(
        "owner",
        "patch",
        routes.SETTINGS,
        {"environment_find_links": wheels, "environment_no_index": True},
    )
    site.ok("owner", "post", routes.ENVIRONMENTS, {"name": "stats", "packages": ["tinya"]})
    asked = {"packages": ["tinyb"], "reason": "x", "name": "more"}
    environment_request = site.ok("scientist", "post", routes.ENVIRONMENT_REQUESTS, asked)
    ids = {
        "dataset": dataset["name"],
        "asset_id": asset["id"],
        "code_id": code_id,
        "request_id": request["id"],
        "execution_id": execution["id"],
        "job_id": job["id"],
        "project": project["id"],
        "user_id": me["scientist"],
        "name": "total",
        "notification_id": notes[0]["id"],
        "environment": "stats",
        "environment_request_id": environment_request["id"],
    }
    return site, ids


def test_every_answer_of_a_real_datasite_is_its_declared_model(site):
    """Every GET route, as the owner and as a scientist (who sees less: owner-only fields must
    be absent, not null), and the answers of the calls that built the Datasite."""
    site, ids = site
    for template, endpoint in ROUTES:
        if "get" not in endpoint.contract:
            continue
        params = {name: ids[name] for name in routes.parameters(template) if name != "which"}
        for which in ("mock", "data") if "{which}" in template else (None,):
            if which:
                params["which"] = which
            site.ok("owner", "get", template, **params)  # owners may read all of it
            site.call("scientist", "get", template, **params)  # 200 answers checked
    # the Datasite answered every GET with what it declares
    gets = {t for t, e in ROUTES if "get" in e.contract}
    assert gets <= {t for v, t in site.checked if v == "get"}


def test_owner_only_fields_are_absent_for_everyone_else(site):
    site, ids = site
    owner = site.ok("owner", "get", routes.DATASET, dataset=ids["dataset"])["assets"][0]
    theirs = site.ok("scientist", "get", routes.DATASET, dataset=ids["dataset"])["assets"][0]
    assert {"data_summary", "data_size"} <= set(owner)
    assert not {"data_summary", "data_size"} & set(theirs)
    run = site.ok("scientist", "get", routes.CODE_EXECUTIONS, code_id=ids["code_id"])["items"][0]
    assert run["on_private_data"] and "stdout" not in run
    owners_view = site.ok("owner", "get", routes.CODE_EXECUTIONS, code_id=ids["code_id"])
    assert "stdout" in owners_view["items"][0]


def test_output_review_answers_are_their_models(site):
    """A held result, the owners' list of outputs and a decision: each answer is its model."""
    site, ids = site
    site.ok("owner", "patch", routes.SETTINGS, {"release": "manual"})
    inputs = {"inputs": {"data": {"kind": "asset", "id": ids["asset_id"]}}}
    held = site.ok("scientist", "post", routes.CODE_RUN, inputs, code_id=ids["code_id"])
    assert held["release"] == "held" and held["report"]["checks"]
    listed = site.ok("owner", "get", routes.OUTPUTS, query={"state": "held"})
    assert [o["execution_id"] for o in listed["items"]] == [held["id"]]
    site.ok("owner", "get", routes.OUTPUT, execution_id=held["id"])
    decided = site.ok(
        "owner", "post", routes.OUTPUT_WITHHOLD, {"reason": "no"}, execution_id=held["id"]
    )
    assert decided["state"] == "withheld" and decided["decided_by"]["email"] == OWNER[0]
    runs = site.ok("scientist", "get", routes.CODE_EXECUTIONS, code_id=ids["code_id"])
    assert [r["release"] for r in runs["items"]][-1] == "withheld"


def test_a_denied_request_and_its_code_say_rejected(site):
    site, _ids = site
    code = {"name": "other", "raw_code": "def other():\n    return 1\n"}
    request = site.ok("scientist", "post", routes.REQUESTS, {"code": code})
    denied = site.ok(
        "owner", "post", routes.REQUEST_DENY, {"reason": "no"}, request_id=request["id"]
    )
    assert denied["status"] == "rejected" and denied["code"]["status"] == "rejected"
    rejected = site.ok("owner", "get", routes.REQUESTS, query={"status": "rejected"})
    assert [r["id"] for r in rejected["items"]] == [request["id"]]


# --- bodies ---------------------------------------------------------------------------------------
def _wrong_value(annotation: Any) -> Any:
    """A JSON value the field's type refuses."""
    return {"not": "this"} if "list" in str(annotation) else [1]


def test_a_body_of_the_wrong_shape_gets_a_400_naming_the_field(site):
    site, ids = site
    params = {**ids, "which": "mock"}
    tried = 0
    for template, endpoint in ROUTES:
        for verb, op in endpoint.contract.items():
            if op.body is None:
                continue
            path_params = {name: params[name] for name in routes.parameters(template)}
            field, info = next(iter(op.body.model_fields.items()))
            for body in ({field: _wrong_value(info.annotation)}, [1, 2], "text"):
                answer = site.call("owner", verb, template, body, **path_params)
                assert answer.status_code == 400, (verb, template, body, answer.text[:300])
                detail = answer.json()["detail"]
                if isinstance(body, dict):
                    assert detail.startswith(field + " "), (template, detail)
                else:
                    assert "object" in detail, (template, detail)
            required = [n for n, i in op.body.model_fields.items() if i.is_required()]
            if required:
                answer = site.call("owner", verb, template, {}, **path_params)
                assert answer.status_code == 400, (verb, template)
                assert answer.json()["detail"] == f"{required[0]} is required."
            tried += 1
    assert tried >= 15  # every route that takes a body


def test_refusals_of_a_body_never_echo_much_of_it(site):
    site, _ids = site
    huge = "y" * 5000
    for body in ({huge: 1}, {"signup_enabled": huge}, {"name": [huge]}):
        answer = site.call("owner", "patch", routes.SETTINGS, body)
        assert answer.status_code == 400
        detail = answer.json()["detail"]
        echoed = detail.split(" You can send:")[0]  # what follows lists the known fields
        assert "y" * 100 not in detail and len(echoed) < 600, detail
    answer = site.call("owner", "patch", routes.SETTINGS, {"colour": "blue"})
    assert answer.json()["detail"].startswith("Unknown setting 'colour'.")
    answer = site.call("owner", "post", routes.USERS, {"email": "a@b.c", "password": "p", "x": 1})
    assert answer.status_code == 400 and "Unknown user field 'x'" in answer.json()["detail"]
