"""Every HTML repr escapes user-supplied text."""

import pandas as pd

import jupyter_syft as sy

EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _assert_escaped(html: str) -> None:
    assert "<script>" not in html and "<img src=x" not in html, html
    assert "&lt;script&gt;" in html or "&lt;img" in html, html


def test_builders_escape():
    asset = sy.Asset(
        name=EVIL,
        data=[1],
        mock=[2],
        description=EVIL,
        contributors=[sy.Contributor(name=EVIL, email="a@b.c")],
    )
    ds = sy.Dataset(
        name=EVIL, description=EVIL, summary=EVIL, citation=EVIL, url=EVIL, asset_list=[asset]
    )
    _assert_escaped(asset._repr_html_())
    _assert_escaped(ds._repr_html_())


def test_messages_escape():
    for message in (
        sy.SyftSuccess(EVIL),
        sy.SyftError(EVIL),
        sy.SyftWarning(EVIL),
        sy.SyftInfo(EVIL),
        sy.SyftException(EVIL),
    ):
        _assert_escaped(message._repr_html_())


def test_remote_objects_escape(node, root):
    root.settings.update(name=EVIL, description=EVIL, organization=EVIL)
    frame = pd.DataFrame({EVIL: [EVIL, "ok"]})
    asset = sy.Asset(
        name=EVIL,
        data=frame,
        mock=frame,
        description=EVIL,
        contributors=[sy.Contributor(name=EVIL, email="e@x.org")],
    )
    root.upload_dataset(
        sy.Dataset(name=EVIL, description=EVIL, summary=EVIL, url=EVIL, asset_list=[asset]),
        progress=False,
    )
    root.users.create(
        sy.UserCreate(email="evil@example.org", name=EVIL, password="p", institution=EVIL)
    )
    fresh = sy.login(url=node.url, email="info@openmined.org", password="changethis", verbose=False)

    datasets = fresh.datasets
    for obj in (
        fresh,
        datasets,
        datasets[0],
        datasets[0].assets,
        datasets[0].assets[0],
        fresh.users,
        fresh.users[1],
        fresh.settings.get(),
    ):
        _assert_escaped(obj._repr_html_())
