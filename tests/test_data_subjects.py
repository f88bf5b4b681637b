"""Data subjects as PySyft 0.9 has them (issue 14, item 3), in the shape of its tutorial
``notebooks/api/0.8/00-load-data.ipynb``: register "Country" and its nine members, name one on
an asset, upload it and read it back; then the refusals."""

from __future__ import annotations

import pytest
import requests

import jupyter_syft as sy

API = "/syft/api/v1/"
COUNTRIES = {
    "Canada": "ca",
    "Germany": "de",
    "Spain": "es",
    "France": "fr",
    "Japan": "jp",
    "United Kingdom": "uk",
    "United States of America": "us",
    "Australia": "au",
    "India": "in",
}


def test_load_data_tutorial_data_subjects(root, scientist, frames):
    data_subjects = root.api.services.data_subject.get_all()
    assert len(data_subjects) == 0

    country = sy.DataSubject(name="Country", aliases=["country_code"])
    members = {
        name: sy.DataSubject(name=name, aliases=[f"country_code:{code}"])
        for name, code in COUNTRIES.items()
    }
    for member in members.values():
        country.add_member(member)
    assert list(country.members) == list(COUNTRIES)
    canada = members["Canada"]

    registry = root.data_subject_registry
    response = registry.add_data_subject(country)
    assert response
    assert isinstance(response, sy.SyftSuccess) and "10 data subjects added" in str(response)
    assert "Country" in repr(root.data_subject_registry)

    data_subjects = root.api.services.data_subject.get_all()
    assert len(data_subjects) == 10
    by_name = {s.name: s for s in data_subjects}
    assert by_name["Country"].aliases == ["country_code"]
    assert list(by_name["Country"].members) == list(COUNTRIES)
    assert by_name["Canada"].aliases == ["country_code:ca"]
    assert [s.name for s in registry.get_members("Country")] == list(COUNTRIES)
    # every logged-in user may list them
    assert len(scientist.data_subject_registry.get_all()) == 10

    # an asset names its data subjects; they travel with it
    private, mock = frames
    dataset = sy.Dataset(name="Canada Trade Value")
    ctf = sy.Asset(name="canada_trade_flow", data_subjects=["Country"])
    ctf.set_obj(private)
    ctf.add_data_subject(canada)
    ctf.add_data_subject(canada)  # once is enough
    assert [d.name for d in ctf.data_subjects] == ["Country", "Canada"]
    ctf.set_mock(mock, mock_is_real=False)
    dataset.add_asset(ctf)
    assert root.upload_dataset(dataset, progress=False)
    for client in (root, scientist):
        asset = client.datasets["Canada Trade Value"].assets["canada_trade_flow"]
        assert asset.data_subjects == [sy.DataSubject(name="Country"), canada]
        assert "Canada" in asset._repr_html_()


def test_data_subject_refusals(node, root, scientist):
    spain = sy.DataSubject(name="Spain")
    with pytest.raises(sy.SyftException) as refused:  # scientists list, owners add
        scientist.data_subject_registry.add_data_subject(spain)
    assert refused.value.status == 403
    assert root.data_subject_registry.add_data_subject(spain)
    with pytest.raises(sy.SyftException, match="already registered") as refused:
        root.data_subject_registry.add_data_subject(sy.DataSubject(name="Spain"))
    assert refused.value.status == 409
    # a group whose member is registered already: the member is linked, not added again
    europe = sy.DataSubject(name="Europe", members=[spain, sy.DataSubject(name="Italy")])
    assert "2 data subjects added: Europe, Italy" in str(
        root.data_subject_registry.add_data_subject(europe)
    )
    assert len(root.api.services.data_subject.get_all()) == 3

    # bad types, refused in the notebook with what to give instead
    for bad in (
        lambda: sy.DataSubject(name=""),
        lambda: sy.DataSubject(name="x" * 201),
        lambda: sy.DataSubject(name="Peru", aliases=[3]),
        lambda: sy.DataSubject(name="Peru").add_member(3.5),
        lambda: sy.Asset(name="a", data_subjects=[{"name": "Peru"}]),
        lambda: sy.Asset(name="a", data_subjects=42),
        lambda: sy.Asset(name="a").add_data_subject(None),
        lambda: root.data_subject_registry.add_data_subject("Peru"),
    ):
        with pytest.raises(sy.SyftException, match=r"data subject|DataSubject|name|alias"):
            bad()

    # ... and by the Datasite, whoever calls it
    headers = {"Authorization": f"Bearer {root.connection.token}"}
    url = node.url + API + "data-subjects"
    for body, says in (
        ({"subjects": [{"name": 3}]}, ""),
        ({"subjects": [{"name": "Peru", "aliases": "p"}]}, ""),
        ({"subjects": []}, "Give a data subject"),
        ({"subjects": [{"name": "  "}]}, "needs a name"),
        ({"subjects": [{"name": "P" * 201}]}, "too long"),
        ({"subjects": [{"name": "Peru", "members": ["Lima"]}]}, "not a registered"),
        ({"subjects": [{"name": "Peru", "members": ["Peru"]}]}, "its own member"),
    ):
        answer = requests.post(url, json=body, headers=headers, timeout=30)
        assert answer.status_code == 400, (body, answer.text)
        assert says in answer.text
    assert len(root.data_subject_registry.get_all()) == 3
    page = requests.get(url, params={"limit": 2}, headers=headers, timeout=30).json()
    assert len(page["items"]) == 2 and page["total"] == 3 and page["next_cursor"]


def test_asset_data_subjects_checked_by_the_datasite(node, root):
    blob = root.session.api.upload_blob(_encoded())
    headers = {"Authorization": f"Bearer {root.connection.token}"}
    url = node.url + API + "datasets"
    for subjects in ([3], ["x" * 201], [" "], "Canada"):
        body = {
            "name": "D",
            "assets": [{"name": "a", "data": blob.blob_id, "data_subjects": subjects}],
        }
        answer = requests.post(url, json=body, headers=headers, timeout=30)
        assert answer.status_code == 400, (subjects, answer.text)
    body = {
        "name": "D",
        "assets": [{"name": "a", "data": blob.blob_id, "data_subjects": ["<b>x</b>"]}],
    }
    assert requests.post(url, json=body, headers=headers, timeout=30).status_code == 201
    asset = root.datasets["D"].assets["a"]
    assert asset.data_subjects == [sy.DataSubject(name="<b>x</b>")]
    assert "&lt;b&gt;x&lt;/b&gt;" in asset._repr_html_() and "<b>x</b>" not in asset._repr_html_()


def _encoded():
    from jupyter_syft import serde

    return serde.encode([1, 2, 3])
