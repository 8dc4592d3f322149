"""The gateway's cost: no-op fireworks per second through one ``lpad gateway``
against the same rockets on the embedded store, and the load of idle rockets.

Throughput: N no-op fireworks (PyTask ``math.floor(1)``, one-firework
workflows) on a fresh SQLite store, run by 1, 4 and 16 real ``rlaunch
rapidfire`` processes, either on the store directly or from a "compute node"
environment whose launchpad file names a gateway on this machine.
fw/s is completed fireworks over the span from the first launch's start to
the last one's end (process start-up left out).

Idle load: 100 rapidfire rockets (threads of one process, the real rapidfire
loop) waiting for a firework held RUNNING, for ``--idle_s`` seconds; reported
as LaunchPad calls per second and the CPU the gateway (or the rockets'
process, on the store) spends.

CPU per firework: the rockets' (their start-up, measured on a store with no
work, taken off) and the gateway's; from them, what the CPU allows on this
machine when it is quiet (the gateway is one process, one core at most; it and
the rockets share two). The last line says whether issue 12's target (500 fw/s
through one gateway with 4 rockets) was met in this run.

    python bench/gateway.py [--quick]      # one JSON line on stdout, a table on stderr
"""

import argparse
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from launchpad import Firework, LaunchPad, Workflow  # noqa: E402
from launchpad.stores import SQLiteStore  # noqa: E402
from launchpad.tasks import PyTask  # noqa: E402

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"


def env_for(home):
    env = dict(os.environ, STARSHELL_HOME=str(home), PYTHONPATH=ROOT)
    env.pop("STARSHELL_LAUNCHPAD", None)
    return env


def fresh_store(work, n):
    lp = LaunchPad(SQLiteStore(os.path.join(work, "launchpad.sqlite")))
    lp.add_wf(Workflow([Firework(PyTask(func="math.floor", args=[1]), fw_id=i) for i in range(1, n + 1)]))
    return lp


PROFILE = None  # --profile: the gateway runs under cProfile, writing its stats here


def start_gateway(work):
    profile = [os.path.join(ROOT, "bench", "thread_profile.py"), PROFILE] if PROFILE else []
    proc = subprocess.Popen(
        [
            sys.executable,
            *profile,
            "-m",
            "launchpad.cli",
            "gateway",
            "--port",
            "0",
            "--token_file",
            os.path.join(work, "gw.token"),
            "--threads",
            "24",
        ],
        cwd=work,
        env=env_for(work),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    url = re.search(r"(https?://\S+)", proc.stdout.readline()).group(1)
    node = os.path.join(work, "node")
    os.makedirs(node)
    shutil.copy(os.path.join(work, "gw.token"), os.path.join(node, "gw.token"))
    with open(os.path.join(node, "gw.yaml"), "w") as fh:
        json.dump({"gateway": url, "token_file": "gw.token"}, fh)
    return proc, node


def span_rate(lp):
    """Completed fireworks per second from the first launch's start to the last one's end."""
    launches = lp.get_launches({"state": "COMPLETED"}, fields=["time_start", "time_end"])
    first = min(datetime.strptime(launch["time_start"], TIME_FORMAT) for launch in launches)
    last = max(datetime.strptime(launch["time_end"], TIME_FORMAT) for launch in launches)
    return len(launches), len(launches) / (last - first).total_seconds()


def throughput(transport, rockets, n):
    work = tempfile.mkdtemp(prefix=f"gwbench-{transport}-")
    try:
        lp = fresh_store(work, n)
        gateway, cwd, home, args = None, work, work, []
        if transport == "gateway":
            gateway, cwd = start_gateway(work)
            home, args = os.path.join(cwd, "home"), ["-l", "gw.yaml"]
        cpu0, gateway_cpu0 = _children_cpu(), _cpu_of(gateway)  # start-ups left out
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "rocket.cli", *args, "-s", "rapidfire", "--sleep", "0.05"],
                cwd=cwd,
                env=env_for(home),
            )
            for _ in range(rockets)
        ]
        codes = [p.wait() for p in procs]
        rockets_cpu = _children_cpu() - cpu0
        gateway_cpu = 0.0
        if gateway is not None:
            gateway_cpu = _cpu_of(gateway) - gateway_cpu0
            gateway.send_signal(signal.SIGTERM)
            gateway.wait()
        done, rate = span_rate(lp)
        lp.store.close()
        return {
            "transport": transport,
            "rockets": rockets,
            "n": n,
            "completed": done,
            "fw_per_s": round(rate, 1),
            "ok": done == n and codes == [0] * rockets,
            "rockets_cpu_ms_per_fw": round(1000 * rockets_cpu / max(done, 1), 3),
            "gateway_cpu_ms_per_fw": round(1000 * gateway_cpu / max(done, 1), 3),
            "load_avg": round(os.getloadavg()[0], 1),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


class Counting:
    """A LaunchPad stand-in that counts the calls the rockets make."""

    def __init__(self, lp):
        self._lp, self.calls = lp, 0

    def __getattr__(self, name):
        attr = getattr(self._lp, name)
        if not callable(attr):
            return attr

        def counted(*args, **kwargs):
            self.calls += 1
            return attr(*args, **kwargs)

        return counted


def idle_load(transport, rockets, seconds):
    """Idle rockets polling for ``seconds``: calls/s and CPU of whoever serves them."""
    from launchpad.config import load_config
    from rocket import rapidfire

    work = tempfile.mkdtemp(prefix=f"gwbench-idle-{transport}-")
    try:
        lp = LaunchPad(SQLiteStore(os.path.join(work, "launchpad.sqlite")))
        parent = Firework(PyTask(func="math.floor", args=[1]), fw_id=1)
        lp.add_wf(Workflow([parent, Firework(PyTask(func="math.floor", args=[1]), fw_id=2)], {1: [2]}))
        _, launch_id = lp.claim_to_run(launch_dir=work)  # held RUNNING: the rockets wait for it
        gateway = None
        if transport == "gateway":
            gateway, node = start_gateway(work)
            client = LaunchPad.from_config(load_config(os.path.join(node, "gw.yaml")))
        else:
            client = LaunchPad(SQLiteStore(os.path.join(work, "launchpad.sqlite")))
        counting = Counting(client)
        stop = threading.Event()

        def keep_alive():
            while not stop.wait(0.5):
                lp.ping_launch(launch_id)

        pinger = threading.Thread(target=keep_alive, daemon=True)
        pinger.start()
        cpu0, gw0, t0 = _own_cpu(), _cpu_of(gateway), time.monotonic()
        options = {"launch_root": work, "sleep_time": 60.0, "timeout": seconds, "ping_interval": 1.0}
        threads = [
            threading.Thread(target=rapidfire, args=(counting,), kwargs=options, daemon=True)
            for _ in range(rockets)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - t0
        stop.set()
        out = {
            "transport": transport,
            "rockets": rockets,
            "seconds": round(elapsed, 1),
            "calls_per_s": round(counting.calls / elapsed, 1),
            "rockets_cpu_pct": round(100 * (_own_cpu() - cpu0) / elapsed, 1),
        }
        if gateway is not None:
            out["gateway_cpu_pct"] = round(100 * (_cpu_of(gateway) - gw0) / elapsed, 1)
            gateway.send_signal(signal.SIGTERM)
            gateway.wait()
        return out
    finally:
        shutil.rmtree(work, ignore_errors=True)


def split(n=600):
    """CPU ms of one no-op firework's step (its result and the next claim, one
    ``finish_and_checkout``) on the LaunchPad alone, through the gateway's
    application without HTTP (client and server in one process), and over HTTP
    (one client thread; the gateway's CPU and the client's apart)."""
    from launchpad.config import load_config
    from launchpad.gateway import protocol
    from launchpad.gateway.client import GatewayLaunchPad
    from launchpad.gateway.server import GatewayApp
    from launchpad.gateway.tokens import TokenFile, create_token_file

    def steps(lp, work):
        fw, launch_id = lp.claim_to_run(launch_dir=os.path.join(work, "l0"), host="h", ip="1")
        t0 = time.process_time()
        for i in range(1, n):
            checkout = {
                "launch_dir": os.path.join(work, f"l{i}"),
                "host": "h",
                "ip": "1",
                "ping_interval": 60.0,
            }
            fw, launch_id, _ = lp.finish_and_checkout(launch_id, fw_id=fw["fw_id"], checkout=checkout)
        return 1000 * (time.process_time() - t0) / (n - 1)

    class InProcess:
        """The client's calls handed to the application's call path directly (token
        check, decoding, the call, encoding; no HTTP, no thread hand-off)."""

        def __init__(self, app, token):
            self.app, self.token = app, token

        def call(self, method, kwargs, once=False):
            body = protocol.dumps({"kwargs": kwargs, "request_id": os.urandom(8).hex()})
            self.app.tokens.check(self.token)
            status, payload = self.app.respond(method, body)
            return protocol.untag(json.loads(payload)["result"])

    out, works = {}, [tempfile.mkdtemp(prefix=f"gwbench-split{i}-") for i in range(3)]
    try:
        out["launchpad_ms"] = steps(fresh_store(works[0], n), works[0])
        lp = fresh_store(works[1], n)
        create_token_file(os.path.join(works[1], "t"))
        token = open(os.path.join(works[1], "t")).read().split("\n")[1].split()[0]
        client = InProcess(GatewayApp(lp, TokenFile(os.path.join(works[1], "t"))), token)
        out["app_and_client_ms"] = steps(GatewayLaunchPad(client=client, api=LaunchPad), works[1])
        fresh_store(works[2], n)
        gateway, node = start_gateway(works[2])
        client_lp = LaunchPad.from_config(load_config(os.path.join(node, "gw.yaml")))
        cpu0 = _cpu_of(gateway)
        out["http_client_ms"] = steps(client_lp, works[2])
        out["http_gateway_ms"] = 1000 * (_cpu_of(gateway) - cpu0) / (n - 1)
        gateway.send_signal(signal.SIGTERM)
        gateway.wait()
        return {k: round(v, 3) for k, v in out.items()}
    finally:
        for work in works:
            shutil.rmtree(work, ignore_errors=True)


def startup_cpu(transport):
    """CPU seconds of one rlaunch process that finds no work (its start-up and the look
    that finds nothing), on the store or through a gateway: taken off the rockets' CPU
    to give their cost per firework."""
    work = tempfile.mkdtemp(prefix=f"gwbench-startup-{transport}-")
    try:
        LaunchPad(SQLiteStore(os.path.join(work, "launchpad.sqlite"))).store.close()
        gateway, cwd, home, args = None, work, work, []
        if transport == "gateway":
            gateway, cwd = start_gateway(work)
            home, args = os.path.join(cwd, "home"), ["-l", "gw.yaml"]
        cpu0 = _children_cpu()
        for _ in range(3):
            subprocess.run(
                [sys.executable, "-m", "rocket.cli", *args, "-s", "rapidfire", "--sleep", "0.05"],
                cwd=cwd,
                env=env_for(home),
                check=True,
            )
        spent = (_children_cpu() - cpu0) / 3
        if gateway is not None:
            gateway.send_signal(signal.SIGTERM)
            gateway.wait()
        return spent
    finally:
        shutil.rmtree(work, ignore_errors=True)


def add_projection(row, startup_s):
    """The rockets' CPU per firework without their start-up, and what the CPU costs allow
    on this machine when it is quiet: the gateway is one process (one core at most under
    the GIL), and gateway and rockets together have two cores."""
    done = max(row["completed"], 1)
    rockets_ms = max(row["rockets_cpu_ms_per_fw"] - 1000 * startup_s * row["rockets"] / done, 0.01)
    row["rockets_cpu_ms_per_fw_net"] = round(rockets_ms, 3)
    gateway_ms = row["gateway_cpu_ms_per_fw"]
    cores = 2000.0 / (rockets_ms + gateway_ms)
    row["cpu_bound_fw_per_s"] = round(min(cores, 1000.0 / gateway_ms) if gateway_ms else cores)
    return row


def _own_cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _cpu_of(proc):
    if proc is None:
        return 0.0
    with open(f"/proc/{proc.pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs (a smoke test)")
    parser.add_argument("--idle_s", type=float, default=5.0, help="seconds of idle polling (0: none)")
    parser.add_argument("--rockets", default="1,4,16", help="numbers of rockets, comma-separated")
    parser.add_argument(
        "--profile",
        metavar="PATH",
        help="run the gateway under cProfile; the last gateway's stats go to PATH",
    )
    parser.add_argument("--split", action="store_true", help="only where a firework's CPU goes (see split)")
    parser.add_argument(
        "--workdir",
        help="where the stores and launch directories go (default: the system's temporary directory)",
    )
    args = parser.parse_args(argv)
    if args.workdir:
        tempfile.tempdir = os.path.abspath(args.workdir)
    if args.split:
        print(json.dumps({"split": split()}))
        return 0
    global PROFILE
    PROFILE = args.profile and os.path.abspath(args.profile)
    scale = 0.25 if args.quick else 1.0
    startup_s = {transport: startup_cpu(transport) for transport in ("store", "gateway")}
    runs = []
    sizes = {1: 400}
    for rockets in (int(r) for r in args.rockets.split(",")):
        n = sizes.get(rockets, 1600)
        for transport in ("store", "gateway"):
            runs.append(add_projection(throughput(transport, rockets, int(n * scale)), startup_s[transport]))
            r = runs[-1]
            print(
                f"{transport:8} {rockets:3} rockets: {r['fw_per_s']:8.1f} fw/s, CPU ms per "
                f"firework: rockets {r['rockets_cpu_ms_per_fw_net']} (+ start-up: "
                f"{r['rockets_cpu_ms_per_fw']}), gateway {r['gateway_cpu_ms_per_fw']}; "
                f"CPU allows ~{r['cpu_bound_fw_per_s']} fw/s (load {r['load_avg']})",
                file=sys.stderr,
            )
    target = [r for r in runs if r["transport"] == "gateway" and r["rockets"] == 4]
    for r in target:
        verdict = "met" if r["fw_per_s"] >= 500 else "NOT met"
        print(
            f"issue 12's target, >= 500 no-op fw/s through one gateway with 4 rockets: {verdict} "
            f"({r['fw_per_s']} fw/s; the same rockets on the store: "
            f"{next(x['fw_per_s'] for x in runs if x['transport'] == 'store' and x['rockets'] == 4)}"
            f" fw/s; load {r['load_avg']})",
            file=sys.stderr,
        )
    idle = [idle_load(t, 100, args.idle_s * scale) for t in ("store", "gateway")] if args.idle_s > 0 else []
    for row in idle:
        print(f"idle {row}", file=sys.stderr)
    print(json.dumps({"throughput": runs, "idle": idle}))
    return 0 if all(r["ok"] for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
