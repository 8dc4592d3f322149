"""``lpad admin``: keeping a store healthy (``lpad admin check [--fix]``).

``register(subparsers)`` adds the commands to ``lpad``; each handler is
``func(args, launchpad) -> int`` like every other command's.
"""

import argparse
import sys

from .. import display
from ..checker import DEFAULT_GRACE_SECS, check
from . import maint as cli_maint
from .parsing import CommandGroup

EXIT_PROBLEMS = 1


def _grace(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: seconds cannot be negative")
    return value


def register(subparsers):
    admin = subparsers.add_parser(
        "admin",
        help="check, repair and tune the store (check, tuneup, refresh, orphaned...)",
        description="Store maintenance. `lpad admin check` looks for what a crash or a lost "
        "connection can leave behind; --fix repairs what is safe to repair.",
    )
    raw_actions = admin.add_subparsers(dest="admin_command", metavar="ACTION", title="actions")
    raw_actions.required = True
    actions = CommandGroup(raw_actions)  # so -l/-o/--debug also work after `admin check`
    p = actions.add_parser(
        "check",
        help="find inconsistencies between fireworks, links, launches and workflows",
        description="Check that every firework's state agrees with its parents and its "
        "launches, that links are symmetric and acyclic, and that nothing is "
        "left without its workflow or firework. Exit code 0 when nothing is "
        "wrong (or everything was fixed), 1 otherwise.",
    )
    p.add_argument(
        "--fix",
        action="store_true",
        help="repair what is safe: recount waiting parents, complete one-sided "
        "links, requeue fireworks stuck RUNNING without a live launch, remove "
        "pieces an interrupted add or delete left behind",
    )
    p.add_argument(
        "--grace",
        type=_grace,
        default=DEFAULT_GRACE_SECS,
        metavar="SECS",
        help="leave alone what changed less than SECS ago, since a running rocket "
        f"or lpad add may still finish it (default {DEFAULT_GRACE_SECS:g})",
    )
    p.set_defaults(func=check_command)
    _register_import(actions)
    cli_maint.register(actions)  # tuneup, refresh, unlock, maintain, orphaned


def _register_import(actions):
    p = actions.add_parser(
        "import_fireworks",
        help="copy the workflows of a FireWorks database into this store",
        description="Copy every workflow of a FireWorks 2.x database (fireworks, launches, "
        "links, states, metadata) into the store -l names, keeping FireWorks' "
        "fw_ids and launch_ids. The FireWorks database is only read. Run it "
        "again after an interruption: workflows already copied are skipped.",
    )
    source = p.add_argument_group("the FireWorks database (give one)").add_mutually_exclusive_group(
        required=True
    )
    source.add_argument("--uri", help="a mongodb:// or mongodb+srv:// URI of the FireWorks server")
    source.add_argument(
        "--fireworks_launchpad",
        metavar="FILE",
        help="FireWorks' my_launchpad.yaml naming its database (-l names the target, this store)",
    )
    source.add_argument(
        "--mongomock_file",
        metavar="PATH",
        help="the JSON file of FireWorks' embedded store (FW_config.yaml's MONGOMOCK_SERVERSTORE_FILE)",
    )
    p.add_argument(
        "--name", metavar="DB", help="the FireWorks database's name (default: the URI's, else fireworks)"
    )
    p.add_argument(
        "--renumber",
        action="store_true",
        help="give the imported fireworks and launches new ids, for a store that "
        "already uses FireWorks' ids (the old ids are kept in each document's "
        "fireworks_import field)",
    )
    p.set_defaults(func=import_command)


def import_command(args, launchpad):
    from ..importer import import_fireworks  # loads bson/pymongo: only for this command
    from ..stores.fireworks_source import open_source

    source = open_source(
        uri=args.uri,
        name=args.name,
        launchpad_file=args.fireworks_launchpad,
        mongomock_file=args.mongomock_file,
    )
    try:
        summary = import_fireworks(
            launchpad,
            source,
            renumber=args.renumber,
            progress=lambda done, total: display.note(f"imported {done} of {total} workflows..."),
        )
    finally:
        source.close()

    def human():
        for line in summary.lines():
            display.out(line)

    display.emit(summary.to_dict(), getattr(args, "output", None), human=human)
    return EXIT_PROBLEMS if summary.failed else 0


def check_command(args, launchpad):
    report = check(launchpad, fix=args.fix, grace_secs=args.grace, progress=_check_progress(sys.stderr))

    def human():
        for line in report.lines():
            display.out(line)

    display.emit(report.to_dict(), getattr(args, "output", None), human=human)
    return 0 if report.ok else EXIT_PROBLEMS


def _check_progress(stream):
    """``checked 120000/1000000 fireworks`` redrawn on a terminal's stderr (a check of a
    million fireworks takes minutes); nothing when stderr is not a terminal."""
    if not display.is_terminal(stream):
        return None

    def show(done, total):
        stream.write(f"\rchecked {done}/{total} fireworks" + ("\n" if done >= total else ""))
        stream.flush()

    return show


__all__ = ["check_command", "import_command", "register"]
