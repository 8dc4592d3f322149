"""A small demo store to try the GUI on, also used by its tests and screenshots.

``python -m webgui.demo DIR`` fills ``DIR/launchpad.sqlite`` and serves it:
one workflow with a COMPLETED, a FIZZLED and a RUNNING firework (launches
with output files in ``DIR/launches``) and a few waiting ones. Results are
recorded through the LaunchPad API as a rocket would, without running tasks.
"""

import argparse
import os
import sys

from launchpad import Firework, FWAction, LaunchPad, Workflow
from launchpad.states import LaunchState
from launchpad.stores import SQLiteStore
from launchpad.tasks import ScriptTask

NAMES = [
    "fetch structures",
    "relax Si",
    "relax Ge",
    "relax GaAs",
    "band structure Si",
    "band structure Ge",
    "band structure GaAs",
    "collect results",
]
LINKS = {1: [2, 3, 4], 2: [5], 3: [6], 4: [7], 5: [8], 6: [8], 7: [8]}
# Layer sizes of the large layered DAGs the tests and bench/webgui_latency.py draw.
THOUSAND = [1, 300, 300, 300, 98, 1]
TEN_THOUSAND = [1, 3000, 3000, 3000, 998, 1]


def layered(sizes, name):
    """A workflow whose layer ``d`` has ``sizes[d]`` fireworks, each with one or two parents above."""
    fws, links, above, next_id = [], {}, [], 1
    for depth, size in enumerate(sizes):
        layer = list(range(next_id, next_id + size))
        next_id += size
        for i, fw_id in enumerate(layer):
            fws.append(Firework(ScriptTask(script="true"), name=f"L{depth} step {i}", fw_id=fw_id))
            for parent in {above[i % len(above)], above[(i + 1) % len(above)]} if above else ():
                links.setdefault(parent, []).append(fw_id)
        above = layer
    return Workflow(fws, links, name=name)


TRACEBACK = (
    'Traceback (most recent call last):\n  File "relax.py", line 41, in <module>\n'
    "    run_scf(structure)\nRuntimeError: SCF did not converge in 60 steps"
)


def _write_outputs(launch_dir, name, failed):
    os.makedirs(launch_dir, exist_ok=True)
    with open(os.path.join(launch_dir, "FW_job.out"), "w", encoding="utf-8") as out:
        out.writelines(f"{name}: SCF step {i:3d}  dE = {10.0 ** -(i / 12):.3e} eV\n" for i in range(1, 61))
    with open(os.path.join(launch_dir, "FW_job.error"), "w", encoding="utf-8") as err:
        err.write(TRACEBACK + "\n" if failed else "")


def record_launch(lp, fw_id, state, launch_dir, host="node042", **result):
    """Check ``fw_id`` out and complete it with ``state``, as a rocket would.

    The ip is given so the made-up host name is never looked up in DNS.
    """
    fw, launch_id = lp.claim_to_run(fw_id=fw_id, launch_dir=launch_dir, host=host, ip="10.0.0.42")
    if fw is None:
        raise RuntimeError(f"firework {fw_id} is not READY")
    _write_outputs(launch_dir, fw["name"], failed=state == LaunchState.FIZZLED)
    if state != LaunchState.RUNNING:
        lp.complete_launch(launch_id, state=state, fw_id=fw_id, **result)
    return launch_id


def build_demo(lp, launch_root, extra_workflows=3):
    """Add the demo workflows to ``lp``; returns the band-gap workflow's ``{file id: fw_id}``."""
    fws = [
        Firework(
            ScriptTask(script=f"python run.py --step '{name}'"),
            name=name,
            fw_id=i,
            spec={"_priority": 2 if "relax" in name else 0, "material": name.split()[-1]},
        )
        for i, name in enumerate(NAMES, start=1)
    ]
    ids = lp.add_wf(
        Workflow(fws, LINKS, name="semiconductor band gaps", metadata={"project": "gaps", "owner": "demo"})
    )
    for k in range(extra_workflows):
        chain = [
            Firework(ScriptTask(script=f"echo {k}.{j}"), name=f"k-points {j}", fw_id=j) for j in range(1, 4)
        ]
        lp.add_wf(Workflow(chain, {1: [2], 2: [3]}, name=f"convergence test {k}"))
    root = os.path.abspath(launch_root)
    record_launch(
        lp,
        ids[1],
        LaunchState.COMPLETED.value,
        os.path.join(root, "launch_fetch"),
        action=FWAction(stored_data={"structures": 3, "source": "demo"}),
    )
    record_launch(
        lp,
        ids[2],
        LaunchState.COMPLETED.value,
        os.path.join(root, "launch_relax_si"),
        action=FWAction(stored_data={"energy_eV": -10.84}),
    )
    record_launch(
        lp,
        ids[3],
        LaunchState.FIZZLED.value,
        os.path.join(root, "launch_relax_ge"),
        exception={"message": "SCF did not converge in 60 steps", "traceback": TRACEBACK},
    )
    record_launch(
        lp, ids[4], LaunchState.RUNNING.value, os.path.join(root, "launch_relax_gaas"), host="node043"
    )
    return ids


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m webgui.demo", description=__doc__.splitlines()[0])
    parser.add_argument("directory", help="where to create the demo store and launch directories")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--password-file", help="enable actions (make one with python -m webgui.passwd)")
    args = parser.parse_args(argv)
    path = os.path.join(args.directory, "launchpad.sqlite")
    if os.path.exists(path):
        print(f"{path} exists already; pick an empty directory", file=sys.stderr)
        return 1
    lp = LaunchPad(SQLiteStore(path))
    build_demo(lp, os.path.join(args.directory, "launches"))
    from .app import serve

    return serve(lp, port=args.port, password_file=args.password_file)


if __name__ == "__main__":
    sys.exit(main())
