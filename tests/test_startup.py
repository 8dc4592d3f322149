"""Start-up: each command imports only what it runs (issue 14).

Every command is the installed console script in its own process, with a
fresh ``$STARSHELL_HOME`` and working directory, run under a small wrapper
that writes the names in ``sys.modules`` to a file when the process exits.
A module imported by the test's own interpreter can then hide nothing.
"""

import json
import os
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Packages a command on the embedded store has no use for: pymongo alone costs
# about as much as the rest of `lpad get_fws`.
HEAVY = ("pymongo", "bson", "mongomock", "flask", "werkzeug", "apscheduler")
_ENTRY_MODULES = {"lpad": "launchpad.cli", "rlaunch": "rocket.cli", "qlaunch": "queue_adapters.cli"}
# Runs the console script as the shell would (its own __main__), then records the modules.
_WRAPPER = """
import atexit, os, runpy, sys
record, script, module = sys.argv[1:4]
del sys.argv[1:4]
def _record():
    with open(record, "w") as fh:
        fh.write("\\n".join(sorted(sys.modules)))
atexit.register(_record)
if os.access(script, os.X_OK):
    sys.argv[0] = script
    runpy.run_path(script, run_name="__main__")
else:
    runpy.run_module(module, run_name="__main__", alter_sys=True)
"""
NOOP = """\
fws:
- fw_id: 1
  name: noop
  spec:
    _tasks:
    - _fw_name: PyTask
      func: math.floor
      args: [1]
"""
PLUGIN = """\
def register(subparsers):
    p = subparsers.add_parser("hello", help="say hello from a third-party plugin")
    p.add_argument("--who", default="world")
    p.set_defaults(func=hello, needs_launchpad=False)


def hello(args, _launchpad):
    print(f"hello {args.who} ({args.output})")
    return 0
"""


class User:
    """One person's shell: a fresh home and working directory."""

    def __init__(self, tmp_path, extra_path=()):
        self.work = tmp_path / "work"
        self.work.mkdir()
        self.records = tmp_path / "modules"
        self.records.mkdir()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("STARSHELL_")}
        self.env.update(
            STARSHELL_HOME=str(tmp_path / "home"), PYTHONPATH=os.pathsep.join([*map(str, extra_path), ROOT])
        )
        self.runs = 0

    def run(self, command, *argv, expect=0):
        """(stdout, stderr, the set of modules the process had imported)."""
        self.runs += 1
        record = self.records / f"{self.runs}.txt"
        script = os.path.join(sysconfig.get_path("scripts"), command)
        proc = subprocess.run(
            [sys.executable, "-c", _WRAPPER, str(record), script, _ENTRY_MODULES[command], *map(str, argv)],
            cwd=self.work,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert proc.returncode == expect, (command, argv, proc.stdout, proc.stderr)
        return proc.stdout, proc.stderr, set(record.read_text().split())


def heavy(modules):
    return sorted(m for m in modules if m.split(".")[0] in HEAVY)


@pytest.fixture
def user(tmp_path):
    u = User(tmp_path)
    (u.work / "noop.yaml").write_text(NOOP)
    return u


def test_commands_on_the_embedded_store_load_no_heavy_package(user):
    runs = [
        ("lpad", "add", "noop.yaml"),
        ("lpad", "get_fws"),
        ("lpad", "get_fws", "-d", "count"),
        ("lpad", "get_wflows"),
        ("lpad", "get_wflows", "-d", "more"),
        ("rlaunch", "-s", "singleshot"),
        ("lpad", "-o", "json", "get_fws", "-s", "COMPLETED"),
    ]
    outputs = {}
    for command, *argv in runs:
        out, _, modules = user.run(command, *argv)
        assert heavy(modules) == [], (command, argv)
        # core commands do not even look for plugins: the queue plugin stays unloaded
        assert "queue_adapters" not in modules, (command, argv)
        outputs[" ".join(argv)] = out
        if argv == ["get_fws", "-d", "count"]:  # no file to read, no table, no plugin scan
            assert not {"ruamel", "tabulate", "importlib.metadata"} & modules
    assert outputs["get_fws -d count"].strip() == "1"
    assert json.loads(outputs["-o json get_fws -s COMPLETED"])["fw_id"] == 1  # FireWorks': one alone


def test_a_query_beyond_sql_loads_the_filter_engine_when_it_runs(user):
    """On SQLite a filter SQL cannot express runs in mongomock's engine, loaded then."""
    user.run("lpad", "add", "noop.yaml")
    out, _, modules = user.run("lpad", "get_fws", "-q", '{"spec._tasks": {"$size": 1}}', "-d", "count")
    assert out.strip() == "1" and "mongomock" in modules
    # an error the engine raises (pymongo's OperationFailure) is still the user's one line
    _, err, _ = user.run("lpad", "get_fws", "-q", '{"spec._tasks": {"$type": "nonsense"}}', expect=2)
    assert err.startswith("error: cannot evaluate query") and "Traceback" not in err


def test_help_and_the_queue_commands_still_load_the_queue_plugin(user):
    out, _, modules = user.run("lpad", "--help")
    for name in ("get_fws", "admin", "get_qids", "cancel_qid", "detect_unreserved", "daemon"):
        assert name in out
    assert "apscheduler" not in modules  # the daemon loads it when it starts, not for help
    for command in ("get_qids", "cancel_qid", "detect_unreserved", "daemon"):
        out, _, modules = user.run("lpad", command, "--help")
        assert out.startswith("usage: lpad " + command) and "apscheduler" not in modules
    user.run("lpad", "add", "noop.yaml")
    out, err, modules = user.run("lpad", "get_qids", "-i", "1")
    assert "never launched or reserved: fireworks 1" in err
    assert heavy(modules) == []


def test_a_third_party_plugin_still_adds_its_command(tmp_path):
    """A plugin found through the starshell.lpad_commands entry point group."""
    site = tmp_path / "site"
    dist = site / "hello_plugin-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: hello-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[starshell.lpad_commands]\nhello = hello_plugin:register\n")
    (site / "hello_plugin.py").write_text(PLUGIN)
    user = User(tmp_path, extra_path=[site])
    out, _, modules = user.run("lpad", "-o", "json", "hello", "--who", "you")
    assert out.strip() == "hello you (json)" and "hello_plugin" in modules
    out, _, _ = user.run("lpad", "--help")
    assert "say hello from a third-party plugin" in out
    out, _, modules = user.run("lpad", "get_fws", "-d", "count")
    assert out.strip() == "0" and "hello_plugin" not in modules
    _, err, _ = user.run("lpad", "helo", expect=2)
    assert "invalid choice: 'helo'" in err and "hello" in err


def test_a_mongodb_launchpad_file_loads_pymongo_when_the_store_opens(user):
    (user.work / "my_launchpad.yaml").write_text("store: mongomock\nname: startup_test\n")
    out, _, modules = user.run("lpad", "add", "noop.yaml")
    assert "added workflow 'noop'" in out
    assert {"pymongo", "mongomock"} <= modules


def test_lpad_webgui_still_serves_pages(user):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    script = os.path.join(sysconfig.get_path("scripts"), "lpad")
    exe = [script] if os.access(script, os.X_OK) else [sys.executable, "-m", "launchpad.cli"]
    proc = subprocess.Popen(
        [*exe, "webgui", "--port", str(port)],
        cwd=user.work,
        env=user.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as page:
                    assert page.status == 200
                    break
            except OSError:
                assert proc.poll() is None, proc.stderr.read()
                assert time.monotonic() < deadline, "lpad webgui did not start"
                time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
