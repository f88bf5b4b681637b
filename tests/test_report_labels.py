"""A held report names no private labels to the scientist (issue 13): a table's row labels can
be data themselves (here: the ages present in the private frame), so while the result is kept
back the scientist reads how many cells fail each rule, and the owners which."""

from __future__ import annotations

from held_outputs import SCIENTIST, Site

from jupyter_syft.wire import routes

BY_AGE = "def by_age(data):\n    return data.groupby('age').size()\n"


def test_failing_cells_are_named_to_owners_and_counted_to_the_scientist(
    node, root, scientist, uploaded
):
    private, _mock = uploaded
    site = Site(node.url)
    site.login("owner", "info@openmined.org", "changethis")
    site.login("scientist", *SCIENTIST)
    site.set_release("checked")
    held = site.run(site.approved("by_age", BY_AGE))
    assert held["release"] == "held"
    (low,) = [c for c in held["report"]["checks"] if c["outcome"] == "fail" and c["rule"]]
    assert low["cells"] == [] and "the owners see which" in low["reason"]
    assert not any(str(age) in low["reason"].split("(")[-1] for age in private["age"])
    # the owners' view of the same run names the cells by their labels (the ages)
    (run,) = site.ok("owner", "get", routes.CODE_EXECUTIONS, code_id=held["code_id"])["items"]
    named = {c["rule"]: c["cells"] for c in run["report"]["checks"] if c["cells"]}
    labels = {cell[0] for cells in named.values() for cell in cells}
    assert labels and labels <= {str(age) for age in private["age"]}
    output = site.ok("owner", "get", routes.OUTPUT, execution_id=held["id"])
    assert any(c["cells"] for c in output["report"]["checks"])
    # once released, the labels are in the scientist's table anyway: the report names them
    site.ok("owner", "post", routes.OUTPUT_RELEASE, {"comment": "ok"}, execution_id=held["id"])
    (mine,) = site.ok("scientist", "get", routes.CODE_EXECUTIONS, code_id=held["code_id"])["items"]
    assert any(c["cells"] for c in mine["report"]["checks"])
