"""The checked analyses on ``datasite`` in a real sandboxed worker (issue 13): a function using
``datasite.crosstab`` on private data gets a report with the exact counts behind each cell; in
"checked" mode a small-cell crosstab is held and a passing model or histogram goes out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from held_outputs import SCIENTIST, Site, rules_of

from jupyter_syft import serde
from jupyter_syft.server.execution import worker
from jupyter_syft.wire import routes


def test_the_workers_datasite_has_the_helpers():
    assert all(hasattr(worker._Datasite, name) for name in ("crosstab", "ols", "survival"))


CROSSTAB = (
    "def old_by_sign(data, datasite):\n"
    "    age = (data['age'] > 80).map({True: 'over 80', False: '80 or under'})\n"
    "    sign = (data['score'] > 0).map({True: 'positive', False: 'negative'})\n"
    "    return datasite.crosstab(age, sign)\n"
)
HISTOGRAM = (
    "def ages(data, datasite):\n    return datasite.histogram(data['age'], bins=[0, 50, 120])\n"
)
OLS = "def model(data, datasite):\n    return datasite.ols('score ~ age', data)\n"
SURVIVAL = (
    "def km(data, datasite):\n"
    "    return datasite.survival(data['age'], (data['score'] > 0).astype(int))\n"
)


@pytest.fixture
def site(node, root, scientist, uploaded) -> Site:
    site = Site(node.url)
    site.login("owner", "info@openmined.org", "changethis")
    site.login("scientist", *SCIENTIST)
    site.set_release("checked")
    return site


def _value(site: Site, execution: dict) -> object:
    raw = site.ok("scientist", "get", routes.EXECUTION_RESULT, execution_id=execution["id"])
    return serde.loads(raw)


def test_a_small_cell_crosstab_is_held_with_its_cells_named(site, uploaded):
    private, _mock = uploaded
    held = site.run(site.approved("old_by_sign", CROSSTAB))
    assert held["release"] == "held", held["report"]
    age = (private["age"] > 80).map({True: "over 80", False: "80 or under"})
    sign = (private["score"] > 0).map({True: "positive", False: "negative"})
    expected = pd.crosstab(age, sign)
    small = {
        (str(r), str(c))
        for r in expected.index
        for c in expected.columns
        if 0 < expected.loc[r, c] < 10
    }
    assert small  # the fixture's data have few people over 80
    # the scientist reads how many cells fail; the owners' view of the output names them
    (mine,) = [c for c in held["report"]["checks"] if c["rule"] == "min_count"]
    assert (
        mine["outcome"] == "fail" and mine["cells"] == [] and f"{len(small)} cell" in mine["reason"]
    )
    output = site.ok("owner", "get", routes.OUTPUT, execution_id=held["id"])
    checks = [c for c in output["report"]["checks"] if c["rule"] == "min_count"]
    assert len(checks) == 1, output["report"]
    (check,) = checks
    assert check["outcome"] == "fail"
    assert {tuple(cell) for cell in check["cells"]} == small
    refused = site.call("scientist", "get", routes.EXECUTION_RESULT, execution_id=held["id"])
    assert refused.status_code == 403


def test_a_passing_model_and_histogram_are_released(site, uploaded):
    private, _mock = uploaded
    model = site.run(site.approved("model", OLS))
    assert model["report"]["outcome"] == "pass" and "dof" in rules_of(model["report"], "pass")
    assert model["release"] == "released"
    params = _value(site, model)
    assert list(params.index) == ["Intercept", "age"]

    hist = site.run(site.approved("ages", HISTOGRAM))
    assert hist["report"]["outcome"] == "pass", hist["report"]
    counts = _value(site, hist)["count"].tolist()
    assert counts == np.histogram(private["age"], bins=[0, 50, 120])[0].tolist()


def test_a_survival_table_with_small_steps_is_held(site):
    held = site.run(site.approved("km", SURVIVAL))
    assert held["release"] == "held"
    assert "survival_steps" in rules_of(held["report"], "fail")
