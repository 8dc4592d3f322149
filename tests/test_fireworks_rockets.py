"""Rockets as FireWorks users run them: launch_rocket and rlaunch singleshot in the current
directory, rapidfire's launcher_* directories, FW.json, _launch_dir outside the rocket's
folder, FireWorks' spec keys, and FireWorks' tutorial scripts with only the imports changed."""

import ast
import json
import os
import subprocess
import sys
import textwrap

from launchpad import (
    FileTransferTask,
    FileWriteTask,
    Firework,
    FWAction,
    FWorker,
    LaunchPad,
    ScriptTask,
    Workflow,
    env_chk,
)
from launchpad.firetask import FiretaskBase
from launchpad.stores import SQLiteStore
from rocket import launch_rocket, rapidfire
from tests.user_commands import new_user


def _script(user, text, timeout=120):
    """A FireWorks-style script, run as users run one: ``python3 script.py`` in their folder."""
    path = user.work / "script.py"
    path.write_text(textwrap.dedent(text))
    return subprocess.run(
        [sys.executable, str(path)],
        cwd=user.work,
        env=user.env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_fireworks_intro_tutorial_runs_with_only_its_imports_changed(tmp_path):
    """FireWorks' introduction tutorial: launch_rocket runs here, rapidfire makes a
    launcher_* folder per firework and gives the caller its working directory back."""
    user = new_user(tmp_path)
    done = _script(
        user,
        """
        import os
        from launchpad import Firework, FWorker, LaunchPad, ScriptTask
        from rocket import launch_rocket, rapidfire

        launchpad = LaunchPad()
        launchpad.reset("", require_password=False)
        firetask = ScriptTask.from_str('echo "howdy, your job launched successfully!" > howdy.txt')
        launchpad.add_wf(Firework(firetask))
        launch_rocket(launchpad, FWorker())
        for i in range(3):
            launchpad.add_wf(Firework(ScriptTask.from_str("pwd > where.txt"), name=f"fw{i}"))
        rapidfire(launchpad, FWorker(), nlaunches=0, sleep_time=0)
        print("cwd", os.getcwd())
        """,
    )
    assert done.returncode == 0, done.stderr
    assert (user.work / "howdy.txt").read_text() == "howdy, your job launched successfully!\n"
    assert json.loads((user.work / "FW.json").read_text())["fw_id"] == 1
    launchers = sorted(p for p in user.work.iterdir() if p.name.startswith("launcher_"))
    assert len(launchers) == 3
    for folder in launchers:
        assert (folder / "where.txt").read_text().strip() == str(folder)
        assert json.loads((folder / "FW.json").read_text())["name"].startswith("fw")
    assert f"cwd {user.work}" in done.stdout


def test_rlaunch_singleshot_runs_here_and_honours_an_outside_launch_dir(tmp_path):
    """qadapter scripts cd to the job's folder and run rlaunch singleshot: it runs there;
    a _launch_dir on scratch outside it is honoured; FW.json / FW.yaml as FW_config says."""
    user = new_user(tmp_path)
    scratch = tmp_path / "scratch" / "run1"
    wf = Workflow(
        [
            Firework(ScriptTask.from_str("echo here > out.txt"), name="here", fw_id=1),
            Firework(
                ScriptTask.from_str("echo there > out.txt"), spec={"_launch_dir": str(scratch)}, fw_id=2
            ),
            Firework(ScriptTask.from_str("echo yaml > out.txt"), spec={"_launch_dir": "sub"}, fw_id=3),
        ]
    )
    wf.to_file(str(user.work / "wf.yaml"))
    assert user.run("lpad", "add", "wf.yaml").returncode == 0
    first = user.run("rlaunch", "singleshot", "-f", "1")
    assert first.returncode == 0, first.stderr
    assert (user.work / "out.txt").read_text() == "here\n"
    assert json.loads((user.work / "FW.json").read_text())["fw_id"] == 1
    assert not [p for p in user.work.iterdir() if p.name.startswith("launcher_")]
    second = user.run("rlaunch", "singleshot", "-f", "2")
    assert second.returncode == 0, second.stderr
    assert (scratch / "out.txt").read_text() == "there\n"
    assert json.loads((scratch / "FW.json").read_text())["fw_id"] == 2
    (user.work / "FW_config.yaml").write_text("PRINT_FW_JSON: false\nPRINT_FW_YAML: true\n")
    third = user.run("rlaunch", "singleshot", "-f", "3")
    assert third.returncode == 0, third.stderr
    assert "ignores" not in third.stderr  # both keys are honoured now
    assert (user.work / "sub" / "out.txt").exists() and not (user.work / "sub" / "FW.json").exists()
    assert "fw_id: 3" in (user.work / "sub" / "FW.yaml").read_text()


def test_a_confining_worker_file_keeps_fireworks_in_the_rocket_folder(tmp_path):
    user = new_user(tmp_path)
    Firework(ScriptTask.from_str("true"), spec={"_launch_dir": str(tmp_path / "away")}).to_file(
        str(user.work / "fw.yaml")
    )
    (user.work / "my_fworker.yaml").write_text("name: site\nconfine_launch_dir: true\n")
    assert user.run("lpad", "add", "fw.yaml").returncode == 0
    assert user.run("rlaunch", "singleshot").returncode == 0
    assert not (tmp_path / "away").exists()
    lp = LaunchPad(SQLiteStore(user.home / "launchpad.sqlite"))
    launch = lp.get_fw_by_id(1).launches[-1]
    assert (
        launch.state == "FIZZLED"
        and "confine_launch_dir" in lp.get_launch(launch.launch_id)["exception"]["message"]
    )
    lp.store.close()


def test_file_tasks_write_where_their_author_says_unless_the_worker_file_confines(tmp_path):
    """As in FireWorks, a file task's destination outside the launch directory is honoured;
    a site's my_fworker.yaml with confine_launch_dir: true refuses it (through rlaunch)."""
    user = new_user(tmp_path)
    away = tmp_path / "away"
    tasks = [
        FileWriteTask(files_to_write=[{"filename": "result.txt", "contents": "x"}]),
        FileTransferTask(mode="copy", files=[{"src": "result.txt", "dest": str(away / "result.txt")}]),
    ]
    away.mkdir()
    Firework(tasks).to_file(str(user.work / "fw.yaml"))
    assert user.run("lpad", "add", "fw.yaml").returncode == 0
    assert user.run("lpad", "add", "fw.yaml").returncode == 0
    (user.work / "my_fworker.yaml").write_text("name: site\nconfine_launch_dir: true\n")
    confined = user.run("rlaunch", "singleshot", "-f", "1")
    assert confined.returncode == 0, confined.stderr
    assert list(away.iterdir()) == []
    (user.work / "my_fworker.yaml").write_text("name: site\n")
    default = user.run("rlaunch", "singleshot", "-f", "2")
    assert default.returncode == 0, default.stderr
    assert (away / "result.txt").read_text() == "x"
    lp = LaunchPad(SQLiteStore(user.home / "launchpad.sqlite"))
    refused = lp.get_fw_by_id(1).launches[-1]
    message = lp.get_launch(refused.launch_id)["exception"]["message"]
    assert refused.state == "FIZZLED" and "outside the launch directory" in message
    assert lp.get_fw_by_id(2).state == "COMPLETED"
    lp.store.close()


def test_rapidfire_makes_launcher_dirs_under_m_dir_and_keeps_the_callers_cwd(lp, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    m_dir = tmp_path / "block"
    m_dir.mkdir()
    for _ in range(2):
        lp.add_wf(Firework(ScriptTask.from_str("echo hi; echo oops >&2")))
    n = rapidfire(lp, FWorker(), str(m_dir), 0, -1, 0, "WARNING", None, True)  # FireWorks' positions
    assert n == 2 and os.getcwd() == str(tmp_path)
    launchers = sorted(m_dir.glob("launcher_*"))
    assert len(launchers) == 2 and not list(tmp_path.glob("launcher_*"))
    for folder in launchers:
        assert (folder / "FW.json").is_file()
    assert lp.get_launchdir(1) in [str(p) for p in launchers]


def test_launch_rocket_runs_in_the_current_directory(lp, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    lp.add_wf(Firework(ScriptTask.from_str("echo x > x.txt")))
    assert launch_rocket(lp, FWorker(), None, "INFO", False) == 1
    assert (tmp_path / "x.txt").exists() and lp.get_launchdir(1) == str(tmp_path)
    assert not launch_rocket(lp)  # nothing left: falsy, as FireWorks' False


class RecordWhatTheRocketGave(FiretaskBase):
    _fw_name = "Record What The Rocket Gave"

    def run_task(self, fw_spec):
        return FWAction(
            stored_data={
                "fw_id": getattr(self, "fw_id", None),
                "has_launchpad": isinstance(getattr(self, "launchpad", None), LaunchPad),
                "fworker": getattr(getattr(self, "fworker", None), "name", None),
                "scratch": env_chk(">>scratch<<", fw_spec),
                "plain": env_chk("/fixed", fw_spec),
                "missing": env_chk(">>nope<<", fw_spec, strict=False, default="dflt"),
            }
        )


def _stored(lp, fw_id):
    return lp.get_fw_by_id(fw_id).launches[-1].action.stored_data


def test_spec_keys_as_fireworks(lp, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    keys = {"_pass_job_info": True, "_preserve_fworker": True}
    a = Firework(RecordWhatTheRocketGave(), name="a", spec=dict(keys, _add_launchpad_and_fw_id=True))
    b = Firework(RecordWhatTheRocketGave(), name="b", spec=dict(keys, _add_fworker=True), parents=[a])
    c = Firework(RecordWhatTheRocketGave(), name="c", parents=[b])
    lp.add_wf(Workflow([a, b, c]))
    worker = FWorker("node7", env={"scratch": "/scratch/me"})
    assert rapidfire(lp, worker, sleep_time=0) == 3
    grandchild = lp.get_fw_by_id(c.fw_id)
    assert [e["name"] for e in grandchild.spec["_job_info"]] == ["a", "b"]  # the ancestors' entries too
    assert grandchild.spec["_fworker"] == "node7"
    first, second = _stored(lp, a.fw_id), _stored(lp, b.fw_id)
    assert first["fw_id"] == a.fw_id and first["has_launchpad"] and first["fworker"] is None
    assert second["fw_id"] is None and second["fworker"] == "node7"
    assert (first["scratch"], first["plain"], first["missing"]) == ("/scratch/me", "/fixed", "dflt")


def test_preserved_fworker_keeps_the_child_on_that_worker(lp, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    a = Firework(ScriptTask.from_str("true"), spec={"_preserve_fworker": True})
    b = Firework(ScriptTask.from_str("true"), parents=[a])
    lp.add_wf(Workflow([a, b]))
    assert launch_rocket(lp, FWorker("first"), launch_root=str(tmp_path)) == a.fw_id
    assert launch_rocket(lp, FWorker("other"), launch_root=str(tmp_path)) is None
    assert launch_rocket(lp, FWorker("first"), launch_root=str(tmp_path)) == b.fw_id


class AppendBelow(FiretaskBase):
    _fw_name = "Append Below"

    def run_task(self, fw_spec):
        extra = Firework(ScriptTask.from_str("true"), name="appended")
        return FWAction(
            update_spec={"seen": 1},
            append_wfs={"workflow": Workflow([extra]), "parents": [fw_spec["other"]], "detour": True},
        )


def test_fwaction_append_wfs_adds_below_this_firework_and_more_parents(lp, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    other = Firework(ScriptTask.from_str("true"), name="other", fw_id=1)
    top = Firework(AppendBelow(), name="top", spec={"other": 1}, fw_id=2)  # other's id once added
    child = Firework(ScriptTask.from_str("true"), name="child", parents=[top], fw_id=3)
    lp.add_wf(Workflow([other, top, child]))
    assert other.fw_id == 1
    assert launch_rocket(lp, fw_id=top.fw_id, launch_root=str(tmp_path)) == top.fw_id
    wf = lp.get_wf_by_fw_id(top.fw_id)
    [appended] = [fw for fw in wf if fw.name == "appended"]
    assert sorted(wf.links.parent_links[appended.fw_id]) == sorted([top.fw_id, other.fw_id])
    assert appended.spec["seen"] == 1
    assert appended.fw_id in wf.links.parent_links[child.fw_id]  # the detour goes before the child
    assert appended.state == "WAITING"  # other has not run yet
    stored = lp.get_fw_by_id(top.fw_id).launches[-1].action.to_dict()
    action = FWAction.from_dict(json.loads(json.dumps(stored, default=str)))
    assert action.append_wfs[0]["parents"] == [other.fw_id] and action.append_wfs[0]["detour"]


def test_launch_multiprocess_from_a_script_shares_the_nodes(tmp_path):
    """FireWorks' job packing from Python: two rapidfire processes, each with half the nodes."""
    user = new_user(tmp_path)
    done = _script(
        user,
        """
        from launchpad import Firework, FWorker, LaunchPad, ScriptTask
        from rocket.multi_launcher import launch_multiprocess

        lp = LaunchPad()
        for i in range(4):
            lp.add_wf(Firework(ScriptTask.from_str("echo $STARSHELL_NODE_LIST > nodes.txt")))
        code = launch_multiprocess(lp, FWorker("packer"), "INFO", 0, 2, 0,
                                   total_node_list=["n1", "n2", "n1", "n3", "n4"], ppn=4)
        states = {lp.get_fw_by_id(i).state for i in range(1, 5)}
        data = [lp.get_fw_by_id(i).launches[-1].action.stored_data for i in range(1, 5)]
        nodes = sorted({",".join(d["node_list"]) for d in data})
        print(code, sorted(states), nodes, {d["sub_nproc"] for d in data})
        """,
    )
    assert done.returncode == 0, done.stderr
    code, states, rest = done.stdout.strip().split(" ", 2)
    assert (code, states) == ("0", "['COMPLETED']") and rest.endswith("{8}"), done.stdout
    assert set(ast.literal_eval(rest.rsplit(" ", 1)[0])) <= {"n1,n2", "n3,n4"}  # each process: its half
    written = {p.read_text().strip() for p in user.work.glob("launcher_*/nodes.txt")}
    assert written <= {"n1,n2", "n3,n4"} and written


def test_rlaunch_multi_reads_a_nodefile_and_can_leave_this_node_out(tmp_path):
    import socket

    user = new_user(tmp_path)
    (user.work / "nodes").write_text(f"{socket.gethostname()}\nn1\nn1\nn2\n")
    for i in range(2):
        Firework(ScriptTask.from_str("echo $STARSHELL_NODE_LIST > nodes.txt")).to_file(
            str(user.work / f"f{i}.yaml")
        )
        assert user.run("lpad", "add", f"f{i}.yaml").returncode == 0
    ran = user.run(
        "rlaunch",
        "multi",
        "2",
        "--nodefile",
        "NODES_AT",
        "--exclude_current_node",
        "--sleep",
        "0",
        extra_env={"NODES_AT": str(user.work / "nodes")},
    )
    assert ran.returncode == 0, ran.stderr
    assert sorted(p.read_text().strip() for p in user.work.glob("launcher_*/nodes.txt")) in (
        ["n1", "n2"],
        ["n1", "n1"],
        ["n2", "n2"],
    )
    uneven = user.run("rlaunch", "multi", "2", "--nodefile", str(user.work / "nodes"))
    assert uneven.returncode != 0 and "cannot share 3 nodes equally among 2" in uneven.stderr
