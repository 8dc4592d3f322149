"""Duplicate detection (``_dupefinder``): launchpad/dupefinder.py and launchpad/duplicates.py."""

import json
import os

from conftest import CORPUS, ROOT

from launchpad import DupeFinderBase, DupeFinderExact, Firework, FWAction, Workflow
from launchpad.checker import check
from launchpad.serialization import explicit_serialize
from launchpad.tasks import PyTask, ScriptTask
from rocket import launch_rocket


def echo_fw(text, finder=None, **spec):
    return Firework(
        ScriptTask(script=f"echo {text}", store_stdout=True),
        spec={"_dupefinder": finder or DupeFinderExact(), **spec},
    )


def push_child(value):
    return FWAction(stored_data={"value": value}, mod_spec=[{"_push": {"seen": value}}])


def parent_and_child():
    parent = Firework(
        PyTask(func="test_duplicates.push_child", args=[7]),
        spec={"_dupefinder": {"_fw_name": "DupeFinderExact"}},
    )
    child = Firework(ScriptTask(script="true"))
    return Workflow([parent, child], {parent: [child]}), parent.fw_id, child.fw_id


def launches_of(lp):
    return lp.get_launches(None, fields=["launch_id", "fw_id"])


# -- taking a run over -----------------------------------------------------------------
def test_a_duplicate_of_a_completed_firework_runs_nothing_and_releases_its_children(lp, tmp_path):
    wf, parent, _ = parent_and_child()
    first = lp.add_wf(wf)[parent]
    while launch_rocket(lp, launch_root=str(tmp_path)) is not None:
        pass
    wf, parent, child = parent_and_child()
    second = lp.add_wf(wf)
    parent, child = second[parent], second[child]
    ran = []
    while (fw_id := launch_rocket(lp, launch_root=str(tmp_path))) is not None:
        ran.append(fw_id)
    assert ran == [child]  # the duplicate parent ran nothing
    doc = lp.get_fw_dict(parent)
    assert doc["state"] == "COMPLETED"
    assert [launch["fw_id"] for launch in doc["launches"]] == [first]
    assert lp.get_fw_dict(child)["spec"]["seen"] == [7]  # the taken launch's mod_spec, applied
    assert len(launches_of(lp)) == 3


def test_a_duplicate_of_a_running_firework_follows_it(lp, tmp_path):
    lp.add_wf(echo_fw("same"))
    lp.add_wf(echo_fw("same"))
    fw, launch_id = lp.claim_to_run(launch_dir=str(tmp_path))
    assert launch_rocket(lp, launch_root=str(tmp_path)) is None  # the copy found the run, ran nothing
    assert lp.get_fw_dict(2)["state"] == "RUNNING"
    assert check(lp).ok
    lp.complete_launch(launch_id, FWAction(stored_data={"stdout": "same\n"}), fw_id=fw["fw_id"])
    assert lp.get_fw_dict(2)["state"] == "COMPLETED"
    assert len(launches_of(lp)) == 1


def test_rerun_duplicates(lp, tmp_path):
    lp.add_wf(echo_fw("x"))
    lp.add_wf(echo_fw("x"))
    launch_rocket(lp, launch_root=str(tmp_path))
    assert launch_rocket(lp, launch_root=str(tmp_path)) is None
    assert sorted(lp.rerun_fw(1)) == [1, 2]  # rerun_duplicates, FireWorks' default
    assert {lp.get_fw_dict(i)["state"] for i in (1, 2)} == {"READY"}
    launch_rocket(lp, launch_root=str(tmp_path))
    assert launch_rocket(lp, launch_root=str(tmp_path)) is None
    assert lp.rerun_fw(2, rerun_duplicates=False) == [2]
    assert lp.get_fw_dict(1)["state"] == "COMPLETED"
    assert launch_rocket(lp, launch_root=str(tmp_path)) == 2  # rerun alone, it really runs
    assert len(launches_of(lp)) == 3


@explicit_serialize
class SameNumber(DupeFinderBase):
    """A user finder: same ``n``; verify refuses odd ones."""

    def query(self, spec):
        return {"spec.n": spec["n"]}

    def verify(self, spec1, spec2):
        return spec1["n"] % 2 == 0


def test_user_subclass_query_and_verify(lp, tmp_path):
    for text, n in (("a", 2), ("b", 2), ("c", 3), ("d", 3)):
        lp.add_wf(echo_fw(text, SameNumber(), n=n))
    ran = []
    while (fw_id := launch_rocket(lp, launch_root=str(tmp_path))) is not None:
        ran.append(fw_id)
    assert ran == [1, 3, 4]  # 2 duplicates 1 (even n); 4 and 3 fail verify
    assert lp.get_fw_dict(2)["state"] == "COMPLETED"


# -- FireWorks' tutorial, with the real commands -----------------------------------------
def test_fireworks_duplicates_tutorial(tmp_path):
    from user_commands import new_user

    user = new_user(tmp_path)
    env = {
        "PYTHONPATH": os.pathsep.join([ROOT, os.path.join(ROOT, "examples")]),
        "STARSHELL_USER_PACKAGES": "tutorial_tasks",
    }
    corpus = os.path.join(CORPUS, "duplicates")
    assert user.run("lpad", "add", os.path.join(corpus, "wf_12.yaml"), extra_env=env).returncode == 0
    first = user.run("rlaunch", "rapidfire", extra_env=env)
    assert "The sum of [1, 1] is: 2" in first.stdout and "The sum of [2, 2] is: 4" in first.stdout, (
        first.stderr
    )
    assert user.run("lpad", "add", os.path.join(corpus, "wf_123.yaml"), extra_env=env).returncode == 0
    second = user.run("rlaunch", "rapidfire", extra_env=env)
    assert second.returncode == 0, second.stderr
    assert "The sum of" in second.stdout
    assert second.stdout.count("The sum of") == 1, second.stdout  # only the new firework ran
    assert "The sum of [3, 4] is: 7" in second.stdout
    states = user.run("lpad", "get_fws", "-s", "COMPLETED", "-d", "count", extra_env=env)
    assert states.stdout.strip() == "5", states.stdout
    launches = user.run("lpad", "get_fws", "-i", "4", "-d", "all", "-o", "json", extra_env=env)
    assert '"fw_id": 2' in launches.stdout  # fw 4 took over fw 2's launch
    alone = user.run("lpad", "rerun_fws", "-i", "3", "--no_rerun_duplicates", "-o", "json", extra_env=env)
    assert json.loads(alone.stdout)["changed"] == [3, 4, 5], alone.stdout  # not 1, whose run 3 took
    both = user.run("lpad", "rerun_fws", "-i", "1", "-o", "json", extra_env=env)
    assert json.loads(both.stdout)["changed"] == [1, 2], both.stdout  # 3 was reset already


def test_defusing_a_running_firework_reruns_the_duplicates_that_follow_it(lp, tmp_path):
    lp.add_wf(echo_fw("y"))
    lp.add_wf(echo_fw("y"))
    lp.claim_to_run(launch_dir=str(tmp_path))
    assert launch_rocket(lp, launch_root=str(tmp_path)) is None
    assert lp.get_fw_dict(2)["state"] == "RUNNING"
    lp.defuse_fw(1)
    assert [lp.get_fw_dict(i)["state"] for i in (1, 2)] == ["DEFUSED", "READY"]
    assert launch_rocket(lp, launch_root=str(tmp_path)) == 2  # its run was withdrawn: it runs


def test_lpad_defuse_fws_reruns_duplicates_unless_told_not_to(tmp_path):
    from user_commands import new_user

    from launchpad import LaunchPad
    from launchpad.stores import SQLiteStore

    user = new_user(tmp_path)
    fws = "".join(
        f"- fw_id: {i}\n  spec:\n    _dupefinder: {{_fw_name: DupeFinderExact}}\n"
        f"    k: {'ab'[(i - 1) // 2]}\n    _tasks: [{{_fw_name: ScriptTask, script: exit 1}}]\n"
        for i in (1, 2, 3, 4)
    )
    (user.work / "wf.yaml").write_text("fws:\n" + fws + "links: {}\n")
    assert user.run("lpad", "add", "wf.yaml").returncode == 0
    user.run("rlaunch", "rapidfire")
    lp = LaunchPad(SQLiteStore(user.home / "launchpad.sqlite"))
    assert [lp.get_fw_dict(i)["state"] for i in (1, 2, 3, 4)] == ["FIZZLED"] * 4
    assert len(lp.get_launches()) == 2  # 2 and 4 took over the failed runs of 1 and 3
    assert user.run("lpad", "defuse_fws", "-i", "1").returncode == 0
    assert user.run("lpad", "defuse_fws", "-i", "3", "--no_rerun_duplicates").returncode == 0
    assert [lp.get_fw_dict(i)["state"] for i in (1, 2, 3, 4)] == ["DEFUSED", "READY", "DEFUSED", "FIZZLED"]
