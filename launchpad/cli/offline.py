"""``lpad recover_offline`` and ``lpad forget_offline``: FireWorks' offline mode, login-node side.

Jobs of ``rlaunch singleshot --offline`` report in files in their launch
directories; these commands read them into the store, or stop doing so for
chosen fireworks. The logic is in ``launchpad.offline``.
"""

import launchpad.display as display

from ..offline import forget_offline, recover_all, recovery_summary
from ..worker import load_fworker
from .common import add_selection, select_fw_ids
from .state import COMPAT_PASSWORD_HELP


def register(group):
    p = group.add_parser(
        "recover_offline",
        help="read offline runs' files (rlaunch --offline) into the store",
        description="For every offline run not yet finished in the store, read FW_offline.json, "
        "FW_ping.json and FW_action.json in its launch directory and record what they say: "
        "its start, its latest heartbeat, its end (the FWAction applied: additions, detours, "
        "spec updates...) or its failure. Running it again changes nothing. A run whose "
        "files cannot be read FIZZLES with the reason, unless --ignore_errors leaves it for "
        "a later try. Exit 1 when a run was left so.",
    )
    p.add_argument(
        "-w",
        "--fworker_file",
        metavar="FILE",
        help="only runs reserved by this worker (my_fworker.yaml's name); default: every run",
    )
    p.add_argument(
        "-i",
        "--ignore_errors",
        action="store_true",
        help="leave a run whose files cannot be read as it is (default: it FIZZLES with the reason)",
    )
    p.add_argument(
        "-pe",
        "--print-errors",
        "--print_errors",
        dest="print_errors",
        action="store_true",
        help="print each run that could not be recovered and why (FireWorks' option)",
    )
    p.add_argument(
        "--print-launches",
        "--print_launches",
        dest="print_launches",
        action="store_true",
        help="print a line for each offline run: its launch, firework and what was recorded",
    )
    p.set_defaults(func=recover_offline)

    p = group.add_parser(
        "forget_offline",
        help="stop recovering fireworks' offline runs",
        description="Mark the pending offline runs of the selected fireworks as forgotten: "
        "recover_offline no longer reads their files (their fireworks keep their state; rerun "
        "or defuse them as needed).",
    )
    add_selection(p)
    p.add_argument("--password", help=COMPAT_PASSWORD_HELP)
    p.set_defaults(func=forget)


def recover_offline(args, lp):
    worker = load_fworker(args.fworker_file).name if args.fworker_file else None
    results = recover_all(lp, worker, ignore_errors=args.ignore_errors, print_errors=False)
    data = [r.to_dict() for r in results]
    display.emit(data, args.output, human=lambda: _show(results, args))
    return 1 if any(r.failed for r in results) else 0


def _show(results, args):
    if args.print_launches:
        for r in results:
            steps = f" ({', '.join(r.steps)})" if r.steps else ""
            display.out(f"launch {r.launch_id} of firework {r.fw_id}: {r.outcome}{steps}")
    if args.print_errors:
        for r in results:
            if r.error:
                display.note(f"launch {r.launch_id} of firework {r.fw_id}: {r.error}")
    display.out(recovery_summary(results))


def forget(args, lp):
    fw_ids = select_fw_ids(lp, args)
    forgotten = {fw_id: forget_offline(lp, fw_id, launch_mode=False) for fw_id in fw_ids}
    data = [{"fw_id": fw_id, "forgotten": n} for fw_id, n in forgotten.items()]
    done = [fw_id for fw_id, n in forgotten.items() if n]
    display.emit(
        data,
        args.output,
        human=lambda: display.out(
            f"forgot the offline runs of firework(s) {', '.join(map(str, done))}"
            if done
            else "no pending offline run among the selected fireworks"
        ),
    )
    return 0
