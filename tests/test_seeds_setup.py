"""The seeds' setup sections (everything before the first @sy.syft_function), imports changed.

Code is copied from ../shared/seeds/ with `import syft as sy` -> `import jupyter_syft as sy`
and `from syft.service... import X` -> `from jupyter_syft import X`; emails that the seeds'
web copy hid are filled in.
"""

import numpy as np
import pandas as pd
import pytest

import jupyter_syft as sy


def test_code_api_guide_setup():
    node = sy.orchestra.launch(name="demo_datasite", port="auto", dev_mode=False, reset=True)
    try:
        admin_client = sy.login(
            url="localhost", port=node.port, email="info@openmined.org", password="changethis"
        )
        df = pd.DataFrame({"A": [1, 2, 3], "B": [10, 20, 30]})
        mock_df = pd.DataFrame({"A": [1, 2, 1], "B": [20, 10, 20]})
        main_contributor = sy.Contributor(
            name="John Doe", role="Uploader", email="john@example.org"
        )
        asset = sy.Asset(name="demo_asset", data=df, mock=mock_df, contributors=[main_contributor])
        dataset = sy.Dataset(
            name="Demo Dataset",
            description="Demo Dataset",
            asset_list=[asset],
            contributors=[main_contributor],
        )
        admin_client.upload_dataset(dataset)
        admin_client.settings.allow_guest_signup(enable=True)

        sy.login_as_guest(url="localhost", port=node.port).register(
            email="scientist@example.org",
            name="Data Scientist",
            password="123",
            password_verify="123",
        )
        ds_client = sy.login(
            url="localhost", port=node.port, email="scientist@example.org", password="123"
        )
        assert len(ds_client.datasets) == 1
        ds_client.datasets[0].assets[0]

        def example_function(private_dataset):
            return private_dataset.sum()

        result = example_function(ds_client.datasets[0].assets[0].mock)
        assert result.to_dict() == {"A": 4, "B": 50}
        admin_client.users[1].allow_mock_execution()
        assert admin_client.users[1].mock_execution_permission
    finally:
        node.land()


def test_projects_api_guide_setup():
    server = sy.orchestra.launch(name="my_server", port="auto", dev_mode=False, reset=True)
    try:
        do_client = sy.login(email="info@openmined.org", password="changethis", port=server.port)
        dataset = sy.Dataset(
            name="Dataset name",
            description="**Placehoder Dataset description**",
            asset_list=[sy.Asset(name="asset_name", data=[1, 2, 3], mock=[4, 5, 6])],
        )
        do_client.upload_dataset(dataset)
        do_client.register(
            email="curious@example.org",
            password="123",
            password_verify="123",
            name="Curious Scientist",
        )
        ds_client = sy.login(email="curious@example.org", password="123", port=server.port)
        assert ds_client.datasets[0].assets[0].mock == [4, 5, 6]
        assert ds_client.datasets[0].assets[0].data is None
    finally:
        server.land()


def test_breast_cancer_notebook_setup():
    from sklearn.datasets import load_breast_cancer

    from jupyter_syft import ServiceRole, UserCreate

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    mock_X = X.apply(lambda s: s + np.mean(s))
    X["y"] = y
    mock_X["y"] = y
    private_data = X
    mock_data = mock_X

    domain_node = sy.orchestra.launch(port="8083", name="pet-test-domain", reset=True)
    try:
        client = sy.login(port="8083", email="info@openmined.org", password="changethis")
        dataset = sy.Dataset(
            name="Winsconsin Breast Cancer Data",
            description="Breast cancer wisconsin (diagnostic) dataset",
            citation="O.L. Mangasarian, W.N. Street and W.H. Wolberg. Breast cancer diagnosis and \
    prognosis via linear programming. Operations Research, 43(4), pages 570-577, \
    July-August 1995.",
            url="https://goo.gl/U2Uwz2",
        )
        data_asset = sy.Asset(name="Breast Cancer Data", data=private_data, mock=mock_data)
        dataset.add_asset(data_asset)
        dataset._repr_html_()
        client.upload_dataset(dataset)
        client.datasets._repr_html_()

        ds_profile = UserCreate(
            email="bob@security.edu",
            name="Bob Science",
            role=ServiceRole.DATA_SCIENTIST,
            password="abc123",
            password_verify="abc123",
            institution="Security Institute",
            website="security.edu",
        )
        client.users.create(ds_profile)

        scientist_domain = domain_node.client
        scientist_client = scientist_domain.login(email="bob@security.edu", password="abc123")
        scientist_client.datasets[0]._repr_html_()
        assets = scientist_client.datasets[0].assets
        assert list(assets.keys()) == ["Breast Cancer Data"]
        asset = assets[0]
        pd.testing.assert_frame_equal(asset.mock, mock_data)
        assert asset.data is None
        assert list(asset.mock.columns)[-1] == "y"
    finally:
        domain_node.land()


def test_tutorial_guest_browsing():
    """The tutorial's guest view of a Datasite hosting 'Breast Cancer Wisconsin' (seeded demo)."""
    from jupyter_syft.demo import seed_demo_data

    node = sy.orchestra.launch(name="fake-wisc-datasite", port="auto", reset=True)
    try:
        assert seed_demo_data(node.datasite)
        client = sy.login_as_guest(url=node.url)
        client.datasets._repr_html_()
        breast_cancer_dataset = client.datasets["Breast Cancer Wisconsin"]
        breast_cancer_dataset._repr_html_()
        features, targets = breast_cancer_dataset.assets
        assert features.data is None
        assert features.mock.head(n=3).shape == (3, 30)
        assert targets.mock.sample(n=3, random_state=24).columns.tolist() == ["Diagnosis"]

        def average_radius_of_nuclei(data, labels) -> tuple[float, float]:
            y = labels["Diagnosis"].values.ravel()
            mean_bening = data[y == "B"]["worst radius"].mean()
            mean_malign = data[y == "M"]["worst radius"].mean()
            return mean_bening, mean_malign

        b, m = average_radius_of_nuclei(features.mock, targets.mock)
        assert b > 0 and m > 0
    finally:
        node.land()


@pytest.mark.parametrize("port", ["auto"])
def test_seed_launch_message(port, capsys):
    node = sy.orchestra.launch(name="msg", port=port, reset=True)
    try:
        assert node.url in capsys.readouterr().out
    finally:
        node.land()
