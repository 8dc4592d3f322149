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
