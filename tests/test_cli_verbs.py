"""FireWorks' lpad verbs and options that starshell added later (issue 11):
the API on every backend, then the real ``lpad`` in fresh processes."""

import json
import os
import shutil
from contextlib import closing

import pytest
from user_commands import new_user

from launchpad import Firework, FWAction, LaunchPad, Workflow
from launchpad.errors import InvalidArgumentError, InvalidTransitionError, NotFoundError
from launchpad.stores import SQLiteStore
from launchpad.tasks import ScriptTask
from launchpad.workflow_ops import scripts_workflow


def chain(n=2, name="chain"):
    fws = [Firework(ScriptTask(script=f"echo {i}"), name=f"s{i}", fw_id=i) for i in range(1, n + 1)]
    return Workflow(fws, {i: [i + 1] for i in range(1, n)}, name=name)


def complete(lp, fw_id, action=None, launch_dir=""):
    launch = lp.claim_to_run(fw_id=fw_id, launch_dir=launch_dir)
    launch_id = launch[1] if isinstance(launch, tuple) else launch.launch_id
    lp.complete_launch(launch_id, action or FWAction())


# -- API, on every backend ------------------------------------------------------------
def test_append_pulls_spec_mods_of_completed_parents(lp):
    lp.add_wf(chain(1))
    complete(lp, 1, FWAction(update_spec={"x": 1}, mod_spec=[{"_push": {"seen": "a"}}]))
    pulled = lp.append_wf(chain(1, "more"), [1])
    assert lp.get_fw_dict(pulled[1])["spec"]["x"] == 1
    assert lp.get_fw_dict(pulled[1])["spec"]["seen"] == ["a"]
    assert lp.get_fw_dict(pulled[1])["state"] == "READY"
    plain = lp.append_wf(chain(1, "more"), [1], pull_spec_mods=False)
    assert "x" not in lp.get_fw_dict(plain[1])["spec"]


def test_delete_fws_unlinks_and_refuses_to_strand_children(lp):
    lp.add_wf(chain(3))
    with pytest.raises(InvalidArgumentError, match=r"children 3.*-i 2 3"):
        lp.delete_fws([2])
    with pytest.raises(NotFoundError):
        lp.delete_fws([2, 3, 99])
    result = lp.delete_fws([2, 3])
    assert result["fw_ids"] == [2, 3] and result["wf_ids_removed"] == []
    assert lp.get_fw_dict(1)["children"] == []
    assert lp.get_wf_by_fw_id(1).links == {1: []}
    assert len(lp.delete_fws([1])["wf_ids_removed"]) == 1
    assert lp.store.count_workflows() == 0 and lp.store.count_fireworks() == 0


def test_delete_fws_refuses_a_running_firework(lp):
    lp.add_wf(chain(1))
    lp.claim_to_run(fw_id=1)
    with pytest.raises(InvalidTransitionError, match="RUNNING"):
        lp.delete_fws([1])


def test_delete_launch_dirs_only_those_safe_to_remove(lp, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    lp.add_wf(chain(2))
    own, shared = tmp_path / "launcher_1", tmp_path / "shared"
    own.mkdir(), shared.mkdir()
    complete(lp, 1, launch_dir=str(own))
    complete(lp, 2, launch_dir=str(tmp_path))  # the working directory: never removed
    result = lp.delete_fws([1, 2], delete_launch_dirs=True)
    assert result["launch_dirs"] == [str(own)] and not own.exists()
    assert str(tmp_path) in result["kept_dirs"] and tmp_path.exists()


def test_scripts_workflow_is_a_chain():
    wf = scripts_workflow(["echo a", "echo b", "echo c"], ["a", "b", "c"])
    assert wf.name == "a" and wf.links == {0: [1], 1: [2], 2: []}
    assert wf.id_fw[2].tasks[0]["script"] == "echo c" and wf.id_fw[2].tasks[0]["use_shell"]
    with pytest.raises(InvalidArgumentError, match="one name per script"):
        scripts_workflow(["echo a"], ["a", "b"])


# -- the real lpad, in fresh processes ------------------------------------------------------
@pytest.fixture
def lpad(tmp_path):
    user = new_user(tmp_path)

    def run(*argv, stdin=None):
        return user.run("lpad", *argv, timeout=60, stdin=stdin)

    run.work, run.home = user.work, user.home
    return run


def add_scripts(lpad, *scripts):
    """What ``lpad add_scripts`` adds, through the API into the store the commands use: for
    the tests of other commands, one lpad process less each (~0.5 s in CI)."""
    with closing(SQLiteStore(lpad.home / "launchpad.sqlite")) as store:
        LaunchPad(store).add_wf(scripts_workflow(list(scripts)))


def ids(result):
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_dump_wflow_round_trips_through_add(lpad):
    (lpad.work / "wf.json").write_text(json.dumps(chain(3).to_dict()))
    assert lpad("add", "wf.json").returncode == 0
    assert lpad("append_wflow", "-i", "3", "-f", "wf.json", "--detour").returncode == 0
    dumped = lpad("dump_wflow", "-i", "2", "-f", "out.yaml")
    assert dumped.returncode == 0 and "6 fireworks" in dumped.stdout
    assert lpad("add", "out.yaml").returncode == 0
    first, second = ids(lpad("-o", "records", "get_wflows", "-d", "all"))
    for key in ("name", "nodes", "states"):
        assert first[key] == second[key]
    shape = [sorted(len(kids) for kids in wf["links"].values()) for wf in (first, second)]
    assert shape[0] == shape[1]


def test_add_scripts_and_get_fws_in_wflows(lpad):
    assert lpad("add_scripts", "echo 1", "echo 2", "-n", "one", "two", "-w", "sc").returncode == 0
    assert lpad("add_scripts", "-s", "echo 3").returncode == 0
    assert ids(lpad("-o", "json", "get_fws_in_wflows", "-wfn", "sc", "-d", "ids")) == [1, 2]
    assert ids(lpad("-o", "json", "get_fws_in_wfs", "-wfi", "2", "-fws", "WAITING", "-d", "ids")) == 2
    assert ids(lpad("-o", "json", "get_fws_in_wflows", "-fwn", "one", "-d", "ids")) == 1  # alone
    assert ids(lpad("-o", "records", "get_fws_in_wflows", "-fwn", "one", "-d", "ids")) == [1]


def test_delete_fws_command(lpad):
    add_scripts(lpad, "echo 1", "echo 2")
    refused = lpad("delete_fws", "-i", "1")
    assert refused.returncode == 2 and "-i 1 2" in refused.stderr
    done = lpad("delete_fws", "-i", "1", "2")
    assert done.returncode == 0 and "emptied workflows" in done.stdout


def test_add_dir_checks_every_file_first(lpad):
    folder = lpad.work / "wfs"
    folder.mkdir()
    for name in ("a.yaml", "b.json"):
        (folder / name).write_text(json.dumps(chain(2, name).to_dict()))
    (folder / "notes.txt").write_text("not a workflow")
    added = lpad("add", "-d", "wfs")
    assert added.returncode == 0 and "added 2 workflows with 4 fireworks" in added.stderr
    (folder / "c.yaml").write_text("fws: [")
    bad = lpad("add", "-d", "wfs")
    assert bad.returncode == 2 and "c.yaml" in bad.stderr
    assert ids(lpad("-o", "json", "get_wflows", "-d", "count")) == 2


def test_reset_reads_a_typed_y(lpad):
    add_scripts(lpad, "echo 1")
    assert lpad("reset", stdin="n\n").returncode == 1
    assert lpad("reset", stdin="").returncode == 1
    assert lpad("reset", stdin="Y\n").returncode == 0
    assert ids(lpad("-o", "json", "get_fws", "-d", "count")) == 0


def test_python_queries_and_launches_mode(lpad):
    add_scripts(lpad, "echo 1", "echo 2")
    assert ids(lpad("-o", "json", "get_fws", "-q", "{'state': 'READY'}", "-d", "ids")) == 1
    assert ids(lpad("-o", "json", "get_fws", "-lm", "-q", "{'state': 'RUNNING'}", "-d", "ids")) == []
    bad = lpad("get_fws", "-q", "__import__('os')")
    assert bad.returncode == 2 and "Python dict literal" in bad.stderr


# -- options (issue 11, "Options still refused or ignored") ------------------------------------
def test_update_spec_mongo_document_stays_in_the_spec(lp):
    lp.add_wf(chain(1))
    lp.update_spec(
        [1],
        {"$set": {"spec.x": 1}, "$push": {"spec.tags": {"$each": ["a", "b"]}}, "$inc": {"spec.n": 2}},
        mongo=True,
    )
    spec = lp.get_fw_dict(1)["spec"]
    assert (spec["x"], spec["tags"], spec["n"]) == (1, ["a", "b"], 2)
    for bad in ({"$set": {"state": "COMPLETED"}}, {"$where": {"spec.x": 1}}, {"$set": 1}, {}):
        with pytest.raises(InvalidArgumentError):
            lp.update_spec([1], bad, mongo=True)
    assert lp.get_fw_dict(1)["state"] == "READY"


def test_defuse_all_states_resets_completed_ones_first(lp):
    lp.add_wf(chain(2))
    complete(lp, 1)
    assert lp.defuse_wf(1, defuse_all_states=False) == [2]
    lp.reignite_wf(1)
    assert sorted(lp.defuse_wf(1)) == [1, 2]  # FireWorks' default: all states
    assert {d["state"] for d in lp.get_fws()} == {"DEFUSED"}


def test_interval_report_counts_by_state(lp):
    from launchpad.reports import interval_stats

    lp.add_wf(chain(2))
    complete(lp, 1)
    rows = interval_stats(lp, "fws", "days", 5)
    assert len(rows) == 1 and rows[0]["states"] == {"COMPLETED": 1, "READY": 1}
    assert interval_stats(lp, "launches", "hours", 0)[0]["states"] == {"COMPLETED": 1}
    assert interval_stats(lp, "fws", "days", 5, {"state": "READY"})[0]["total"] == 1


def test_set_priority_takes_ids_as_fireworks_does(lpad):
    add_scripts(lpad, "echo 1", "echo 2", "echo 3")
    assert lpad("set_priority", "-i", "1", "2", "100").returncode == 0
    assert lpad("set_priority", "5", "-i", "3").returncode == 0
    assert lpad("set_priority", "-i", "1,2", "7.5").returncode == 0
    assert lpad("set_priority", "-i", "1").returncode == 2
    docs = ids(lpad("-o", "json", "get_fws", "-d", "all"))
    assert [d["spec"]["_priority"] for d in docs] == [7.5, 7.5, 5]
    assert lpad("set_priority", "9", "-i", "2", "-wf", "--password", "x").returncode == 0
    docs = ids(lpad("-o", "json", "get_fws", "-d", "all"))
    assert [d["spec"]["_priority"] for d in docs] == [9, 9, 9]


def test_state_command_options(lpad):
    add_scripts(lpad, "echo 1", "echo 2")
    assert lpad("rerun_fws", "-i", "1", "--clear-recovery").returncode == 0
    assert lpad("defuse_wflows", "-i", "1", "--defuse_all_states").returncode == 0
    assert lpad("update_fws", "-i", "1", "--mongo", "-u", '{"$set": {"spec.x": 3}}').returncode == 0
    refused = lpad("update_fws", "-i", "1", "--mongo", "-u", '{"$set": {"state": "READY"}}')
    assert refused.returncode == 2 and "outside the spec" in refused.stderr
    table = lpad("-o", "json", "get_wflows", "-t")
    assert table.returncode == 0 and table.stdout.startswith("fw_id")
    report = lpad("report", "-c", "fws", "-i", "hours")
    assert report.returncode == 0 and "DEFUSED" in report.stdout


def test_delete_wflows_ldirs_removes_only_recorded_dirs(lpad):
    add_scripts(lpad, "echo 1")
    run_dir = lpad.work / "launcher_x"
    run_dir.mkdir()
    (lpad.work / "keep.txt").write_text("mine")
    with closing(SQLiteStore(lpad.home / "launchpad.sqlite")) as store:  # a rocket ran it there
        LaunchPad(store).claim_to_run(fw_id=1, launch_dir=str(run_dir))
    lpad("defuse_fws", "-i", "1")
    done = lpad("delete_wflows", "-i", "1", "--ldirs")
    assert done.returncode == 0 and f"removed launch directory {run_dir}" in done.stdout
    assert not run_dir.exists() and (lpad.work / "keep.txt").exists()


# -- check_wflow and pictures ------------------------------------------------------------------
def test_check_workflow_finds_pieces_and_dataflow_gaps():
    from launchpad import PyTask
    from launchpad.graph import check_workflow

    assert check_workflow(chain(3)) == []
    apart = Workflow(
        [Firework(ScriptTask(script="a"), fw_id=1), Firework(ScriptTask(script="b"), fw_id=2)],
        {},
        name="apart",
    )
    assert "2 unconnected pieces" in check_workflow(apart)[0]
    make = Firework(PyTask(func="json.dumps", inputs=["x"], outputs=["y"]), spec={"x": 1}, fw_id=1)
    use = Firework(PyTask(func="json.dumps", inputs=["y", "z"]), fw_id=2)
    problems = check_workflow(Workflow([make, use], {1: [2]}, name="flow"))
    assert problems == ["firework 2 (Unnamed FW): input 'z' has no source"]


def test_wf_to_graph_colours_by_state(tmp_path):
    from launchpad import plot_wf, wf_to_graph

    graph = wf_to_graph(chain(2))
    assert "1 -> 2;" in graph.source and "#b0bec5" in graph.source  # WAITING (not added)
    assert '"1-0" [label="ScriptTask"' in graph.source
    assert plot_wf(chain(2), save_as=str(tmp_path / "wf.dot")).source == (tmp_path / "wf.dot").read_text()


@pytest.mark.skipif(
    shutil.which("dot") is None and os.environ.get("CI") != "true",
    reason="Graphviz's dot is not installed (ci/test.sh installs it)",
)
def test_check_wflow_draws_pictures(lpad):
    add_scripts(lpad, "echo 1", "echo 2")
    for name, magic in (("wf.png", b"\x89PNG"), ("wf.svg", b"<?xml")):
        done = lpad("check_wflow", "-i", "2", "-f", name)
        assert done.returncode == 0 and "no problems" in done.stdout
        assert (lpad.work / name).read_bytes().startswith(magic)
    bad = lpad("check_wflow", "-i", "1", "-f", "wf.gif")
    assert bad.returncode == 2 and ".png" in bad.stderr
