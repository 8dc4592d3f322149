"""``qlaunch -rh``: the queue launcher run on a "remote" login node over real SSH.

The remote host is a throwaway OpenSSH server on 127.0.0.1 (ci/sshd-up.sh: its
own host key, a user key in authorized_keys, no password login); the
cluster behind it is the one-node Slurm of ci/slurm-up.sh. qlaunch runs as a
program with a HOME of its own, so its ~/.ssh/known_hosts is the test's and
the user's real one is never read or written. Without sshd (or Slurm) these
tests skip, and fail when CI=true.
"""

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from test_slurm_real import slurm_up  # noqa: F401  (the fixture: skip or fail without Slurm)

from launchpad import LaunchPad
from launchpad.files import dumps
from queue_adapters import run_subprocess

pytestmark = pytest.mark.ssh

ROOT = Path(__file__).resolve().parents[1]
SECRET = "pw-" + uuid.uuid4().hex


def _missing(message):
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def _read_env(directory):
    pairs = (line.split("=", 1) for line in (Path(directory) / "env").read_text().splitlines())
    return {k: v for k, v in pairs}


@pytest.fixture(scope="session")
def sshd():
    """ci/test.sh's sshd ($STARSHELL_SSHD_DIR), else one started here for the session."""
    if importlib.util.find_spec("paramiko") is None:
        _missing("paramiko is not installed: pip install -e '.[ssh]'")
    given = os.environ.get("STARSHELL_SSHD_DIR")
    if given and (Path(given) / "env").exists():
        yield _read_env(given)
        return
    if not os.path.exists("/usr/sbin/sshd") or not shutil.which("ssh-keygen"):
        _missing("no /usr/sbin/sshd: apt-get install openssh-server, or bash ci/sshd-up.sh")
    started = subprocess.run(
        ["bash", str(ROOT / "ci" / "sshd-up.sh")], capture_output=True, text=True, timeout=60, check=False
    )
    if started.returncode != 0:
        _missing(f"ci/sshd-up.sh failed: {started.stderr.strip()}")
    directory = started.stdout.strip().splitlines()[-1]
    yield _read_env(directory)
    subprocess.run(["bash", str(ROOT / "ci" / "sshd-down.sh"), directory], timeout=30, check=False)


class Workstation:
    """A user's machine: its own HOME (known_hosts) and a store shared with the "cluster"."""

    def __init__(self, tmp_path, sshd, known=True):
        self.sshd = sshd
        self.home = tmp_path / "home"
        (self.home / ".ssh").mkdir(parents=True)
        if known:
            shutil.copy(sshd["SSHD_KNOWN_HOSTS"], self.home / ".ssh" / "known_hosts")
        self.conf = tmp_path / "cluster"  # the remote config dir (-rc)
        self.cwd = tmp_path / "here"
        self.cwd.mkdir()
        self.store = tmp_path / "store.sqlite"
        self.lp = LaunchPad.from_file(
            str(self._write(self.cwd, "my_launchpad.yaml", {"store": "sqlite", "path": str(self.store)}))
        )
        self.name = f"ss-{uuid.uuid4().hex[:10]}"
        self.host = f"127.0.0.1:{sshd['SSHD_PORT']}"

    @staticmethod
    def _write(directory, name, data):
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / name
        path.write_text(dumps(data, "yaml"))
        return path

    def settings(self, directory, rlaunch="singleshot"):
        """my_launchpad.yaml and my_qadapter.yaml whose pilots use the store from ``directory``."""
        self._write(directory, "my_launchpad.yaml", {"store": "sqlite", "path": str(self.store)})
        self._write(
            directory,
            "my_qadapter.yaml",
            {
                "_fw_q_type": "SLURM",
                "job_name": self.name,
                "walltime": "00:05:00",
                "rocket_launch": f"rlaunch -l {self.conf}/my_launchpad.yaml --ping_interval 1 {rlaunch}",
            },
        )

    def qlaunch(self, *argv, timeout=120, **extra_env):
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("SSH_AUTH_SOCK", "STARSHELL_LAUNCHPAD", "STARSHELL_REMOTE_PASSWORD")
        }
        env.update(HOME=str(self.home), STARSHELL_HOME=str(self.home / ".starshell"), **extra_env)
        return subprocess.run(
            ["qlaunch", *argv],
            cwd=self.cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def login(self, *hosts):
        """-rh ... -ru ... -rkf ...: the test server's user and key."""
        return ["-rh", *(hosts or [self.host]), "-ru", self.sshd["SSHD_USER"], "-rkf", self.sshd["SSHD_KEY"]]

    def wait_completed(self, n, timeout=90):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.lp.fw_state_counts() == {"COMPLETED": n}:
                return
            time.sleep(0.5)
        logs = "\n".join(p.read_text() for p in self.conf.rglob("slurm-*.out"))
        pytest.fail(f"states {self.lp.fw_state_counts()} after {timeout} s\n{logs}")


@pytest.fixture
def ws(sshd, tmp_path):
    w = Workstation(tmp_path, sshd)
    yield w
    run_subprocess(["scancel", "-n", w.name])


def script_fws(n):
    return {
        "fws": [
            {
                "fw_id": i,
                "name": f"fw{i}",
                "spec": {"_tasks": [{"_fw_name": "ScriptTask", "script": "hostname"}]},
            }
            for i in range(1, n + 1)
        ],
        "links": {},
    }


def one_line(text):
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    return lines[0]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- through sshd to the real Slurm ---------------------------------------------------------
@pytest.mark.slurm
def test_singleshot_over_ssh_submits_a_pilot_that_completes_the_firework(ws, slurm_up):  # noqa: F811
    """-rs copies the settings in force here into a new remote config dir first."""
    ws.lp.add_wf(script_fws(1))
    ws.settings(ws.cwd)  # here: -rs copies them to -rc
    done = ws.qlaunch(*ws.login(), "-rc", str(ws.conf), "-rs", "singleshot")

    assert done.returncode == 0, done.stderr
    label = f"{ws.sshd['SSHD_USER']}@{ws.host}"
    assert f"[{label}] submitted job " in done.stdout, done.stdout
    assert f"qlaunch: {label} {ws.conf}: done" in done.stdout
    assert (ws.conf / "my_qadapter.yaml").read_text() == (ws.cwd / "my_qadapter.yaml").read_text()
    assert oct((ws.conf / "my_launchpad.yaml").stat().st_mode & 0o777) == "0o600"
    ws.wait_completed(1)
    launch_dir = Path(ws.lp.get_launches()[0]["launch_dir"])
    assert launch_dir.parent == ws.conf  # the job's own launcher dir (singleshot runs there, as FireWorks')
    assert (launch_dir / "FW_job_id").exists() and (launch_dir / "FW.json").exists()
    assert list(ws.conf.glob("launcher_*/FW_job_id"))


def test_remote_setup_copies_the_files_of_the_config_dir_c(ws):
    """FireWorks' -rs copies what -c names; the remote qlaunch then runs with those files."""
    local = ws.cwd / "site"
    ws.settings(local)
    (ws.cwd / "my_qadapter.yaml").write_text("not: the one to copy\n")  # -c wins over ./
    remote = ws.conf / "new" / "dir"
    done = ws.qlaunch(*ws.login(), "-c", str(local), "-rs", "-rc", str(remote), "singleshot", timeout=60)

    assert done.returncode == 0, done.stderr
    assert "no READY firework for this worker; no job submitted" in done.stdout
    for name in ("my_launchpad.yaml", "my_qadapter.yaml"):
        assert (remote / name).read_text() == (local / name).read_text()
    assert not (remote / "my_fworker.yaml").exists()  # none here: none copied


@pytest.mark.slurm
def test_two_hosts_at_once_each_submit_a_pilot(ws, slurm_up):  # noqa: F811
    """-rh HOST1 HOST2 singleshot: the command name ends the list of hosts."""
    ws.lp.add_wf(script_fws(2))
    ws.settings(ws.conf)
    port = ws.sshd["SSHD_PORT"]
    done = ws.qlaunch(*ws.login(ws.host, f"localhost:{port}"), "-rc", str(ws.conf), "singleshot")

    assert done.returncode == 0, done.stderr
    user = ws.sshd["SSHD_USER"]
    for label in (f"{user}@127.0.0.1:{port}", f"{user}@localhost:{port}"):
        assert f"[{label}] submitted job " in done.stdout, done.stdout
        assert f"qlaunch: {label} {ws.conf}: done" in done.stdout
    assert "qlaunch: 2 of 2 host(s) done" in done.stdout
    ws.wait_completed(2)


@pytest.mark.slurm
def test_an_unreachable_host_fails_alone_and_the_exit_code_says_so(ws, slurm_up):  # noqa: F811
    ws.settings(ws.conf)
    closed = free_port()
    done = ws.qlaunch(*ws.login(f"127.0.0.1:{closed}", ws.host), "-rc", str(ws.conf), "singleshot")

    assert done.returncode == 5, done.stderr
    user = ws.sshd["SSHD_USER"]
    assert (
        f"qlaunch: {user}@127.0.0.1:{closed}: error: cannot reach 127.0.0.1 port {closed}: Connection refused"
    ) in done.stderr.splitlines()
    assert f"qlaunch: {user}@{ws.host} {ws.conf}: done" in done.stdout  # the next host still ran
    assert "qlaunch: 1 of 2 host(s) done" in done.stderr


def processes_in(directory):
    """{pid: command line} of the processes working in ``directory`` (the remote qlaunch does)."""
    found = {}
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if os.readlink(proc / "cwd") == str(directory):
                found[int(proc.name)] = (proc / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
    return {pid: cmd.decode() for pid, cmd in found.items()}


@pytest.mark.slurm
def test_stopping_the_local_qlaunch_stops_the_remote_one(ws, slurm_up):  # noqa: F811
    """A remote rapidfire must not run on unseen once its SSH session is gone."""
    ws.settings(ws.conf)
    local = subprocess.Popen(
        ["qlaunch", *ws.login(), "-rc", str(ws.conf), "rapidfire", "--nlaunches", "infinite", "--sleep", "1"],
        cwd=ws.cwd,
        env={**os.environ, "HOME": str(ws.home)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        for line in local.stdout:  # the remote qlaunch has done a round
            if "sleeping 1 s" in line:
                break
        assert [c for c in processes_in(ws.conf).values() if "qlaunch rapidfire" in c]
        local.terminate()
        assert local.wait(timeout=30) == 143  # SIGTERM's documented code (Ctrl-C is 130)
        end = time.monotonic() + 20
        while processes_in(ws.conf) and time.monotonic() < end:
            time.sleep(0.2)
        assert processes_in(ws.conf) == {}
    finally:
        local.kill()
        for pid in processes_in(ws.conf):  # what this test started, should it fail
            os.kill(pid, signal.SIGKILL)


# -- refusals -------------------------------------------------------------------------------
def test_an_unreachable_port_is_one_line_and_exit_5(ws):
    closed = free_port()
    done = ws.qlaunch(*ws.login(f"127.0.0.1:{closed}"), "singleshot", timeout=60)

    assert done.returncode == 5
    assert one_line(done.stderr).endswith(f"cannot reach 127.0.0.1 port {closed}: Connection refused")


def test_a_host_whose_key_is_not_known_is_refused_with_how_to_add_it(sshd, tmp_path):
    ws = Workstation(tmp_path, sshd, known=False)
    ws.settings(ws.conf)
    done = ws.qlaunch(*ws.login(), "-rc", str(ws.conf), "singleshot", timeout=60)

    assert done.returncode == 2
    line = one_line(done.stderr)
    assert "is not in ~/.ssh/known_hosts" in line
    assert f"ssh-keyscan -p {sshd['SSHD_PORT']} 127.0.0.1 >> ~/.ssh/known_hosts" in line
    assert not (ws.home / ".ssh" / "known_hosts").exists()  # nothing added behind the user
    assert not list(ws.conf.glob("launcher_*"))


def test_a_host_whose_key_changed_is_refused(sshd, tmp_path):
    ws = Workstation(tmp_path, sshd, known=False)
    other = tmp_path / "other_host_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    key = " ".join(other.with_suffix(".pub").read_text().split()[:2])
    (ws.home / ".ssh" / "known_hosts").write_text(f"[127.0.0.1]:{sshd['SSHD_PORT']} {key}\n")
    done = ws.qlaunch(*ws.login(), "singleshot", timeout=60)

    assert done.returncode == 2
    line = one_line(done.stderr)
    assert f"host key of [127.0.0.1]:{sshd['SSHD_PORT']} differs from the one in" in line
    assert f"ssh-keygen -R '[127.0.0.1]:{sshd['SSHD_PORT']}'" in line


def test_a_key_the_host_does_not_accept_is_refused_in_one_line(ws):
    wrong = ws.home / "wrong_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(wrong)], check=True)
    argv = ["-rh", ws.host, "-ru", ws.sshd["SSHD_USER"], "-rkf", str(wrong), "singleshot"]
    done = ws.qlaunch(*argv, timeout=60)

    assert done.returncode == 2
    line = one_line(done.stderr)
    assert line.startswith(f"qlaunch: {ws.sshd['SSHD_USER']}@{ws.host}: error: login as ")
    assert f"refused (key {wrong}" in line


def test_each_remote_config_dir_gets_its_own_run_and_result(ws):
    """-rc DIR1 DIR2 -ru USER: the next option ends the list; one result line per directory."""
    first, second = ws.conf / "queue_a", ws.conf / "queue_b"
    first.mkdir(parents=True)
    second.mkdir()
    done = ws.qlaunch(
        "-rh",
        ws.host,
        "-rc",
        str(first),
        str(second),
        "-ru",
        ws.sshd["SSHD_USER"],
        "-rkf",
        ws.sshd["SSHD_KEY"],
        "singleshot",
        timeout=60,
    )

    assert done.returncode == 2  # neither has a my_qadapter.yaml: the remote qlaunch's exit code
    for directory in (first, second):
        assert (
            f"qlaunch: {ws.sshd['SSHD_USER']}@{ws.host} {directory}: remote qlaunch failed (exit 2)"
        ) in done.stderr
    assert done.stdout.count("no queue adapter file") == 2


def test_a_password_shows_nowhere(ws):
    """Not in qlaunch's messages, nor in the remote command line (ps), nor in sshd's log."""
    refused = ws.qlaunch("-rh", ws.host, "-ru", ws.sshd["SSHD_USER"], "-rp", SECRET, "singleshot", timeout=60)
    assert refused.returncode == 2
    assert "a password; the host accepts only publickey" in one_line(refused.stderr)
    from_env = ws.qlaunch(
        "-rh",
        ws.host,
        "-ru",
        ws.sshd["SSHD_USER"],
        "singleshot",
        timeout=60,
        STARSHELL_REMOTE_PASSWORD=SECRET,
    )  # not in this machine's ps
    assert from_env.returncode == 2
    assert "a password; the host accepts only publickey" in one_line(from_env.stderr)

    seen = ws.home / "remote-command"
    shell = ws.home / "record-shell"
    shell.write_text(f'#!/bin/sh\nprintf "%s\\n" "$0" "$@" > {seen}\nexec /bin/bash -l -c "$1"\n')
    shell.chmod(0o755)
    ws.conf.mkdir()
    ran = ws.qlaunch(
        *ws.login(),
        "-rp",
        SECRET,
        "-rc",
        str(ws.conf),
        "-rsh",
        str(shell),
        "--loglvl",
        "DEBUG",
        "singleshot",
        timeout=60,
    )
    assert "no queue adapter file" in ran.stdout + ran.stderr  # the remote qlaunch did run
    assert f"cd {ws.conf} || exit 2; qlaunch --loglvl DEBUG singleshot" in seen.read_text()
    for text in (
        ran.stdout,
        ran.stderr,
        refused.stdout,
        from_env.stderr,
        seen.read_text(),
        (Path(ws.sshd["SSHD_DIR"]) / "sshd.log").read_text(),
    ):
        assert SECRET not in text
