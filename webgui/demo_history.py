"""Launch history to try the "Over time" plots, the timeline and the fireworks
page on: workflows whose fireworks ran on a few hosts over the last day or
two, some of them FIZZLED with an error message.

Recorded through the LaunchPad API, its clock stepped by hand, as rockets
would have, without running tasks; used by the tests, the screenshots and the
latency benchmark.
"""

import random
from datetime import datetime, timedelta, timezone

from launchpad import Firework, Workflow
from launchpad.states import LaunchState
from launchpad.tasks import PyTask, ScriptTask

HOSTS = ["node001", "node002", "node003", "gpu01"]
STEPS = [("relax", 600), ("static", 120), ("band structure", 300), ("phonons", 1500)]
ERRORS = [
    "RuntimeError: SCF did not converge in 60 steps",
    "MemoryError: cannot allocate 12.0 GiB for the Hessian",
    "subprocess.CalledProcessError: vasp_std exited with status 137",
]


class SteppedClock:
    """A clock the builder moves by hand: each launch starts and ends when told."""

    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


def history_fireworks(w, rng):
    """One workflow's chain: a task per step, PyTask for phonons so two task names show."""
    fws = []
    for i, (step, _) in enumerate(STEPS, start=1):
        task = PyTask(func="math.floor", args=[1]) if step == "phonons" else ScriptTask(script=f"run {step}")
        fws.append(Firework(task, fw_id=i, name=f"{step} mp-{w}-{rng.randint(100, 999)}"))
    return fws


def build_history(lp, workflows=6, hours=30, seed=7, end=None):
    """Add ``workflows`` workflows (relax, then three steps side by side) and run
    them over the ``hours`` before ``end`` (now).

    Returns ``{"workflows": [wf ids], "fizzled": [fw ids]}``.
    """
    rng = random.Random(seed)
    end = end or datetime.now(timezone.utc)
    clock, kept = SteppedClock(end), lp.clock
    lp.clock = clock  # the LaunchPad stamps every change with the history's time
    out = {"workflows": [], "fizzled": []}
    try:
        for w in range(workflows):
            clock.now = end - timedelta(hours=hours * (1 - w / workflows))
            ids = lp.add_wf(Workflow(history_fireworks(w, rng), {1: [2, 3, 4]}, name=f"mp-{w} band gap"))
            out["workflows"].append(lp.wf_id_of(ids[1]))
            if run_steps(lp, clock, [ids[1]], end, rng, out):
                run_steps(lp, clock, [ids[2], ids[3], ids[4]], end, rng, out)
    finally:
        lp.clock = kept
    return out


def run_steps(lp, clock, fw_ids, end, rng, out):
    """Start ``fw_ids`` a few seconds apart on random hosts, finish each after its
    typical runtime (times a random factor); True when all COMPLETED by ``end``."""
    started = []
    for fw_id in fw_ids:
        clock.now += timedelta(seconds=rng.uniform(2, 30))
        _, launch_id = lp.claim_to_run(
            fw_id=fw_id, launch_dir=f"/scratch/{fw_id}", host=rng.choice(HOSTS), ip="10.0.0.9"
        )
        typical = dict(STEPS)[lp.get_fws({"fw_id": fw_id}, fields=["name"])[0]["name"].split(" mp-")[0]]
        started.append((clock.now + timedelta(seconds=typical * rng.uniform(0.4, 1.8)), fw_id, launch_id))
    done = True
    for finish, fw_id, launch_id in sorted(started):
        if finish > end:
            done = False  # still running when the history ends
            continue
        clock.now = finish
        if rng.random() < 0.15:
            exception = {
                "message": rng.choice(ERRORS),
                "traceback": "Traceback (most recent call last):\n...",
            }
            lp.complete_launch(launch_id, state=LaunchState.FIZZLED.value, fw_id=fw_id, exception=exception)
            out["fizzled"].append(fw_id)
            done = False
        else:
            lp.complete_launch(launch_id, state=LaunchState.COMPLETED.value, fw_id=fw_id)
    return done
