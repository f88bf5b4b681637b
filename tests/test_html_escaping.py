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
    frame = pd.DataFrame({EVIL: [EVIL]}, index=pd.Index([EVIL], name=EVIL))
    _assert_escaped(sy.Asset(name="t", data=frame, mock=frame)._repr_html_())


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


# A Syft function whose source carries the payload in a comment and in a string literal.
def evil_fn(data):
    # <script>alert("x")</script><img src=x onerror=alert(1)>
    return '<script>alert("x")</script><img src=x onerror=alert(1)>'


def evil_again(data):
    """<script>alert("x")</script><img src=x onerror=alert(1)>"""
    return 1


def evil_fail(data):
    raise ValueError('<script>alert("x")</script><img src=x onerror=alert(1)>')


def _assert_safe(html: str) -> None:
    assert "<script>" not in html and "<img src=x" not in html, html


def _widget_html(widget) -> list[str]:
    import ipywidgets as w

    def walk(node):
        yield node
        for child in getattr(node, "children", ()):
            yield from walk(child)

    return [c.value for c in walk(widget) if isinstance(c, w.HTML)]


def _assert_widget_escaped(widget) -> None:
    values = _widget_html(widget)
    for value in values:
        _assert_safe(value)
    _assert_escaped("\n".join(values))


def test_requests_projects_code_jobs_and_widgets_escape(node, root):
    frame = pd.DataFrame({EVIL: [EVIL, "ok"], "age": [30, 40]})
    asset = sy.Asset(name=EVIL, data=frame, mock=frame, description=EVIL)
    root.upload_dataset(sy.Dataset(name=EVIL, asset_list=[asset]), progress=False)
    root.users.create(
        sy.UserCreate(
            email="evil@example.org",
            name=EVIL,
            password="pw-evil-1",
            institution=EVIL,
            role=sy.ServiceRole.DATA_SCIENTIST,
        )
    )
    ds = sy.login(url=node.url, email="evil@example.org", password="pw-evil-1", verbose=False)
    ds_asset = ds.datasets[0].assets[0]

    fn = sy.syft_function_single_use(data=ds_asset)(evil_fn)
    fail = sy.syft_function_single_use(data=ds_asset)(evil_fail)
    mock_result = fn(data=ds_asset)
    builder = sy.Project(name=EVIL, description=EVIL, members=[ds])
    project = ds.create_project(name=EVIL, description=EVIL)
    request = project.create_code_request(fn, reason=EVIL)
    ds.code.request_code_execution(fail, reason=EVIL)
    for obj in (fn, fail, mock_result, builder, project, request, request.code):
        _assert_escaped(obj._repr_html_())

    owner = sy.login(url=node.url, email="info@openmined.org", password="changethis")
    # the review widgets, before and after actions that put user text into them
    for review in [r.review() for r in owner.requests] + [r.review() for r in ds.requests]:
        _assert_widget_escaped(review)
    everything = sy.review(owner)
    assert len(everything.reviews) == 2
    _assert_widget_escaped(everything)
    by_name = {r.request.code.service_func_name: r for r in everything.reviews}
    by_name["evil_fn"].run_mock_button.click()
    assert "&lt;script&gt;" in by_name["evil_fn"].result.value
    by_name["evil_fail"].run_mock_button.click()
    assert "&lt;script&gt;" in by_name["evil_fail"].status.value
    for name in ("evil_fn", "evil_fail"):
        by_name[name].approve_button.click()  # the confirmation names the function
        _assert_widget_escaped(by_name[name].confirm_box)
        by_name[name].confirm_button.click()
    _assert_widget_escaped(everything)

    pointer = ds.code.evil_fn(data=ds_asset)
    assert pointer.get() == EVIL
    _assert_escaped(pointer._repr_html_())
    job = ds.code.evil_fail(data=ds_asset, blocking=False)
    with sy.raises(sy.SyftException):
        job.wait(timeout=60)
    _assert_escaped(job._repr_html_())

    denied = sy.syft_function_single_use(data=ds_asset)(evil_again)
    ds.code.request_code_execution(denied, reason=EVIL)
    pending = owner.requests.get_all_pending()[0].review()
    pending.deny_reason.value = EVIL
    pending.deny_button.click()
    assert "REJECTED" in pending.header.value
    _assert_widget_escaped(pending)

    fresh = sy.login(url=node.url, email="info@openmined.org", password="changethis")
    requests, projects = fresh.requests, fresh.projects
    for obj in (
        requests,
        requests.get_all(),
        *requests,
        projects,
        projects.get_all(),
        projects[0],
        projects[0].requests,
        *[r.code for r in requests],
        fresh.jobs[0],
    ):
        _assert_escaped(obj._repr_html_())
    for obj in (
        requests.get_all_rejected(),
        fresh.code,
        fresh.code.get_all(),
        fresh.code[0],
        fresh.jobs,
        fresh.jobs.get_all(),
    ):
        _assert_safe(obj._repr_html_())
