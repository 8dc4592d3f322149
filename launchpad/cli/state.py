"""``lpad`` commands that change fireworks and workflows.

Each is a loop over LaunchPad calls: the LaunchPad decides what is legal,
these functions only select, report what changed, and say why the rest
did not (a firework in the wrong state is skipped, not fatal to the batch,
and makes the exit code non-zero).
"""

from functools import partial

import launchpad.display as display

from ..errors import ConfigError, InvalidTransitionError, NotFoundError
from ..query import parse_query
from .common import (
    CONFIRM_ABOVE,
    add_selection,
    check_fw_ids,
    confirm,
    first_fw_ids,
    has_selection,
    id_list_or_error,
    json_object,
    number,
    number_or_error,
    seconds,
    select_fw_ids,
    select_workflows,
)
from .workflow import show_dirs

PASSWORD_HELP = "today's date (YYYY-MM-DD): confirms without a prompt (FireWorks' convention for scripts)"
COMPAT_PASSWORD_HELP = (
    "accepted for FireWorks compatibility; lpad does not ask before changes that can be undone"
)

# command: (past-tense verb, LaunchPad method, help)
FW_COMMANDS = {
    "defuse_fws": (
        "defused",
        "defuse_fw",
        "defuse fireworks: they (and so their descendants) will not run until reignited",
    ),
    "reignite_fws": ("reignited", "reignite_fw", "bring DEFUSED fireworks back to READY/WAITING"),
    "pause_fws": ("paused", "pause_fw", "pause WAITING/READY/RESERVED fireworks"),
    "resume_fws": ("resumed", "resume_fw", "bring PAUSED fireworks back to READY/WAITING"),
    "rerun_fws": (
        "reset",
        "rerun_fw",
        "run fireworks again: they and all their descendants go back to READY/WAITING",
    ),
}
WF_COMMANDS = {
    "pause_wflows": ("paused", "pause_wf", "pause every firework of workflows that has not started"),
    "reignite_wflows": (
        "reignited",
        "reignite_wf",
        "bring back every DEFUSED or PAUSED firework of workflows",
    ),
    "defuse_wflows": ("defused", "defuse_wf", "defuse every firework of workflows that can be"),
    "archive_wflows": (
        "archived",
        "archive_wf",
        "archive workflows: their fireworks become ARCHIVED for good",
    ),
    "delete_wflows": (
        "deleted",
        "delete_wf",
        "delete workflows, their fireworks and launches (launch directories stay)",
    ),
}
_CONFIRMED = ("archive_wflows", "delete_wflows")
# FireWorks' short names for these (its defuse_wflows has none)
_ALIASES = {
    name: [name.replace("_wflows", "_wfs")] for name in ("pause_wflows", "reignite_wflows", *_CONFIRMED)
}


def register(group):
    for name, (verb, method, text) in FW_COMMANDS.items():
        p = group.add_parser(
            name,
            help=text,
            description=_sentence(text) + " Select them with -i, -n, -s and/or -q (combined with AND).",
        )
        add_selection(p)
        p.add_argument("--password", help=COMPAT_PASSWORD_HELP)
        if name == "rerun_fws":
            _add_rerun_options(p)
        elif name == "defuse_fws":
            _add_duplicate_options(p, "defused")
        p.set_defaults(func=partial(change_fws, verb=verb, method=method))

    for name, (verb, method, text) in WF_COMMANDS.items():
        p = group.add_parser(
            name,
            aliases=_ALIASES.get(name, []),
            help=text,
            description=_sentence(text) + " A workflow "
            "is named by any of its fireworks' ids (-i), or selected with -n, -s, -q."
            + (f" Asks to confirm above {CONFIRM_ABOVE} workflows." if name in _CONFIRMED else ""),
        )
        add_selection(p, "workflows")
        p.add_argument("--password", help=PASSWORD_HELP if name in _CONFIRMED else COMPAT_PASSWORD_HELP)
        _add_wf_option(p, name)
        p.set_defaults(func=partial(change_wflows, verb=verb, method=method, ask=name in _CONFIRMED))

    p = group.add_parser(
        "set_priority",
        help="set fireworks' _priority (higher runs first)",
        description="Set spec._priority of fireworks: among READY ones, "
        "higher priorities run first. Example: lpad set_priority -i 3 100",
    )
    add_selection(p, id_type=str)
    p.add_argument(
        "priority",
        type=number,
        nargs="?",
        help="the new priority (a number); may also come last after -i (lpad set_priority -i 1 2 100)",
    )
    p.add_argument(
        "-wf",
        "--wf",
        dest="whole_workflows",
        action="store_true",
        help="set it on every firework of the selected fireworks' workflows",
    )
    p.add_argument("--password", help=COMPAT_PASSWORD_HELP)
    p.set_defaults(func=set_priority)

    p = group.add_parser(
        "update_fws",
        help="change keys of fireworks' specs",
        description="Merge a JSON object into fireworks' specs; dotted keys "
        "reach inside (e.g. -u '{\"inputs.n\": 7}').",
    )
    add_selection(p)
    p.add_argument(
        "-u",
        "--update",
        type=json_object,
        required=True,
        metavar="JSON",
        help="the keys to set, as a JSON object, e.g. '{\"param\": 7}'",
    )
    p.add_argument(
        "--mongo",
        action="store_true",
        help="-u is a MongoDB update document on the firework, as in FireWorks, e.g. "
        '\'{"$push": {"spec.tags": "x"}}\'; only the spec may change, with '
        "$set $unset $inc $push $pull $pullAll $addToSet $pop $rename",
    )
    p.set_defaults(func=update_fws)

    p = group.add_parser(
        "detect_lostruns",
        help="find RUNNING launches whose heartbeat stopped",
        description="List RUNNING launches whose last heartbeat is older than "
        "--time seconds; --fizzle or --rerun acts on their fireworks. "
        "A run is never declared lost while its heartbeat is younger "
        "than twice the interval its rocket pings at.",
    )
    p.add_argument(
        "--time",
        type=seconds,
        default=4 * 3600,
        metavar="SECS",
        help="seconds without a heartbeat that make a run lost (default 14400, or "
        "FW_config.yaml's RUN_EXPIRATION_SECS)",
    )
    act = p.add_mutually_exclusive_group()
    act.add_argument("--fizzle", action="store_true", help="mark their fireworks FIZZLED")
    act.add_argument("--rerun", action="store_true", help="put their fireworks back to READY")
    p.add_argument(
        "--max_runtime",
        type=seconds,
        metavar="SECS",
        help="only runs that ran (start to last heartbeat) no longer than this",
    )
    p.add_argument(
        "--min_runtime",
        type=seconds,
        metavar="SECS",
        help="only runs that ran (start to last heartbeat) at least this long",
    )
    p.add_argument("-q", "--query", help="only fireworks matching this query (JSON or a Python dict)")
    p.add_argument(
        "-lq", "--launch_query", help='only launches matching this query, e.g. \'{"host": "node7"}\''
    )
    p.add_argument(
        "--refresh",
        action="store_true",
        help="also settle inconsistent fireworks: RUNNING although their launch has "
        "finished (a store outage between two writes); they take their launch's result",
    )
    p.set_defaults(func=detect_lostruns)


def _add_duplicate_options(p, verb="rerun"):
    """FireWorks' ``rerun_duplicates`` of rerun_fw and defuse_fw (on by default there too)."""
    dupes = p.add_mutually_exclusive_group()
    dupes.add_argument(
        "--rerun_duplicates",
        dest="rerun_duplicates",
        action="store_true",
        default=True,
        help="also rerun the fireworks that took over their run as duplicates (_dupefinder); "
        "the default, as in FireWorks",
    )
    dupes.add_argument(
        "--no_rerun_duplicates",
        dest="rerun_duplicates",
        action="store_false",
        help=f"only these fireworks are {verb}; their duplicates keep the old result",
    )


def _add_rerun_options(p):
    """FireWorks' task-level recovery and duplicate options of ``rerun_fws``."""
    _add_duplicate_options(p)
    p.add_argument(
        "--task-level",
        "--task_level",
        dest="task_level",
        action="store_true",
        help="resume at the task that failed, with the results of the tasks before it "
        "(FireWorks' task-level recovery); the launch is the last one, or -lid",
    )
    p.add_argument(
        "-lid",
        "--launch_id",
        type=int,
        nargs="+",
        metavar="LAUNCH_ID",
        help="with --task-level: the launch to recover, one per firework selected",
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "-cp",
        "--copy-data",
        "--copy_data",
        dest="recover_mode",
        action="store_const",
        const="cp",
        help="with --task-level: run in a new directory holding a copy of the old one's files",
    )
    mode.add_argument(
        "-pd",
        "--previous-dir",
        "--previous_dir",
        dest="recover_mode",
        action="store_const",
        const="prev_dir",
        help="with --task-level: run in the old launch directory itself",
    )
    p.add_argument(
        "--clear-recovery",
        "--clear_recovery",
        dest="clear_recovery",
        action="store_true",
        help="start from the first task, forgetting an earlier --task-level rerun's "
        "recovery data (what a rerun without --task-level does anyway)",
    )


def _rerun_operation(lp, args, ids):
    """``rerun_fw`` with the options, or ConfigError for options that cannot go together."""
    if not args.task_level:
        if args.launch_id or args.recover_mode:
            raise ConfigError("-lid, --copy-data and --previous-dir need --task-level")
        return lambda fw_id: lp.rerun_fw(fw_id, rerun_duplicates=args.rerun_duplicates)
    if args.clear_recovery:
        raise ConfigError("--clear-recovery starts from the first task: it does not go with --task-level")
    launches = args.launch_id or ["last"] * len(ids)
    if len(launches) != len(ids):
        raise ConfigError(
            f"-lid gives {len(launches)} launch ids for {len(ids)} fireworks: give one per firework"
        )
    by_fw = dict(zip(ids, launches))
    return lambda fw_id: lp.rerun_fw(
        fw_id,
        rerun_duplicates=args.rerun_duplicates,
        recover_launch=by_fw[fw_id],
        recover_mode=args.recover_mode,
    )


def _add_wf_option(p, name):
    if name == "defuse_wflows":
        p.add_argument(
            "--defuse_all_states",
            action="store_true",
            help="also defuse COMPLETED fireworks: they and their descendants are "
            "reset first (their results stay on their launches)",
        )
    elif name == "delete_wflows":
        p.add_argument(
            "--ldirs",
            dest="delete_launch_dirs",
            action="store_true",
            help="also delete the launch directories recorded on their launches, "
            "except one shared with another workflow, or holding the home or "
            "current directory",
        )


def _sentence(text):
    return text[0].upper() + text[1:] + "."


def _each(lp, ids, label, operation):
    """Run ``operation(fw_id)`` on each id: ``(changed ids, {id: why not}, exit code)``."""
    changed, failures, code, done = [], {}, 0, set()
    for item in display.progress(ids, label):
        if item in done:
            continue  # e.g. already reset as a descendant of an earlier rerun
        try:
            result = operation(item)
        except (InvalidTransitionError, NotFoundError) as exc:
            failures[item] = str(exc)
            code = max(code, exc.exit_code)
            continue
        result = result if isinstance(result, list) else [result]
        changed.extend(result)
        done.update(result)
    return changed, failures, code


def change_fws(args, lp, verb, method):
    ids = select_fw_ids(lp, args)
    if not ids and not args.output:
        display.note("no fireworks match")
        return 0
    operation = getattr(lp, method)
    if method == "rerun_fw":
        operation = _rerun_operation(lp, args, ids)
    elif method == "defuse_fw":
        operation = partial(lp.defuse_fw, rerun_duplicates=args.rerun_duplicates)
    changed, failures, code = _each(lp, ids, verb, operation)
    display.show_changes(verb, changed, failures, args.output)
    return code


def change_wflows(args, lp, verb, method, ask=False):
    if not has_selection(args):
        raise ConfigError("choose the workflows with -i FW_IDS, -n NAME, -s STATE or -q QUERY")
    docs = select_workflows(lp, args)
    if ask and len(docs) > CONFIRM_ABOVE:
        confirm(lp, f"This will {verb[:-1]} {len(docs)} workflows.", args.password)
    first = first_fw_ids(lp, [d["wf_id"] for d in docs])
    results = []
    for doc in display.progress(docs, verb):
        entry = {
            "wf_id": doc["wf_id"],
            "fw_id": first[doc["wf_id"]],
            "name": doc["name"],
            "fireworks": doc["nodes"],
        }
        if getattr(args, "delete_launch_dirs", False):
            from ..workflow_ops import delete_wf_and_dirs  # shutil: only for --ldirs

            entry.update(delete_wf_and_dirs(lp, doc["wf_id"]), changed=[])
        elif method == "defuse_wf":  # as FireWorks' lpad: COMPLETED ones only when asked
            all_states = bool(getattr(args, "defuse_all_states", False))
            entry["changed"] = sorted(lp.defuse_wf(entry["fw_id"], defuse_all_states=all_states))
        else:
            result = getattr(lp, method)(entry["fw_id"])
            entry["changed"] = [] if method == "delete_wf" else sorted(result)
        results.append(entry)
    display.emit(results, args.output, human=lambda: _show_wf_changes(verb, results))
    return 0


def _show_wf_changes(verb, results):
    if not results:
        display.note("no workflows match")
    for r in results:
        head = f"{verb} workflow {r['wf_id']} ({r['name']!r}, fw_id {r['fw_id']})"
        if verb == "deleted":
            display.out(f"{head} with {display.plural(r['fireworks'], 'firework')}")
            show_dirs(r)
        elif r["changed"]:
            display.out(
                f"{head}: {display.plural(len(r['changed']), 'firework')} {display.ids_text(r['changed'])}"
            )
        else:
            display.out(f"{head}: no firework needed changing")


def _show_inconsistent(data):
    ids = data["inconsistent_fw_ids"]
    if not ids:
        return
    what = f"{display.plural(len(ids), 'inconsistent firework')} {display.ids_text(ids)}"
    if data["refreshed"]:
        display.out(f"{what}: RUNNING although their launch had finished; now they have its result")
    else:
        display.out(f"{what}: RUNNING although their launch has finished; --refresh gives them its result")


def set_priority(args, lp):
    """``-i 1 2 100`` (the priority last) and ``100 -i 1 2`` (FireWorks) both work."""
    raw = [text for group in args.fw_id or [] for text in group]
    if args.priority is None:
        if len(raw) < 2:
            raise ConfigError("give the priority: lpad set_priority -i IDS PRIORITY")
        args.priority = number_or_error(raw.pop())
    args.fw_id = [[i for text in raw for i in id_list_or_error(text)]] if raw else None
    ids = select_fw_ids(lp, args)
    if args.whole_workflows and ids:
        wf_ids = sorted(set(check_fw_ids(lp, ids).values()))
        ids = lp.get_fw_ids({"wf_id": {"$in": wf_ids}}, sort=[("fw_id", 1)])
    changed, failures, code = _each(lp, ids, "priority", lambda fw_id: lp.set_priority(fw_id, args.priority))
    display.show_changes(f"set priority {args.priority} on", changed, failures, args.output)
    return code


def update_fws(args, lp):
    ids = select_fw_ids(lp, args)
    changed = lp.update_spec(ids, args.update, mongo=args.mongo) if ids else []
    display.show_changes("updated the spec of", changed, {}, args.output)
    return 0


def detect_lostruns(args, lp):
    found = lp.detect_lostruns(
        args.time,
        fizzle=args.fizzle,
        rerun=args.rerun,
        max_runtime=args.max_runtime,
        min_runtime=args.min_runtime,
        refresh=args.refresh,
        query=parse_query(args.query) or None,
        launch_query=parse_query(args.launch_query) or None,
    )
    launch_ids, fw_ids = found
    action = "fizzle" if args.fizzle else "rerun" if args.rerun else None
    spared = [
        display.pick(launch, ("launch_id", "fw_id", "ping_interval", "last_ping")) for launch in found.spared
    ]
    data = {
        "launch_ids": launch_ids,
        "fw_ids": fw_ids,
        "action": action,
        "spared": spared,
        "inconsistent_fw_ids": list(found.inconsistent),
        "refreshed": args.refresh,
    }
    display.emit(data, args.output, human=lambda: _show_lost(data))
    for launch in spared:
        display.note("warning: " + lost_run_spared(launch, args.time))
    return 0


def lost_run_spared(launch, lost_time, option="--time"):
    """Why a silent launch was not declared lost: a healthy run of its rocket can be
    this quiet, and declaring it lost would run its firework a second time."""
    return (
        f"launch {launch['launch_id']} pings every {launch['ping_interval']:g} s: "
        f"{option} {lost_time:g} cannot tell it from a lost run; left RUNNING"
    )


def _show_lost(data):
    _show_inconsistent(data)
    if not data["launch_ids"]:
        display.out("no lost runs")
        return
    display.out(
        f"{display.plural(len(data['launch_ids']), 'lost run')}: launches "
        f"{display.ids_text(data['launch_ids'])} of fireworks {display.ids_text(data['fw_ids'])}"
    )
    if data["action"] == "fizzle":
        display.out("their fireworks are now FIZZLED")
    elif data["action"] == "rerun":
        display.out("their fireworks will run again")
    else:
        display.out("pass --fizzle or --rerun to act on them")
