"""The gateway: rockets and read-only lpad commands on nodes that cannot open the store.

The end-to-end tests run the real ``lpad gateway`` in one process over the
login node's embedded store, and real ``rlaunch``/``lpad`` processes in a
"compute node" environment that names only the gateway (an empty
STARSHELL_HOME, no store path). The in-process tests drive a gateway over
both stores (SQLite and mongomock) for what depends on the store: a reply
lost on the way back, and a restart that forgets every reply.
"""

import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

TESTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TESTS)
EXAMPLES = os.path.join(ROOT, "examples")


def defuse_children():
    """A task for the fireworks below (imported by rocket processes as test_gateway)."""
    from launchpad.actions import FWAction

    return FWAction(defuse_children=True, stored_data={"defused": True})


# -- processes ---------------------------------------------------------------------------
def env_for(home, **extra):
    """A fresh environment: its own STARSHELL_HOME, the tutorial tasks importable."""
    env = dict(
        os.environ,
        STARSHELL_HOME=str(home),
        STARSHELL_USER_PACKAGES="tutorial_tasks",
        PYTHONPATH=os.pathsep.join([ROOT, TESTS, EXAMPLES, os.environ.get("PYTHONPATH", "")]),
        **extra,
    )
    env.pop("STARSHELL_LAUNCHPAD", None)
    return env


def run(args, cwd, home, timeout=120, **kwargs):
    """``python -m <args>`` to completion: (exit code, stdout, stderr)."""
    done = subprocess.run(
        [sys.executable, "-m", *args],
        cwd=cwd,
        env=env_for(home),
        check=False,
        capture_output=True,
        text=True,
        timeout=timeout,
        **kwargs,
    )
    return done.returncode, done.stdout, done.stderr


def quiet_port():
    """A free port below the ephemeral range: clients hammering a gateway that is down
    could otherwise be given its port for themselves, and it could not start again."""
    import random
    import socket

    for port in random.sample(range(20000, 32000), 200):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError("no free port between 20000 and 32000")


class Gateway:
    """A real ``lpad gateway`` process serving the store under ``login``."""

    def __init__(self, login, *options):
        self.login = login
        self.token_file = login / "gateway.token"
        self.options = list(options)
        self.port = quiet_port()
        self.proc = None
        self.url = None
        self.err_path = login / "gateway.err"

    def start(self):
        with open(self.err_path, "a") as err:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "launchpad.cli",
                    "gateway",
                    "--port",
                    str(self.port),
                    "--token_file",
                    str(self.token_file),
                    *self.options,
                ],
                cwd=self.login,
                env=env_for(self.login),
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
            )
        line = self.proc.stdout.readline()
        found = re.search(r"gateway (https?://\S+) serving", line)
        if not found:
            self.proc.wait(timeout=10)
            raise AssertionError(f"the gateway did not start: {line!r} {self.errors()}")
        self.url = found.group(1)
        self.port = int(self.url.rsplit(":", 1)[1])
        return self

    def kill(self, sig=signal.SIGKILL):
        self.proc.send_signal(sig)
        return self.proc.wait(timeout=30)

    def errors(self):
        return self.err_path.read_text() if self.err_path.exists() else ""


class Node:
    """A compute node: its own directory and home, a launchpad file naming the gateway."""

    def __init__(self, path, gateway, token_file=None, ca_file=None):
        self.path = path
        self.home = path / "home"  # never created: nothing may look for a store there
        path.mkdir(parents=True, exist_ok=True)
        token = path / "gateway.token"
        shutil.copy(token_file or gateway.token_file, token)
        settings = {"gateway": gateway.url, "token_file": "gateway.token"}
        if ca_file:
            settings["ca_file"] = str(ca_file)
        (path / "gw_launchpad.yaml").write_text(json.dumps(settings))

    def rlaunch(self, *args, **kwargs):
        return run(["rocket.cli", "-l", "gw_launchpad.yaml", *args], self.path, self.home, **kwargs)

    def lpad(self, *args, **kwargs):
        return run(["launchpad.cli", "-l", "gw_launchpad.yaml", *args], self.path, self.home, **kwargs)

    def spawn_rlaunch(self, name, *args):
        with open(self.path / f"{name}.err", "w") as err:
            proc = subprocess.Popen(
                [sys.executable, "-m", "rocket.cli", "-l", "gw_launchpad.yaml", *args],
                cwd=self.path,
                env=env_for(self.home),
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
        proc.err_path = self.path / f"{name}.err"
        return proc

    def assert_no_store(self):
        assert not self.home.exists(), "a compute-node command looked for a store of its own"


@pytest.fixture
def login(tmp_path):
    path = tmp_path / "login"
    path.mkdir()
    return path


@pytest.fixture
def login_lp(login):
    from launchpad import LaunchPad
    from launchpad.stores import SQLiteStore

    lp = LaunchPad(SQLiteStore(login / "launchpad.sqlite"))
    yield lp
    lp.store.close()


@pytest.fixture
def gateway(login, login_lp):
    gw = Gateway(login).start()
    yield gw
    if gw.proc.poll() is None:
        gw.kill(signal.SIGTERM)


@pytest.fixture
def node(tmp_path, gateway):
    return Node(tmp_path / "node", gateway)


# -- the same rockets, through the gateway and on the store ---------------------------
def feature_workflow(tmp_path):
    """Priorities, _retries, _max_runtime and defuse_children, in one file."""

    def script(text):
        return [{"_fw_name": "ScriptTask", "script": text}]

    fws = [
        {"fw_id": 1, "name": "low", "spec": {"_priority": 1, "_tasks": script("true")}},
        {"fw_id": 2, "name": "high", "spec": {"_priority": 9, "_tasks": script("true")}},
        {
            "fw_id": 3,
            "name": "flaky",
            "spec": {
                "_retries": 1,
                "_tasks": script("test -e ../flaky.done || { touch ../flaky.done; exit 3; }"),
            },
        },
        {"fw_id": 4, "name": "too slow", "spec": {"_max_runtime": 0.5, "_tasks": script("sleep 3")}},
        {
            "fw_id": 5,
            "name": "defuser",
            "spec": {"_tasks": [{"_fw_name": "PyTask", "func": "test_gateway.defuse_children"}]},
        },
        {"fw_id": 6, "name": "defused child", "spec": {"_tasks": script("true")}},
    ]
    path = tmp_path / "features.json"
    path.write_text(json.dumps({"name": "features", "fws": fws, "links": {"5": [6]}}))
    return path


WORKFLOWS = ["diamond.yaml", "pass_data.yaml", "script_pipeline.yaml", "fibonacci.yaml", "map_reduce.yaml"]


def outcome(lp, node_dir):
    """What a run left in the store, with this node's paths taken out."""

    def clean(value):
        text = json.dumps(value, sort_keys=True).replace(str(node_dir), "<node>")
        return json.loads(re.sub(r"launcher_[0-9_-]+", "launcher_X", text))

    fws = lp.get_fws(sort=[("fw_id", 1)])
    launches = lp.get_launches(sort=[("launch_id", 1)])
    return {
        "fireworks": [(f["fw_id"], f["name"], f["state"], clean(f["spec"])) for f in fws],
        "launches": [
            (
                launch["fw_id"],
                launch["state"],
                clean((launch.get("action") or {}).get("stored_data")),
                bool(launch.get("exception")),
            )
            for launch in launches
        ],
    }


@pytest.mark.timeout(300)
def test_a_rocket_through_the_gateway_does_what_it_does_on_the_store(tmp_path, login, gateway, node):
    from launchpad import LaunchPad
    from launchpad.stores import SQLiteStore

    direct = tmp_path / "direct"
    direct.mkdir()
    files = [os.path.join(EXAMPLES, f) for f in WORKFLOWS] + [str(feature_workflow(tmp_path))]
    for where in (login, direct):
        assert run(["launchpad.cli", "add", *files], where, where)[0] == 0
    code, _, err = node.rlaunch("rapidfire", "--sleep", "0.1")
    assert code == 0, err
    code, _, err = run(["rocket.cli", "rapidfire", "--sleep", "0.1"], direct, direct)
    assert code == 0, err
    node.assert_no_store()
    through, on_store = (LaunchPad(SQLiteStore(p / "launchpad.sqlite")) for p in (login, direct))
    assert outcome(through, node.path) == outcome(on_store, direct)
    states = {f["name"]: f["state"] for f in through.get_fws()}
    assert states["flaky"] == "COMPLETED" and states["too slow"] == "FIZZLED"
    assert states["defused child"] == "DEFUSED" and states["Fibonacci 89"] == "COMPLETED"
    order = [
        through.get_fw_dict(launch["fw_id"])["name"]
        for launch in through.get_launches(sort=[("launch_id", 1)])
    ]
    assert order.index("high") < order.index("low")
    assert "launch_dir" in through.get_launches()[0] and through.get_launches()[0]["launch_dir"].startswith(
        str(node.path)
    )


def test_a_worker_category_and_singleshot_of_a_reserved_firework(login_lp, node):
    from launchpad import Firework, WorkerFilter
    from launchpad.tasks import ScriptTask

    ids = [
        login_lp.add_wf(Firework(ScriptTask(script="true"), name=n, spec={"_category": c}))
        for n, c in (("gpu job", "gpu"), ("cpu job", "cpu"))
    ]
    (node.path / "gpu_worker.yaml").write_text("name: gpu node\ncategory: gpu\n")
    code, _, err = node.rlaunch("-w", "gpu_worker.yaml", "rapidfire", "--sleep", "0.1")
    assert code == 0, err
    assert {f["name"]: f["state"] for f in login_lp.get_fws()} == {"gpu job": "COMPLETED", "cpu job": "READY"}
    (cpu,) = ids[1].values()
    fw, launch_id = login_lp.claim_for_queue(WorkerFilter(category="cpu"), launch_dir="")
    assert fw["fw_id"] == cpu
    code, _, err = node.rlaunch("singleshot", "-f", str(cpu))
    assert code == 0, err
    (launch,) = login_lp.get_launches({"fw_id": cpu})
    assert launch["launch_id"] == launch_id and launch["state"] == "COMPLETED"
    assert launch["ping_interval"] == 60  # rlaunch's default, from the rocket that started it


def test_sigterm_hands_the_firework_back_through_the_gateway(login_lp, node):
    from launchpad import Firework
    from launchpad.tasks import ScriptTask

    (fw_id,) = login_lp.add_wf(Firework(ScriptTask(script="sleep 30"), name="long")).values()
    rocket = node.spawn_rlaunch("rocket", "--ping_interval", "0.2", "singleshot")
    deadline = time.monotonic() + 30
    while login_lp.get_fw_dict(fw_id)["state"] != "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # a heartbeat or two through the gateway
    rocket.send_signal(signal.SIGTERM)
    assert rocket.wait(timeout=30) == 143, rocket.err_path.read_text()
    fw = login_lp.get_fw_dict(fw_id)
    assert fw["state"] == "READY"
    (launch,) = fw["launches"]
    assert launch["interrupted"] and launch["last_ping"] > launch["time_start"]
    assert launch["ping_interval"] == 0.2  # claimed through the gateway, for detect_lostruns


# -- read-only lpad commands -------------------------------------------------------------
def test_read_only_lpad_commands_work_and_changes_are_refused(login, login_lp, node):
    code, _, err = run(["launchpad.cli", "add", os.path.join(EXAMPLES, "diamond.yaml")], login, login)
    assert code == 0, err
    assert node.rlaunch("singleshot")[0] == 0
    for args in (
        ["get_fws", "-s", "READY", "-d", "ids"],
        ["get_wflows", "-d", "more"],
        ["get_fws", "-i", "1", "-d", "all"],
        ["get_launchdir", "1"],
        ["report"],
        ["get_fws", "-q", '{"spec._tasks.0.script": {"$regex": "branch"}}'],
    ):
        through = node.lpad("-o", "json", *args)
        direct = run(["launchpad.cli", "-o", "json", *args], login, login)
        assert through[0] == direct[0] == 0, through[2]
        if args[0] == "get_launchdir":  # FireWorks' bare path, whatever -o says
            assert through[1] == direct[1] and through[1].strip().startswith("/"), args
            continue
        assert json.loads(through[1]) == json.loads(direct[1]), args
    before = login_lp.get_fws(fields=["fw_id", "state"])
    code, _, err = node.lpad("rerun_fws", "-i", "1")
    assert code == 2 and "not offered through the gateway" in err
    code, _, err = node.lpad("get_fws", "-q", '{"$where": "sleep(1000)"}')
    assert code == 2 and "$where" in err
    assert login_lp.get_fws(fields=["fw_id", "state"]) == before
    node.assert_no_store()


def test_a_listing_larger_than_max_rows_is_refused(login, login_lp, tmp_path):
    from launchpad import Firework
    from launchpad.tasks import ScriptTask

    for i in range(5):
        login_lp.add_wf(Firework(ScriptTask(script="true"), name=f"fw{i}"))
    gw = Gateway(login, "--max_rows", "3").start()
    try:
        node = Node(tmp_path / "node", gw)
        code, _, err = node.lpad("get_fws", "-d", "ids")
        assert code == 2 and "more than 3" in err
        code, out, err = node.lpad("-o", "json", "get_fws", "-d", "ids", "-m", "3")
        assert code == 0 and json.loads(out) == [1, 2, 3]
        assert node.lpad("-o", "json", "get_fws", "-d", "count")[1].strip() == "5"
    finally:
        gw.kill(signal.SIGTERM)


# -- tokens ------------------------------------------------------------------------------
def post(url, method, token, body=None):
    request = urllib.request.Request(
        f"{url}/v1/call/{method}",
        data=json.dumps(body or {}).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_a_request_without_a_valid_token_gets_401_and_changes_nothing(
    login, login_lp, gateway, node, tmp_path
):
    from launchpad import Firework
    from launchpad.tasks import ScriptTask

    login_lp.add_wf(Firework(ScriptTask(script="true"), name="only"))
    assert stat.S_IMODE(os.stat(gateway.token_file).st_mode) == 0o600
    (token,) = [
        line.split()[0]
        for line in gateway.token_file.read_text().splitlines()
        if line and not line.startswith("#")
    ]
    claim = {"kwargs": {"launch_dir": str(tmp_path)}}
    for bad in (None, "", "x" * len(token), token[:-1]):
        status, body = post(gateway.url, "claim_to_run", bad, claim)
        assert status == 401 and body["error"]["type"] == "GatewayAuthError"
    assert post(gateway.url, "rerun_fw", token, {"kwargs": {"fw_id": 1}})[0] == 403
    assert login_lp.get_fw_dict(1)["state"] == "READY" and not login_lp.get_launches()

    wrong = tmp_path / "wrong.token"
    wrong.write_text("not-a-listed-token\n")
    intruder = Node(tmp_path / "intruder", gateway, token_file=wrong)
    code, _, err = intruder.rlaunch("singleshot")
    assert code == 2 and "refused the token" in err
    assert login_lp.get_fw_dict(1)["state"] == "READY"

    # a second token for another worker, then the first one revoked: no restart
    second = tmp_path / "second.token"
    second.write_text("worker-two-token-0123456789\n")
    with open(gateway.token_file, "a") as fh:
        fh.write("worker-two-token-0123456789 worker two\n")
    assert Node(tmp_path / "two", gateway, token_file=second).lpad("get_fws")[0] == 0
    lines = gateway.token_file.read_text().splitlines()
    gateway.token_file.write_text("\n".join(line for line in lines if not line.startswith(token)) + "\n")
    assert node.lpad("get_fws")[0] == 2
    assert node.rlaunch("singleshot")[0] == 2
    assert login_lp.get_fw_dict(1)["state"] == "READY"
    assert token not in gateway.errors() and "worker-two-token" not in gateway.errors()


def test_sigterm_just_after_the_gateway_started_stops_it(login, login_lp):
    """A SIGTERM that comes before the server's own handlers are in place (the address
    is printed first) stops it too, instead of being lost."""
    for _ in range(12):  # the gap it once fell into is short: try it often
        gw = Gateway(login).start()
        gw.proc.send_signal(signal.SIGTERM)
        assert gw.proc.wait(timeout=15) == 0


def test_a_token_file_others_can_read_is_refused(login, tmp_path):
    token_file = login / "gateway.token"
    token_file.write_text("some-token\n")
    os.chmod(token_file, 0o644)
    code, _, err = run(
        ["launchpad.cli", "gateway", "--port", "0", "--token_file", str(token_file)], login, login, timeout=30
    )
    assert code == 2 and "chmod 600" in err


def test_https_with_the_gateway_certificate(login, login_lp, tmp_path):
    from launchpad import Firework
    from launchpad.tasks import ScriptTask

    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = login / "cert.pem", login / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    login_lp.add_wf(Firework(ScriptTask(script="true"), name="secure"))
    gw = Gateway(login, "--certfile", str(cert), "--keyfile", str(key)).start()
    try:
        assert gw.url.startswith("https://")
        untrusting = Node(tmp_path / "untrusting", gw)
        code, _, err = untrusting.rlaunch("singleshot")
        assert code == 2 and "certificate" in err and "ca_file" in err
        trusting = Node(tmp_path / "trusting", gw, ca_file=cert)
        code, _, err = trusting.rlaunch("singleshot")
        assert code == 0, err
        assert login_lp.get_fw_dict(1)["state"] == "COMPLETED"
    finally:
        gw.kill(signal.SIGTERM)


# -- in-process, on both stores: replies lost on the way back -----------------------------
@pytest.fixture
def served(lp, tmp_path):
    """A gateway thread over ``lp`` (SQLite or mongomock) and a client LaunchPad for it."""
    from launchpad.gateway.client import GatewayClient, GatewayLaunchPad
    from launchpad.gateway.server import build_server, url_of

    server, _ = build_server(lp, "127.0.0.1", 0, str(tmp_path / "gw.token"), threads=4)
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    token = (tmp_path / "gw.token").read_text().splitlines()[1].split()[0]
    client = GatewayClient(url_of(server), token, patience=2.0)
    yield server, GatewayLaunchPad(client=client, api=type(lp))
    server.stop()


def test_reads_keyed_by_firework_id_keep_integer_keys(lp, served):
    """JSON makes a dict's keys text: the task names of ``lpad report`` came back keyed by
    "1", and every firework was reported as deleted."""
    from launchpad import Firework
    from launchpad.tasks import PyTask, ScriptTask

    lp.add_wf(Firework([ScriptTask(script="true"), PyTask(func="math.floor", args=[1])]))
    _, client_lp = served
    assert client_lp.get_task_names([1, 2]) == lp.get_task_names([1, 2]) == {1: ["ScriptTask", "PyTask"]}
    assert client_lp.get_wf_summary_dict(1) == lp.get_wf_summary_dict(1)  # text keys stay text


def lose_replies(client, methods, count=1):
    """The next ``count`` replies to ``methods`` are applied by the gateway but never arrive."""
    real_post = client._post
    lost = []

    def post(path, body):
        reply = real_post(path, body)
        if path.rsplit("/", 1)[-1] in methods and len(lost) < count:
            lost.append(path)
            raise ConnectionResetError("the reply was lost")
        return reply

    client._post = post
    return lost


@pytest.mark.parametrize("restart", [False, True], ids=["same gateway", "restarted gateway"])
def test_a_claim_and_a_completion_whose_replies_were_lost_apply_once(lp, served, tmp_path, restart, caplog):
    from launchpad import Firework, FWAction
    from launchpad.tasks import ScriptTask

    server, client_lp = served
    app = server.app
    caplog.set_level("INFO", logger="launchpad.gateway")
    ids = [
        next(iter(lp.add_wf(Firework(ScriptTask(script="true"), name=f"fw{i}")).values())) for i in range(2)
    ]
    if restart:  # the gateway forgets every reply it gave: only the store remembers
        real = app.replies.once
        app.replies.once = lambda rid, compute: (app.replies._done.clear(), real(rid, compute))[1]
    for method in ("claim_to_run", "complete_launch"):
        lost = lose_replies(client_lp.store, {method})
        if method == "claim_to_run":
            fw, launch_id = client_lp.claim_to_run(launch_dir=str(tmp_path / "launcher_1"))
        else:
            assert (
                client_lp.complete_launch(launch_id, FWAction(stored_data={"x": 1}), fw_id=fw["fw_id"])
                == fw["fw_id"]
            )
        assert lost == [f"/v1/call/{method}"]
    assert fw["fw_id"] == ids[0]
    (launch,) = lp.get_launches()
    assert launch["state"] == "COMPLETED" and launch["action"]["stored_data"] == {"x": 1}
    assert "late_result" not in launch
    assert [f["state"] for f in lp.get_fws(sort=[("fw_id", 1)])] == ["COMPLETED", "READY"]
    found_in_store = [
        r.message
        for r in caplog.records
        if "was applied before" in r.message or "found its launch" in r.message
    ]
    assert len(found_in_store) == (2 if restart else 0)


def test_an_unanswered_claim_sent_again_by_the_rocket_is_recognised(lp, served, tmp_path):
    """The gateway stays away past the client's patience: the rocket calls again later,
    and the client marks it as a retry of the claim whose outcome it never learnt."""
    from launchpad import Firework
    from launchpad.errors import StoreUnavailableError
    from launchpad.tasks import ScriptTask

    server, client_lp = served
    lp.add_wf(Firework(ScriptTask(script="true"), name="one"))
    lost = lose_replies(client_lp.store, {"claim_to_run"}, count=100)
    client_lp.store._sleep = lambda s: None
    claim = {"launch_dir": str(tmp_path / "launcher_1"), "host": "node1"}
    with pytest.raises(StoreUnavailableError, match="does not answer"):
        client_lp.claim_to_run(**claim)
    server.app.replies._done.clear()  # and the gateway was restarted meanwhile
    lost.extend([None] * 100)  # replies arrive again
    fw, launch_id = client_lp.claim_to_run(**claim)
    assert fw["name"] == "one" and [launch["launch_id"] for launch in lp.get_launches()] == [launch_id]


def test_rapidfire_through_a_gateway_on_each_store(lp, served, tmp_path, monkeypatch):
    from launchpad import Firework, WorkerFilter, Workflow
    from launchpad.tasks import PyTask, ScriptTask
    from launchpad.worker import FWorker
    from rocket import rapidfire

    _, client_lp = served
    monkeypatch.chdir(tmp_path)
    parent = Firework(PyTask(func="test_gateway.defuse_children"), name="parent", fw_id=1)
    child = Firework(ScriptTask(script="true"), name="child", fw_id=2)
    lp.add_wf(Workflow([parent, child], {1: [2]}))
    lp.add_wf(Firework(ScriptTask(script="true"), name="other", spec={"_category": "other"}))
    lp.add_wf(Firework(ScriptTask(script="true"), name="tagged", spec={"_category": "mine"}))
    mine = FWorker(name="w", category="mine", query={"name": {"$regex": "^tag"}})
    assert rapidfire(client_lp, mine, launch_root=str(tmp_path), sleep_time=0, ping_interval=0) == 1
    assert [f["name"] for f in lp.get_fws({"state": "COMPLETED"})] == ["tagged"]
    n = rapidfire(client_lp, None, launch_root=str(tmp_path), sleep_time=0, ping_interval=0)
    assert n == 2
    states = {f["name"]: f["state"] for f in lp.get_fws()}
    assert states == {"parent": "COMPLETED", "child": "DEFUSED", "other": "COMPLETED", "tagged": "COMPLETED"}
    assert client_lp.run_exists(WorkerFilter()) is False
    assert client_lp.get_fw_by_id(1).name == "parent"


def test_every_launchpad_method_the_rocket_calls_is_served():
    """The rocket's code is the list: a LaunchPad call added there must be allowed here."""
    import ast

    from launchpad.gateway import protocol
    from launchpad.gateway.client import GatewayLaunchPad

    called = set()
    for name in os.listdir(os.path.join(ROOT, "rocket")):
        if name.endswith(".py"):
            with open(os.path.join(ROOT, "rocket", name), encoding="utf-8") as fh:
                tree = ast.parse(fh.read())
            for node in ast.walk(tree):
                if isinstance(node, ast.Attribute) and (
                    isinstance(node.value, ast.Name)
                    and node.value.id in ("lp", "launchpad")
                    or isinstance(node.value, ast.Attribute)
                    and node.value.attr == "lp"
                ):
                    called.add(node.attr)
    local = {n for n in called if n in vars(GatewayLaunchPad)}
    # launch_multiprocess calls to_dict only for a LaunchPad without a launchpad file (a
    # store opened in this process); a gateway's client always has one, which it passes on
    never_through_a_gateway = {"to_dict"}
    assert called >= {"claim_to_run", "complete_launch", "ping_launch"}
    assert called - local - protocol.ALLOWED - never_through_a_gateway == set()
    assert local <= protocol.ALLOWED  # a method of the client's own is still served


def test_a_rocket_through_a_gateway_sends_its_result_and_next_claim_together(tmp_path):
    from launchpad import LaunchPad
    from launchpad.gateway.client import GatewayLaunchPad
    from launchpad.stores import SQLiteStore
    from rocket.rocket import Rocket

    assert Rocket(GatewayLaunchPad(client=object()))._merges is True
    assert Rocket(LaunchPad(SQLiteStore(tmp_path / "s.sqlite")))._merges is True


def test_rapidfire_through_a_gateway_makes_one_request_per_firework(lp, served, tmp_path, monkeypatch):
    from launchpad import Firework
    from launchpad.tasks import ScriptTask
    from rocket import rapidfire

    _, client_lp = served
    monkeypatch.chdir(tmp_path)
    for i in range(3):
        lp.add_wf(Firework(ScriptTask(script="true"), name=f"fw{i}"))
    paths = []
    real_post = client_lp.store._post
    client_lp.store._post = lambda path, body: (paths.append(path.rsplit("/", 1)[-1]), real_post(path, body))[
        1
    ]
    assert rapidfire(client_lp, None, launch_root=str(tmp_path), sleep_time=0, ping_interval=0) == 3
    assert [f["state"] for f in lp.get_fws()] == ["COMPLETED"] * 3
    assert paths.count("finish_and_checkout") == 3 and "complete_launch" not in paths
    assert paths.count("claim_to_run") <= 2  # the first claim, and one that finds nothing


@pytest.mark.parametrize("restart", [False, True], ids=["same gateway", "restarted gateway"])
def test_a_result_and_next_claim_whose_reply_was_lost_apply_once(lp, served, tmp_path, restart, caplog):
    from launchpad import Firework, FWAction, WorkerFilter
    from launchpad.tasks import ScriptTask

    server, client_lp = served
    app = server.app
    caplog.set_level("INFO", logger="launchpad.gateway")
    for i in range(2):
        lp.add_wf(Firework(ScriptTask(script="true"), name=f"fw{i}"))
    if restart:  # the gateway forgets every reply it gave: only the store remembers
        real = app.replies.once
        app.replies.once = lambda rid, compute: (app.replies._done.clear(), real(rid, compute))[1]
    fw, launch_id = client_lp.claim_to_run(launch_dir=str(tmp_path / "launcher_1"))
    for claimed in ("fw1", None):  # the second claim finds nothing left
        lost = lose_replies(client_lp.store, {"finish_and_checkout"})
        checkout = {"worker": WorkerFilter(), "launch_dir": str(tmp_path / f"next_{launch_id}"), "host": "n1"}
        next_fw, next_launch, stale = client_lp.finish_and_checkout(
            launch_id, FWAction(stored_data={"x": 1}), fw_id=fw["fw_id"], checkout=checkout
        )
        assert lost == ["/v1/call/finish_and_checkout"] and stale is None
        assert (next_fw or {}).get("name") == claimed
        fw, launch_id = next_fw, next_launch
    launches = lp.get_launches(sort=[("launch_id", 1)])
    assert [(launch["state"], launch["action"]["stored_data"]) for launch in launches] == [
        ("COMPLETED", {"x": 1})
    ] * 2
    assert [f["state"] for f in lp.get_fws()] == ["COMPLETED", "COMPLETED"]
    found_in_store = [r.message for r in caplog.records if "found its launch" in r.message]
    assert len(found_in_store) == (1 if restart else 0)


# -- the launchpad file of a compute node ------------------------------------------------
def test_a_gateway_file_is_read_with_paths_relative_to_it(tmp_path):
    from launchpad.config import config_from_dict, config_to_dict
    from launchpad.errors import ConfigError

    source = str(tmp_path / "gw.yaml")
    config = config_from_dict({"gateway": "http://login1:6100", "token_file": "tok"}, source=source)
    assert config.kind == "gateway" and config.token_file == str(tmp_path / "tok")
    assert config.describe() == "gateway http://login1:6100"
    assert config_to_dict(config) == {"gateway": "http://login1:6100", "token_file": str(tmp_path / "tok")}
    with pytest.raises(ConfigError, match="needs gateway: http://HOST:PORT and token_file"):
        config_from_dict({"gateway": "http://login1:6100"}, source=source)
    with pytest.raises(ConfigError, match="unknown setting.*host"):
        config_from_dict({"gateway": "http://x:1", "token_file": "t", "host": "db"}, source=source)
    with pytest.raises(ConfigError, match="names a gateway, not a store"):
        from launchpad import LaunchPad

        LaunchPad(config=config)


def test_commands_say_what_to_do_when_the_gateway_is_wrong(tmp_path, login, gateway, node):
    (node.path / "ftp.yaml").write_text('{"gateway": "ftp://login1", "token_file": "gateway.token"}')
    code, _, err = run(["rocket.cli", "-l", "ftp.yaml", "singleshot"], node.path, node.home)
    assert code == 2 and "not an http:// or https:// address" in err
    code, _, err = run(
        ["launchpad.cli", "-l", str(node.path / "gw_launchpad.yaml"), "gateway", "--port", "0"],
        login,
        login,
        timeout=30,
    )
    assert code == 2 and "names a gateway" in err
    (node.path / "gateway.token").unlink()
    code, _, err = node.rlaunch("singleshot")
    assert code == 2 and "cannot read the gateway token file" in err


def test_rlaunch_multi_through_the_gateway_and_the_default_token_file(tmp_path, login, login_lp):
    from launchpad import Firework
    from launchpad.tasks import ScriptTask

    for i in range(6):
        login_lp.add_wf(Firework(ScriptTask(script="true"), name=f"fw{i}"))
    gw = Gateway(login)
    gw.options, gw.token_file = [], login / "gateway.token"
    proc = subprocess.Popen(
        [sys.executable, "-m", "launchpad.cli", "gateway", "--port", "0"],
        cwd=login,
        env=env_for(login),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        gw.url = re.search(r"(http://\S+)", proc.stdout.readline()).group(1)
        assert stat.S_IMODE(os.stat(login / "gateway.token").st_mode) == 0o600  # in STARSHELL_HOME
        node = Node(tmp_path / "node", gw)
        code, _, err = node.rlaunch("multi", "2", "--sleep", "0.1")
        assert code == 0, err
        assert login_lp.fw_state_counts() == {"COMPLETED": 6}
        assert len({launch["host"] for launch in login_lp.get_launches()}) == 1
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def test_malformed_calls_are_refused_with_a_reason(lp, served):
    from launchpad.gateway import protocol

    _, client_lp = served
    client = client_lp.store
    for method, kwargs, status in (
        ("get_fws", {"sort": [["fw_id"]]}, 400),
        ("get_fws", {"limit": "many"}, 400),
        ("get_fws", {"query": {"$where": "1"}}, 400),
        ("get_fw_dict", {"no_such_argument": 1}, 400),
        ("get_fw_dict", {"fw_id": 99}, 404),
    ):
        got, reply = client._post(f"/v1/call/{method}", protocol.dumps({"kwargs": kwargs}))
        assert got == status and reply["error"]["message"], (method, kwargs, reply)
    got, reply = client._post("/v1/call/get_fws", b'{"kwargs": [1, 2]}')
    assert got == 400
    assert protocol.error_from([1], 500).__class__.__name__ == "StarshellError"


def test_a_request_larger_than_the_limit_gets_413_before_it_is_read(lp, served, monkeypatch):
    from launchpad.gateway import server as gateway_server

    _, client_lp = served
    monkeypatch.setattr(gateway_server, "MAX_BODY", 1000)
    got, reply = client_lp.store._post(
        "/v1/call/get_fws", b'{"kwargs": {"query": {"name": "%s"}}}' % (b"x" * 2000)
    )
    assert got == 413 and "at most 1000 bytes" in reply["error"]["message"]
    assert reply["error"]["type"] == "GatewayRefusedError"
    assert client_lp.count_ready() == 0  # and the connection serves the next call


def test_a_rockets_calls_on_the_embedded_store_run_on_the_event_loop(lp, served):
    """On SQLite a rocket's call is made on the event loop (no hand-over between threads);
    reads, and everything on MongoDB, on the pool."""
    server, client_lp = served
    threads = {}
    for name in ("count_ready", "fw_state_counts"):
        real = getattr(lp, name)
        setattr(
            lp,
            name,
            lambda _real=real, _name=name, **kw: (
                threads.update({_name: threading.current_thread().name}),
                _real(**kw),
            )[1],
        )
    client_lp.count_ready()
    client_lp.fw_state_counts()
    on_sqlite = lp.store.kind == "sqlite"
    assert threads["count_ready"].startswith("gateway") != on_sqlite
    assert threads["fw_state_counts"].startswith("gateway")


def test_calls_run_on_at_most_threads_threads_and_idle_connections_hold_none(lp, tmp_path):
    """--threads bounds the calls worked on at once, and a kept-alive connection waiting
    for its rocket's next call holds no thread: many idle rockets never keep a busy one
    waiting."""
    from launchpad.gateway.client import GatewayClient
    from launchpad.gateway.server import build_server, url_of

    server, _ = build_server(lp, "127.0.0.1", 0, str(tmp_path / "gw.token"), threads=2)
    threading.Thread(target=server.serve, daemon=True).start()
    token = (tmp_path / "gw.token").read_text().splitlines()[1].split()[0]
    running, peak, lock = [0], [0], threading.Lock()
    real = lp.fw_state_counts

    def slow_count(**kwargs):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.3)
        with lock:
            running[0] -= 1
        return real(**kwargs)

    try:
        idle = [GatewayClient(url_of(server), token, patience=5.0) for _ in range(6)]
        for client in idle:  # six connections, each kept open after its call
            assert client.call("count_ready", {}) == 0
        started = time.monotonic()
        assert GatewayClient(url_of(server), token).call("count_ready", {}) == 0
        assert time.monotonic() - started < 1.0, "idle connections kept a new one waiting"
        lp.fw_state_counts = slow_count  # a read: on the pool on every store
        callers = [threading.Thread(target=c.call, args=("fw_state_counts", {})) for c in idle]
        started = time.monotonic()
        for caller in callers:
            caller.start()
        for caller in callers:
            caller.join(30)
        assert peak[0] == 2 and time.monotonic() - started >= 0.9  # 6 calls, 2 at a time
    finally:
        server.stop()


def test_a_gateway_down_longer_than_the_client_waits_is_waited_out_by_the_rocket(lp, tmp_path, monkeypatch):
    """The client gives up after its patience; the rocket then waits as for a store
    outage, and the result reaches a gateway started again on the same port."""
    from launchpad import Firework
    from launchpad.gateway.client import GatewayClient, GatewayLaunchPad
    from launchpad.gateway.server import build_server, url_of
    from launchpad.tasks import PyTask
    from rocket import launch_rocket

    token_file = str(tmp_path / "gw.token")
    first, _ = build_server(lp, "127.0.0.1", quiet_port(), token_file, threads=4)
    threading.Thread(target=first.serve, daemon=True).start()
    token = (tmp_path / "gw.token").read_text().splitlines()[1].split()[0]
    client_lp = GatewayLaunchPad(client=GatewayClient(url_of(first), token, patience=0.3), api=type(lp))
    (fw_id,) = lp.add_wf(Firework(PyTask(func="time.sleep", args=[1.0]), name="slow")).values()
    restarted = []

    def outage():
        time.sleep(0.4)  # the task is running
        first.stop()
        time.sleep(2.0)  # several times the client's patience
        again, _ = build_server(lp, "127.0.0.1", first.bind_addr[1], token_file, threads=4)
        restarted.append(again)
        again.serve()

    threading.Thread(target=outage, daemon=True).start()
    monkeypatch.chdir(tmp_path)
    try:
        assert (
            launch_rocket(client_lp, launch_root=str(tmp_path), ping_interval=0, store_patience=60) == fw_id
        )
    finally:
        for server in restarted:
            server.stop()
    assert restarted, "the completion went through before the gateway stopped"
    (launch,) = lp.get_launches()
    assert launch["state"] == "COMPLETED" and lp.get_fw_dict(fw_id)["state"] == "COMPLETED"


def test_the_client_reads_replies_a_proxy_may_reshape(tmp_path):
    """Chunked replies (as a reverse proxy may send them) and replies without a length."""
    import socket as socketlib

    from launchpad.gateway.client import _Connection

    replies = [
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b'4\r\n{"re\r\n9;x=y\r\nsult": 7}\r\n0\r\n\r\n'
        ),
        b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\n\r\n<html>down</html>",
    ]
    listener = socketlib.create_server(("127.0.0.1", 0))

    def serve():
        for reply in replies:
            conn, _ = listener.accept()
            conn.recv(65536)
            conn.sendall(reply)
            if b"Content-Length" not in reply and b"chunked" not in reply:
                conn.close()
            else:
                conn.recv(65536)
                conn.close()

    threading.Thread(target=serve, daemon=True).start()
    port = listener.getsockname()[1]
    first = _Connection("127.0.0.1", port, 10)
    assert first.post("/v1/call/x", b"{}", b"") == (200, b'{"result": 7}') and not first.closing
    first.close()
    second = _Connection("127.0.0.1", port, 10)
    assert second.post("/v1/call/x", b"{}", b"") == (502, b"<html>down</html>") and second.closing
    second.close()
    listener.close()


def test_a_fenced_launch_is_told_so_through_the_gateway(lp, served, tmp_path):
    """Rerun while it runs: the heartbeat says fenced, the completion is refused (409)
    and recorded as a late result, as on the store."""
    from launchpad import Firework, FWAction
    from launchpad.errors import StaleLaunchError
    from launchpad.tasks import ScriptTask

    _, client_lp = served
    (fw_id,) = lp.add_wf(Firework(ScriptTask(script="true"), name="fenced")).values()
    _, launch_id = client_lp.claim_to_run(launch_dir=str(tmp_path / "launcher_1"))
    assert client_lp.ping_launch(launch_id) is True
    lp.rerun_fw(fw_id)
    assert client_lp.ping_launch(launch_id) is False
    with pytest.raises(StaleLaunchError, match="fenced"):
        client_lp.complete_launch(launch_id, FWAction(stored_data={"late": 1}), fw_id=fw_id)
    assert lp.get_fw_dict(fw_id)["state"] == "READY"
    assert lp.get_launch(launch_id)["late_result"]["action"]["stored_data"] == {"late": 1}


def test_a_command_that_needs_the_store_itself_is_refused_cleanly(node):
    code, _, err = node.lpad("admin", "check")
    assert code == 2 and "needs the store itself" in err and "Traceback" not in err


def test_a_rocket_records_its_task_checkpoints_through_the_gateway(lp, served, tmp_path):
    """Task-level recovery of a killed run needs the checkpoint sent as each later task
    starts; through the gateway it travels with ping_launch, as on the store."""
    from launchpad import Firework
    from launchpad.tasks import ScriptTask
    from rocket import launch_rocket

    _, client_lp = served
    (fw_id,) = lp.add_wf(Firework([ScriptTask(script="true"), ScriptTask(script="true")])).values()
    assert launch_rocket(client_lp, launch_root=str(tmp_path), ping_interval=0) == fw_id
    launch = lp.get_fw_dict(fw_id)["launches"][-1]
    assert launch["checkpoint"]["_task_n"] == 1
    assert launch["checkpoint"]["_all_stored_data"]["returncode"] == 0
