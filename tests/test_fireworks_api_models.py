"""FireWorks' Python API over starshell's model: errors, Launch objects, Workflow state and editing.

The behaviours are those FireWorks' own tests (core/tests/test_firework.py,
test_launchpad.py) check for these objects, written again here.
"""

import pytest

from launchpad import FiretaskBase, Firework, LaunchPad, Workflow
from launchpad.errors import (FWSerializationError, InvalidArgumentError, InvalidQueryError,
                              InvalidWorkflowError, MissingTaskParameterError, NotFoundError,
                              QueueError, StarshellError, UnknownTaskError, WorkflowFileError)
from launchpad.tasks import ScriptTask


class NeedsX(FiretaskBase):
    _fw_name = "Needs X Task (api models test)"
    required_params = ("x",)

    def run_task(self, fw_spec):
        return None


def echo(text="hi", name=None, fw_id=None, parents=None):
    return Firework(ScriptTask(script=f"echo {text}"), name=name, fw_id=fw_id, parents=parents)


# ---- errors: FireWorks' builtins, and still StarshellErrors ---------------------------

@pytest.mark.parametrize("error, builtin", [
    (NotFoundError, ValueError), (InvalidWorkflowError, ValueError),
    (InvalidArgumentError, ValueError), (InvalidQueryError, ValueError),
    (WorkflowFileError, ValueError), (UnknownTaskError, ValueError),
    (MissingTaskParameterError, RuntimeError), (QueueError, RuntimeError),
])
def test_errors_derive_from_the_builtin_fireworks_raises(error, builtin):
    assert issubclass(error, builtin) and issubclass(error, StarshellError)


def test_unknown_ids_raise_value_error(lp):
    for read in (lp.get_fw_by_id, lp.get_wf_by_fw_id, lp.get_launch):
        with pytest.raises(ValueError):
            read(404)


def test_bad_links_and_duplicate_ids_raise_value_error():
    with pytest.raises(ValueError):
        Workflow([echo(fw_id=1), echo(fw_id=1)])
    with pytest.raises(ValueError):
        Workflow([echo(fw_id=1)], {1: [7]})


def test_wrong_reset_password_raises_value_error(lp):
    with pytest.raises(ValueError, match="today's date"):
        lp.reset("1999-01-01")


def test_missing_task_parameter_raises_runtime_error():
    with pytest.raises(RuntimeError, match="x"):
        NeedsX()


def test_unknown_task_name_is_a_serialization_error():
    with pytest.raises(FWSerializationError):
        Firework.from_dict({"spec": {"_tasks": [{"_fw_name": "NoSuchTaskAnywhere"}]}})


def test_cli_keeps_its_exit_code_for_errors_that_are_also_value_errors(isolated_home, capsys):
    from launchpad.cli import main
    assert main(["get_fws", "-i", "12345", "-d", "all"]) == NotFoundError.exit_code
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "12345" in err[0]
