"""What the ``lpad`` command modules share: option types, selections, confirmation.

Selections turn ``-i/-n/-s/-q`` into LaunchPad queries the same way for
every command, so ``get_fws -s FIZZLED`` and ``rerun_fws -s FIZZLED``
always mean the same fireworks.
"""

import argparse
import json
import sys

from ..errors import ConfigError, NotFoundError, StarshellError
from ..query import parse_query
from ..states import ALL_STATES

DISPLAY_FORMATS = ("ids", "count", "less", "more", "all")
# FireWorks asks before touching more than this many workflows at once.
CONFIRM_ABOVE = 5


# -- option types (argparse turns their errors into exit code 2) ----------------
def id_list(text):
    """``"3"``, ``"1,2,5-9"`` -> a list of ints."""
    ids = []
    for part in str(text).split(","):
        part = part.strip()
        if not part:
            continue
        low, sep, high = part.partition("-")
        try:
            if sep:
                low, high = int(low), int(high)
                if high < low:
                    raise ValueError
                ids.extend(range(low, high + 1))
            else:
                ids.append(int(part))
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a firework id list (examples: 3 or 1,2,5-9)"
            ) from None
    if not ids:
        raise argparse.ArgumentTypeError("no firework id given")
    return ids


def json_object(text):
    """A JSON object given on the command line (``-u '{"param": 7}'``)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(
            f"not valid JSON ({exc.msg} at character {exc.pos}): {text!r:.80}"
        ) from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"expected a JSON object like '{{\"key\": 1}}', got {text!r:.80}")
    return value


def number(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    return int(value) if value.is_integer() else value


def id_list_or_error(text):
    """id_list for values read after parsing: a ConfigError (exit 2) instead."""
    try:
        return id_list(text)
    except argparse.ArgumentTypeError as exc:
        raise ConfigError(str(exc)) from None


def number_or_error(text):
    try:
        return number(text)
    except argparse.ArgumentTypeError as exc:
        raise ConfigError(str(exc)) from None


def count(text):
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number >= 0")
    return value


def seconds(text):
    value = number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: seconds cannot be negative")
    return value


# -- options -------------------------------------------------------------------------
def add_ids_option(parser, help, nargs="+", id_type=id_list, required=False):
    """``-i/--fw_id IDS``: firework ids as FireWorks takes them (``3 4``), also ``3,4`` and
    ``3-4``; repeatable, so ``given_ids`` flattens them."""
    parser.add_argument(
        "-i",
        "--fw_id",
        type=id_type,
        nargs=nargs,
        action="append",
        required=required,
        metavar="IDS",
        help=help,
    )


def add_selection(parser, what="fireworks", ids_nargs="+", id_type=id_list):
    """``-i/-n/-s/-q``: the same selection options on every command."""
    ids_help = (
        "firework ids (e.g. 3, 1,2,5-9)"
        if what == "fireworks"
        else "ids of any firework of the workflows (as in FireWorks)"
    )
    add_ids_option(parser, ids_help, nargs=ids_nargs, id_type=id_type)
    parser.add_argument("-n", "--name", help=f"{what} with exactly this name")
    parser.add_argument(
        "-s",
        "--state",
        type=str.upper,
        choices=ALL_STATES,
        metavar="STATE",
        help=f"{what} in this state ({', '.join(ALL_STATES)})",
    )
    parser.add_argument(
        "-q",
        "--query",
        metavar="JSON",
        help=f"a Mongo-style JSON filter on the {what[:-1]} documents, e.g. "
        + ('\'{"spec.param": {"$gt": 3}}\'' if what == "fireworks" else '\'{"metadata.project": "x"}\''),
    )
    if what == "fireworks":
        parser.add_argument(
            "-lm",
            "--launches_mode",
            action="store_true",
            help="-s and -q select the fireworks' launches (e.g. -lm -q "
            '\'{"host": "node7"}\'); -n is then ignored, as in FireWorks',
        )
        parser.add_argument(
            "--qid", metavar="JOB_ID", help="only the fireworks of this queue job (reservation id)"
        )


def add_listing(parser, sort_fields):
    parser.add_argument(
        "-d",
        "--display_format",
        choices=DISPLAY_FORMATS,
        default=None,
        help="ids, count, less (a short table, the default at a terminal), more, or all (whole "
        "documents); in a pipe without -o, FireWorks' JSON (default: ids, or more with a selection)",
    )
    order = parser.add_mutually_exclusive_group()
    order.add_argument("--sort", choices=sort_fields, help="sort by this field")
    order.add_argument("--rsort", choices=sort_fields, help="sort by this field, in reverse")
    parser.add_argument(
        "-m", "--max", type=count, default=0, metavar="N", help="show at most N (default 0: no limit)"
    )


def sort_spec(args, default):
    if args.sort:
        return [(args.sort, 1), (default, 1)]
    if args.rsort:
        return [(args.rsort, -1), (default, -1)]
    return [(default, 1)]


# -- selections -------------------------------------------------------------------
def given_ids(args):
    """The ids of every ``-i`` (lists of lists, whatever the nargs)."""
    found, stack = [], [getattr(args, "fw_id", None) or []]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
        else:
            found.append(item)
    return list(dict.fromkeys(found))


def has_selection(args):
    return bool(given_ids(args) or args.name or args.state or args.query or getattr(args, "qid", None))


def combine(query, extra):
    """AND two filters, keeping them flat (and indexable) when their keys differ."""
    if not extra:
        return query
    if not query:
        return extra
    if set(query) & set(extra):
        return {"$and": [query, extra]}
    return {**query, **extra}


def check_fw_ids(lp, ids):
    """NotFoundError naming every id the store does not have (one query)."""
    if not ids:
        return {}
    docs = lp.get_fws({"fw_id": {"$in": ids}}, fields=["fw_id", "wf_id"])
    missing = sorted(set(ids) - {d["fw_id"] for d in docs})
    if missing:
        raise NotFoundError(f"no firework with id {', '.join(map(str, missing))}")
    return {d["fw_id"]: d["wf_id"] for d in docs}


def fw_query(lp, args):
    """The firework filter ``-i/-n/-s/-q`` ask for; unknown ``-i`` ids are an error.
    With ``-lm`` (FireWorks' launches mode) ``-s/-q`` select launches and ``-n`` is
    ignored, as in FireWorks; ``--qid`` keeps the fireworks of that queue job."""
    ids = given_ids(args)
    check_fw_ids(lp, ids)
    query = {}
    if ids:
        query["fw_id"] = ids[0] if len(ids) == 1 else {"$in": ids}
    if getattr(args, "qid", None):
        query = combine(query, {"fw_id": {"$in": lp.get_fw_ids_by_reservation(args.qid)}})
    if getattr(args, "launches_mode", False):
        return combine(query, {"fw_id": {"$in": _launch_fw_ids(lp, args)}})
    if args.name:
        query["name"] = args.name
    if args.state:
        query["state"] = args.state
    return combine(query, parse_query(args.query))


def _launch_fw_ids(lp, args):
    launch_query = combine({"state": args.state} if args.state else {}, parse_query(args.query))
    return sorted({d["fw_id"] for d in lp.get_launches(launch_query, fields=["fw_id"])})


def select_fw_ids(lp, args):
    """The ids a state command acts on; refuses to act on everything by accident."""
    if not has_selection(args):
        raise ConfigError("choose the fireworks with -i IDS, -n NAME, -s STATE or -q QUERY")
    ids = given_ids(args)
    query = fw_query(lp, args)
    if ids and not (args.name or args.state or args.query or getattr(args, "qid", None)):
        return ids  # keep the order the user gave
    return lp.get_fw_ids(query, sort=[("fw_id", 1)])


def wf_selection(lp, args):
    """``(query, state)`` for LaunchPad.get_wf_summaries from ``-i/-n/-s/-q``."""
    query = {}
    ids = given_ids(args)
    if ids:
        query["wf_id"] = {"$in": sorted(set(check_fw_ids(lp, ids).values()))}
    if args.name:
        query["name"] = args.name
    user = parse_query(args.query)
    state = args.state
    if isinstance(user.get("state"), str) and not state:
        # FireWorks' workflow documents carry a state; ours derive it from counts.
        user = dict(user)
        state = user.pop("state")
    return combine(query, user), state


def select_workflows(lp, args, sort=None, limit=0):
    query, state = wf_selection(lp, args)
    return lp.get_wf_summaries(query or None, state=state, sort=sort, limit=limit)


def first_fw_ids(lp, wf_ids):
    """``{wf_id: lowest fw_id}``: the firework that names each workflow, as in FireWorks."""
    out = {}
    for wf_id in wf_ids:
        found = lp.get_fw_ids({"wf_id": wf_id}, sort=[("fw_id", 1)], limit=1)
        out[wf_id] = found[0] if found else None
    return out


# -- confirmation ----------------------------------------------------------------
def stdin_is_tty():
    return sys.stdin is not None and sys.stdin.isatty()


def confirm(lp, question, password=None, piped=False):
    """Go on only if the user agrees, or a script passed today's date as the password.
    ``piped``: a ``Y`` on a non-terminal stdin also agrees (FireWorks' ``lpad reset``)."""
    today = lp.today()
    if password is not None:
        if password != today:
            raise StarshellError(f"wrong password: pass today's date ({today}) to confirm")
        return
    if not (piped or stdin_is_tty()):
        raise StarshellError(
            f"{question} Confirm on a terminal, or in scripts pass --password {today} (today's date)"
        )
    try:
        answer = input(f"{question} [y/N] ")
    except (EOFError, OSError):  # stdin closed, or not readable (e.g. under a test runner)
        raise StarshellError(
            f"{question} No answer on stdin: type Y, or pass --password {today} (today's date)"
        ) from None
    if answer.strip().lower() not in ("y", "yes"):
        raise StarshellError("cancelled: nothing was changed")
