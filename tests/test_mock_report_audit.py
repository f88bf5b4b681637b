"""A mock run's disclosure report is an audit event too (issue 13, item 6): the scientist's
pre-submission report is part of the record, with the same hashes as a private run's."""

from __future__ import annotations

import hashlib

from held_outputs import ROWS, Site

from jupyter_syft import serde
from jupyter_syft.wire import routes


def test_a_mock_runs_report_is_audited_with_its_hashes(node, root, scientist, uploaded):
    site = Site(node.url)
    site.login("owner", "info@openmined.org", "changethis")
    site.login("scientist", "ds@example.org", "pw-ds-123")
    me = site.ok("scientist", "get", routes.ME)
    site.ok("owner", "patch", routes.USER, {"mock_execution_permission": True}, user_id=me["id"])
    code = site.ok(
        "scientist",
        "post",
        routes.CODE,
        {
            "name": "rows",
            "raw_code": ROWS,
            "input_policy": {
                "type": "ExactMatch",
                "inputs": {"data": {"kind": "asset", "id": site.asset()["id"]}},
            },
        },
    )
    execution = site.ok("scientist", "post", routes.CODE_RUN_ON_MOCKS, code_id=code["id"])
    assert not execution["on_private_data"] and execution["report"]["outcome"] == "fail"
    (event,) = [
        e
        for e in node.datasite.services.audit.events(limit=10_000)
        if e["action"] == "output.report" and e["object_id"] == execution["id"]
    ]
    detail = event["detail"]
    assert detail["private"] is False and detail["outcome"] == "fail"
    assert detail["code_sha256"] == hashlib.sha256(ROWS.encode()).hexdigest()
    value = site.ok("scientist", "get", routes.EXECUTION_RESULT, execution_id=execution["id"])
    assert serde.loads(value)["rows"]  # a mock's rows are the scientist's to see
    assert detail["result_sha256"] == hashlib.sha256(value).hexdigest()
    assert detail["rules_digest"] == execution["report"]["rules_digest"]
    assert node.datasite.services.audit.verify()
