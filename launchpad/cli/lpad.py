"""``lpad``: the command line over the LaunchPad API.

``main(argv=None, launchpad=None) -> int`` parses, runs one subcommand and
returns its exit code; tests pass a ``launchpad`` to skip the config file.
Errors a user can fix (``StarshellError``) become one line on stderr and
the error's ``exit_code``; ``--debug`` adds the traceback. Ctrl-C exits
130; a bad command line exits 2. rlaunch and qlaunch share this error path
(``cli_errors``).

Plugins
-------
Other packages add subcommands without launchpad importing them (the
dependency points one way). Declare an entry point in the group
``starshell.lpad_commands`` naming a callable ``register(subparsers)``::

    [project.entry-points."starshell.lpad_commands"]
    queue = "queue_adapters.lpad_commands:register"

    def register(subparsers):
        p = subparsers.add_parser("get_qids", help="...")
        p.add_argument("-i", "--fw_id", type=int, nargs="+")
        p.set_defaults(func=get_qids)      # func(args, launchpad) -> int

``subparsers`` works like argparse's: every parser it adds also accepts the
global options (``-l``, ``-o``, ``--debug``), and ``args.output`` is
``None``, ``"json"`` or ``"yaml"``. A handler gets the LaunchPad the
global options describe; one that needs none sets
``needs_launchpad=False`` (it is then passed ``None``). A plugin that fails
to load is reported on stderr and the other commands still work.

Plugins load only when the command line names no core command (``lpad``,
``lpad --help``, a plugin's command, a typo): a core command never pays for
the entry-point scan, and runs with only its own parser built.
"""

import argparse
import os
import sys

import launchpad.cli.add as cli_add
import launchpad.cli.admin as cli_admin
import launchpad.cli.errors as cli_errors
import launchpad.cli.offline as cli_offline
import launchpad.cli.query as cli_query
import launchpad.cli.state as cli_state
import launchpad.cli.track as cli_track
import launchpad.cli.workflow as cli_workflow
import launchpad.display as display
import launchpad.fw_config as fw_config

from ..config import LAUNCHPAD_FILE, LaunchpadConfig, config_to_dict, default_store_path, nonempty_path
from ..errors import ConfigError, StarshellError
from ..version import add_version_option, print_warnings, version_report
from .common import confirm
from .parsing import CommandGroup, add_global_options, add_top_level_options

PLUGIN_GROUP = "starshell.lpad_commands"


def build_parser(plugins=True, only=None):
    """``lpad``'s parser; ``only``: build just that core command (see CommandGroup)."""
    parser = argparse.ArgumentParser(
        prog="lpad",
        description="Manage the workflows in a starshell LaunchPad "
        "(FireWorks-compatible). Run `lpad COMMAND --help` for a command's options.",
        epilog="examples: lpad init; lpad add examples/hello.yaml; lpad get_wflows -d more; "
        "lpad -o yaml get_fws -s READY",
    )
    add_global_options(parser, suppress=False)
    add_top_level_options(parser)
    add_version_option(parser)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    parser.subcommands = subparsers.choices  # {name: parser}, for help and tests
    group = CommandGroup(subparsers, only)
    register(group)
    cli_query.register(group)
    cli_state.register(group)
    cli_track.register(group)
    cli_admin.register(group)
    cli_workflow.register(group)
    cli_offline.register(group)
    if plugins:
        load_plugins(group)
    return parser


# -- plugins -----------------------------------------------------------------------
class _NotACommandLine(Exception):
    pass


class _QuietParser(argparse.ArgumentParser):
    def error(self, message):
        raise _NotACommandLine(message)


def _command_name(argv):
    """The subcommand ``argv`` names, read past the global options; None when
    there is none (``lpad``, ``lpad --help``) or the line does not parse.

    A core command then starts without building the other commands' parsers
    or scanning every installed distribution for plugins: each costs about
    as much as the rest of a read command.
    """
    pre = _QuietParser(add_help=False)
    add_global_options(pre, suppress=False)
    add_top_level_options(pre)
    pre.add_argument("command", nargs="?")
    try:
        return pre.parse_known_args(argv)[0].command
    except _NotACommandLine:
        return None


def plugin_entry_points():
    from ..plugins import entry_points_in

    return entry_points_in(PLUGIN_GROUP)


def load_plugins(group):
    for ep in plugin_entry_points():
        try:
            ep.load()(group)
        except Exception as exc:  # one broken plugin must not take lpad down with it
            display.note(
                f"warning: lpad plugin {ep.name!r} ({ep.value}) was not loaded: {type(exc).__name__}: {exc}"
            )


# -- running -------------------------------------------------------------------------
def main(argv=None, launchpad=None):
    """Run ``lpad`` with ``argv`` (default: the command line); return the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    command = _command_name(argv)
    parser = build_parser(plugins=False, only=command) if command else None
    if parser is None or command not in parser.subcommands:  # help, a plugin's, a typo
        parser = build_parser()
    try:
        settings = fw_config.load_fw_settings()
    except StarshellError as exc:
        return cli_errors.report(exc, "lpad")
    fw_config.set_option_defaults(parser.subcommands, OPTION_DEFAULTS, settings)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a bad command line (2)
        return exc.code if isinstance(exc.code, int) else 2
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    args.fw_settings = settings  # for plugins' own files (lpad daemon's -w/-q)
    with fw_config.applied(settings):
        return run(args, launchpad, settings)


# FW_config.yaml keys that set the defaults of lpad's options: (command, option) -> key.
OPTION_DEFAULTS = {
    ("detect_lostruns", "time"): "RUN_EXPIRATION_SECS",
    ("detect_unreserved", "time"): "RESERVATION_EXPIRATION_SECS",
    ("daemon", "lostruns_time"): "RUN_EXPIRATION_SECS",
    ("daemon", "unreserved_time"): "RESERVATION_EXPIRATION_SECS",
    ("webgui", "host"): "WEBSERVER_HOST",
    ("webgui", "port"): "WEBSERVER_PORT",
}


def run(args, launchpad=None, settings=None):
    opened = None
    try:
        if launchpad is None and getattr(args, "needs_launchpad", True):
            launchpad = opened = fw_config.open_launchpad(
                settings or fw_config.FWSettings(),
                args.launchpad_file,
                fw_config.config_dir_option(getattr(args, "config_dir", None)),
            )
        return int(args.func(args, launchpad) or 0)
    except cli_errors.HANDLED as exc:  # `lpad get_fws | head` (a closed pipe) exits 0
        password = getattr(getattr(launchpad, "config", None), "password", None)
        return cli_errors.report(exc, "lpad", debug=args.debug, secrets=[password])
    finally:
        if opened is not None:
            opened.store.close()


# -- admin commands ------------------------------------------------------------------
def register(group):
    p = group.add_parser(
        "init",
        help="write my_launchpad.yaml here",
        description="Write my_launchpad.yaml in the current directory (or the -l file). "
        "Default: the embedded store (a SQLite file under ~/.starshell); "
        "--mongodb or any MongoDB option selects MongoDB.",
    )
    p.add_argument("--path", help="the embedded store's file (default: ~/.starshell/launchpad.sqlite)")
    p.add_argument("--mongodb", action="store_true", help="use MongoDB")
    p.add_argument("--host", help="MongoDB host (default localhost)")
    p.add_argument("--port", type=int, help="MongoDB port (default 27017)")
    p.add_argument("--name", help="MongoDB database name (default fireworks)")
    p.add_argument("--username", help="MongoDB user")
    p.add_argument("--password", help="MongoDB password (the file is made readable by you only)")
    p.add_argument("--authsource", help="MongoDB authentication database")
    p.add_argument("--uri", help="a mongodb:// or mongodb+srv:// URI instead of host/port")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.set_defaults(func=init, needs_launchpad=False)

    p = group.add_parser(
        "reset",
        help="erase every workflow (asks first)",
        description="Erase every workflow, firework and launch. Asks for confirmation: type "
        "Y (also through a pipe: echo Y | lpad reset, as in FireWorks); scripts "
        "may instead pass --password with today's date (YYYY-MM-DD).",
    )
    p.add_argument("--password", help="today's date (YYYY-MM-DD): confirms without asking")
    p.set_defaults(func=reset)

    p = group.add_parser(
        "add",
        help="add workflows from YAML/JSON files",
        description="Add workflows (or single fireworks) from FireWorks-format YAML or JSON "
        "files. Ids in a file are local: the new store ids are printed. Every "
        "file is checked before any is added: one bad file adds nothing. Files are "
        "read one at a time; a terminal shows a progress bar.",
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="workflow or firework files")
    p.add_argument(
        "-d",
        "--dir",
        action="store_true",
        help="FILEs are folders: add every .yaml/.yml/.json file directly in them (sorted by name)",
    )
    p.add_argument("-c", "--check", action="store_true", help="only check the files; add nothing")
    p.set_defaults(func=cli_add.add)

    p = group.add_parser("version", help="print starshell's version and where its packages are")
    p.set_defaults(func=version, needs_launchpad=False)

    p = group.add_parser(
        "webgui",
        help="serve the web interface",
        description="Serve the web GUI for this LaunchPad (by default on this machine "
        "only: tunnel through SSH, or use --host with --password-file).",
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1, or FW_config.yaml's WEBSERVER_HOST)",
    )
    p.add_argument(
        "--port", type=int, default=5000, help="port (default 5000, or FW_config.yaml's WEBSERVER_PORT)"
    )
    p.add_argument("--read-only", dest="read_only", action="store_true", help="show, but refuse every change")
    p.add_argument(
        "--password-file",
        dest="password_file",
        metavar="F",
        help="a file holding the hash of the password that actions need "
        "(make it with: python -m webgui.passwd F); without it the GUI is read-only",
    )
    p.add_argument(
        "--nworkers",
        type=_positive_number(int),
        default=8,
        metavar="N",
        help="requests served at once, as threads (default 8, at least 4)",
    )
    p.add_argument(
        "--query-seconds",
        dest="query_seconds",
        type=_positive_number(float),
        default=10.0,
        metavar="S",
        help="stop a workflow query that runs longer than this (default 10)",
    )
    p.add_argument(
        "-s",
        "--server_mode",
        action="store_true",
        help="accepted for FireWorks: the server is always the production one",
    )
    p.add_argument(
        "-b", "--nobrowser", action="store_true", help="accepted for FireWorks: no browser is ever opened"
    )
    p.add_argument(
        "--fwquery",
        metavar="JSON",
        help="show only the fireworks matching this query (dashboard counts, failures)",
    )
    p.add_argument(
        "--wflowquery", metavar="JSON", help="show only the workflows matching this query (counts and lists)"
    )
    p.add_argument(
        "--webgui_username",
        metavar="NAME",
        help="with --webgui_password: every page asks for this user (HTTP basic auth)",
    )
    p.add_argument(
        "--webgui_password",
        metavar="PASSWORD",
        help="the basic-auth password (visible to other users in ps: prefer "
        "--password-file for actions and SSH tunnels for reading)",
    )
    p.set_defaults(func=webgui)

    p = group.add_parser(
        "gateway",
        help="serve this store to compute nodes over HTTP",
        description="Serve the rocket's operations and read-only queries of this LaunchPad "
        "over HTTP, for compute nodes that cannot reach the store. Their "
        "launchpad file names the gateway (gateway: http://HOST:PORT, "
        "token_file: FILE); see docs/gateway.md.",
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)",
    )
    p.add_argument("--port", type=int, default=6100, help="port (default 6100; 0: any free one)")
    p.add_argument(
        "--token_file",
        help="the tokens clients may present, one a line; created (mode 600) with "
        "one token if missing, re-read when it changes (default "
        "$STARSHELL_HOME/gateway.token, i.e. ~/.starshell/gateway.token)",
    )
    p.add_argument("--certfile", help="TLS certificate (PEM): serve https")
    p.add_argument("--keyfile", help="TLS private key (PEM) of --certfile")
    p.add_argument("--threads", type=int, default=16, help="requests served at once (default 16)")
    p.add_argument(
        "--max_rows", type=int, default=10000, help="the most records one read may return (default 10000)"
    )
    p.set_defaults(func=gateway)


def init(args, _launchpad):
    target = (
        LAUNCHPAD_FILE
        if args.launchpad_file is None
        else nonempty_path(args.launchpad_file, "launchpad file (-l)")
    )
    if os.path.exists(target) and not args.force:
        raise ConfigError(f"{target} already exists; pass --force to overwrite it")
    config = _init_config(args)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(display.dumps(config_to_dict(config), "yaml"))
    os.chmod(target, 0o600)  # an existing file keeps its mode through O_TRUNC
    display.emit(
        {"file": os.path.abspath(target), "store": config.describe()},
        args.output,
        human=lambda: display.out(f"wrote {target}: {config.describe()}"),
    )
    return 0


def _init_config(args):
    mongo_options = (args.host, args.port, args.name, args.username, args.password, args.authsource, args.uri)
    if not args.mongodb and all(v is None for v in mongo_options):
        path = args.path or default_store_path()
        return LaunchpadConfig(kind="sqlite", path=os.path.abspath(os.path.expanduser(path)))
    if args.path:
        raise ConfigError("--path is for the embedded store; it cannot go with MongoDB options")
    return LaunchpadConfig(
        kind="mongodb",
        uri=args.uri,
        host=args.host or "localhost",
        port=args.port or 27017,
        name=args.name or "fireworks",
        username=args.username,
        password=args.password,
        authsource=args.authsource,
    )


def reset(args, lp):
    confirm(lp, f"Erase every workflow in {lp.describe()}?", args.password, piped=True)
    lp.reset(require_password=False)
    display.emit(
        {"reset": lp.describe()},
        args.output,
        human=lambda: display.out(f"reset {lp.describe()}: every workflow erased"),
    )
    return 0


def version(args, _launchpad):
    """The version, and the folder of each package: a same-named PyPI package can shadow one."""
    lines, data, warnings = version_report()
    display.emit(data, args.output, human=lambda: display.out("\n".join(lines)))
    print_warnings(warnings)
    return 0


def webgui(args, lp):
    try:
        from webgui import serve
    except ImportError as exc:
        if exc.name != "webgui":
            raise
        raise StarshellError(
            "the web GUI is not available in this installation (package webgui); reinstall starshell"
        ) from None
    store = getattr(lp, "store", None)  # a gateway client has none: its server keeps time
    if store is not None:
        store.query_seconds = args.query_seconds  # a GUI query gives up sooner than lpad's
    result = serve(
        lp,
        host=args.host,
        port=args.port,
        read_only=args.read_only,
        password_file=args.password_file,
        STARSHELL_THREADS=max(args.nworkers, 4),
        STARSHELL_FW_QUERY=args.fwquery,
        STARSHELL_WF_QUERY=args.wflowquery,
        STARSHELL_BASIC_AUTH=_basic_auth(args),
    )
    return result if isinstance(result, int) else 0


def _basic_auth(args):
    """FireWorks' --webgui_username/--webgui_password: both or neither."""
    given = (args.webgui_username, args.webgui_password)
    if not any(given):
        return None
    if not all(given):
        raise ConfigError("give both --webgui_username and --webgui_password, or neither")
    display.note("warning: --webgui_password is visible to other users of this machine (ps)")
    return given


def _positive_number(kind):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"{text} must be more than 0")
        return value

    return parse


def gateway(args, lp):
    """Serve until SIGTERM or Ctrl-C (the module loads only for this command)."""
    if getattr(lp.config, "kind", None) == "gateway":
        raise ConfigError(
            "lpad gateway serves a store; its launchpad file names a gateway. "
            "Give it the login node's file (-l), which names the store"
        )
    import logging

    from ..config import starshell_home
    from ..gateway.server import build_server, serve, url_of

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    token_file = os.path.expanduser(args.token_file or os.path.join(starshell_home(), "gateway.token"))
    server, created = build_server(
        lp, args.host, args.port, token_file, args.certfile, args.keyfile, args.threads, args.max_rows
    )
    if created:
        display.note(
            f"created {token_file} with a new token (mode 600): copy it, or one line "
            "of it, to the compute nodes"
        )

    def announce():  # once SIGTERM stops the server: a script may send one as soon as it reads this
        display.emit(
            {"gateway": url_of(server), "store": lp.describe()},
            args.output,
            human=lambda: display.out(f"gateway {url_of(server)} serving {lp.describe()}"),
        )
        sys.stdout.flush()

    return serve(server, announce)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
