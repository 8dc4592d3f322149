"""``lpad admin`` upkeep from FireWorks: tuneup, refresh, unlock, maintain, orphaned.

``register(actions)`` adds them under ``lpad admin``; the work is done by the
store (tuneup) and ``launchpad.maintenance``.
"""

import launchpad.display as display

from .common import add_ids_option, given_ids, seconds

EXIT_PROBLEMS = 1


def register(actions):
    p = actions.add_parser(
        "tuneup",
        help="rebuild missing indexes and refresh query statistics",
        description="Create any missing index and refresh the query planner's statistics "
        "(SQLite: ANALYZE). --full also compacts: VACUUM on SQLite, compact on "
        "each MongoDB collection; it blocks the store while it runs, so use it "
        "when no rocket is running.",
    )
    p.add_argument("--full", action="store_true", help="also compact the store (downtime only)")
    p.set_defaults(func=tuneup)

    p = actions.add_parser(
        "refresh",
        help="recompute workflows' derived state",
        description="Recompute the derived state of the workflows holding these fireworks: "
        "each firework's count of unfinished parents, READY/WAITING from its "
        "parents, and links written on one side only (what `admin check --fix` "
        "repairs, for these workflows only, at once).",
    )
    _ids_option(p)
    p.set_defaults(func=refresh)

    p = actions.add_parser(
        "unlock",
        help="accepted for FireWorks: starshell has no workflow locks",
        description="FireWorks locks a workflow while it changes it, and a crash can leave "
        "the lock behind. starshell has no such locks (each change is one atomic "
        "store operation), so there is nothing to unlock: this only checks the "
        "ids. What a crash can leave: `lpad detect_lostruns`, `lpad admin check`.",
    )
    _ids_option(p)
    p.set_defaults(func=unlock)

    p = actions.add_parser(
        "maintain",
        help="tuneup, rerun lost runs and repair, once or in a loop",
        description="One round: admin tuneup (without --full); rerun fireworks whose run has "
        "sent no heartbeat for --lostruns_time (detect_lostruns --rerun); then "
        "admin check --fix. --infinite repeats it every --maintain_interval "
        "seconds until Ctrl-C. Queue reservations (FireWorks also checks them) "
        "are the queue commands' job: lpad detect_unreserved --rerun.",
    )
    p.add_argument("--infinite", action="store_true", help="repeat until stopped")
    p.add_argument(
        "--maintain_interval",
        type=seconds,
        default=None,
        metavar="SECS",
        help="seconds between rounds with --infinite (default 3600)",
    )
    p.add_argument(
        "--lostruns_time",
        type=seconds,
        default=None,
        metavar="SECS",
        help="seconds without a heartbeat that make a run lost (default 14400)",
    )
    p.set_defaults(func=maintain)

    p = actions.add_parser(
        "orphaned",
        help="find (and remove) pieces that belong to no workflow",
        description="List fireworks whose workflow does not exist, launches whose firework "
        "does not exist, and workflows without fireworks (what an interrupted "
        "add or delete leaves). --remove deletes them; pieces changed in the "
        "last 5 minutes are left alone, since an add may still be running.",
    )
    p.add_argument("--remove", action="store_true", help="delete them")
    p.set_defaults(func=orphaned)


def _ids_option(p):
    add_ids_option(p, "any firework of each workflow (e.g. 3, 1,2, 5-9)", required=True)


def _show_report(report, args):
    def human():
        for line in report.lines():
            display.out(line)

    display.emit(report.to_dict(), getattr(args, "output", None), human=human)
    return 0 if report.ok else EXIT_PROBLEMS


def tuneup(args, lp):
    steps = lp.tuneup(full=args.full)
    display.emit(
        {"store": lp.describe(), "steps": steps},
        args.output,
        human=lambda: display.out(f"tuneup of {lp.describe()}: {'; '.join(steps)}"),
    )
    return 0


def refresh(args, lp):
    from ..maintenance import refresh as refresh_workflows

    return _show_report(refresh_workflows(lp, given_ids(args)), args)


def unlock(args, lp):
    from ..maintenance import unlock as unlock_workflows

    wf_ids = unlock_workflows(lp, given_ids(args))
    display.emit(
        {"wf_ids": wf_ids, "unlocked": []},
        args.output,
        human=lambda: display.out(
            f"nothing to unlock in workflow(s) {display.ids_text(wf_ids)}: starshell has no "
            "workflow locks. After a crash, see lpad detect_lostruns and lpad admin check"
        ),
    )
    return 0


def maintain(args, lp):
    from ..maintenance import LOST_RUN_SECS, MAINTAIN_INTERVAL
    from ..maintenance import maintain as maintain_store

    result = maintain_store(
        lp,
        args.infinite,
        args.maintain_interval or MAINTAIN_INTERVAL,
        args.lostruns_time or LOST_RUN_SECS,
        report=lambda r: display.emit(r, args.output, human=lambda: _round(r)),
    )
    return EXIT_PROBLEMS if result["remaining"] else 0


def _round(r):
    display.out(
        f"tuneup: {'; '.join(r['tuneup'])}; lost runs rerun: "
        f"{display.ids_text(r['rerun_fw_ids']) or 'none'}; problems: "
        f"{r['problems']} found, {r['fixed']} fixed"
    )
    for message in r["remaining"]:
        display.out(f"  left: {message}")


def orphaned(args, lp):
    from ..maintenance import orphaned as find_orphans

    return _show_report(find_orphans(lp, remove=args.remove), args)
