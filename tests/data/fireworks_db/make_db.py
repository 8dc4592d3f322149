"""Make fireworks_db.json: a FireWorks 2.1.x database with a workflow in every state.

This is how the test data of tests/test_import_fireworks.py was made. Run it
with FireWorks' own Python (bench/setup_fireworks.sh builds that venv):

    bench/.venv-fireworks/bin/python tests/data/fireworks_db/make_db.py [OUT.json]

FireWorks runs on its embedded store (mongomock-persistence): FW_config.yaml
names MONGOMOCK_SERVERSTORE_FILE, and the store writes the whole database to
that JSON file when the process exits. Everything is done through FireWorks'
public API (LaunchPad, Firework, Workflow, launch_rocket), so the file holds
exactly what FireWorks writes: the fireworks, workflows, launches and
fw_id_assigner collections.
"""

import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def enter_scratch(out):
    """FireWorks reads FW_config.yaml from the cwd when it is imported: set it up first
    (the benchmarks' helper), then point its store at ``out``."""
    sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "bench"))
    from fireworks_side import enter_scratch as bench_scratch

    scratch = bench_scratch(tempfile.gettempdir())
    with open(out, "w") as fh:
        fh.write("{}")
    os.environ["MONGOMOCK_SERVERSTORE_FILE"] = out  # wins over FW_config.yaml's file
    sys.path.insert(0, HERE)  # fw_actions, for PyTask
    return scratch


def script(text, name, **spec):
    from fireworks import Firework, ScriptTask

    return Firework(ScriptTask.from_str(text), name=name, spec=spec)


def pytask(func, name, args=(), **spec):
    from fireworks import Firework, PyTask

    return Firework(PyTask(func=func, args=list(args)), name=name, spec=spec)


def add(lp, fws, links, name, **metadata):
    """Add a workflow; returns {position in fws: fw_id}."""
    from fireworks import Workflow

    old = {i: fw.fw_id for i, fw in enumerate(fws)}
    id_map = lp.add_wf(
        Workflow(
            fws,
            links_dict={fws[p].fw_id: [fws[c].fw_id for c in kids] for p, kids in links.items()},
            name=name,
            metadata=metadata,
        )
    )
    return {i: id_map[fw_id] for i, fw_id in old.items()}


def run(lp, fw_id):
    from fireworks import FWorker
    from fireworks.core.rocket_launcher import launch_rocket

    launch_rocket(lp, FWorker(name="maker"), fw_id=fw_id)


def build(lp):
    from fireworks import FWorker

    lp.reset("", require_password=False)
    # COMPLETED, with stored data, update_spec, an addition and a detour
    ids = add(
        lp,
        [
            pytask("fw_actions.grow", "grow", [3], _priority=5),
            pytask("fw_actions.detour", "detour parent"),
            script("echo last", "last"),
        ],
        {0: [1], 1: [2]},
        "completed with actions",
        project="demo",
        tags=["a", "b"],
    )
    while lp.get_fw_ids({"state": "READY"}):  # only this workflow exists yet
        run(lp, lp.get_fw_ids({"state": "READY"})[0])
    # FIZZLED with an exception; its child stays WAITING
    ids = add(
        lp,
        [pytask("fw_actions.fail", "fails", ["bad input"]), script("echo never", "after")],
        {0: [1]},
        "fizzled",
    )
    run(lp, ids[0])
    # a rerun firework: completed, rerun (its launch archived), completed again
    ids = add(lp, [script("echo again", "rerun me")], {}, "rerun")
    run(lp, ids[0])
    lp.rerun_fw(ids[0])
    run(lp, ids[0])
    # ARCHIVED
    ids = add(lp, [script("echo old", "archived")], {}, "archived")
    run(lp, ids[0])
    lp.archive_wf(ids[0])
    # PAUSED and DEFUSED
    ids = add(lp, [script("echo p", "paused"), script("echo d", "defused")], {}, "paused and defused")
    lp.pause_fw(ids[0])
    lp.defuse_fw(ids[1])
    # READY fireworks with WAITING children: starshell's rlaunch runs them after the import
    ids = add(
        lp,
        [
            script("echo root", "ready root", _category="imported"),
            script("echo mid", "waiting mid"),
            script("echo leaf", "waiting leaf"),
        ],
        {0: [1], 1: [2]},
        "ready chain",
        owner="alice",
    )
    # RUNNING (a rocket that is still at work) and RESERVED (queued in the batch system)
    ids = add(lp, [script("echo run", "running"), script("echo next", "after running")], {0: [1]}, "running")
    lp.checkout_fw(FWorker(name="node1"), os.path.join(os.getcwd(), "running_dir"), fw_id=ids[0])
    ids = add(lp, [script("echo res", "reserved")], {}, "reserved")
    _fw, launch_id = lp.reserve_fw(
        FWorker(name="node2"), os.path.join(os.getcwd(), "queued_dir"), fw_id=ids[0]
    )
    lp.set_reservation_id(launch_id, "4242")


def main(argv):
    out = os.path.abspath(argv[0] if argv else os.path.join(HERE, "fireworks_db.json"))
    scratch = enter_scratch(out)
    from fireworks import LaunchPad

    lp = LaunchPad()
    build(lp)
    print(f"wrote {out} (FireWorks launch dirs under {scratch})")


if __name__ == "__main__":
    main(sys.argv[1:])
    # mongomock-persistence writes the file at exit; the launch directories stay behind
    # (their paths are in the data) until the system cleans its temp dir
