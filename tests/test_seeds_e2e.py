"""The four seeds end to end, from @sy.syft_function on, against real Datasites.

Code is the seeds' own with `import syft as sy` -> `import jupyter_syft as sy` and
`from syft... import X` -> `from jupyter_syft import X`; hidden emails are filled in.
"""

import numpy as np
import pandas as pd
import pytest

import jupyter_syft as sy


def test_tutorial_guest_request_is_auto_approved_and_answered():
    from jupyter_syft.demo import seed_demo_data

    node = sy.orchestra.launch(name="fake-wisc-datasite", port="auto", reset=True)
    try:
        seed_demo_data(node.datasite)
        admin = node.login(email="info@openmined.org", password="changethis", verbose=False)
        admin.settings.update(allow_guest_code_requests=True, auto_approve=True)

        client = sy.login_as_guest(url=node.url)
        breast_cancer_dataset = client.datasets["Breast Cancer Wisconsin"]
        features, targets = breast_cancer_dataset.assets

        @sy.syft_function_single_use(data=features, labels=targets)
        def average_radius_of_nuclei(data, labels) -> tuple[float, float]:
            """Calculate the mean of `radius` feature, for both samples with bening and malign diagnosis"""
            y = labels["Diagnosis"].values.ravel()
            mean_bening = data[y == "B"]["worst radius"].mean()
            mean_malign = data[y == "M"]["worst radius"].mean()
            return mean_bening, mean_malign

        request = client.code.request_code_execution(average_radius_of_nuclei)
        assert request.status == sy.RequestStatus.APPROVED
        client.code
        answer = client.code.average_radius_of_nuclei(data=features, labels=targets)
        print(answer)
        bening, malign = answer.get()
        private_f = admin.datasets[0].assets["BC Features"].data
        private_t = admin.datasets[0].assets["BC Targets"].data
        y = private_t["Diagnosis"].values.ravel()
        assert bening == pytest.approx(private_f[y == "B"]["worst radius"].mean())
        assert malign == pytest.approx(private_f[y == "M"]["worst radius"].mean())
    finally:
        node.land()


def test_code_api_guide():
    from jupyter_syft import ExactMatch, SingleExecutionExactOutput

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

        @sy.syft_function(
            input_policy=ExactMatch(data=ds_client.datasets[0].assets[0]),
            output_policy=SingleExecutionExactOutput(),
        )
        def example_function(private_dataset):
            return private_dataset.sum()

        # the guide's policy key (data) differs from the parameter: a finding, shown to the reviewer
        request = ds_client.code.request_code_execution(example_function)
        assert request.status == sy.RequestStatus.PENDING
        assert any(f.kind == "unknown_policy_key" for f in request.code.findings)

        CONST = 10

        @sy.syft_function()
        def example():
            return CONST * 2

        assert [f.name for f in example.findings if f.kind == "free_name"] == ["CONST"]

        @sy.syft_function()
        def example():
            CONST = 10
            return CONST * 2

        assert not [f for f in example.findings if f.severity == "error"]

        @sy.syft_function(
            input_policy=ExactMatch(data=ds_client.datasets[0].assets[0]),
            output_policy=SingleExecutionExactOutput(),
        )
        def example(data):
            return data.sum()

        data = ds_client.datasets[0].assets[0]
        pointer = example(data=data)  # emulated: runs on the mock
        assert pointer.get().to_dict() == {"A": 4, "B": 50}

        # mock execution on the Datasite, once the owner allows it
        mock_data = ds_client.datasets[0].assets[0].mock
        ds_client.code.submit(example)
        with pytest.raises(sy.SyftException, match="waiting for approval"):
            ds_client.code.example(data=mock_data)
        admin_client.users[1].allow_mock_execution()
        result = ds_client.code.example(data=mock_data)
        assert result.get().to_dict() == {"A": 4, "B": 50}
        assert result.on_private_data is False
        with pytest.raises(sy.SyftException, match="already exists"):
            ds_client.code.submit(example)

        # nested code requests: submitted and requested (running them is the jobs issue)
        asset = ds_client.datasets[0].assets[0]

        @sy.syft_function()
        def process_batch(batch):
            return batch.to_numpy().sum()

        @sy.syft_function()
        def aggregate_job(job_results):
            return sum(job_results)

        @sy.syft_function_single_use(data=asset)
        def process_all(datasite, data):
            import numpy as np

            job_results = []
            for batch in np.array_split(data, 2):
                batch_job = datasite.launch_job(process_batch, batch=batch)
                job_results += [batch_job.result]
            job = datasite.launch_job(aggregate_job, job_results=job_results)
            return job.result

        ds_client.code.submit(process_batch)
        ds_client.code.submit(aggregate_job)
        request = ds_client.code.request_code_execution(process_all)
        assert request.status == sy.RequestStatus.PENDING
        assert not [f for f in request.code.findings if f.kind == "free_name"]
    finally:
        node.land()


def test_breast_cancer_notebook():
    from sklearn.datasets import load_breast_cancer

    from jupyter_syft import ServiceRole, UserCreate

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    mock_X = X.apply(lambda s: s + np.mean(s))
    X["y"] = y
    mock_X["y"] = y
    domain_node = sy.orchestra.launch(port="auto", name="pet-test-domain", reset=True)
    try:
        client = sy.login(port=domain_node.port, email="info@openmined.org", password="changethis")
        dataset = sy.Dataset(
            name="Winsconsin Breast Cancer Data",
            description="Breast cancer wisconsin (diagnostic) dataset",
        )
        dataset.add_asset(sy.Asset(name="Breast Cancer Data", data=X, mock=mock_X))
        client.upload_dataset(dataset)
        client.users.create(
            UserCreate(
                email="bob@security.edu",
                name="Bob Science",
                role=ServiceRole.DATA_SCIENTIST,
                password="abc123",
                password_verify="abc123",
                institution="Security Institute",
                website="security.edu",
            )
        )
        scientist_domain = domain_node.client
        scientist_client = scientist_domain.login(email="bob@security.edu", password="abc123")
        asset = scientist_client.datasets[0].assets[0]

        @sy.syft_function_single_use(data=asset)
        def run_logistic_regression_model(data):
            # move imports to function body
            from sklearn.linear_model import LogisticRegression
            from sklearn.metrics import accuracy_score
            from sklearn.model_selection import train_test_split

            y = data["y"]
            X = data.drop(columns=["y"])
            X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
            model = LogisticRegression(max_iter=50).fit(X_train, y_train)
            acc_train = accuracy_score(y_train, model.predict(X_train))
            acc_test = accuracy_score(y_test, model.predict(X_test))
            return acc_train, acc_test

        assert list(run_logistic_regression_model.kwargs) == ["data"]
        assert run_logistic_regression_model.input_policy_type is sy.ExactMatch
        assert run_logistic_regression_model.output_policy_type is sy.OutputPolicyExecuteOnce
        assert "def run_logistic_regression_model(data):" in repr(run_logistic_regression_model)

        scientist_client.create_project(
            name="Logistic Regression Study",
            description="Running a LogReg Model",
            user_email_address="bob@security.edu",
        )
        assert [p.name for p in scientist_client.projects] == ["Logistic Regression Study"]
        ml_project = scientist_client.get_project(name="Logistic Regression Study")
        ml_project.create_code_request(run_logistic_regression_model, scientist_client)
        assert len(scientist_client.code) == 1
        with pytest.raises(sy.SyftException, match="waiting for approval"):
            scientist_client.code.run_logistic_regression_model(data=asset)

        do_client = sy.login(
            port=domain_node.port, email="info@openmined.org", password="changethis"
        )
        request = do_client.requests[0]
        assert request.project["name"] == "Logistic Regression Study"
        request._repr_html_()
        request.code._repr_html_()
        callable_method = request.code.unsafe_function
        do_asset = do_client.datasets["Winsconsin Breast Cancer Data"].assets[0]
        mock_result = callable_method(data=do_asset.mock)
        private_data_result = callable_method(data=do_asset.data)
        assert 0.5 < private_data_result[1] <= 1.0 and mock_result != private_data_result
        request.accept_by_depositing_result(private_data_result)

        scientist_client = scientist_domain.login(email="bob@security.edu", password="abc123")
        ptr = scientist_client.code.run_logistic_regression_model(
            data=scientist_client.datasets[0].assets[0]
        )
        assert ptr.get() == private_data_result
        events = [e["kind"] for e in ml_project.history]
        assert events == ["created", "code_request", "approved"]
        assert len(ml_project.events) == 1  # as PySyft counts: one ProjectRequest
    finally:
        domain_node.land()


def test_projects_api_guide():
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

        new_project = sy.Project(
            name="Sum of private numbers",
            description="I am researching the sum of the data points.",
            members=[ds_client],
        )
        new_project._repr_html_()
        new_project.send()
        project = ds_client.projects[0]
        project._repr_html_()

        @sy.syft_function_single_use(data=ds_client.datasets[0].assets[0])
        def sum_of_numbers(data):
            return sum(data)

        project.create_code_request(sum_of_numbers)
        assert (
            len(do_client.projects) == 1 and do_client.projects[0].name == "Sum of private numbers"
        )
        with pytest.raises(sy.SyftException, match="unique"):
            sy.Project(name="Sum of private numbers", members=[ds_client]).send()

        do_client.requests[0].approve()
        assert ds_client.code.sum_of_numbers(data=ds_client.datasets[0].assets[0]).get() == 6
        # single use: the second call returns the stored result with a notice, without running
        assert ds_client.code.sum_of_numbers(data=ds_client.datasets[0].assets[0]).get() == 6
    finally:
        server.land()
