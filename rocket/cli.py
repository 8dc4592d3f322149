"""``rlaunch``: run fireworks on this node (singleshot, rapidfire, multi)."""

import argparse
import logging
import os
import sys

from launchpad import fw_config
from launchpad.cli import errors as cli_errors
from launchpad.config import LAUNCHPAD_ENV, load_config
from launchpad.errors import StarshellError
from launchpad.version import add_version_option
from launchpad.worker import load_fworker

from .launcher import launch_rocket, multi, rapidfire
from .multi_launcher import packing_envs, read_nodefile
from .offline import launch_offline


def _nlaunches(text):
    """FireWorks' values: N, 0 (until no work can come) or -1/'infinite' (wait for ever)."""
    if str(text).lower() == "infinite":
        return -1
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or 'infinite', got {text!r}") from None
    if value < -1:
        raise argparse.ArgumentTypeError(
            "nlaunches must be a count, 0 (until no work can come) or -1/infinite (keep waiting for new work)"
        )
    return value


def build_parser():
    parser = argparse.ArgumentParser(
        prog="rlaunch",
        description="Run READY fireworks from the LaunchPad on this node: singleshot in "
        "the current directory (as FireWorks), rapidfire and multi each in its own "
        "launcher_<timestamp> directory under it (a firework's _launch_dir wins).",
    )
    add_version_option(parser)
    parser.add_argument(
        "-l",
        "--launchpad_file",
        help="my_launchpad.yaml to use (default: "
        "$STARSHELL_LAUNCHPAD, -c DIR, FW_config.yaml's LAUNCHPAD_LOC, "
        "./my_launchpad.yaml, ~/.starshell/, ~/.fireworks/, else the embedded "
        "store)",
    )
    parser.add_argument(
        "-w",
        "--fworker_file",
        help="my_fworker.yaml: worker name, category, "
        "query and env (default: -c DIR, FW_config.yaml's FWORKER_LOC, "
        "./my_fworker.yaml, $STARSHELL_HOME/, ~/.fireworks/, else a worker "
        "that takes anything)",
    )
    parser.add_argument(
        "-c",
        "--config_dir",
        metavar="DIR",
        help="FireWorks' config folder: "
        "look for my_launchpad.yaml and my_fworker.yaml there when -l/-w are "
        "not given (default: FW_config.yaml's CONFIG_FILE_DIR)",
    )
    parser.add_argument("--loglvl", default="INFO", help="log level (DEBUG, INFO, WARNING, ...)")
    parser.add_argument("-s", "--silencer", action="store_true", help="print nothing but errors")
    parser.add_argument(
        "--ping_interval",
        type=float,
        default=60.0,
        help="seconds between heartbeats of a running firework (default 60, "
        "or FW_config.yaml's PING_TIME_SECS)",
    )
    parser.add_argument(
        "--on_interrupt",
        choices=["requeue", "fizzle"],
        default="requeue",
        help="what SIGTERM/Ctrl-C does to the running firework (default: requeue, i.e. back to READY)",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    single = sub.add_parser("singleshot", help="run one READY firework here (the current directory) and stop")
    single.add_argument("-f", "--fw_id", type=int, help="run this firework (READY or RESERVED)")
    single.add_argument(
        "--offline",
        action="store_true",
        help="run the firework of ./FW.json that qlaunch -r prepared, without any store, "
        "gateway or launchpad file (nodes with no network); report in FW_offline.json, "
        "FW_ping.json and FW_action.json for lpad recover_offline",
    )
    _pdb_option(single)

    rapid = sub.add_parser("rapidfire", help="run fireworks until no more can become READY")
    _loop_options(rapid)
    _pdb_option(rapid)

    many = sub.add_parser("multi", help="run N rapidfire rocket processes on this node")
    many.add_argument("num_jobs", type=int, help="number of rocket processes")
    _loop_options(many)
    many.add_argument(
        "--nodefile",
        help="file of the job's nodes, one a line, or the variable naming it (PBS_NODEFILE): "
        "the nodes are shared equally among the processes (their tasks read STARSHELL_NODE_LIST)",
    )
    many.add_argument("--ppn", type=int, default=1, help="processors per node (default 1)")
    many.add_argument(
        "--exclude_current_node", action="store_true", help="leave this node out of the shared nodes"
    )
    parser.subcommands = sub.choices
    return parser


# FW_config.yaml keys that set option defaults: (command, None: before it; option) -> key.
OPTION_DEFAULTS = {
    (None, "ping_interval"): "PING_TIME_SECS",
    ("rapidfire", "sleep"): "RAPIDFIRE_SLEEP_SECS",
    ("multi", "sleep"): "RAPIDFIRE_SLEEP_SECS",
}
# Set for the processes of rlaunch multi: their parent printed FW_config's notes already.
QUIET_ENV = "STARSHELL_FW_CONFIG_SAID"


def _pdb_option(p):
    p.add_argument(
        "--pdb",
        action="store_true",
        help="when a task raises, open Python's debugger (pdb) where it failed; "
        "the firework is recorded FIZZLED when you leave it (c or q)",
    )


def _loop_options(p):
    p.add_argument(
        "--nlaunches",
        type=_nlaunches,
        default=0,
        help="stop after this many fireworks; 0 (default): when no more work can "
        "come; 'infinite' or -1: keep waiting for new work until stopped",
    )
    p.add_argument(
        "--max_loops",
        type=int,
        default=-1,
        help="rounds of waiting for fireworks others still run; -1 = no limit",
    )
    p.add_argument(
        "--sleep",
        type=float,
        default=60.0,
        help="seconds to wait before looking again when nothing is READY (default 60, "
        "or FW_config.yaml's RAPIDFIRE_SLEEP_SECS)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="start no new firework after this many seconds (pilot jobs: less than the walltime)",
    )
    p.add_argument(
        "--local_redirect",
        action="store_true",
        help="send the tasks' output to FW_job.out and FW_job.error in each launch directory",
    )
    p.add_argument(
        "--lost_after",
        type=float,
        default=None,
        help="a run without a heartbeat for this many seconds looks lost and keeps "
        "no one waiting (default: 10 x --ping_interval)",
    )


def main(argv=None, launchpad=None):
    parser = build_parser()
    try:
        settings = fw_config.load_fw_settings(quiet=bool(os.environ.get(QUIET_ENV)))
    except StarshellError as exc:
        return cli_errors.report(exc, "rlaunch")
    fw_config.set_option_defaults({None: parser, **parser.subcommands}, OPTION_DEFAULTS, settings)
    args = parser.parse_args(argv)
    with fw_config.applied(settings):
        return _run(args, launchpad, settings)


def _run(args, launchpad, settings):
    level = logging.ERROR if args.silencer else getattr(logging, str(args.loglvl).upper(), logging.INFO)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    saved = os.environ.get(LAUNCHPAD_ENV)
    try:
        config_dir = fw_config.config_dir_option(args.config_dir)
        args.fworker_file = settings.find_file("fworker", args.fworker_file, config_dir)
        worker = load_fworker(args.fworker_file)  # a bad -w fails before a store is opened
        if args.command == "multi":
            args.launchpad_file = settings.find_file("launchpad", args.launchpad_file, config_dir)
            return _multi(args)
        options = dict(
            ping_interval=args.ping_interval,
            requeue_on_interrupt=args.on_interrupt == "requeue",
            pdb_on_exception=getattr(args, "pdb", False),
            fw_json=settings.get("PRINT_FW_JSON", True),
            fw_yaml=settings.get("PRINT_FW_YAML", False),
        )
        if getattr(args, "offline", False):  # no store is opened: the node may have no network
            if launch_offline(worker, fw_id=args.fw_id, **options) is None:
                print("the firework in FW.json here has already run", file=sys.stderr)
            return 0
        lp = launchpad or fw_config.open_launchpad(settings, args.launchpad_file, config_dir)
        source = getattr(getattr(lp, "config", None), "source", None)
        if source:  # tasks run in launch directories: there, they find this store too (FilePad)
            os.environ[LAUNCHPAD_ENV] = source
        if args.command == "singleshot":
            fw_id = launch_rocket(lp, worker, fw_id=args.fw_id, **options)
            if fw_id is None:
                print("no READY firework for this worker", file=sys.stderr)
            return 0
        n = rapidfire(
            lp,
            worker,
            nlaunches=args.nlaunches,
            max_loops=args.max_loops,
            sleep_time=args.sleep,
            timeout=args.timeout,
            lost_after=args.lost_after,
            local_redirect=args.local_redirect,
            **options,
        )
        logging.getLogger("rocket").info("rapidfire finished after %d firework(s)", n)
        return 0
    except cli_errors.HANDLED as exc:  # a stop signal: 130 for SIGINT, else 143
        return cli_errors.report(
            exc, "rlaunch", debug=args.debug, interrupted_note="no firework was left RUNNING"
        )
    finally:  # an in-process caller gets its environment back
        if saved is None:
            os.environ.pop(LAUNCHPAD_ENV, None)
        else:
            os.environ[LAUNCHPAD_ENV] = saved


def _multi(args, argv=None):
    """Run ``rapidfire`` with the same settings in N processes (rebuilt from the parsed
    options, so they may come before or after the process count). A bad -l fails
    here once, not in each process."""
    load_config(args.launchpad_file)
    tail = []
    for flag, value in (
        ("-l", args.launchpad_file),
        ("-w", args.fworker_file),
        ("--loglvl", args.loglvl),
        ("--ping_interval", args.ping_interval),
        ("--on_interrupt", args.on_interrupt),
    ):
        if value is not None:
            tail += [flag, str(value)]
    tail += ["-s"] if args.silencer else []
    tail += [
        "rapidfire",
        "--nlaunches",
        str(args.nlaunches),
        "--max_loops",
        str(args.max_loops),
        "--sleep",
        str(args.sleep),
    ]
    for flag, value in (("--timeout", args.timeout), ("--lost_after", args.lost_after)):
        if value is not None:
            tail += [flag, str(value)]
    tail += ["--local_redirect"] if args.local_redirect else []
    nodes = read_nodefile(args.nodefile) if args.nodefile else None
    envs = packing_envs(args.num_jobs, nodes, args.ppn, args.exclude_current_node)
    os.environ[QUIET_ENV] = "1"
    try:
        return multi(args.num_jobs, tail, envs=envs)
    finally:
        os.environ.pop(QUIET_ENV, None)


if __name__ == "__main__":
    sys.exit(main())
