"""Task names: user classes by ``{{module.Class}}`` across processes, and name clashes.

The first part drives the real ``lpad`` and ``rlaunch`` commands in separate
processes with a user package on PYTHONPATH only (not in
$STARSHELL_USER_PACKAGES): a test's own interpreter has the package imported
already, which hides a stored name that a fresh rocket cannot resolve.
"""

import json
import os
import subprocess
import sys
import textwrap
import uuid
import warnings

import pytest
from conftest import ROOT

from launchpad import FiretaskBase, Firework, Workflow, explicit_serialize, firetask
from launchpad.errors import AmbiguousTaskError, TaskNameWarning, UnknownTaskError
from launchpad.tasks import ArchiveDirTask, ScriptTask
from launchpad.workflow_files import dump_workflow, loads_workflow
from rocket import rapidfire

BIN = os.path.dirname(sys.executable)

# A user package as a FireWorks user writes one: explicit_serialize, a
# declared short name, run-time additions and detours from its own classes.
MYPKG_INIT = """
from launchpad import Firework, FiretaskBase, FWAction, explicit_serialize


@explicit_serialize
class FibAdder(FiretaskBase):
    def run_task(self, fw_spec):
        a, b, stop = fw_spec["a"], fw_spec["b"], fw_spec["stop"]
        print("fib", a + b)
        if a + b >= stop:
            return FWAction(stored_data={"fib": a + b})
        child = Firework(FibAdder(), spec={"a": b, "b": a + b, "stop": stop}, name=f"fib {a + b}")
        return FWAction(stored_data={"fib": a + b}, additions=child)
"""

MYPKG_TASKS = '''
from launchpad import Firework, FiretaskBase, FWAction, explicit_serialize


@explicit_serialize
class Split(FiretaskBase):
    """Detours: one Cube per item, run before this firework's children."""
    def run_task(self, fw_spec):
        return FWAction(detours=[Firework(Cube(x=x), name=f"cube {x}") for x in fw_spec["items"]])


class Cube(FiretaskBase):          # no _fw_name: stored as {{mypkg.tasks.Cube}}
    required_params = ("x",)

    def run_task(self, fw_spec):
        return FWAction(mod_spec=[{"_push": {"powers": self["x"] ** 3}}])


class Square(FiretaskBase):
    _fw_name = "Square Task"     # a declared short name: only $STARSHELL_USER_PACKAGES finds it
    required_params = ("x",)

    def run_task(self, fw_spec):
        return FWAction(stored_data={"square": self["x"] ** 2},
                        mod_spec=[{"_push": {"powers": self["x"] ** 2}}])


class Collect(FiretaskBase):
    def run_task(self, fw_spec):
        print("collected", sorted(fw_spec.get("powers", [])))
'''

# FireWorks' guide copies the built-in ArchiveDirTask under the same _fw_name.
MYTASKS = """
from launchpad import FiretaskBase


class ArchiveDirTask(FiretaskBase):
    _fw_name = "ArchiveDirTask"
    required_params = ["base_name"]

    def run_task(self, fw_spec):
        with open("mine.txt", "w") as fh:
            fh.write(self["base_name"])
"""


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def user(tmp_path):
    """A tmp user package (mypkg, mytasks), a fresh home and working directory, and a runner."""
    pkgs = tmp_path / "pkgs"
    _write(pkgs / "mypkg" / "__init__.py", MYPKG_INIT)
    _write(pkgs / "mypkg" / "tasks.py", MYPKG_TASKS)
    _write(pkgs / "mytasks.py", MYTASKS)
    work = tmp_path / "work"
    work.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("STARSHELL_USER_PACKAGES", "STARSHELL_LAUNCHPAD", "PYTHONPATH")
    }
    env.update(STARSHELL_HOME=str(tmp_path / "home"), PYTHONPATH=os.pathsep.join([str(pkgs), ROOT]))

    class User:
        def __init__(self):
            self.work, self.pkgs, self.env = work, pkgs, env

        def run(self, cmd, *args, **extra_env):
            exe = cmd if os.path.isabs(cmd) else os.path.join(BIN, cmd)
            return subprocess.run(
                [exe, *args],
                cwd=work,
                env={**env, **extra_env},
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )

        def ok(self, cmd, *args, **extra_env):
            done = self.run(cmd, *args, **extra_env)
            assert done.returncode == 0, done.stderr
            return done

        def drain(self, count):
            """One fresh rlaunch process per firework: nothing is imported from a previous one."""
            out = ""
            for _ in range(count):
                out += self.ok("rlaunch", "singleshot").stdout
            return out

        def fws(self):
            return json.loads(self.ok("lpad", "get_fws", "-d", "all", "-o", "records").stdout)

        def file(self, name, text):
            return str(_write(work / name, text))

    return User()


def _full(module, cls):
    return "{{" + module + "." + cls + "}}"


def _names(fw):
    return [t["_fw_name"] for t in fw["spec"]["_tasks"]]


def _states(fws):
    return sorted(fw["state"] for fw in fws)


FIB_YAML = """
fws:
- fw_id: 1
  name: fib start
  spec:
    a: 0
    b: 1
    stop: 10
    _tasks:
    - _fw_name: '{{mypkg.FibAdder}}'
"""


def test_a_full_name_runs_in_a_fresh_rocket_with_its_run_time_additions(user):
    """The issue: lpad add stored 'FibAdder'; a fresh rlaunch fizzled with unknown task 'FibAdder'."""
    user.ok("lpad", "add", user.file("fib.yaml", FIB_YAML))
    assert [_names(fw) for fw in user.fws()] == [["{{mypkg.FibAdder}}"]]
    assert "fib 13" in user.drain(6)
    fws = user.fws()
    assert _states(fws) == ["COMPLETED"] * 6, [fw.get("launches") for fw in fws]
    assert {name for fw in fws for name in _names(fw)} == {"{{mypkg.FibAdder}}"}
    shown = user.ok("lpad", "get_fws", "-d", "all").stdout  # the table/yaml a user reads
    assert "{{mypkg.FibAdder}}" in shown and "_fw_name: FibAdder" not in shown


FIREWORKS_JSON = {
    "fws": [
        {
            "fw_id": 1,
            "name": "split",
            "spec": {"items": [1, 2, 3], "_tasks": [{"_fw_name": "{{mypkg.tasks.Split}}"}]},
        },
        {"fw_id": 2, "name": "collect", "spec": {"_tasks": [{"_fw_name": "{{mypkg.tasks.Collect}}"}]}},
        {
            "fw_id": 3,
            "name": "square 4",
            "spec": {"_tasks": [{"_fw_name": "{{mypkg.tasks.Square}}", "x": 4}]},
        },
    ],
    "links": {"1": [2], "3": [2]},
    "name": "written by FireWorks",
}


def test_a_fireworks_file_with_nested_module_names_runs_with_its_detours(user):
    """A FireWorks-written workflow names tasks {{pkg.module.Class}}; they stay so, detours too."""
    user.ok("lpad", "add", user.file("fw.json", json.dumps(FIREWORKS_JSON)))
    assert "collected [1, 8, 16, 27]" in user.drain(6)
    fws = user.fws()
    assert _states(fws) == ["COMPLETED"] * 6
    by_name = {fw["name"]: _names(fw) for fw in fws}
    assert by_name["square 4"] == ["{{mypkg.tasks.Square}}"]  # as written, not "Square Task"
    assert by_name["split"] == ["{{mypkg.tasks.Split}}"]
    assert by_name["cube 2"] == ["{{mypkg.tasks.Cube}}"]  # made at run time


def test_a_short_name_from_a_user_package_still_works_through_the_variable(user):
    text = FIB_YAML.replace("'{{mypkg.FibAdder}}'", "Square Task\n      x: 3")
    refused = user.run("lpad", "add", user.file("short.yaml", text))
    assert refused.returncode == 2 and "STARSHELL_USER_PACKAGES" in refused.stderr
    user.ok("lpad", "add", user.file("short.yaml", text), STARSHELL_USER_PACKAGES="mypkg.tasks")
    user.ok("rlaunch", "rapidfire", STARSHELL_USER_PACKAGES="mypkg.tasks")
    fws = user.fws()
    assert _states(fws) == ["COMPLETED"] and _names(fws[0]) == ["Square Task"]


def test_a_rocket_that_cannot_import_the_module_says_which_and_why(user):
    user.ok("lpad", "add", user.file("fib.yaml", FIB_YAML))
    ran = user.run("rlaunch", "singleshot", PYTHONPATH=ROOT)
    (fw,) = user.fws()
    assert fw["state"] == "FIZZLED", ran.stderr
    message = fw["launches"][-1]["exception"]["message"]
    for part in ("{{mypkg.FibAdder}}", "module 'mypkg'", "No module named 'mypkg'", "PYTHONPATH"):
        assert part in message


@pytest.mark.parametrize(
    "name, expected",
    [
        ("{{nopkg.sub.Cls}}", ["module 'nopkg.sub'", "No module named 'nopkg'", "PYTHONPATH"]),
        ("{{mypkg.NoSuchTask}}", ["module 'mypkg'", "no class 'NoSuchTask'"]),
        ("{{mypkg.broken.Cls}}", ["module 'mypkg.broken'", "No module named 'numpy_not_here'"]),
        ("{{json.JSONDecoder}}", ["json.JSONDecoder", "not a Firetask", "FiretaskBase"]),
    ],
)
def test_an_unresolvable_full_name_names_the_module_and_the_reason(user, name, expected):
    _write(user.pkgs / "mypkg" / "broken.py", "import numpy_not_here\n")
    refused = user.run("lpad", "add", user.file("bad.yaml", FIB_YAML.replace("{{mypkg.FibAdder}}", name)))
    assert refused.returncode == 2
    for part in expected:
        assert part in refused.stderr, refused.stderr
    assert "Traceback" not in refused.stderr


MAIN_SCRIPT = """
import sys
from launchpad import Firework, FiretaskBase, FWAction, LaunchPad, explicit_serialize
from launchpad.stores import SQLiteStore
from rocket import rapidfire


@explicit_serialize
class Countdown(FiretaskBase):
    def run_task(self, fw_spec):
        n = fw_spec["n"]
        print("count", n)
        if n:
            return FWAction(additions=Firework(Countdown(), spec={"n": n - 1}))


class Plain(FiretaskBase):          # no decorator, no _fw_name
    def run_task(self, fw_spec):
        print("plain ran")


if __name__ == "__main__":
    lp = LaunchPad(SQLiteStore(sys.argv[1]))
    lp.add_wf(Firework([Countdown(), Plain()], spec={"n": 2}))
    if sys.argv[2:] == ["add"]:
        sys.exit(0)
    rapidfire(lp, sleep=lambda s: None)
    for fw_id in sorted(lp.get_fw_ids()):
        fw = lp.get_fw_dict(fw_id)
        print("fw", fw["state"], [t["_fw_name"] for t in fw["spec"]["_tasks"]])
"""


def test_a_class_in_a_users_script_runs_in_process(user):
    """A script that defines its tasks and calls rapidfire(lp) itself, as FireWorks' tutorials do."""
    script = user.file("countdown.py", MAIN_SCRIPT)
    ran = user.ok(sys.executable, script, str(user.work / "lp.sqlite"))
    assert "count 0" in ran.stdout and "plain ran" in ran.stdout, ran.stderr
    lines = [line for line in ran.stdout.splitlines() if line.startswith("fw ")]
    assert lines[0] == "fw COMPLETED ['{{countdown.Countdown}}', '{{countdown.Plain}}']", lines
    assert lines[1:] == ["fw COMPLETED ['{{countdown.Countdown}}']"] * 2


def test_a_scripts_class_runs_in_a_fresh_rocket_that_can_import_the_script(user):
    """As in FireWorks, {{countdown.Countdown}} means: import countdown (guarded by __main__)."""
    script = user.file("countdown.py", MAIN_SCRIPT)
    os.makedirs(user.env["STARSHELL_HOME"], exist_ok=True)
    user.ok(sys.executable, script, os.path.join(user.env["STARSHELL_HOME"], "launchpad.sqlite"), "add")
    for _ in range(3):
        user.ok("rlaunch", "singleshot", PYTHONPATH=os.pathsep.join([str(user.work), ROOT]))
    fws = user.fws()
    assert _states(fws) == ["COMPLETED"] * 3
    assert {name for fw in fws for name in _names(fw)} == {"{{countdown.Countdown}}", "{{countdown.Plain}}"}


# ---- the same through the API, on both stores ------------------------------------------


@pytest.fixture
def fresh_module(tmp_path, monkeypatch):
    """Import a module written to tmp_path under a unique name; the registry is restored after."""
    monkeypatch.setattr(firetask, "_REGISTRY", dict(firetask._REGISTRY))
    monkeypatch.syspath_prepend(str(tmp_path))

    def load(source):
        name = f"user_tasks_{uuid.uuid4().hex[:8]}"
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
        module = __import__(name)
        monkeypatch.delitem(sys.modules, name)
        return module

    return load


def test_run_time_additions_are_stored_by_their_full_names(lp, fresh_module, tmp_path):
    mod = fresh_module(MYPKG_INIT)
    lp.add_wf(Firework(mod.FibAdder(), spec={"a": 0, "b": 1, "stop": 5}))
    rapidfire(lp, launch_root=str(tmp_path), sleep=lambda s: None)
    full = _full(mod.__name__, "FibAdder")
    fws = [lp.get_fw_dict(i) for i in lp.get_fw_ids()]
    assert len(fws) == 4 and _states(fws) == ["COMPLETED"] * 4
    assert {name for fw in fws for name in _names(fw)} == {full}


def test_explicit_serialize_names_the_module_and_class():
    @explicit_serialize
    class Local(FiretaskBase):
        pass

    assert Local().to_dict() == {"_fw_name": _full(__name__, "Local")}
    assert firetask.task_class(_full(__name__, "Local")) is Local
    assert firetask.task_class("Local") is Local  # starshell 0.1 stored bare class names


def test_a_full_name_is_kept_as_written_when_the_class_declares_a_short_one(fresh_module):
    mod = fresh_module(MYPKG_TASKS)
    task = firetask.load_task({"_fw_name": _full(mod.__name__, "Square"), "x": 2})
    assert type(task) is mod.Square
    assert task.to_dict()["_fw_name"] == _full(mod.__name__, "Square")
    assert mod.Square(x=2).to_dict()["_fw_name"] == "Square Task"
    wf = loads_workflow(dump_workflow(Workflow([Firework(task)])))
    assert type(wf.fws[0].tasks[0]) is mod.Square


def test_fireworks_paths_still_reach_the_built_ins_and_keep_their_short_names():
    task = firetask.load_task(
        {"_fw_name": "{{fireworks.user_objects.firetasks.script_task.ScriptTask}}", "script": "true"}
    )
    assert type(task) is ScriptTask and task.to_dict()["_fw_name"] == "ScriptTask"


def test_resolutions_are_cached(monkeypatch):
    name = "{{launchpad.tasks.script.ScriptTask}}"
    assert firetask.task_class(name) is ScriptTask
    monkeypatch.setattr(firetask.importlib, "import_module", lambda *a: pytest.fail("imported again"))
    for _ in range(3):
        assert firetask.task_class(name) is ScriptTask
        assert firetask.task_class("ScriptTask") is ScriptTask


# ---- two classes, one name (issue 9, item 8) -------------------------------------------


def test_a_user_class_declaring_a_built_in_name_warns_naming_both(fresh_module):
    with pytest.warns(TaskNameWarning) as caught:
        mod = fresh_module(MYTASKS)
    message = str(caught[0].message)
    assert "launchpad.tasks.files.ArchiveDirTask" in message
    assert f"{mod.__name__}.ArchiveDirTask" in message
    with pytest.raises(AmbiguousTaskError, match="ArchiveDirTask.*both|both.*ArchiveDirTask"):
        firetask.task_class("ArchiveDirTask")
    # each class by its full name is exactly that class, and is stored so
    assert firetask.task_class(_full(mod.__name__, "ArchiveDirTask")) is mod.ArchiveDirTask
    assert firetask.task_class("{{launchpad.tasks.files.ArchiveDirTask}}") is ArchiveDirTask
    mine = mod.ArchiveDirTask(base_name="x")
    assert firetask.load_task(mine.to_dict()).__class__ is mod.ArchiveDirTask


def test_the_clash_is_found_whichever_class_is_defined_first(fresh_module, monkeypatch):
    monkeypatch.setattr(firetask, "_REGISTRY", {})  # as in a fresh process: no built-in loaded
    with pytest.warns(TaskNameWarning, match="launchpad.tasks.files.ArchiveDirTask"):
        fresh_module(MYTASKS)
    with pytest.raises(AmbiguousTaskError):
        firetask.task_class("ArchiveDirTask")


def test_explicit_serialize_avoids_the_clash(fresh_module):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mod = fresh_module("""
            from launchpad import FiretaskBase, explicit_serialize

            @explicit_serialize
            class ArchiveDirTask(FiretaskBase):
                def run_task(self, fw_spec):
                    pass
        """)
    assert firetask.task_class("ArchiveDirTask") is ArchiveDirTask
    assert firetask.task_class(_full(mod.__name__, "ArchiveDirTask")) is mod.ArchiveDirTask


def test_explicit_serialize_wins_over_a_declared_name(monkeypatch):
    """FireWorks' decorator replaces a _fw_name; the short name it had is given up again."""
    monkeypatch.setattr(firetask, "_REGISTRY", dict(firetask._REGISTRY))
    with pytest.warns(TaskNameWarning):

        @explicit_serialize
        class ArchiveDirTask(FiretaskBase):
            _fw_name = "ArchiveDirTask"

    assert ArchiveDirTask._fw_name == _full(__name__, "ArchiveDirTask")
    assert firetask.task_class("ArchiveDirTask") is firetask.task_class(
        "{{launchpad.tasks.files.ArchiveDirTask}}"
    )


def test_redefining_a_class_in_the_same_module_is_not_a_clash(monkeypatch):
    monkeypatch.setattr(firetask, "_REGISTRY", dict(firetask._REGISTRY))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(2):

            class Again(FiretaskBase):
                _fw_name = "Test Again Task"

    assert firetask.task_class("Test Again Task") is Again


ARCHIVE_YAML = """
spec:
  _tasks:
  - _fw_name: '{name}'
    base_name: mine
"""


def test_the_guides_archive_task_clashes_loudly_and_runs_by_its_full_name(user):
    """FireWorks' guide defines its own ArchiveDirTask; the built-in must never run in its place."""
    listed = {"STARSHELL_USER_PACKAGES": "mytasks"}
    refused = user.run(
        "lpad", "add", user.file("a.yaml", ARCHIVE_YAML.format(name="ArchiveDirTask")), **listed
    )
    assert refused.returncode == 2, refused.stderr
    for part in (
        "mytasks.ArchiveDirTask",
        "launchpad.tasks.files.ArchiveDirTask",
        "{{mytasks.ArchiveDirTask}}",
    ):
        assert part in refused.stderr
    user.ok("lpad", "add", user.file("b.yaml", ARCHIVE_YAML.format(name="{{mytasks.ArchiveDirTask}}")))
    user.ok("rlaunch", "rapidfire")
    (fw,) = user.fws()
    assert fw["state"] == "COMPLETED"
    launch_dir = fw["launches"][-1]["launch_dir"]
    assert "mine.txt" in os.listdir(launch_dir)  # the user's class ran ...
    assert not any(
        name.startswith("mine.") and name != "mine.txt"  # ... not the built-in archiver
        for name in os.listdir(launch_dir) + os.listdir(user.work)
    )


def test_unknown_and_ambiguous_are_task_errors():
    assert issubclass(AmbiguousTaskError, UnknownTaskError)
    with pytest.raises(UnknownTaskError, match="STARSHELL_USER_PACKAGES"):
        firetask.task_class("No Such Task Anywhere")


def test_the_built_in_name_table_matches_the_built_ins():
    assert set(firetask._BUILTIN_NAMES) == {c._fw_name for c in firetask._builtin_classes().values()}


def test_the_docs_quote_the_message_the_code_gives(monkeypatch):
    monkeypatch.delenv(firetask.USER_PACKAGES_ENV, raising=False)
    with open(os.path.join(ROOT, "docs", "workflows.md"), encoding="utf-8") as fh:
        text = fh.read()
    with pytest.raises(UnknownTaskError) as info:
        firetask.task_class("Count Lines Task")
    assert f"error: count.yaml: {info.value}\n" in text
    assert "UnknownTaskError: task '{{mytasks.CountLines}}': cannot import module 'mytasks' " in text
