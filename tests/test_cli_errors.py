"""One error path for lpad, rlaunch and qlaunch (launchpad/cli/errors.py): the same
error gives the same exit code and the same one line in all three."""

import signal
import subprocess
import sys
import time

import pytest
from user_commands import new_user

import launchpad.fw_config as fw_config
import queue_adapters.cli as qcli
import rocket.cli as rcli
from launchpad import Firework, LaunchPad, cli
from launchpad.cli import errors as cli_errors
from launchpad.errors import (
    ConfigError,
    Interrupted,
    InvalidTransitionError,
    NotFoundError,
    QueueError,
    StoreUnavailableError,
)
from launchpad.stores import SQLiteStore
from launchpad.tasks import ScriptTask

CLIS = ("lpad", "rlaunch", "qlaunch")


def _without_prefix(line):
    return line.removeprefix("qlaunch: ")


# -- the mapping ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "exc,code",
    [
        (ConfigError("x"), 2),
        (NotFoundError("x"), 3),
        (InvalidTransitionError("x"), 4),
        (StoreUnavailableError("x"), 5),
        (QueueError("x"), 6),
        (RuntimeError("x"), 1),
        (KeyboardInterrupt(), 130),
        (Interrupted("stopped by SIGINT", signal.SIGINT), 130),
        (Interrupted("stopped by SIGTERM", signal.SIGTERM), 143),
        (Interrupted("stopped by SIGUSR1", signal.SIGUSR1), 143),
        (BrokenPipeError(), 0),
    ],
)
def test_exit_codes_are_the_documented_ones(exc, code):
    assert cli_errors.exit_code(exc) == code


def test_the_signal_number_decides_not_the_message():
    assert cli_errors.exit_code(Interrupted("SIGINT in the text", signal.SIGTERM)) == 143
    assert cli_errors.exit_code(Interrupted("SIGTERM in the text", signal.SIGINT)) == 130


def test_an_unexpected_error_is_one_line_that_points_to_debug():
    line = cli_errors.message(RuntimeError("boom\nsecond line"), "lpad")
    assert line == "error: unexpected RuntimeError: boom | second line (run with --debug for the traceback)"


# -- the three CLIs in this process, with the error raised where the store is opened -----------
def _raise_inside(monkeypatch, exc):
    def fail(*args, **kwargs):
        raise exc

    monkeypatch.setattr(fw_config, "open_launchpad", fail)  # lpad and rlaunch
    monkeypatch.setattr(qcli, "make_launcher", fail)  # qlaunch, once its files are found


def _run_cli(name, tmp_path):
    qa = tmp_path / "qa.yaml"
    qa.write_text("_fw_name: CommonAdapter\n_fw_q_type: SLURM\n")
    return {
        "lpad": lambda: cli.main(["get_fws"]),
        "rlaunch": lambda: rcli.main(["singleshot"]),
        "qlaunch": lambda: qcli.main(["-q", str(qa), "singleshot"]),
    }[name]()


@pytest.mark.parametrize(
    "exc,code",
    [
        (ConfigError("no store here"), 2),
        (NotFoundError("no firework with id 99"), 3),
        (InvalidTransitionError("firework 1 is COMPLETED; it cannot become PAUSED"), 4),
        (StoreUnavailableError("mongodb://h:1 is unreachable"), 5),
        (QueueError("sbatch refused: no account"), 6),
        (RuntimeError("a bug"), 1),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Exception) else str(v),
)
def test_each_cli_gives_the_same_code_and_line(exc, code, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STARSHELL_HOME", str(tmp_path))
    _raise_inside(monkeypatch, exc)
    lines = {}
    for name in CLIS:
        assert _run_cli(name, tmp_path) == code, name
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1, (name, err)
        lines[name] = _without_prefix(err[0])
    assert len(set(lines.values())) == 1, lines
    assert lines["lpad"].startswith("error: ") and str(exc) in lines["lpad"]


@pytest.mark.parametrize("signum,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_each_cli_exits_by_the_signal_that_stopped_it(signum, code, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STARSHELL_HOME", str(tmp_path))
    _raise_inside(monkeypatch, Interrupted(f"stopped by {signal.Signals(signum).name}", signum))
    for name in CLIS:
        assert _run_cli(name, tmp_path) == code, name
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith(f"{name}: stopped by "), (name, err)


def test_debug_adds_the_traceback(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STARSHELL_HOME", str(tmp_path))
    _raise_inside(monkeypatch, RuntimeError("a bug"))
    assert cli.main(["get_fws", "--debug"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and err.strip().splitlines()[-1].startswith("error: unexpected RuntimeError")


# -- the real commands ------------------------------------------------------------------
def test_a_missing_launchpad_file_is_exit_2_and_one_line_in_each_cli(tmp_path):
    user = new_user(tmp_path)
    assert user.run("qlaunch", "init").returncode == 0  # a valid my_qadapter.yaml here
    missing = tmp_path / "nowhere" / "my_launchpad.yaml"
    lines = set()
    for name, argv in (
        ("lpad", ["get_fws", "-l", missing]),
        ("rlaunch", ["-l", missing, "singleshot"]),
        ("qlaunch", ["-l", missing, "singleshot"]),
    ):
        proc = user.run(name, *argv)
        err = proc.stderr.strip().splitlines()
        assert proc.returncode == 2 and len(err) == 1, (name, proc.stderr)
        lines.add(_without_prefix(err[0]))
    assert len(lines) == 1 and str(missing) in lines.pop()


def test_an_unknown_fw_id_is_exit_3(tmp_path):
    user = new_user(tmp_path)
    LaunchPad(SQLiteStore(user.home / "launchpad.sqlite"))
    proc = user.run("lpad", "rerun_fws", "-i", "99")
    assert (proc.returncode, proc.stderr) == (3, "error: no firework with id 99\n")


@pytest.mark.parametrize("signum,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_rlaunch_singleshot_stopped_by_a_signal_hands_the_firework_back(signum, code, tmp_path):
    user = new_user(tmp_path)
    lp = LaunchPad(SQLiteStore(user.home / "launchpad.sqlite"))
    lp.add_wf(Firework(ScriptTask(script="sleep 30"), name="long"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "rocket.cli", "singleshot"],
        env=user.env,
        cwd=user.work,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while lp.fw_state_counts().get("RUNNING") != 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == code, err
    name = signal.Signals(signum).name
    assert err.strip().splitlines()[-1] == f"rlaunch: stopped by {name}; no firework was left RUNNING"
    assert lp.fw_state_counts() == {"READY": 1}
