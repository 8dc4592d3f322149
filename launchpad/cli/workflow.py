"""``lpad`` commands on workflows as a whole (FireWorks' verbs): append_wflow,
dump_wflow, add_scripts, get_fws_in_wflows, check_wflow, delete_fws.

Each is a short function over the LaunchPad; the logic lives in
``LaunchPad`` and ``workflow_ops``.
"""

import argparse

import launchpad.display as display

from ..states import ALL_STATES
from .common import add_ids_option, add_listing, combine, fw_query, given_ids, id_list, select_workflows


def register(group):
    _register_append_dump(group)
    p = group.add_parser(
        "add_scripts",
        help="add a chain of shell scripts as one workflow",
        description="Add a workflow of ScriptTask fireworks, one per script, each running "
        "after the one before (FireWorks' quick way to run commands in "
        "sequence). Example: lpad add_scripts 'echo one' 'echo two' -n a b -w demo",
    )
    p.add_argument("scripts", nargs="*", metavar="SCRIPT", help="shell commands, run in this order")
    p.add_argument(
        "-s",
        "--scripts",
        dest="more_scripts",
        nargs="+",
        default=[],
        metavar="SCRIPT",
        help="more scripts (after the positional ones)",
    )
    p.add_argument(
        "-n", "--names", nargs="+", metavar="NAME", help="one firework name per script (default: unnamed)"
    )
    p.add_argument("-w", "--wf_name", help="the workflow's name (default: the first name)")
    p.add_argument(
        "-d",
        "--delimiter",
        help="also split each SCRIPT at this text into several scripts (default: no splitting)",
    )
    p.set_defaults(func=add_scripts)
    _register_get_fws_in_wflows(group)
    p = group.add_parser(
        "check_wflow",
        help="check a workflow's structure and data flow; draw it",
        description="Check the workflow holding a firework as FireWorks' check_wflow does: "
        "no cycle, one connected piece, and every task input (PyTask-style "
        "'inputs') with exactly one source (a parent's task 'outputs', an earlier "
        "task's, or the spec). Exit 1 if a problem is found. -f also draws the "
        "DAG coloured by state (png, svg or pdf need Graphviz's dot program; "
        ".dot needs nothing).",
    )
    p.add_argument("-i", "--fw_id", type=int, required=True, help="any firework of the workflow")
    p.add_argument(
        "-f",
        "--file",
        metavar="PICTURE",
        help="also draw the workflow into this file (.png, .svg, .pdf or .dot)",
    )
    p.add_argument("--tasks", action="store_true", help="draw each firework's tasks too")
    p.set_defaults(func=check_wflow)
    p = group.add_parser(
        "delete_fws",
        help="delete fireworks (and their launches) from their workflows",
        description="Delete fireworks, their launches and the links to them; a workflow "
        "left without fireworks is deleted too. A firework whose children are "
        "not deleted with it is refused (they would wait for ever), and so is "
        "a RUNNING or RESERVED one. To delete a whole workflow use delete_wflows.",
    )
    add_ids_option(p, "firework ids (e.g. 3 4, or 3,4, or 3-4)", required=True)
    p.add_argument(
        "--ldirs",
        dest="delete_launch_dirs",
        action="store_true",
        help="also delete their launch directories (only directories recorded on "
        "their launches, not shared with another firework, nor holding the "
        "home or current directory)",
    )
    p.set_defaults(func=delete_fws)


def _register_append_dump(group):
    p = group.add_parser(
        "append_wflow",
        help="append a workflow file below fireworks of a stored workflow",
        description="Add the workflow (or firework) of a file as children of the given "
        "fireworks; with --detour the parents' current children also wait for "
        "the new fireworks' leaves.",
    )
    add_ids_option(p, "the parent firework ids (one workflow)", required=True)
    p.add_argument(
        "-f", "--wf_file", required=True, metavar="FILE", help="a workflow or firework file (YAML or JSON)"
    )
    p.add_argument(
        "-d", "--detour", action="store_true", help="insert between the parents and their children"
    )
    pull = p.add_mutually_exclusive_group()
    pull.add_argument(
        "--pull_spec_mods",
        dest="pull_spec_mods",
        action="store_true",
        default=True,
        help="the new roots get the update_spec/mod_spec of parents already "
        "COMPLETED (the default, as in FireWorks)",
    )
    pull.add_argument(
        "--no_pull_spec_mods",
        dest="pull_spec_mods",
        action="store_false",
        help="do not give them the completed parents' spec changes",
    )
    p.set_defaults(func=append_wflow)

    p = group.add_parser(
        "dump_wflow",
        help="write a stored workflow to a file `lpad add` reads back",
        description="Write the workflow holding a firework to a FireWorks-format file "
        "(JSON if FILE ends in .json, else YAML), with its fireworks' states and "
        "launches. `lpad add FILE` adds it back as a new workflow.",
    )
    p.add_argument("-i", "--fw_id", type=int, required=True, help="any firework of the workflow")
    p.add_argument("-f", "--wf_file", required=True, metavar="FILE", help="the file to write")
    p.set_defaults(func=dump_wflow)


def _register_get_fws_in_wflows(group):
    for name in ("get_fws_in_wflows", "get_fws_in_wfs"):  # FireWorks' name and its alias
        _register_fws_in_wflows(group, name)


def _register_fws_in_wflows(group, name):
    p = group.add_parser(
        name,
        help="list fireworks of the workflows a selection picks"
        if name.endswith("wflows")
        else "the same as get_fws_in_wflows",
        description="List fireworks, as get_fws does, but only in workflows picked by the "
        "-wf* options (FireWorks' prefixes: -wfi/-wfn/-wfs/-wfq pick workflows, "
        "-fwi/-fwn/-fws/-fwq pick fireworks in them). Example: "
        "lpad get_fws_in_wflows -wfn relax -fws FIZZLED -d ids",
    )
    for prefix, what in (("wf", "workflows"), ("fw", "fireworks")):
        p.add_argument(
            f"-{prefix}i",
            f"--{prefix}_fw_id",
            type=id_list,
            nargs="+",
            action="append",
            metavar="IDS",
            help="workflows holding these firework ids" if prefix == "wf" else "these firework ids",
        )
        p.add_argument(f"-{prefix}n", f"--{prefix}_name", help=f"{what} with exactly this name")
        p.add_argument(
            f"-{prefix}s",
            f"--{prefix}_state",
            type=str.upper,
            choices=ALL_STATES,
            metavar="STATE",
            help=f"{what} in this state",
        )
        p.add_argument(
            f"-{prefix}q",
            f"--{prefix}_query",
            metavar="QUERY",
            help=f"a Mongo-style filter on the {what[:-1]} documents",
        )
    p.add_argument(
        "-lm", "--launches_mode", action="store_true", help="-fwq/-fws apply to the fireworks' launches"
    )
    add_listing(p, ("fw_id", "name", "state", "created_on", "updated_on"))
    p.set_defaults(func=get_fws_in_wflows)


def append_wflow(args, lp):
    from ..workflow_files import load_workflow

    wf = load_workflow(args.wf_file)
    id_map = lp.append_wf(wf, given_ids(args), detour=args.detour, pull_spec_mods=args.pull_spec_mods)
    data = {"file": args.wf_file, "parents": given_ids(args), "id_map": id_map}
    display.emit(
        data,
        args.output,
        human=lambda: display.out(
            f"{args.wf_file}: appended {display.plural(len(id_map), 'firework')} below "
            f"{display.ids_text(data['parents'])}; fw_ids {display.id_map_text(id_map)}"
        ),
    )
    return 0


def dump_wflow(args, lp):
    from ..workflow_files import dump_workflow

    wf = lp.get_wf_by_fw_id(args.fw_id)
    dump_workflow(wf, args.wf_file)
    data = {"file": args.wf_file, "name": wf.name, "fireworks": len(wf.fws)}
    display.emit(
        data,
        args.output,
        human=lambda: display.out(
            f"wrote workflow {wf.name!r} ({display.plural(len(wf.fws), 'firework')}) to {args.wf_file}"
        ),
    )
    return 0


def check_wflow(args, lp):
    from ..graph import check_workflow, wf_to_graph

    wf = lp.get_wf_by_fw_id(args.fw_id)
    problems = check_workflow(wf)
    if args.file:
        wf_to_graph(wf, wf_show_tasks=args.tasks).render(args.file)
    data = {
        "wf_id": wf.wf_id,
        "name": wf.name,
        "fireworks": len(wf.fws),
        "problems": problems,
        "picture": args.file,
    }
    display.emit(data, args.output, human=lambda: _show_check(data))
    return 1 if problems else 0


def _show_check(data):
    head = f"workflow {data['wf_id']} ({data['name']!r}, {display.plural(data['fireworks'], 'firework')})"
    if data["problems"]:
        display.out(f"{head}: {display.plural(len(data['problems']), 'problem')}")
        for problem in data["problems"]:
            display.out(f"  {problem}")
    else:
        display.out(f"{head}: no problems (a connected DAG; every task input has one source)")
    if data["picture"]:
        display.out(f"drew {data['picture']}")


def add_scripts(args, lp):
    from ..workflow_ops import scripts_workflow

    scripts = list(args.scripts) + list(args.more_scripts)
    if args.delimiter:
        scripts = [part.strip() for s in scripts for part in s.split(args.delimiter) if part.strip()]
    wf = scripts_workflow(scripts, args.names, args.wf_name)
    id_map = lp.add_wf(wf)
    data = {"name": wf.name, "id_map": id_map}
    display.emit(
        data,
        args.output,
        human=lambda: display.out(
            f"added workflow {wf.name!r} with {display.plural(len(id_map), 'script')}; "
            f"fw_ids {display.id_map_text(id_map)}"
        ),
    )
    return 0


def get_fws_in_wflows(args, lp):
    from .query import show_fws

    picked = argparse.Namespace(
        fw_id=args.wf_fw_id, name=args.wf_name, state=args.wf_state, query=args.wf_query
    )
    inner = argparse.Namespace(
        fw_id=args.fw_fw_id,
        name=args.fw_name,
        state=args.fw_state,
        query=args.fw_query,
        launches_mode=args.launches_mode,
        qid=None,
    )
    query = fw_query(lp, inner)
    if any(vars(picked).values()):
        wf_ids = [d["wf_id"] for d in select_workflows(lp, picked)]
        query = combine(query, {"wf_id": {"$in": wf_ids}})
    fws_selected = any(value for key, value in vars(inner).items() if key != "launches_mode")
    return show_fws(lp, args, query, fws_selected)


def delete_fws(args, lp):
    result = lp.delete_fws(given_ids(args), delete_launch_dirs=args.delete_launch_dirs)
    display.emit(result, args.output, human=lambda: _show_deleted(result))
    return 0


def _show_deleted(result):
    display.out(
        f"deleted {display.plural(len(result['fw_ids']), 'firework')} {display.ids_text(result['fw_ids'])}"
    )
    if result["wf_ids_removed"]:
        display.out(f"deleted the emptied workflows {display.ids_text(result['wf_ids_removed'])}")
    show_dirs(result)


def show_dirs(result):
    for path in result.get("launch_dirs", []):
        display.out(f"removed launch directory {path}")
    for path, why in result.get("kept_dirs", {}).items():
        display.note(f"kept launch directory {path}: {why}")
