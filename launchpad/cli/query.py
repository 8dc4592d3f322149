"""Read-only ``lpad`` commands: get_fws, get_wflows, get_launchdir, report, introspect.

Listings ask the store only for the fields they show (projection and
limit); whole documents are read only for ``-d all``.
"""

from collections import defaultdict

import launchpad.display as display
import launchpad.reports as reports

from ..states import ALL_STATES
from . import fireworks_output
from .common import (
    add_listing,
    add_selection,
    count,
    first_fw_ids,
    fw_query,
    has_selection,
    select_workflows,
    sort_spec,
    wf_selection,
)

FW_SORT = ("fw_id", "name", "state", "created_on", "updated_on")
WF_SORT = ("wf_id", "name", "created_on", "updated_on")
_FW_FIELDS = {
    "less": ["fw_id", "name", "state", "created_on"],
    "more": ["fw_id", "name", "state", "wf_id", "parents", "children", "created_on", "updated_on", "spec"],
}


def register(group):
    p = group.add_parser(
        "get_fws",
        help="list fireworks",
        description="List fireworks. With no selection, every firework. Examples: "
        "lpad get_fws -s READY -d ids; "
        'lpad -o yaml get_fws -q \'{"spec.param": {"$gt": 3}}\' -d all',
    )
    add_selection(p)
    add_listing(p, FW_SORT)
    p.set_defaults(func=get_fws)

    p = group.add_parser(
        "get_wflows",
        aliases=["get_wfs"],  # FireWorks' alias
        help="list workflows with their state counts",
        description="List workflows. A workflow is named by any of its fireworks' ids "
        "(-i); -d ids prints the lowest fw_id of each, ready for the *_wflows "
        "commands. -q filters workflow documents (name, metadata...).",
    )
    add_selection(p, "workflows")
    add_listing(p, WF_SORT)
    p.add_argument(
        "-t",
        "--table",
        action="store_true",
        help="a table (FireWorks' option; tables are already the default, and -t overrides -o)",
    )
    p.set_defaults(func=get_wflows)

    p = group.add_parser(
        "get_launchdir",
        help="print the directory a firework ran in",
        description="Print the launch directory of a firework's latest launch, "
        "so that `cd $(lpad get_launchdir 7)` works.",
    )
    p.add_argument("fw_id", type=int, help="the firework id")
    p.add_argument(
        "--launch_idx", type=int, default=-1, help="which launch: 0 the first, -1 the latest (default)"
    )
    p.set_defaults(func=get_launchdir)

    p = group.add_parser(
        "report",
        help="counts by state and runtimes by task and day",
        description="Fireworks and workflows by state, and the runtimes of recent "
        "launches (mean and total seconds) by task and by day.",
    )
    p.add_argument(
        "--days",
        type=count,
        default=7,
        help="runtimes of launches started in the last N days (0: all; default 7)",
    )
    p.add_argument(
        "-c",
        "--collection",
        choices=sorted(reports.COLLECTIONS),
        help="FireWorks' report instead: fws, wflows or launches counted by state per "
        "interval of their last change (launches: their end)",
    )
    p.add_argument(
        "-i",
        "--interval",
        choices=list(reports.INTERVALS),
        help="FireWorks' report: the interval (default days)",
    )
    p.add_argument(
        "-n",
        "--num_intervals",
        type=count,
        default=5,
        help="FireWorks' report: how many intervals back (default 5; 0: all)",
    )
    p.add_argument(
        "-q", "--query", metavar="QUERY", help="FireWorks' report: only documents matching this filter"
    )
    p.set_defaults(func=report)

    p = group.add_parser(
        "introspect",
        help="which tasks and spec keys go with failures",
        description="Compare the latest FIZZLED and COMPLETED fireworks: for each task "
        "name, spec key and short spec value seen on a fizzled firework, how "
        "many fizzled and completed fireworks have it. The top rows are "
        "where to look first.",
    )
    p.add_argument(
        "-m",
        "--max",
        type=count,
        default=1000,
        help="inspect the latest N fireworks of each state (default 1000)",
    )
    p.add_argument("--top", type=count, default=20, help="show the N top rows (default 20; 0: all)")
    p.set_defaults(func=introspect)


def get_fws(args, lp):
    return show_fws(lp, args, fw_query(lp, args), has_selection(args))


def show_fws(lp, args, query, selected=True):
    """Fireworks matching ``query`` in ``-d``'s format (get_fws, get_fws_in_wflows);
    in a pipe or with -o json|yaml, FireWorks' output (see fireworks_output)."""
    sort = sort_spec(args, "fw_id")
    fmt, shown = args.output, fireworks_output.display_format(args, selected)
    if fireworks_output.wanted(args):
        ids = (
            lp.get_fw_ids(query, count_only=True)
            if shown == "count"
            else lp.get_fw_ids(query, sort, args.max)
        )
        fireworks_output.show(fireworks_output.fireworks(lp, ids, shown), args.output)
        return 0
    if shown == "count":
        display.emit(lp.get_fw_ids(query, count_only=True), fmt)
    elif shown == "ids":
        display.emit(lp.get_fw_ids(query, sort=sort, limit=args.max), fmt)
    elif shown == "all":
        docs = lp.get_fws(query, sort=sort, limit=args.max)
        launches = _launches_by_fw(lp, docs)
        display.show_documents(
            [display.fw_public(d, launches[d["fw_id"]]) for d in docs], fmt, empty="no fireworks match"
        )
    else:
        docs = lp.get_fws(query, fields=_FW_FIELDS[shown], sort=sort, limit=args.max)
        fields = display.FW_LESS if shown == "less" else display.FW_MORE
        if fmt and shown == "more":
            fields = fields + ("spec",)
        display.show_records(
            [display.pick(display.fw_row(d), fields) for d in docs], fields, fmt, empty="no fireworks match"
        )
    return 0


def _launches_by_fw(lp, docs):
    """Each firework's launches, with those a duplicate took over (``taken_launches``)."""
    grouped = defaultdict(list)
    if docs:
        for launch in lp.get_launches(
            {"fw_id": {"$in": [d["fw_id"] for d in docs]}}, sort=[("launch_id", 1)]
        ):
            grouped[launch["fw_id"]].append(launch)
    taken = defaultdict(list)
    for d in docs:
        for launch_id in d.get("taken_launches") or ():
            taken[launch_id].append(d["fw_id"])
    if taken:
        for launch in lp.get_launches({"launch_id": {"$in": sorted(taken)}}, sort=[("launch_id", 1)]):
            for fw_id in taken[launch["launch_id"]]:
                grouped[fw_id].append(launch)
    return grouped


def get_wflows(args, lp):
    fmt, shown = (
        (None if args.table else args.output),
        fireworks_output.display_format(args, has_selection(args)),
    )
    if fireworks_output.wanted(args):
        docs = select_workflows(lp, args, sort=sort_spec(args, "wf_id"), limit=args.max)
        first = first_fw_ids(lp, [d["wf_id"] for d in docs])
        fw_ids = [first[d["wf_id"]] for d in docs]
        fireworks_output.show(
            fireworks_output.workflows(lp, len(fw_ids) if shown == "count" else fw_ids, shown), args.output
        )
        return 0
    if shown == "count":
        query, state = wf_selection(lp, args)
        total = len(select_workflows(lp, args)) if state else lp.count_wfs(query or None)
        display.emit(total, fmt)
        return 0
    docs = select_workflows(lp, args, sort=sort_spec(args, "wf_id"), limit=args.max)
    first = first_fw_ids(lp, [d["wf_id"] for d in docs])
    for d in docs:
        d["fw_id"] = first[d["wf_id"]]
    if shown == "ids":
        display.emit([d["fw_id"] for d in docs], fmt)
    elif shown == "all":
        display.show_documents([_wf_public(lp, d) for d in docs], fmt, empty="no workflows match")
    else:
        fields = display.WF_LESS if shown == "less" else display.WF_MORE
        if fmt and shown == "more":
            fields = fields + ("metadata",)
        display.show_records([display.pick(d, fields) for d in docs], fields, fmt, empty="no workflows match")
    return 0


def _wf_public(lp, doc):
    fws = lp.get_fws({"wf_id": doc["wf_id"]}, fields=["fw_id", "name", "state", "children"])
    return {
        **display.pick(doc, display.WF_MORE),
        "metadata": doc.get("metadata", {}),
        "fireworks": [display.pick(f, ("fw_id", "name", "state")) for f in fws],
        "links": {f["fw_id"]: f["children"] for f in fws},
    }


def get_launchdir(args, lp):
    launch_dir = lp.get_launchdir(args.fw_id, args.launch_idx)
    if fireworks_output.plain(args):  # FireWorks prints the bare path, whatever -o says
        display.out(launch_dir)
    else:
        display.emit({"fw_id": args.fw_id, "launch_dir": launch_dir}, args.output)
    return 0


def report(args, lp):
    if args.collection or args.interval or args.query:
        return interval_report(args, lp)
    data = {**reports.state_summary(lp), **reports.runtime_summary(lp, args.days)}
    display.emit(data, args.output, human=lambda: _show_report(data))
    return 0


def _show_report(data):
    for what in ("fireworks", "workflows"):
        counts = data[what]
        display.out(f"{what.capitalize()} by state ({sum(counts.values())} in all)")
        display.table([[s, n] for s, n in _in_state_order(counts)], ["state", "count"])
        display.out()
    window = f"the last {data['days']} days" if data["days"] else "all time"
    display.out(f"Runtimes by task (launches started in {window})")
    display.table(
        [
            [r["task"], r["launches"], r["completed"], r["fizzled"], r["mean_secs"], r["total_secs"]]
            for r in data["by_task"]
        ],
        ["task", "launches", "completed", "fizzled", "mean s", "total s"],
    )
    display.out()
    display.out("Launches per day")
    display.table(
        [[r["day"], r["launches"], r["completed"], r["fizzled"], r["total_secs"]] for r in data["by_day"]],
        ["day", "launches", "completed", "fizzled", "total s"],
    )


def interval_report(args, lp):
    """FireWorks' ``lpad report -c -i -n -q``: counts by state per interval."""
    from ..query import parse_query

    coll, interval = args.collection or "fws", args.interval or "days"
    rows = reports.interval_stats(lp, coll, interval, args.num_intervals, parse_query(args.query))
    states = [s for s in ALL_STATES if any(s in r["states"] for r in rows)]

    def human():
        display.out(f"{reports.COLLECTIONS[coll].capitalize()} by state per {interval[:-1]}")
        display.table(
            [
                [r["date"], *[r["states"].get(s, 0) for s in states], r["total"], f"{r['fizzled_pct']:g}%"]
                for r in rows
            ],
            ["date", *states, "total", "fizzled"],
        )

    display.emit(rows, args.output, human=human)
    return 0


def _in_state_order(counts):
    return [(s, counts[s]) for s in ALL_STATES if counts.get(s)]


def introspect(args, lp):
    data = reports.introspect(lp, limit=args.max)
    if args.top:
        data["features"] = data["features"][: args.top]
    display.emit(data, args.output, human=lambda: _show_introspect(data))
    return 0


def _show_introspect(data):
    if not data["fizzled"]:
        display.out(
            f"no FIZZLED fireworks among those inspected ({data['completed']} COMPLETED): nothing to compare"
        )
        return
    display.out(
        f"{data['fizzled']} FIZZLED and {data['completed']} COMPLETED fireworks "
        "inspected; features seen on fizzled ones, most suspicious first:"
    )
    display.table(
        [
            [r["kind"], r["feature"], r["fizzled"], r["completed"], f"{100 * r['fizzled_fraction']:.0f}%"]
            for r in data["features"]
        ],
        ["kind", "feature", "fizzled", "completed", "fizzled %"],
    )
