"""Port of FireWorks' fireworks/core/tests/test_rocket.py, on both stores: what a rocket
records when a task fails, and when a task's FWAction cannot be stored."""

import pytest

from launchpad import Firework, FWorker
from rocket import launch_rocket
from tests.fireworks_port.core_tasks import ExceptionTestTask, MalformedAdditionTask


@pytest.fixture
def here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_serializable_exception(lp, here):
    """An exception with a to_dict() leaves its details in the launch's stored_data."""
    details = {"error": "description", "error_code": 1}
    lp.add_wf(Firework(ExceptionTestTask(exc_details=details)))
    launch_rocket(lp, FWorker())
    launch = lp.get_fw_by_id(1).launches[0]
    assert launch.action.stored_data["_exception"]["_details"] == details
    assert "SerializableException" in launch.action.stored_data["_exception"]["_stacktrace"]


def test_postproc_exception(lp, here):
    """A task that succeeds but returns an FWAction that cannot be stored fizzles."""
    lp.add_wf(Firework(MalformedAdditionTask()))
    launch_rocket(lp, FWorker())
    assert lp.get_fw_by_id(1).state == "FIZZLED"


@pytest.fixture
def gateway_client(lp, tmp_path):
    """The same LaunchPad behind ``lpad gateway`` (a thread here), and a rocket's client for it."""
    import threading

    from launchpad.gateway.client import GatewayClient, GatewayLaunchPad
    from launchpad.gateway.server import build_server, url_of

    server, _ = build_server(lp, "127.0.0.1", 0, str(tmp_path / "gw.token"), threads=2)
    threading.Thread(target=server.serve, daemon=True).start()
    token = (tmp_path / "gw.token").read_text().splitlines()[1].split()[0]
    yield GatewayLaunchPad(client=GatewayClient(url_of(server), token, patience=2.0), api=type(lp))
    server.stop()


def test_postproc_exception_through_a_gateway(lp, gateway_client, here):
    """The same through ``lpad gateway``, whose client encodes the action in the rocket's
    process: the firework fizzles, the rocket does not crash."""
    lp.add_wf(Firework(MalformedAdditionTask()))
    assert launch_rocket(gateway_client, FWorker()) == 1
    fw = lp.get_fw_by_id(1)
    assert fw.state == "FIZZLED"
    assert "to_dict error" in fw.launches[0].action.stored_data["_exception"]["_stacktrace"]
