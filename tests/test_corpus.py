"""FireWorks' own tutorial files (/work/shared/fireworks-corpus) load, add and run, on both stores.

Files that name only built-in tasks run to COMPLETED here; those naming the
tutorials' own tasks run once examples/tutorial_tasks.py is registered the
documented way ($STARSHELL_USER_PACKAGES with examples/ importable).
"""

import glob
import os
import sys

import pytest
from conftest import CORPUS, ROOT

import rocket
from launchpad import FWorker, firetask
from launchpad.errors import UnknownTaskError, WorkflowFileError
from launchpad.workflow_files import dump_workflow, load_workflow, loads_workflow

pytestmark = pytest.mark.corpus

EXAMPLES = os.path.join(ROOT, "examples")
TUTORIAL_MODULE = "tutorial_tasks"

NOT_WORKFLOWS = {
    "fw_config/FW_config.yaml",
    "worker/my_fworker.yaml",
    "worker/my_launchpad.yaml",
    *(f"queue/qadapter_{q}.yaml" for q in ("LoadLeveler", "MOAB", "SGE", "cobalt", "pbs", "slurm")),
}
TUTORIAL = {
    "duplicates/wf_12.yaml",
    "duplicates/wf_123.yaml",
    "dynamic_wf/addmod_wf.yaml",
    "dynamic_wf/fw_fibnum.yaml",
    "dynamic_wf/printjob_wf.yaml",
    "firetask/fw_adder.yaml",
}
HOWDY = "howdy, your job launched successfully!"
# Built-in tasks only, with what each leaves in its (last) launch directory.
BUILTIN = {
    "failures/fw_sleep.yaml": {},
    "firetask/fw_multi.yaml": {"inputs.txt": "option1 = 5.0\noption2 = fast method\n", "words.txt": "7\n"},
    "introduction/fw_test.yaml": {"howdy.txt": HOWDY + "\n"},
    "priority/A_then_B/wfA.yaml": {},
    "priority/A_then_B/wfB.yaml": {},
    "priority/breadthfirst/wfA.yaml": {},
    "priority/breadthfirst/wfB.yaml": {},
    "queue/fw_test.yaml": {"howdy.txt": HOWDY + "\n"},
    "queue_pt2/fw_walltime.yaml": {"howdy.txt": HOWDY + "\n"},
    "scratch/fw_better_multi.yaml": {"howdy.txt": HOWDY, "words.txt": "5\n"},
    "templatewritertask/fw_advanced.yaml": {
        "inputs_advanced.txt": "option1 = 5.0\noption2 = fast method\nextra = yes\n"
        "param = 1\nparam = 2\nparam = 3\nparam = 4\n"
    },
    "templatewritertask/fw_template.yaml": {"inputs.txt": "option1 = 5.0\noption2 = fast method\n"},
    "templatewritertask/fw_template2.yaml": {"inputs.txt": "option1 = 10.0\noption2 = stable method\n"},
    "tracker/FW.json": {"words.txt": "7\n"},
    "tracker/tracker_fw.yaml": {"words.txt": "7\n"},
    "worker/fw_test.yaml": {"howdy.txt": HOWDY + "\n"},
    "workflow/hamlet_wf.yaml": {},
    "workflow/org_wf.yaml": {},
}
WORKFLOWS = sorted(TUTORIAL | set(BUILTIN))

SIMPLE_TEMPLATE = "option1 = {{opt1}}\noption2 = {{opt2}}\n"
ADVANCED_TEMPLATE = (
    "option1 = {{opt1}}\noption2 = {{opt2}}\n{% if optparam %}extra = yes\n{% endif %}"
    "{% for p in param_list %}param = {{p}}\n{% endfor %}"
)


def corpus(relpath):
    return os.path.join(CORPUS, relpath)


@pytest.fixture
def tutorial_tasks(monkeypatch):
    """examples/tutorial_tasks.py registered as a user package, forgotten again afterwards."""
    monkeypatch.syspath_prepend(EXAMPLES)
    monkeypatch.setenv(firetask.USER_PACKAGES_ENV, TUTORIAL_MODULE)
    monkeypatch.setattr(
        firetask,
        "_REGISTRY",
        {name: cls for name, cls in firetask._REGISTRY.items() if cls.__module__ != TUTORIAL_MODULE},
    )
    sys.modules.pop(TUTORIAL_MODULE, None)
    yield
    sys.modules.pop(TUTORIAL_MODULE, None)


@pytest.fixture
def no_user_packages(monkeypatch):
    monkeypatch.delenv(firetask.USER_PACKAGES_ENV, raising=False)
    monkeypatch.setattr(
        firetask,
        "_REGISTRY",
        {name: cls for name, cls in firetask._REGISTRY.items() if cls.__module__ != TUTORIAL_MODULE},
    )
    monkeypatch.delitem(sys.modules, TUTORIAL_MODULE, raising=False)


@pytest.fixture
def launch_env(tmp_path, monkeypatch):
    """Where the tutorials' fireworks run: a private cwd and HOME, their templates, a fast sleep."""
    for name in ("work", "home", "templates", "bin"):
        (tmp_path / name).mkdir()
    (tmp_path / "templates" / "simple_template.txt").write_text(SIMPLE_TEMPLATE)
    (tmp_path / "templates" / "advanced_template.txt").write_text(ADVANCED_TEMPLATE)
    sleep = tmp_path / "bin" / "sleep"  # fw_sleep.yaml sleeps 10 s: record the call instead
    sleep.write_text(f'#!/bin/sh\necho "$@" >> {tmp_path / "sleep.log"}\n')
    sleep.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("STARSHELL_TEMPLATE_DIR", str(tmp_path / "templates"))
    monkeypatch.delenv("STARSHELL_ALLOW_OUTSIDE_LAUNCH_DIR", raising=False)
    monkeypatch.chdir(tmp_path / "work")
    return tmp_path


def run_all(lp, root):
    return rocket.rapidfire(lp, launch_root=str(root / "work"), sleep_time=0, ping_interval=0)


def stored(lp, fw_id):
    (launch,) = lp.get_launches({"fw_id": fw_id})
    return launch["action"]["stored_data"]


def launch_order(lp):
    """Store ids of the fireworks in the order they were launched."""
    return [launch["fw_id"] for launch in lp.get_launches(sort=[("launch_id", 1)])]


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


# ---- what the corpus holds ---------------------------------------------------------


def test_every_corpus_file_is_accounted_for():
    found = {
        os.path.relpath(p, CORPUS)
        for p in glob.glob(os.path.join(CORPUS, "**", "*"), recursive=True)
        if os.path.isfile(p)
    } - {"README.md", "LICENSE-fireworks"}
    assert found == NOT_WORKFLOWS | TUTORIAL | set(BUILTIN)


@pytest.mark.parametrize("relpath", sorted(NOT_WORKFLOWS))
def test_files_that_are_not_workflows_are_refused_as_workflows(relpath):
    with pytest.raises(WorkflowFileError, match="neither a workflow .* nor a firework"):
        load_workflow(corpus(relpath))


# ---- loading ----------------------------------------------------------------------


@pytest.mark.parametrize("relpath", sorted(BUILTIN))
def test_builtin_files_load_with_no_user_package(no_user_packages, relpath):
    assert load_workflow(corpus(relpath)).fws


@pytest.mark.parametrize("relpath", sorted(TUTORIAL))
def test_tutorial_files_name_the_missing_package_until_it_is_registered(
    no_user_packages, monkeypatch, relpath
):
    with pytest.raises(WorkflowFileError, match="unknown task '.*'.*STARSHELL_USER_PACKAGES") as info:
        load_workflow(corpus(relpath))
    assert str(info.value).startswith(corpus(relpath) + ": ")
    monkeypatch.syspath_prepend(EXAMPLES)
    monkeypatch.setenv(firetask.USER_PACKAGES_ENV, TUTORIAL_MODULE)
    assert load_workflow(corpus(relpath)).fws
    sys.modules.pop(TUTORIAL_MODULE, None)


def test_a_misnamed_user_package_is_named(no_user_packages, monkeypatch):
    monkeypatch.setenv(firetask.USER_PACKAGES_ENV, "no_such_tutorial_module")
    with pytest.raises(UnknownTaskError, match="cannot import task package 'no_such_tutorial_module'"):
        firetask.task_class("Addition Task")


@pytest.mark.parametrize("fireworks_installed", [False, True])
def test_fireworks_full_task_names_reach_the_built_ins(tmp_path, monkeypatch, fireworks_installed):
    """Files dumped by FireWorks may name tasks as {{fireworks.user_objects...ScriptTask}}."""
    if fireworks_installed:  # a stand-in FireWorks whose ScriptTask is not a starshell task
        package = tmp_path / "fireworks" / "user_objects" / "firetasks"
        package.mkdir(parents=True)
        for folder in (package, package.parent, package.parent.parent):
            (folder / "__init__.py").write_text("")
        (package / "script_task.py").write_text("class ScriptTask(dict):\n    pass\n")
        monkeypatch.syspath_prepend(str(tmp_path))
    for name in [key for key in sys.modules if key == "fireworks" or key.startswith("fireworks.")]:
        monkeypatch.delitem(sys.modules, name)
    wf = loads_workflow(
        '{"spec": {"_tasks": [{"_fw_name": '
        '"{{fireworks.user_objects.firetasks.script_task.ScriptTask}}", '
        '"script": "echo hi"}]}}',
        fmt="json",
    )
    assert type(wf.fws[0].tasks[0]).__name__ == "ScriptTask"
    assert wf.fws[0].tasks[0].fw_name == "ScriptTask"
    assert ("fireworks" in sys.modules) is fireworks_installed


@pytest.mark.parametrize("fmt", ["yaml", "json"])
@pytest.mark.parametrize("relpath", WORKFLOWS)
def test_every_workflow_file_round_trips(tutorial_tasks, tmp_path, relpath, fmt):
    wf = load_workflow(corpus(relpath))
    out = str(tmp_path / f"again.{fmt}")
    dump_workflow(wf, out)
    assert load_workflow(out) == wf


@pytest.mark.parametrize("relpath", WORKFLOWS)
def test_every_workflow_file_adds(lp, tutorial_tasks, relpath):
    wf = load_workflow(corpus(relpath))
    file_ids, file_links = sorted(wf.id_fw), {p: list(kids) for p, kids in wf.links.items()}
    id_map = lp.add_wf(wf)  # renumbers wf in place, as FireWorks' add_wf does
    assert sorted(id_map) == file_ids and sorted(wf.id_fw) == sorted(id_map.values())
    stored_wf = lp.get_wf_by_fw_id(wf.fws[0].fw_id)
    assert {id_map[p]: sorted(id_map[c] for c in kids) for p, kids in file_links.items()} == {
        p: sorted(kids) for p, kids in stored_wf.links.items()
    }
    for fw in wf.fws:
        spec = lp.get_fw_dict(fw.fw_id)["spec"]
        assert spec == fw.full_spec()  # _priority, _queueadapter, _trackers, _dupefinder... kept
    assert set(lp.get_fw_ids({"state": "READY"})) == set(wf.root_fw_ids)


def test_walltime_file_keeps_its_queueadapter_settings(lp):
    id_map = lp.add_wf(load_workflow(corpus("queue_pt2/fw_walltime.yaml")))
    (fw_id,) = id_map.values()
    assert lp.get_fw_dict(fw_id)["spec"]["_queueadapter"] == {"walltime": "00:10:00"}


def test_a_running_firework_file_is_added_fresh(lp):
    """tracker/FW.json is a dump of a RUNNING firework with a launch: it is added as new work."""
    (fw_id,) = lp.add_wf(load_workflow(corpus("tracker/FW.json"))).values()
    doc = lp.get_fw_dict(fw_id)
    assert doc["state"] == "READY" and doc["launches"] == []
    assert doc["name"] == "Tracker FW"


# ---- running ----------------------------------------------------------------------


@pytest.mark.parametrize("relpath", sorted(BUILTIN))
def test_builtin_files_run_to_completed(lp, launch_env, monkeypatch, relpath):
    monkeypatch.setenv("STARSHELL_ALLOW_OUTSIDE_LAUNCH_DIR", "1")  # fw_multi copies to ~/words.txt
    wf = load_workflow(corpus(relpath))
    id_map = lp.add_wf(wf)
    assert run_all(lp, launch_env) == len(wf.fws)
    assert {d["state"] for d in lp.get_fws()} == {"COMPLETED"}
    last = lp.get_launchdir(launch_order(lp)[-1])
    for name, content in BUILTIN[relpath].items():
        assert read(os.path.join(last, name)) == content, name
    assert all(os.path.dirname(lp.get_launchdir(i)) == str(launch_env / "work") for i in id_map.values())


def test_the_sleeping_firework_really_ran_its_script(lp, launch_env):
    lp.add_wf(load_workflow(corpus("failures/fw_sleep.yaml")))
    run_all(lp, launch_env)
    assert read(launch_env / "sleep.log") == "10\n"


def test_fw_multi_copies_to_home_unless_the_worker_confines(lp, launch_env):
    lp.add_wf(load_workflow(corpus("firetask/fw_multi.yaml")))
    confined = FWorker(name="site", confine_launch_dir=True)
    rocket.rapidfire(lp, confined, launch_root=str(launch_env / "work"), sleep_time=0, ping_interval=0)
    (launch,) = lp.get_launches()
    assert launch["state"] == "FIZZLED"
    assert launch["exception"]["task_index"] == 2
    assert launch["exception"]["task_name"] == "FileTransferTask"
    assert "outside the launch directory" in launch["exception"]["message"]
    assert not (launch_env / "home" / "words.txt").exists()

    lp.rerun_fw(launch["fw_id"])
    run_all(lp, launch_env)  # as FireWorks: the tutorial's copy to ~ just works
    assert lp.get_fw_dict(launch["fw_id"])["state"] == "COMPLETED"
    assert read(launch_env / "home" / "words.txt") == "7\n"


def test_workflow_files_run_parents_first(lp, launch_env):
    id_map = lp.add_wf(load_workflow(corpus("workflow/org_wf.yaml")))
    run_all(lp, launch_env)
    order = launch_order(lp)
    assert order[0] == id_map[1] and order[-1] == id_map[4]


@pytest.mark.parametrize(
    "folder, expected",
    [
        ("A_then_B", ["Task A-1", "Task A-2", "Task B-1", "Task B-2"]),
        ("breadthfirst", ["Task A-1", "Task B-1", "Task B-2", "Task A-2"]),
    ],
)
def test_priority_files_run_in_priority_order(lp, launch_env, folder, expected):
    for name in ("wfA.yaml", "wfB.yaml"):
        lp.add_wf(load_workflow(corpus(f"priority/{folder}/{name}")))
    assert run_all(lp, launch_env) == 4
    scripts = [lp.get_fw_dict(i)["spec"]["_tasks"][0]["script"] for i in launch_order(lp)]
    assert scripts == [f'echo "{e}"' for e in expected]


# ---- running the tutorial tasks --------------------------------------------------


def test_addition_task_stores_the_sum(lp, launch_env, tutorial_tasks):
    (fw_id,) = lp.add_wf(load_workflow(corpus("firetask/fw_adder.yaml"))).values()
    run_all(lp, launch_env)
    assert stored(lp, fw_id) == {"sum": 3}


def test_add_and_modify_passes_the_sum_to_the_child(lp, launch_env, tutorial_tasks):
    id_map = lp.add_wf(load_workflow(corpus("dynamic_wf/addmod_wf.yaml")))
    run_all(lp, launch_env)
    assert stored(lp, id_map[1]) == {"sum": 2}
    assert lp.get_fw_dict(id_map[2])["spec"]["input_array"] == [10, 2]
    assert stored(lp, id_map[2]) == {"sum": 12}


def test_fibonacci_adder_grows_the_workflow_until_the_stop_point(lp, launch_env, tutorial_tasks):
    (first,) = lp.add_wf(load_workflow(corpus("dynamic_wf/fw_fibnum.yaml"))).values()
    assert run_all(lp, launch_env) == 11
    order = launch_order(lp)
    assert [stored(lp, i)["next_fibnum"] for i in order] == [1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144]
    assert order[0] == first
    assert lp.get_wf_by_fw_id(first).state == "COMPLETED"
    assert len(lp.get_wf_by_fw_id(first).fws) == 11


def test_print_job_task_sees_the_parents_job_info(lp, launch_env, tutorial_tasks, capsys):
    id_map = lp.add_wf(load_workflow(corpus("dynamic_wf/printjob_wf.yaml")))
    run_all(lp, launch_env)
    previous = stored(lp, id_map[2])["previous_job"]
    assert previous["fw_id"] == id_map[1]
    assert previous["launch_dir"] == lp.get_launchdir(id_map[1])
    assert f"(firework {id_map[1]})" in capsys.readouterr().out


@pytest.mark.parametrize(
    "relpath, sums", [("duplicates/wf_12.yaml", [2, 4]), ("duplicates/wf_123.yaml", [2, 4, 7])]
)
def test_dupefinder_files_run_and_keep_the_dupefinder(lp, launch_env, tutorial_tasks, relpath, sums):
    """Each file alone has no duplicates: every firework runs, and _dupefinder stays in the spec."""
    id_map = lp.add_wf(load_workflow(corpus(relpath)))
    run_all(lp, launch_env)
    assert [stored(lp, id_map[i])["sum"] for i in sorted(id_map)] == sums
    for fw_id in id_map.values():
        assert lp.get_fw_dict(fw_id)["spec"]["_dupefinder"] == {"_fw_name": "DupeFinderExact"}


def test_dupefinder_tutorial_runs_only_the_new_firework(lp, launch_env, tutorial_tasks):
    """FireWorks' duplicates tutorial on every store: wf_12, run, wf_123, run."""
    first = lp.add_wf(load_workflow(corpus("duplicates/wf_12.yaml")))
    run_all(lp, launch_env)
    second = lp.add_wf(load_workflow(corpus("duplicates/wf_123.yaml")))
    assert run_all(lp, launch_env) == 1
    assert launch_order(lp) == [first[1], first[2], second[3]]
    taken = [lp.get_fw_dict(second[i])["launches"][0]["fw_id"] for i in (1, 2)]
    assert taken == [first[1], first[2]]
    assert lp.get_launches({"fw_id": second[3]})[0]["action"]["stored_data"]["sum"] == 7
    assert {lp.get_fw_dict(i)["state"] for i in second.values()} == {"COMPLETED"}
