"""sy.orchestra.launch: ports, persistence by name, reset, land."""

import gc
import socket
import weakref

import pytest

import jupyter_syft as sy
from tests.conftest import ROOT_EMAIL, ROOT_PASSWORD


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("as_text", [False, True])
def test_launch_on_a_given_port(as_text):
    port = _free_port()
    node = sy.orchestra.launch(
        name="fixed-port", port=str(port) if as_text else port, reset=True, verbose=False
    )
    try:
        assert node.port == port
        assert node.url == f"http://127.0.0.1:{port}"
        client = sy.login(port=str(port), email=ROOT_EMAIL, password=ROOT_PASSWORD, verbose=False)
        assert client.name == "fixed-port"
    finally:
        node.land()


def test_same_name_reopens_data_and_reset_wipes_it(frames):
    node = sy.orchestra.launch(name="persist", port="auto", reset=True, verbose=False)
    client = node.login(email=ROOT_EMAIL, password=ROOT_PASSWORD, verbose=False)
    ds = sy.Dataset(name="Kept")
    ds.add_asset(sy.Asset(name="a", data=[1, 2, 3], mock=[0, 0, 0]))
    client.upload_dataset(ds, progress=False)
    node.land()

    node = sy.orchestra.launch(name="persist", port="auto", verbose=False)
    try:
        again = node.login(email=ROOT_EMAIL, password=ROOT_PASSWORD, verbose=False)
        assert [d.name for d in again.datasets] == ["Kept"]
        assert again.datasets["Kept"].assets["a"].data == [1, 2, 3]
    finally:
        node.land()

    node = sy.orchestra.launch(name="persist", port="auto", reset=True, verbose=False)
    try:
        fresh = node.login(email=ROOT_EMAIL, password=ROOT_PASSWORD, verbose=False)
        assert len(fresh.datasets) == 0
    finally:
        node.land()


def test_land_frees_the_port():
    node = sy.orchestra.launch(name="lander", port="auto", reset=True, verbose=False)
    port = node.port
    node.land()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))  # would raise if the Datasite still held it
    with pytest.raises(sy.SyftException, match="Cannot reach"):
        sy.login(port=port, email=ROOT_EMAIL, password=ROOT_PASSWORD, verbose=False)


def test_taken_port_is_a_clear_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(sy.SyftException, match="Use another port"):
            sy.orchestra.launch(name="clash", port=port, reset=True, verbose=False)


def test_bad_port_and_name_are_clear_errors():
    with pytest.raises(sy.SyftException, match="port must be"):
        sy.orchestra.launch(name="x", port="eighty", verbose=False)
    with pytest.raises(sy.SyftException, match="cannot name a Datasite"):
        sy.orchestra.launch(name="../..", port="auto", verbose=False)


def test_node_client_is_a_guest_and_pysyft_options_are_accepted():
    node = sy.orchestra.launch(
        name="opts",
        port="auto",
        reset=True,
        dev_mode=True,
        n_consumers=2,
        create_producer=True,
        verbose=False,
    )
    try:
        guest = node.client
        assert guest.role == sy.ServiceRole.GUEST
        assert "GUEST" in repr(guest)
    finally:
        node.land()


def test_land_twice_is_harmless(capsys):
    node = sy.orchestra.launch(name="twice", port="auto", reset=True, verbose=False)
    node.land()
    node.land()
    assert capsys.readouterr().out.count("Stopped Datasite") == 1


def test_pysyft_options_are_named_as_not_needed_and_unknown_ones_refused(capsys):
    node = sy.orchestra.launch(
        name="opts-said", port="auto", reset=True, n_consumers=2, create_producer=True
    )
    node.land()
    out = capsys.readouterr().out
    assert "Not needed here, so not used: n_consumers (" in out and "create_producer (" in out
    with pytest.raises(sy.SyftException, match=r"unknown option 'colour'.*n_consumers"):
        sy.orchestra.launch(name="opts-said", port="auto", colour="blue")
    with pytest.raises(sy.SyftException, match="db_url="):
        sy.orchestra.launch(name="opts-said", port="auto", store_client_config={"x": 1})


def test_the_handle_says_it_runs_in_python_as_pysyft_tutorials_check():
    node = sy.orchestra.launch(name="kind", port="auto", reset=True, verbose=False)
    try:
        assert node.server_type.value == "python" and node.deployment_type.value == "python"
    finally:
        if node.server_type.value == "python":
            node.land()
    assert node._landed


class _Cycle:
    """A reference cycle: only the cyclic garbage collector can free it."""

    def __init__(self) -> None:
        self.me = self


def _garbage_cycle() -> weakref.ref:
    return weakref.ref(_Cycle())


def _freed_by_a_collection(holder: list[_Cycle]) -> bool:
    """Whether the cycle in ``holder``, its last reference, is freed by ``gc.collect()`` once
    dropped: not when it was frozen (``gc.freeze``)."""
    ref = weakref.ref(holder.pop())
    gc.collect()
    return ref() is None


@pytest.mark.parametrize("enabled_before", [True, False])
def test_launch_leaves_the_garbage_collector_as_it_found_it(enabled_before):
    # Start-up runs with the collector off (bootstrap.collector_paused); afterwards it is
    # as the kernel had it, nothing is frozen, and garbage from before and during is freed.
    before = [_Cycle()]  # alive during the launch, garbage after it
    if not enabled_before:
        gc.disable()
    try:
        node = sy.orchestra.launch(name="gc-launch", port="auto", reset=True, verbose=False)
        try:
            assert gc.isenabled() is enabled_before
            assert gc.get_freeze_count() == 0
            assert _freed_by_a_collection(before)
        finally:
            node.land()
    finally:
        gc.enable()


def test_collector_paused_nests_and_restores_on_errors():
    from jupyter_syft.hosts.bootstrap import collector_paused

    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector_paused():
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner one leaves it to the outer one
        during = _garbage_cycle()
        raise RuntimeError("start-up failed")
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert during() is None


def test_a_launch_that_fails_turns_the_collector_back_on():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(sy.SyftException):
            sy.orchestra.launch(
                name="gc-taken", port=taken.getsockname()[1], reset=True, verbose=False
            )
    assert gc.isenabled()
