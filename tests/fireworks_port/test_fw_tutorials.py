"""FireWorks' tutorial scripts (fireworks/examples/tutorial_examples, custom_firetasks,
fw_tutorials/python) run with only their imports changed, each in its own Python
process as a user runs it, on both stores.

``LaunchPad()`` opens the store the user configured: the embedded one by default,
or MongoDB through ``my_launchpad.yaml``, where a mongomock server stands in for
MongoDB (one per process, as FireWorks' CI does). The tutorials' task modules
(fw_tutorials.firetask.addition_task, ...) are written here as a user keeps them,
with starshell's imports. A runner prints what the store holds afterwards.
"""

import datetime
import json
import subprocess
import sys
import textwrap

import pytest

from tests.user_commands import new_user

RUNNER = """
import json, runpy, sys
if sys.argv[2] == "mongomock":  # a MongoDB server for this process
    import mongomock, pymongo
    server = mongomock.MongoClient()
    pymongo.MongoClient = lambda *args, **kwargs: server
from launchpad import LaunchPad
runpy.run_path(sys.argv[1], run_name="__main__")
lp = LaunchPad(name=sys.argv[3]) if len(sys.argv) > 3 else LaunchPad()
fws = [lp.get_fw_by_id(i) for i in sorted(lp.get_fw_ids())]
print("STORE " + json.dumps({fw.fw_id: [fw.name, str(fw.state), fw.spec.get("input_array"),
      [launch.action.stored_data for launch in fw.launches]] for fw in fws}))
"""

# The tutorials' task modules, as their users keep them (FireWorks' imports changed).
TASK_MODULES = {
    "fw_tutorials/firetask/addition_task.py": """
        from launchpad import FiretaskBase, FWAction

        class AdditionTask(FiretaskBase):
            _fw_name = "Addition Task"

            def run_task(self, fw_spec):
                total = sum(fw_spec["input_array"])
                print(f"The sum of {fw_spec['input_array']} is: {total}")
                return FWAction(stored_data={"sum": total}, mod_spec=[{"_push": {"input_array": total}}])
        """,
    "fw_tutorials/dynamic_wf/fibadd_task.py": """
        from launchpad import FiretaskBase, Firework, FWAction

        class FibonacciAdderTask(FiretaskBase):
            _fw_name = "Fibonacci Adder Task"

            def run_task(self, fw_spec):
                smaller, larger, stop = fw_spec["smaller"], fw_spec["larger"], fw_spec["stop_point"]
                total = smaller + larger
                if total >= stop:
                    print(f"Past the limit: the next number would be {total}")
                    return FWAction()
                print(f"The next Fibonacci number is: {total}")
                spec = {"smaller": larger, "larger": total, "stop_point": stop}
                child = Firework(FibonacciAdderTask(), spec)
                return FWAction(stored_data={"next_fibnum": total}, additions=child)
        """,
    "fw_tutorials/dynamic_wf/printjob_task.py": """
        from launchpad import FiretaskBase

        class PrintJobTask(FiretaskBase):
            _fw_name = "Print Job Task"

            def run_task(self, fw_spec):
                previous = fw_spec["_job_info"][-1]
                print(f"previous job: {previous['name']} {previous['fw_id']} {previous['launch_dir']}")
        """,
    "hello_world_task.py": """
        from launchpad import FiretaskBase, explicit_serialize

        @explicit_serialize
        class HelloTask(FiretaskBase):
            def run_task(self, fw_spec):
                print("Hello, world!")
        """,
}

SCRIPTS = {
    "introduction": """
        from launchpad import Firework, LaunchPad, ScriptTask
        from rocket import launch_rocket

        if __name__ == "__main__":
            launchpad = LaunchPad()
            firetask = ScriptTask.from_str('echo "howdy, your job launched successfully!"')
            launchpad.add_wf(Firework(firetask))
            launch_rocket(launchpad)
        """,
    "firetasks": """
        from launchpad import Firework, FWorker, LaunchPad
        from rocket import launch_rocket
        from fw_tutorials.firetask.addition_task import AdditionTask

        if __name__ == "__main__":
            launchpad = LaunchPad()
            launchpad.add_wf(Firework(AdditionTask(), spec={"input_array": [1, 2]}))
            launch_rocket(launchpad, FWorker())
        """,
    "workflows": """
        from launchpad import Firework, FWorker, LaunchPad, ScriptTask, Workflow
        from rocket import rapidfire

        if __name__ == "__main__":
            launchpad = LaunchPad()
            fw1, fw2, fw3, fw4 = (Firework(ScriptTask.from_str(f'echo "{who}"'), name=who)
                                  for who in ("CEO", "manager 1", "manager 2", "intern"))
            workflow = Workflow([fw1, fw2, fw3, fw4], {fw1: [fw2, fw3], fw2: [fw4], fw3: [fw4]})
            launchpad.add_wf(workflow)
            rapidfire(launchpad, FWorker())
        """,
    "dynamic_wf1": """
        from launchpad import ScriptTask
        from launchpad.models import Firework, Workflow
        from launchpad import LaunchPad
        from rocket import rapidfire
        from fw_tutorials.dynamic_wf.printjob_task import PrintJobTask

        if __name__ == "__main__":
            launchpad = LaunchPad()
            fw1 = Firework([ScriptTask.from_str('echo "the first"')], spec={"_pass_job_info": True}, fw_id=1)
            fw2 = Firework([PrintJobTask()], parents=[fw1], fw_id=2)
            launchpad.add_wf(Workflow([fw1, fw2]))
            rapidfire(launchpad)
        """,
    "dynamic_wf2": """
        from launchpad import Firework, FWorker, LaunchPad
        from rocket import rapidfire
        from fw_tutorials.dynamic_wf.fibadd_task import FibonacciAdderTask

        if __name__ == "__main__":
            launchpad = LaunchPad()
            firework = Firework(FibonacciAdderTask(), spec={"smaller": 0, "larger": 1, "stop_point": 100})
            launchpad.add_wf(firework)
            rapidfire(launchpad, FWorker())
        """,
    "hello_world_run": """
        from launchpad import Firework, LaunchPad, Workflow
        from rocket import launch_rocket
        from hello_world_task import HelloTask

        if __name__ == "__main__":
            lp = LaunchPad()
            lp.add_wf(Workflow.from_firework(Firework([HelloTask()])))
            launch_rocket(lp)
        """,
    "merge_task": """
        from launchpad import FiretaskBase, Firework, FWAction, LaunchPad, Workflow, explicit_serialize
        from rocket import rapidfire

        @explicit_serialize
        class TaskA(FiretaskBase):
            def run_task(self, fw_spec):
                return FWAction(update_spec={"param_A": 10})

        @explicit_serialize
        class TaskB(FiretaskBase):
            def run_task(self, fw_spec):
                return FWAction(update_spec={"param_B": 20})

        @explicit_serialize
        class TaskC(FiretaskBase):
            def run_task(self, fw_spec):
                print(f"A gave {fw_spec['param_A']}, B gave {fw_spec['param_B']}")

        if __name__ == "__main__":
            launchpad = LaunchPad()
            fw_A, fw_B = Firework([TaskA()]), Firework([TaskB()])
            fw_C = Firework([TaskC()], parents=[fw_A, fw_B])
            launchpad.add_wf(Workflow([fw_A, fw_B, fw_C]))
            rapidfire(launchpad)
        """,
    # fw_tutorials/python/python_examples.py: LaunchPad(name=...) is MongoDB by its arguments
    "python_examples": """
        from launchpad.models import Firework, Workflow
        from launchpad.worker import FWorker
        from launchpad import LaunchPad
        from rocket import launch_rocket, rapidfire
        from launchpad import ScriptTask

        def setup():
            launchpad = LaunchPad(name="fireworks_test", strm_lvl="ERROR")
            launchpad.reset("", require_password=False)
            return launchpad

        def basic_fw_ex():
            launchpad = setup()
            launchpad.add_wf(Firework(ScriptTask.from_str('echo "howdy"')))
            launch_rocket(launchpad, FWorker())

        def rapid_fire_ex():
            launchpad = setup()
            firetask = ScriptTask.from_str('echo "howdy"')
            for _ in range(3):
                launchpad.add_wf(Firework(firetask))
            rapidfire(launchpad, FWorker())

        def multiple_tasks_ex():
            launchpad = setup()
            launchpad.add_wf(Firework([ScriptTask.from_str(f'echo "TASK #{n}"') for n in (1, 2, 3)]))
            rapidfire(launchpad, FWorker())

        def basic_wf_ex():
            launchpad = setup()
            fws = [Firework(ScriptTask.from_str(f'echo "{n}"'), fw_id=n) for n in (1, 2, 3, 4)]
            launchpad.add_wf(Workflow(fws, {1: [2, 3], 2: [4], 3: [4]}))
            rapidfire(launchpad, FWorker())

        if __name__ == "__main__":
            basic_fw_ex()
            rapid_fire_ex()
            multiple_tasks_ex()
            basic_wf_ex()
        """,
}


def run_tutorial(tmp_path, name, store):
    """The script in the user's folder, with the task modules beside it; what the store holds."""
    user = new_user(tmp_path)
    for relpath, text in TASK_MODULES.items():
        path = user.work / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    if store == "mongomock":  # the user's my_launchpad.yaml names their MongoDB
        (user.work / "my_launchpad.yaml").write_text("host: localhost\nport: 27017\nname: tutorial\n")
    (user.work / f"{name}.py").write_text(textwrap.dedent(SCRIPTS[name]))
    (user.work / "runner.py").write_text(RUNNER)
    extra = ["fireworks_test"] if name == "python_examples" else []
    done = subprocess.run(
        [sys.executable, "runner.py", f"{name}.py", store, *extra],
        cwd=user.work,
        env={**user.env, "PYTHONPATH": f"{user.work}:{user.env['PYTHONPATH']}"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (line,) = [x for x in done.stdout.splitlines() if x.startswith("STORE ")]
    return {int(k): v for k, v in json.loads(line[len("STORE ") :]).items()}, done.stdout, user


STORES = ["sqlite", "mongomock"]


@pytest.mark.parametrize("store", STORES)
def test_introduction(tmp_path, store):
    fws, _, user = run_tutorial(tmp_path, "introduction", store)
    assert [state for _, state, _, _ in fws.values()] == ["COMPLETED"]
    assert json.loads((user.work / "FW.json").read_text())["fw_id"] == 1  # ran here


@pytest.mark.parametrize("store", STORES)
def test_firetasks(tmp_path, store):
    fws, out, _ = run_tutorial(tmp_path, "firetasks", store)
    assert fws[1][1:] == ["COMPLETED", [1, 2], [{"sum": 3}]]
    assert "The sum of [1, 2] is: 3" in out


@pytest.mark.parametrize("store", STORES)
def test_workflows(tmp_path, store):
    fws, _, user = run_tutorial(tmp_path, "workflows", store)
    assert {state for _, state, _, _ in fws.values()} == {"COMPLETED"} and len(fws) == 4
    assert len(list(user.work.glob("launcher_*"))) == 4


@pytest.mark.parametrize("store", STORES)
def test_dynamic_wf1_passes_job_info(tmp_path, store):
    fws, out, _ = run_tutorial(tmp_path, "dynamic_wf1", store)
    assert {state for _, state, _, _ in fws.values()} == {"COMPLETED"}
    assert "previous job: Unnamed FW 1 " in out


@pytest.mark.parametrize("store", STORES)
def test_dynamic_wf2_grows_to_the_stop_point(tmp_path, store):
    fws, _, _ = run_tutorial(tmp_path, "dynamic_wf2", store)
    numbers = [stored[0].get("next_fibnum") for _, _, _, stored in fws.values()]
    assert numbers == [1, 2, 3, 5, 8, 13, 21, 34, 55, 89, None]
    assert {state for _, state, _, _ in fws.values()} == {"COMPLETED"}


@pytest.mark.parametrize("store", STORES)
def test_hello_world(tmp_path, store):
    fws, out, _ = run_tutorial(tmp_path, "hello_world_run", store)
    assert fws[1][1] == "COMPLETED" and "Hello, world!" in out


@pytest.mark.parametrize("store", STORES)
def test_merge_task(tmp_path, store):
    fws, out, _ = run_tutorial(tmp_path, "merge_task", store)
    assert {state for _, state, _, _ in fws.values()} == {"COMPLETED"}
    assert "A gave 10, B gave 20" in out


def test_python_examples_on_mongodb(tmp_path):
    """``LaunchPad(name="fireworks_test")`` selects MongoDB by its arguments, so this script
    runs on MongoDB only (here mongomock); its last example, a diamond, is what remains."""
    fws, _, _ = run_tutorial(tmp_path, "python_examples", "mongomock")
    assert sorted(fws) == [1, 2, 3, 4]
    assert {state for _, state, _, _ in fws.values()} == {"COMPLETED"}


def test_quickstart_commands(tmp_path):
    """FireWorks' two-minute quickstart (docs_rst/quickstart_tutorial.rst), command for
    command: its FW_config.yaml names a mongomock file, which starshell names in a
    warning (the embedded store serves instead), and the rest behaves as shown there."""
    user = new_user(tmp_path)
    home = tmp_path / "userhome"
    (home / ".fireworks").mkdir(parents=True)
    (home / ".fireworks" / "FW_config.yaml").write_text(
        f"MONGOMOCK_SERVERSTORE_FILE: {home}/.fireworks/mongomock.json\n"
    )
    (home / ".fireworks" / "mongomock.json").write_text("{}")
    env = {"HOME": str(home)}
    today = datetime.date.today().isoformat()
    assert user.run("lpad", "reset", f"--password={today}", extra_env=env).returncode == 0
    assert json.loads(user.run("lpad", "get_wflows", extra_env=env).stdout) == []
    done = user.run(
        "lpad",
        "add_scripts",
        "date",
        "-n",
        "date_printer_firework",
        "-w",
        "date_printer_workflow",
        extra_env=env,
    )
    assert done.returncode == 0, done.stderr
    shown = json.loads(user.run("lpad", "get_wflows", "-d", "more", extra_env=env).stdout)
    assert (shown["state"], shown["name"]) == ("READY", "date_printer_workflow--1")
    assert shown["states"] == {"date_printer_firework--1": "READY"}
    assert shown["launch_dirs"] == {"date_printer_firework--1": []}
    done = user.run("rlaunch", "singleshot", extra_env=env)
    assert done.returncode == 0, done.stderr
    assert "MONGOMOCK_SERVERSTORE_FILE" in done.stderr  # named once per command, not obeyed
