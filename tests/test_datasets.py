"""Datasets: builders, upload with mocks, browsing, private data refused to scientists."""

import numpy as np
import pandas as pd
import pytest

import jupyter_syft as sy


def test_owner_uploads_and_scientist_browses(node, root, scientist, frames, capsys):
    private, mock = frames
    contributor = sy.Contributor(name="John Doe", role="Uploader", email="john@example.org")
    asset = sy.Asset(name="demo_asset", data=private, mock=mock, contributors=[contributor])
    dataset = sy.Dataset(
        name="Demo Dataset",
        description="Demo Dataset",
        asset_list=[asset],
        contributors=[contributor],
    )
    result = root.upload_dataset(dataset)
    assert isinstance(result, sy.SyftSuccess) and "Demo Dataset" in result.message

    datasets = scientist.datasets
    assert len(datasets) == 1
    remote = datasets[0]
    assert remote is not None and remote.name == "Demo Dataset"
    assert datasets["Demo Dataset"].id == remote.id == datasets[-1].id
    assert [d.name for d in datasets.search(name="demo")] == ["Demo Dataset"]
    assert [d.name for d in datasets.get_all()] == ["Demo Dataset"]
    assert remote.uploader["email"] == "info@openmined.org"
    assert remote.contributors == [contributor]

    a = remote.assets[0]
    assert a.name == "demo_asset" and remote.assets["demo_asset"].id == a.id
    assert a.shape == (50, 2)
    pd.testing.assert_frame_equal(a.mock, mock)

    capsys.readouterr()
    assert a.data is None
    assert "You do not have permission to access private data" in capsys.readouterr().out

    owner_view = root.datasets[0].assets[0]
    pd.testing.assert_frame_equal(owner_view.data, private)


def test_assets_unpack_like_a_tuple(root):
    ds = sy.Dataset(name="Two")
    ds.add_asset(
        sy.Asset(name="features", data=np.arange(6).reshape(2, 3), mock=np.zeros((2, 3), dtype=int))
    )
    ds.add_asset(sy.Asset(name="targets", data=["B", "M"], mock=["M", "M"]))
    root.upload_dataset(ds, progress=False)
    features, targets = root.datasets["Two"].assets
    assert features.name == "features" and targets.name == "targets"
    np.testing.assert_array_equal(features.data, np.arange(6).reshape(2, 3))
    assert targets.mock == ["M", "M"]
    assert list(root.datasets["Two"].assets.keys()) == ["features", "targets"]


def test_builder_methods():
    ds = sy.Dataset(name="B")
    ds.set_description("desc")
    ds.set_summary("sum")
    ds.add_citation("cite")
    ds.add_url("https://example.org")
    ds.add_contributor(name="A", email="a@example.org", role="Owner", phone="1", note="n")
    asset = sy.Asset(name="x")
    asset.set_obj([1, 2])
    asset.set_mock([0, 0], mock_is_real=False)
    asset.set_shape((2,))
    asset.set_description("an asset")
    asset.add_contributor(name="B", email="b@example.org")
    ds.add_asset(asset)
    with pytest.raises(sy.SyftException, match="already exists"):
        ds.add_asset(sy.Asset(name="x", data=[1], mock=[1]))
    ds.add_asset(sy.Asset(name="x", data=[1], mock=[1]), force_replace=True)
    assert ds.asset_list[0].data == [1]
    ds.remove_asset("x")
    assert ds.asset_list == []
    with pytest.raises(sy.SyftException, match="No asset named"):
        ds.remove_asset("x")
    with pytest.raises(sy.SyftException, match="needs a mock"):
        sy.Asset(name="y", data=[1], mock_is_real=True)


def test_upload_checks_assets_first(root):
    no_mock = sy.Dataset(name="NoMock", asset_list=[sy.Asset(name="a", data=[1])])
    with pytest.raises(sy.SyftException, match="has no mock"):
        root.upload_dataset(no_mock)
    mismatched = sy.Dataset(name="Mismatch", asset_list=[sy.Asset(name="a", data=[1], mock=(1,))])
    with pytest.raises(sy.SyftException, match="same type"):
        root.upload_dataset(mismatched)
    with pytest.raises(sy.SyftException, match="no assets"):
        root.upload_dataset(sy.Dataset(name="Empty"))


def test_no_mock_publishes_without_one(root, scientist):
    asset = sy.Asset(name="secret", data=[1, 2, 3])
    asset.no_mock()
    root.upload_dataset(sy.Dataset(name="Hidden", asset_list=[asset]), progress=False)
    remote = scientist.datasets["Hidden"].assets[0]
    with pytest.raises(sy.SyftException, match="no mock"):
        remote.mock


def test_duplicate_dataset_name_is_refused_before_any_upload(node, root):
    ds = sy.Dataset(name="Dup", asset_list=[sy.Asset(name="a", data=[1], mock=[2])])
    root.upload_dataset(ds, progress=False)
    blobs_before = sorted(p.name for p in (node.data_dir / "blobs").rglob("*") if p.is_file())
    with pytest.raises(sy.SyftException, match="already exists") as info:
        root.upload_dataset(
            sy.Dataset(name="Dup", asset_list=[sy.Asset(name="b", data=[3], mock=[4])])
        )
    assert info.value.status == 409
    assert (
        sorted(p.name for p in (node.data_dir / "blobs").rglob("*") if p.is_file()) == blobs_before
    )


def test_scientist_and_guest_cannot_upload(node, scientist):
    ds = sy.Dataset(name="Nope", asset_list=[sy.Asset(name="a", data=[1], mock=[2])])
    with pytest.raises(sy.SyftException, match="Only data owners and admins can upload") as info:
        scientist.upload_dataset(ds)
    assert info.value.status == 403
    with pytest.raises(sy.SyftException, match="a guest"):
        sy.login_as_guest(url=node.url, verbose=False).upload_dataset(ds)


def test_unknown_dataset_and_position_are_clear(root):
    with pytest.raises(sy.SyftException, match="No dataset named 'missing'"):
        root.datasets["missing"]
    with pytest.raises(sy.SyftException, match="no dataset at position 3"):
        root.datasets[3]


def test_delete_dataset_removes_its_blobs(node, root):
    ds = sy.Dataset(name="Gone", asset_list=[sy.Asset(name="a", data=[1, 2], mock=[3, 4])])
    root.upload_dataset(ds, progress=False)
    files = [p for p in (node.data_dir / "blobs").rglob("*") if p.is_file()]
    assert len(files) == 2
    root.datasets.delete("Gone")
    assert len(root.datasets) == 0
    assert not [p for p in (node.data_dir / "blobs").rglob("*") if p.is_file()]


def test_guest_sees_datasets_and_mocks_but_not_data(node, uploaded, capsys):
    _private, mock = uploaded
    guest = sy.login_as_guest(url=node.url, verbose=False)
    asset = guest.datasets[0].assets[0]
    pd.testing.assert_frame_equal(asset.mock, mock)
    assert asset.data is None


def test_guests_can_be_shut_out(node, root, uploaded):
    root.settings.update(allow_guest_sessions=False)
    guest = sy.login_as_guest(url=node.url, verbose=False)
    with pytest.raises(sy.SyftException, match="does not allow guests"):
        guest.datasets


def test_values_of_many_kinds_round_trip(root):
    import datetime as dt
    from io import BytesIO

    values = {
        "series": pd.Series([1.5, None], name="s"),
        "dict": {"a": [1, 2, (3, 4)], "b": {"nested": True}},
        "ndarray": np.arange(12, dtype=np.float32).reshape(3, 4),
        "scalar": np.int16(7),
        "when": dt.datetime(2024, 8, 1, 19, 13, 46, tzinfo=dt.timezone.utc),
        "bytes": BytesIO(b"\x89PNG..."),
        "categorical": pd.DataFrame({"c": pd.Categorical(["a", "b", "a"])}),
    }
    ds = sy.Dataset(name="Kinds")
    for name, value in values.items():
        ds.add_asset(sy.Asset(name=name, data=value, mock=value))
    root.upload_dataset(ds, progress=False)
    remote = root.datasets["Kinds"]
    pd.testing.assert_series_equal(remote.assets["series"].data, values["series"])
    assert remote.assets["dict"].mock == values["dict"]
    np.testing.assert_array_equal(remote.assets["ndarray"].mock, values["ndarray"])
    assert remote.assets["ndarray"].mock.dtype == np.float32
    assert (
        remote.assets["scalar"].mock == np.int16(7)
        and type(remote.assets["scalar"].mock) is np.int16
    )
    assert remote.assets["when"].mock == values["when"]
    assert remote.assets["bytes"].mock.getvalue() == b"\x89PNG..."
    pd.testing.assert_frame_equal(remote.assets["categorical"].mock, values["categorical"])
