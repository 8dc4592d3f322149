"""What a firework's tasks and children receive: a task's update_spec and
mod_spec reach the later tasks of its firework as well as its children (as in
FireWorks), and ``_files_in`` un-compresses a parent's ``.gz`` output."""

import bz2
import gzip
import json
import lzma
import os

import pytest
from user_commands import new_user

from launchpad import Firework, FWAction, Workflow
from launchpad.errors import TaskError
from launchpad.tasks import PyTask
from rocket import rapidfire
from rocket.special_keys import files_in

# Built-in tasks only: each PyTask's outputs become update_spec (a _push mod_spec
# with chunk_number), and its inputs must already be in the spec it is given.
SPEC_FLOW = """
name: spec flow
fws:
- fw_id: 1
  name: producer
  spec:
    _tasks:
    - {_fw_name: PyTask, func: math.pow, args: [2, 10], outputs: [power]}
    - {_fw_name: PyTask, func: math.sqrt, inputs: [power], outputs: [root]}
    - {_fw_name: PyTask, func: max, args: [3, 7], outputs: [biggest], chunk_number: 0}
    - {_fw_name: PyTask, func: sum, inputs: [biggest], outputs: [total], stored_data_varname: total}
- fw_id: 2
  name: consumer
  spec:
    _tasks:
    - {_fw_name: PyTask, func: max, inputs: [root, total], stored_data_varname: seen}
links: {1: [2]}
"""

RECEIVED = {"power": 1024.0, "root": 32.0, "biggest": [7], "total": 7}


def _add_and_run(tmp_path, workflow_text, *ids):
    """lpad add, rlaunch rapidfire and lpad get_fws, each its own process; the fireworks by id."""
    user = new_user(tmp_path)
    (user.work / "wf.yaml").write_text(workflow_text)
    assert user.run("lpad", "add", "wf.yaml").returncode == 0
    ran = user.run("rlaunch", "-s", "rapidfire", "--sleep", "0")
    assert ran.returncode == 0, ran.stderr
    return _fws(user, *ids)


def _fws(user, *ids):
    done = user.run("lpad", "-o", "json", "get_fws", "-d", "all", "-i", ",".join(map(str, ids)))
    assert done.returncode == 0, done.stderr
    return {fw["fw_id"]: fw for fw in json.loads(done.stdout)}


def _assert_flowed(fw1, fw2):
    launch = fw1["launches"][-1]
    assert launch["state"] == "COMPLETED", launch.get("exception")
    assert launch["action"]["stored_data"]["total"] == 7
    assert {k: fw2["spec"].get(k) for k in RECEIVED} == RECEIVED
    child = fw2["launches"][-1]
    assert child["state"] == "COMPLETED", child.get("exception")
    assert child["action"]["stored_data"]["seen"] == 32.0


def test_update_and_mod_spec_reach_later_tasks_and_children_through_rlaunch(tmp_path):
    fws = _add_and_run(tmp_path, SPEC_FLOW, 1, 2)
    _assert_flowed(fws[1], fws[2])


def test_update_and_mod_spec_reach_later_tasks_on_every_store(lp, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    from launchpad.workflow_files import loads_workflow

    lp.add_wf(loads_workflow(SPEC_FLOW))
    assert rapidfire(lp, sleep=lambda s: None) == 2
    _assert_flowed(lp.get_fw_dict(1), lp.get_fw_dict(2))


def test_a_later_task_sees_the_spec_as_changed_so_far(lp, tmp_path, monkeypatch):
    """FireWorks' order within a task's action: update_spec first, then mod_spec;
    a later update_spec overrides an earlier one."""
    monkeypatch.chdir(tmp_path)
    fw = Firework(
        [
            PyTask(
                func="launchpad.actions.FWAction",
                kwargs={
                    "update_spec": {"n": 1, "log": []},
                    "mod_spec": [{"_inc": {"n": 10}}, {"_push": {"log": "a"}}],
                },
            ),
            PyTask(
                func="launchpad.actions.FWAction",
                kwargs={"update_spec": {"n": 100}, "mod_spec": [{"_push": {"log": "b"}}]},
            ),
            PyTask(func="list", inputs=["log"], stored_data_varname="log"),
            PyTask(func="abs", inputs=["n"], stored_data_varname="n"),
        ],
        fw_id=1,
    )
    lp.add_wf(Workflow([fw, Firework(PyTask(func="abs", args=[0]), fw_id=2, parents=[fw])]))
    rapidfire(lp, sleep=lambda s: None)
    stored = lp.get_fw_dict(1)["launches"][-1]["action"]["stored_data"]
    assert stored == {"log": ["a", "b"], "n": 100}
    # the child: all update_specs merged, then every mod_spec in order. (FireWorks 2.1.4
    # gives log [a, b, a, b] here: its running spec shares the update_spec's list, so
    # the pushes land in what the children get too, and are then applied again.)
    assert {k: lp.get_fw_dict(2)["spec"][k] for k in ("n", "log")} == {"n": 110, "log": ["a", "b"]}


def test_a_mod_spec_that_cannot_apply_fizzles_at_its_task(lp, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    lp.add_wf(
        Firework(
            [
                PyTask(
                    func="launchpad.actions.FWAction",
                    kwargs={"update_spec": {"s": "text"}, "mod_spec": [{"_push": {"s": 1}}]},
                ),
                PyTask(func="abs", args=[1]),
            ]
        )
    )
    rapidfire(lp, sleep=lambda s: None)
    launch = lp.get_fw_dict(1)["launches"][-1]
    assert launch["state"] == "FIZZLED"
    assert launch["exception"]["task_index"] == 0 and "not a list" in launch["exception"]["message"]


# ---- _files_in of compressed outputs (FireWorks' files tutorial) ----------------------------

FILES_TUTORIAL = """
fws:
- fw_id: 1
  spec:
    _tasks: [{_fw_name: ScriptTask, script: 'echo "This is the first FireWork" > test1'}]
    _files_out: {fwtest1: test1}
- fw_id: 2
  spec:
    _tasks: [{_fw_name: ScriptTask, script: gzip hello}]
    _files_in: {fwtest1: hello}
    _files_out: {fw2: hello.gz}
- fw_id: 3
  spec:
    _tasks: [{_fw_name: ScriptTask, script: cat fwtest.2, store_stdout: true}]
    _files_in: {fw2: fwtest.2}
- fw_id: 4
  spec:
    _tasks: [{_fw_name: ScriptTask, script: 'true'}]
    _files_in: {fw2: kept.gz}
links: {1: [2], 2: [3, 4]}
"""


def test_files_in_ungzips_a_parents_gz_output_through_rlaunch(tmp_path):
    fws = _add_and_run(tmp_path, FILES_TUTORIAL, 1, 2, 3, 4)
    assert {i: fw["state"] for i, fw in fws.items()} == dict.fromkeys((1, 2, 3, 4), "COMPLETED")
    text = b"This is the first FireWork\n"
    third = fws[3]["launches"][-1]
    with open(os.path.join(third["launch_dir"], "fwtest.2"), "rb") as fh:
        assert fh.read() == text
    assert third["action"]["stored_data"]["stdout"] == text.decode()
    # a destination that itself ends in .gz is written gzipped, as FireWorks does
    with gzip.open(os.path.join(fws[4]["launches"][-1]["launch_dir"], "kept.gz"), "rb") as fh:
        assert fh.read() == text


@pytest.mark.parametrize(
    "name,compress",
    [
        ("out.GZ", gzip.compress),
        ("out.z", gzip.compress),
        ("out.bz2", bz2.compress),
        ("out.xz", lzma.compress),
        ("out.lzma", lambda b: lzma.compress(b, lzma.FORMAT_ALONE)),
    ],
)
def test_files_in_suffixes_that_mean_compressed(tmp_path, name, compress):
    parent, child = tmp_path / "parent", tmp_path / "child"
    parent.mkdir()
    child.mkdir()
    (parent / name).write_bytes(compress(b"payload"))
    files_in({"_files_in": {"x": "in.txt"}, "_files_prev": {"x": str(parent / name)}}, str(child))
    assert (child / "in.txt").read_bytes() == b"payload"


def test_files_in_copies_other_files_as_they_are(tmp_path):
    """A plain file keeps its bytes and its mode (a script stays executable);
    .tgz or .zip are not suffixes FireWorks un-compresses."""
    parent, child = tmp_path / "parent", tmp_path / "child"
    parent.mkdir()
    child.mkdir()
    (parent / "run.sh").write_text("#!/bin/sh\n")
    (parent / "run.sh").chmod(0o755)
    (parent / "data.tgz").write_bytes(gzip.compress(b"tar"))
    files_in(
        {
            "_files_in": {"s": "run.sh", "t": "data.tgz"},
            "_files_prev": {"s": str(parent / "run.sh"), "t": str(parent / "data.tgz")},
        },
        str(child),
    )
    assert os.access(child / "run.sh", os.X_OK)
    assert (child / "data.tgz").read_bytes() == gzip.compress(b"tar")


def test_a_corrupt_gz_is_a_task_error_naming_the_label(tmp_path):
    (tmp_path / "bad.gz").write_bytes(b"not gzip at all")
    with pytest.raises(TaskError, match=r"_files_in 'x': cannot copy .*bad.gz"):
        files_in(
            {"_files_in": {"x": "in.txt"}, "_files_prev": {"x": str(tmp_path / "bad.gz")}}, str(tmp_path)
        )


def test_an_fwaction_returned_by_a_task_is_unchanged_by_the_flow(lp, tmp_path, monkeypatch):
    """The launch records the merged action of all tasks, as before."""
    monkeypatch.chdir(tmp_path)
    lp.add_wf(
        Firework(
            [
                PyTask(func="launchpad.actions.FWAction", kwargs={"update_spec": {"a": 1}}),
                PyTask(func="launchpad.actions.FWAction", kwargs={"update_spec": {"b": 2}}),
            ]
        )
    )
    rapidfire(lp, sleep=lambda s: None)
    action = FWAction.from_dict(lp.get_fw_dict(1)["launches"][-1]["action"])
    assert action.update_spec == {"a": 1, "b": 2}
