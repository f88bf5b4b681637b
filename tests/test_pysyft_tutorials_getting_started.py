"""PySyft 0.9's "getting started" scenario (notebooks/scenarios/getting-started, 01 to 08) in
the shape of its notebooks: one Datasite, its owner configures it, uploads data and adds
people; a scientist works on the mock, submits code in a project, is denied, submits again;
the owner reviews, tries the code on mock and private data, approves; the scientist runs it.
Our own code and synthetic data of the same shape; PySyft's asserts where the notebooks have
them (issue 14, "Done")."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import jupyter_syft as sy
from jupyter_syft.pysyft_notebooks import swap_imports

WELCOME = """
Welcome to the harbour Datasite
===============================

Ask **before** you *run* anything: `client.requests`.

> Quotes work too.

<script>alert("owned")</script>

See [click](javascript:void) and [docs](https://x.example).
"""


def _lives(n: int, seed: int) -> pd.DataFrame:
    """A table shaped like the tutorial's ages data (a few of its columns)."""
    rng = np.random.default_rng(seed)
    birth = rng.integers(1700, 1950, n)
    age = rng.integers(20, 100, n)
    return pd.DataFrame(
        {
            "Name": [f"Person {seed}-{i}" for i in range(n)],
            "Gender": rng.choice(["Male", "Female"], n),
            "Birth year": birth,
            "Death year": birth + age,
            "Manner of death": rng.choice(["natural causes", "accident", "illness"], n),
            "Age of death": age.astype(float),
        }
    )


# --- 03: configuring the Datasite ----------------------------------------------------------
def test_configuring_a_datasite_as_pysyft_does(node, root, monkeypatch):
    settings = root.api.services.settings
    assert {"get", "set", "update", "welcome_customize", "welcome_show"} <= set(dir(settings))
    other = node.login(email="info@openmined.org", password="changethis", verbose=False)

    s = settings.get()
    assert "No setting changed" in settings.set(s).message  # saving what was read changes nothing
    settings.set({**s.to_dict(), "organization": "Harbour Health"})
    assert settings.get().organization == "Harbour Health"
    with pytest.raises(sy.SyftException, match=r"client.settings.get\(\)"):
        settings.set(["not", "settings"])

    done = settings.update(
        name="harbour",
        organization="b",
        description="c",
        admin_email="owner@harbour.example",
        association_request_auto_approval=True,
        eager_execution_enabled=False,
    )
    assert isinstance(done, sy.SyftSuccess)
    # PySyft's own settings are taken and said to have no job here, never dropped silently
    assert "association_request_auto_approval" in done.message
    assert "eager_execution_enabled" in done.message
    now = settings.get()
    assert (now.name, now.organization, now.description) == ("harbour", "b", "c")
    assert root.name == "harbour"  # the client's view follows at once
    assert other.name != "harbour"  # another client's view is as it was at its login...
    assert other.refresh() is None and other.name == "harbour"  # ...until refresh()
    with pytest.raises(sy.SyftException, match="eager execution"):
        settings.update(eager_execution_enabled=True)
    settings.update(notifications_enabled=False)  # PySyft's name for mail_enabled
    assert settings.get().mail_enabled is False
    with pytest.raises(sy.SyftException, match="Unknown setting"):
        settings.update(colour="blue")  # a typo is refused, not ignored

    # the welcome message: previewed, saved by the owner, shown to everyone who logs in
    preview = settings.welcome_preview(markdown=WELCOME)
    page = preview._repr_html_()
    assert "<h1>Welcome to the harbour Datasite</h1>" in page and "<strong>before</strong>" in page
    assert "<script>" not in page and "&lt;script&gt;" in page  # HTML is shown as text
    assert "javascript:" not in page and 'href="https://x.example"' in page
    assert settings.welcome_show().markdown == ""  # preview saves nothing
    assert isinstance(settings.welcome_customize(markdown=WELCOME), sy.SyftSuccess)
    guest = root.login_as_guest()
    assert guest.settings.welcome_show().markdown == WELCOME
    assert str(guest.api.services.settings.welcome_show()) == WELCOME
    fresh = node.login(email="info@openmined.org", password="changethis", verbose=False)
    assert "<h1>Welcome to the harbour Datasite</h1>" in fresh._repr_html_()
    assert "<script>" not in fresh._repr_html_()
    with pytest.raises(sy.SyftException, match="Markdown"):
        settings.welcome_customize(html="<h1>hi</h1>")
    with pytest.raises(sy.SyftException, match="characters"):
        settings.welcome_customize(markdown="x" * 64_001)
    assert settings.welcome_show().markdown == WELCOME  # a refused change changes nothing

    # guest sign-up: refused until the owner allows it
    with pytest.raises(sy.SyftException, match="allow_guest_signup"):
        guest.register(name="a", email="a@b.example", password="pw-a-1", password_verify="pw-a-1")
    settings.allow_guest_signup(enable=True)
    guest.register(name="a", email="a@b.example", password="pw-a-1", password_verify="pw-a-1")
    scientist = guest.login(email="a@b.example", password="pw-a-1", verbose=False)
    assert scientist.role == sy.ServiceRole.DATA_SCIENTIST
    with pytest.raises(sy.SyftException):  # only owners change the welcome
        scientist.settings.welcome_customize(markdown="mine now")
    assert scientist.settings.welcome_show().markdown == WELCOME

    # PySyft's test notebooks read secrets from sy.test_settings: here environment variables
    assert sy.test_settings.get("smtp_token", default="ADD_TOKEN") == "ADD_TOKEN"
    monkeypatch.setenv("SYFT_TEST_SMTP_TOKEN", "tok-123")
    assert sy.test_settings.get("smtp_token", default="ADD_TOKEN") == "tok-123"
    with pytest.raises(sy.SyftException, match="setting name"):
        sy.test_settings.get("../etc")


# --- 04 to 08: data, people, code --------------------------------------------------------------
def test_getting_started_from_upload_to_running_code(node, root):
    private, mock = _lives(300, 1), _lives(300, 2)
    contributor = sy.Contributor(name="Ada Curator", role="Dataset Creator", email="ada@x.example")
    asset = sy.Asset(name="lives", data=private, mock=mock, contributors=[contributor])
    dataset = sy.Dataset(name="Lives", description="### About\nSynthetic.", asset_list=[asset])
    dataset.add_contributor(name="Ada Curator", email="ada@x.example")
    root.upload_dataset(dataset, progress=False)
    assert root.datasets[0].assets[0].data.equals(private)

    # 05: people
    root.register(
        name="John Doe", email="john@x.example", password="pw-j-1", password_verify="pw-j-1"
    )
    assert root.users[1].name == "John Doe"
    john = root.users.search(email="john@x.example")[0]
    john.set_email(email="updatedjohn@x.example")
    john.set_password(new_password="pw-j-2", confirm=False)
    john.update(name="Updated John", institution="My institution")
    node.login(email="updatedjohn@x.example", password="pw-j-2", verbose=False)
    root.users.delete(john.id)
    assert [u.email for u in root.users.search(email="updatedjohn@x.example")] == []
    root.settings.allow_guest_signup(enable=True)
    node.login_as_guest().register(
        email="scientist@x.example", password="pw-s-1", password_verify="pw-s-1", name="Curious"
    )
    ds = node.login(email="scientist@x.example", password="pw-s-1", verbose=False)

    # 06: the scientist works on the mock, submits in a project, is denied
    asset = ds.datasets[0].assets[0]
    assert asset.mock.equals(mock)
    assert asset.data is None  # as in PySyft: "no permission" is shown, no data returned

    @sy.syft_function_single_use(lives=asset)
    def deaths_by_manner(lives):
        return lives.groupby("Manner of death").size().reset_index(name="Count")

    on_mock = deaths_by_manner(lives=asset).get()
    assert on_mock["Count"].sum() == len(mock)
    project = sy.Project(name="The project", description="Statistics", members=[ds])
    assert isinstance(project.create_code_request(deaths_by_manner, ds), sy.SyftSuccess)
    project.send()
    retrieved = ds.get_project(name="The project")
    assert retrieved
    assert len(retrieved.events) == 1
    assert isinstance(retrieved.events[0], sy.service.project.project.ProjectRequest)
    assert retrieved.events[0].request.status == sy.RequestStatus.PENDING
    with pytest.raises(sy.SyftException, match="waiting for approval"):
        ds.code.deaths_by_manner(lives=asset)
    request = root.projects[0].requests[0]
    assert request.code.assets[0].data.equals(private)  # the owner sees what the code reads
    request.deny(reason="Too grim. Study something else.")
    with pytest.raises(sy.SyftException, match="Too grim"):
        ds.code.deaths_by_manner(lives=asset)

    @sy.syft_function(
        input_policy=sy.ExactMatch(lives=asset),
        output_policy=sy.OutputPolicyExecuteCount(limit=10),
    )
    def longest_lifespan(lives):
        lives = lives.copy()
        lives["Lifespan"] = lives["Death year"] - lives["Birth year"]
        return lives.sort_values(by="Lifespan", ascending=False).head(1)[["Name", "Lifespan"]]

    retrieved = ds.get_project(name="The project")
    retrieved.create_code_request(longest_lifespan, ds)
    assert len(ds.get_project(name="The project").requests) == 2
    assert [v.service_func_name for v in ds.code_history.longest_lifespan] == ["longest_lifespan"]

    # 07: the owner reviews, tries the code, approves
    review = root.projects[0].requests[1]
    func = review.code
    assert "Lifespan" in str(func.show_code)
    users_function = func.run
    real = users_function(lives=root.datasets[0].assets[0].data)
    assert list(real.columns) == ["Name", "Lifespan"]
    result = review.approve()
    assert isinstance(result, sy.SyftSuccess)

    # 08: the scientist runs it, blocking and as a job
    job = ds.code.longest_lifespan(lives=asset, blocking=False)
    job.wait()
    pointer = ds.code.longest_lifespan(lives=asset)
    assert pointer.get().equals(real.reset_index(drop=True)) or pointer.get().equals(real)


# --- the notebook itself: its server log stays out of the cell --------------------------------
def test_low_high_sync_says_what_to_do_instead():
    with pytest.raises(sy.SyftException, match="low-side") as refused:
        sy.sync(from_client=None, to_client=None)  # quickstart's low -> high copy
    assert "one Datasite" in str(refused.value)
    with pytest.raises(AttributeError):
        _ = sy.synk  # a typo stays a plain AttributeError


def test_runner_keeps_a_trailing_comment_on_the_import():
    swapped = swap_imports("import syft as sy  # noqa: E402\nimport syft  # why\n").source
    assert swapped.splitlines() == [
        "import jupyter_syft as sy  # noqa: E402",
        "import jupyter_syft as syft  # why",
    ]
