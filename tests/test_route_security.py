"""Every route, called by a scientist, a guest, a forged token and no token: no private data.

The private frame carries a marker that the mock does not; no response may contain it.
"""

import re

import pandas as pd
import pytest
import requests
from local_wheels import use_local_wheels, wheel_folder

import jupyter_syft as sy
from jupyter_syft.server.http.handlers import route_table

MARKER = "PRIVATE-MARKER-7f3a"
METHODS = ["GET", "POST", "PATCH", "DELETE"]


@pytest.fixture
def site(node, root, scientist, tmp_path):
    """A Datasite where another scientist (Bob) already ran approved code whose result is the
    private marker. ``scientist`` (Dana) then probes every route with every real id."""
    private = pd.DataFrame({"name": [MARKER, "x"], "v": [1, 2]})
    mock = pd.DataFrame({"name": ["m1", "m2"], "v": [0, 0]})
    root.upload_dataset(
        sy.Dataset(name="Secret", asset_list=[sy.Asset(name="t", data=private, mock=mock)]),
        progress=False,
    )
    root.users.create(sy.UserCreate(email="bob@example.org", name="Bob", password="pw-bob"))
    bob = sy.login(url=node.url, email="bob@example.org", password="pw-bob", verbose=False)
    bob_asset = bob.datasets[0].assets[0]
    project = bob.create_project(name="Bob's study", description="first names")

    @sy.syft_function(
        input_policy=sy.ExactMatch(data=bob_asset),
        output_policy=sy.OutputPolicyExecuteCount(limit=5),
    )
    def first_name(data):
        print(data["name"][0])
        return data["name"][0]

    request = project.create_code_request(first_name)
    root.requests[0].approve()
    result = bob.code.first_name(data=bob_asset)
    assert result.get() == MARKER
    job = bob.code.first_name(data=bob_asset, blocking=False)
    assert job.wait(timeout=60).get() == MARKER
    # Bob's inbox: his decision and his job (Dana must never open them)
    assert node.datasite.services.notifications.flush(30)
    bob_notes = bob.notifications.get_all()
    assert {"request_approved", "job_finished"} <= {n.kind for n in bob_notes}
    # an environment (built from a folder of wheels: no network) and Bob's request for one
    use_local_wheels(root, wheel_folder(tmp_path / "wheels"))
    root.environments.create(name="stats", packages=["tinya"], progress=False)
    environment_request = bob.environments.request(packages=["tinyb"], reason="x", name="more")
    dataset = root.datasets[0]
    ids = {
        "asset": dataset.assets[0].id,
        "dataset": dataset.id,
        "root": root.account.id,
        "ds": scientist.account.id,
        "bob": bob.account.id,
        "code": request.code.id,
        "request": request.id,
        "execution": result.id,
        "project": project.id,
        "job": job.id,
        "notification": bob_notes[0].id,
        "environment": "stats",
        "environment_request": environment_request.id,
    }
    return node, root, scientist, ids


ID_PATTERN = "([0-9a-f]{32})"
IDS_FOR_PREFIX = {
    "users/": ("root", "ds", "bob"),
    "assets/": ("asset",),
    "code/": ("code",),
    "executions/": ("execution",),
    "outputs/": ("execution",),
    "requests/": ("request",),
    "jobs/": ("job",),
    "notifications/": ("notification",),
    "environment-requests/": ("environment_request",),
}


def _paths(ids):
    """Concrete paths for every route pattern, with real ids filled in."""
    out = []
    prefix = "/syft/api/v1/"
    for pattern, _handler in route_table(prefix):
        path = pattern.rstrip("$")
        rel = path[len(prefix) :]
        if "([^/]+)" in rel:
            key = "project" if rel.startswith("projects/") else "dataset"
            if rel.startswith("environments/"):
                key = "environment"
            out.append(path.replace("([^/]+)", ids[key]))
            continue
        if ID_PATTERN not in rel:
            out.append(path)
            continue
        kinds = next(v for k, v in IDS_FOR_PREFIX.items() if rel.startswith(k))
        for kind in kinds:
            concrete = path.replace(ID_PATTERN, ids[kind])
            if "(mock|data)" in concrete:
                out += [concrete.replace("(mock|data)", w) for w in ("mock", "data")]
            else:
                out.append(concrete)
    return out


def _callers(scientist):
    return {
        "scientist": {"Authorization": f"Bearer {scientist.connection.token}"},
        "guest": {},
        "forged": {"Authorization": "Bearer not-a-real-token"},
    }


def test_every_route_is_covered(site):
    *_, ids = site
    paths = _paths(ids)
    assert len(paths) >= len(route_table("/x/")), paths
    assert not [p for p in paths if "(" in p], paths


@pytest.mark.parametrize("caller", ["scientist", "guest", "forged"])
def test_no_route_gives_private_data_to_non_owners(site, caller):
    node, root, scientist, ids = site
    headers = _callers(scientist)[caller]
    for path in _paths(ids):
        for method in METHODS:
            for params in ({}, {"rows": "5"}):
                r = requests.request(
                    method, node.url + path, headers=headers, params=params, json={}, timeout=10
                )
                body = r.content
                assert MARKER.encode() not in body, (caller, method, path, r.status_code)
                if path.endswith(f"/notifications/{ids['notification']}") and method == "GET":
                    assert r.status_code in (401, 403, 404), (caller, path, r.status_code)
                if path.endswith("/data") or "/executions/" in path or "/jobs/" in path:
                    assert r.status_code in (401, 403, 404, 405), (
                        caller,
                        method,
                        path,
                        r.status_code,
                    )
                if caller == "forged":
                    assert r.status_code in (200, 401, 405), (
                        method,
                        path,
                        r.status_code,
                    )  # 200 only for public metadata
    # the data and its column names stayed private, and the owner still reads them
    assert root.datasets[0].assets[0].data["name"][0] == MARKER
    # nothing a non-owner did changed the request's decision
    assert root.requests[0].status == sy.RequestStatus.APPROVED
    # nor the environments: still there, built once, Bob's request still pending
    assert root.environments.names == ["stats"]
    assert node.datasite.services.environments.builder.builds_started == 1
    assert [r.status for r in root.environments.requests] == ["pending"]


def test_private_route_refusal_says_why(site):
    node, _, scientist, ids = site
    r = requests.get(
        f"{node.url}/syft/api/v1/assets/{ids['asset']}/data",
        headers=_callers(scientist)["scientist"],
    )
    assert r.status_code == 403
    assert r.json() == {"error": "forbidden", "detail": r.json()["detail"]}
    assert "permission to access private data" in r.json()["detail"]


def test_owner_views_carry_private_summary_but_scientist_views_do_not(site):
    _node, root, scientist, _ = site
    owner = root.connection.get("datasets")["items"][0]["assets"][0]
    theirs = scientist.connection.get("datasets")["items"][0]["assets"][0]
    assert "data_summary" in owner and "data_summary" not in theirs
    assert theirs["can_read_data"] is False


def test_malformed_values_get_a_clear_400(site):
    node, root, *_ = site
    headers = {"Authorization": f"Bearer {root.connection.token}"}
    url = f"{node.url}/syft/api/v1/blobs"
    r = requests.post(url, data=b"\x80\x04\x95 not our format", headers=headers)
    assert r.status_code == 400 and "rejected" in r.json()["detail"]
    import json
    import struct

    header = json.dumps(
        {"v": 1, "root": ["pickle", 0], "segments": [], "summary": {"type": "x"}}
    ).encode()
    body = b"JSYF" + bytes([1, 0]) + struct.pack("<I", len(header)) + header
    r = requests.post(url, data=body, headers=headers)
    assert r.status_code == 400 and "pickle" in r.json()["detail"]
    assert not list((node.data_dir / "blobs" / "tmp").iterdir())


def test_malformed_json_gets_a_clear_400(site):
    node, root, *_ = site
    headers = {"Authorization": f"Bearer {root.connection.token}"}
    r = requests.post(f"{node.url}/syft/api/v1/datasets", data=b"{not json", headers=headers)
    assert r.status_code == 400 and r.json()["detail"] == "The request body is not valid JSON."
    r = requests.post(f"{node.url}/syft/api/v1/datasets", json=[1, 2], headers=headers)
    assert r.status_code == 400


def test_dataset_cannot_point_at_values_never_uploaded(site):
    _node, root, *_ = site
    with pytest.raises(sy.SyftException, match="was not uploaded"):
        root.connection.post(
            "datasets", {"name": "Fake", "assets": [{"name": "a", "data": "0" * 64}]}
        )


def test_internal_errors_do_not_leak_paths(site, monkeypatch):
    node, root, *_ = site

    def boom(actor):
        raise RuntimeError(f"cannot open {node.data_dir}/datasite.db")

    monkeypatch.setattr(node.datasite.services.datasets, "list", boom)
    r = requests.get(
        f"{node.url}/syft/api/v1/datasets",
        headers={"Authorization": f"Bearer {root.connection.token}"},
    )
    assert r.status_code == 500
    assert str(node.data_dir) not in r.text and "datasite.db" not in r.text
    assert re.search(r"reference [0-9a-f]{8}", r.json()["detail"])


def test_unknown_routes_are_json_404(site):
    node, *_ = site
    r = requests.get(f"{node.url}/syft/api/v1/nothing-here")
    assert r.status_code == 404 and r.json()["error"] == "http_error"
