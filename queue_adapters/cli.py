"""``qlaunch``: submit pilot jobs that run ``rlaunch`` on a batch system.

``qlaunch singleshot`` submits one job now; ``qlaunch rapidfire`` keeps up to
``-m`` jobs queued while READY fireworks exist for the worker; ``-r`` ties each
job to one reserved firework; ``qlaunch init`` writes starter files.  See
docs/queue.md.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from typing import Optional

from launchpad import fw_config
from launchpad.cli import errors as cli_errors
from launchpad.cli.common import count, seconds
from launchpad.config import find_settings_file, starshell_home
from launchpad.errors import ConfigError, Interrupted, StarshellError
from launchpad.version import add_version_option
from launchpad.worker import load_fworker

from .adapters import get_adapter, run_subprocess
from .launcher import SUBMIT_SCRIPT, QueueLauncher, stop_margin
from .remote import DEFAULT_CONFIG_DIR, DEFAULT_SHELL, PASSWORD_ENV, run_remote
from .starter import write_starter_files

QADAPTER_FILE = "my_qadapter.yaml"
COMMANDS = ("init", "singleshot", "rapidfire")
LIST_OPTIONS = {
    "-rh": "--remote_host",
    "--remote_host": "--remote_host",
    "-rc": "--remote_config_dir",
    "--remote_config_dir": "--remote_config_dir",
}


def find_qadapter_file(explicit: Optional[str] = None, required: bool = True) -> Optional[str]:
    """The qadapter in force: -q, else ./my_qadapter.yaml, else $STARSHELL_HOME/my_qadapter.yaml."""
    found = find_settings_file(QADAPTER_FILE, "queue adapter file (-q)", explicit)
    if found is None and required:
        raise ConfigError(
            f"no queue adapter file: pass -q FILE, or put {QADAPTER_FILE} in the "
            f"current directory, in {starshell_home()}, in ~/.fireworks or in "
            "-c DIR, or name it in FW_config.yaml's QUEUEADAPTER_LOC "
            "(qlaunch init writes a starter one)"
        )
    return found


def nlaunches_type(text: str) -> int:
    """A count, or 'infinite' (-1)."""
    if str(text).lower() == "infinite":
        return -1
    try:
        return count(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected a number >= 0 or 'infinite', got {text!r}") from None


def add_queue_options(parser, launchpad_option=True):
    """-l/-w/-q/-r/-d: what qlaunch and ``lpad daemon`` share (lpad has its own -l)."""
    if launchpad_option:
        parser.add_argument(
            "-l",
            "--launchpad_file",
            help="my_launchpad.yaml to use (default: "
            "./my_launchpad.yaml, ~/.starshell/, else the embedded store)",
        )
    parser.add_argument(
        "-w",
        "--fworker_file",
        help="my_fworker.yaml: only fireworks this worker "
        "may run count as work, and -r reserves only those (default: "
        "./my_fworker.yaml or ~/.starshell/my_fworker.yaml if present). The pilot "
        "jobs use the worker named in rocket_launch",
    )
    parser.add_argument(
        "-q",
        "--queueadapter_file",
        help=f"the queue adapter file (default: "
        f"-c DIR, FW_config.yaml's QUEUEADAPTER_LOC, ./{QADAPTER_FILE}, "
        f"~/.starshell/, ~/.fireworks/)",
    )
    parser.add_argument(
        "-r",
        "--reserve",
        action="store_true",
        help="reservation mode: reserve "
        "one READY firework per job; the job runs 'rlaunch singleshot --fw_id N' "
        "with the firework's _queueadapter settings (walltime, nodes...) merged in",
    )
    parser.add_argument(
        "-d",
        "--launch_dir",
        default=".",
        help="where the block_*/launcher_* directories are made and jobs submitted from (default: here)",
    )
    parser.add_argument(
        "--submit_interval",
        type=seconds,
        default=1.0,
        metavar="SECS",
        help="at least this many seconds between two submissions (default 1, or "
        "FW_config.yaml's QUEUE_UPDATE_INTERVAL)",
    )


def build_parser():
    margin = f"10% of the walltime, at most {stop_margin(10**6) // 60} min"
    parser = argparse.ArgumentParser(
        prog="qlaunch",
        description="Submit pilot jobs that run fireworks through a batch "
        f"system. A job whose walltime is known gets 'rlaunch rapidfire --timeout' ({margin} "
        "before the end) so it stops taking work in time; on Slurm it is also warned by a "
        "signal and hands a running firework back.",
    )
    add_queue_options(parser)
    add_version_option(parser)
    parser.add_argument(
        "-c",
        "--config_dir",
        metavar="DIR",
        help="FireWorks' config folder: look "
        "for my_launchpad.yaml, my_fworker.yaml and my_qadapter.yaml there when "
        "-l/-w/-q are not given (default: FW_config.yaml's CONFIG_FILE_DIR)",
    )
    parser.add_argument("--loglvl", default="INFO", help="log level (DEBUG, INFO, WARNING...)")
    parser.add_argument("-s", "--silencer", action="store_true", help="print nothing but errors")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    add_remote_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    init = sub.add_parser(
        "init",
        help="write starter my_qadapter.yaml, my_fworker.yaml and hello_cluster.yaml",
        description="Write a Slurm queue adapter, a worker and a small workflow to try them "
        "with into DIR, with DIR's absolute paths and the active virtualenv filled in (and "
        "-l DIR/my_launchpad.yaml if it exists: run lpad init first). Edit queue, account "
        "and walltime, then: lpad add hello_cluster.yaml; qlaunch singleshot.",
    )
    init.add_argument(
        "directory", nargs="?", default=".", metavar="DIR", help="where to write them (default: here)"
    )
    init.add_argument("--force", action="store_true", help="overwrite files already there")
    sub.add_parser(
        "singleshot",
        help="submit one pilot job now (if a READY firework exists)",
        description="Submit one pilot job from a new launcher_<timestamp> directory.",
    )
    rapid = sub.add_parser(
        "rapidfire",
        help="keep the queue supplied with pilot jobs",
        description="Every --sleep seconds, submit pilot jobs from block_<timestamp>/"
        "launcher_<timestamp> directories: never more than -m queued in all, never more than "
        "the READY fireworks need.",
    )
    rapid.add_argument(
        "-m",
        "--maxjobs_queue",
        type=count,
        default=10,
        metavar="N",
        help="at most N of our jobs (named job_name) queued or running in the qadapter's queue (default 10)",
    )
    rapid.add_argument(
        "-b",
        "--maxjobs_block",
        type=count,
        default=500,
        metavar="N",
        help="at most N launcher directories per block directory (default 500)",
    )
    rapid.add_argument(
        "--nlaunches",
        type=nlaunches_type,
        default=0,
        metavar="N",
        help="stop after N jobs; 0 (default): stop when no work is left "
        "(nothing READY, RUNNING or RESERVED); 'infinite': never stop",
    )
    rapid.add_argument(
        "--sleep",
        type=seconds,
        default=60.0,
        metavar="SECS",
        help="seconds between two rounds, exactly (default 60, or FW_config.yaml's "
        "RAPIDFIRE_SLEEP_SECS); with --nlaunches "
        "0 qlaunch looks every 5 s meanwhile whether work is left, and ends then",
    )
    rapid.add_argument(
        "--timeout",
        type=seconds,
        default=None,
        metavar="SECS",
        help="stop before a round would start after this many seconds",
    )
    rapid.add_argument(
        "--max_errors",
        type=count,
        default=5,
        metavar="N",
        help="give up after N scheduler errors in a row; they back off from 30 s "
        "to 10 min (default 5, or FW_config.yaml's QUEUE_RETRY_ATTEMPTS). The first "
        "submission failing stops at once",
    )
    parser.subcommands = sub.choices
    return parser


# FW_config.yaml keys that set option defaults: (command, None: before it; option) -> key.
OPTION_DEFAULTS = {
    (None, "submit_interval"): "QUEUE_UPDATE_INTERVAL",
    ("rapidfire", "sleep"): "RAPIDFIRE_SLEEP_SECS",
    ("rapidfire", "max_errors"): "QUEUE_RETRY_ATTEMPTS",
}


def add_remote_options(parser):
    """FireWorks' -rh...: run this same qlaunch on remote login nodes over SSH (docs/queue.md)."""
    group = parser.add_argument_group(
        "remote clusters",
        "run this qlaunch command on other hosts over SSH, in their config "
        "dirs, without the options below; host keys must be in ~/.ssh/known_hosts",
    )
    group.add_argument(
        "-rh",
        "--remote_host",
        nargs="+",
        action="extend",
        metavar="HOST",
        help="[USER@]HOST[:PORT] ([ADDR]:PORT for IPv6) to run on, one after the "
        "other; several may follow one -rh",
    )
    group.add_argument(
        "-rc",
        "--remote_config_dir",
        nargs="+",
        action="extend",
        metavar="DIR",
        help=f"remote directory (or several) to run in, where the remote qlaunch "
        f"finds its my_*.yaml (default {DEFAULT_CONFIG_DIR})",
    )
    group.add_argument(
        "-ru",
        "--remote_user",
        metavar="USER",
        help="user to log in as (default: the local user, or USER@ in -rh)",
    )
    group.add_argument(
        "-rp",
        "--remote_password",
        metavar="PASSWORD",
        help=f"password to log in with (visible in this machine's ps: prefer keys, or ${PASSWORD_ENV})",
    )
    group.add_argument(
        "-rkf",
        "--remote_key_file",
        metavar="FILE",
        help="private key to log in with (default: ~/.ssh's keys and ssh-agent)",
    )
    group.add_argument(
        "-rsh",
        "--remote_shell",
        default=DEFAULT_SHELL,
        metavar="SHELL",
        help=f"remote shell command the qlaunch line is passed to (default "
        f"'{DEFAULT_SHELL}': a login shell, so the profile puts qlaunch on PATH)",
    )
    group.add_argument(
        "-rs",
        "--remote_setup",
        action="store_true",
        help="first copy the "
        "my_launchpad/my_fworker/my_qadapter.yaml a local qlaunch would use "
        "(-l/-w/-q, -c DIR, FW_config.yaml, ./, $STARSHELL_HOME) into each "
        "remote config dir",
    )


def split_list_options(argv):
    """``-rh a b singleshot``: the command name ends -rh's (and -rc's) list of values.

    argparse would take it as one more host, since these options take several
    values as in FireWorks; each value is rewritten to its own ``--opt=value``."""
    out, current = [], None
    for word in argv:
        if current and not word.startswith("-") and word not in COMMANDS:
            bare = out[-1] in LIST_OPTIONS  # the option itself goes when it gets a value
            out[len(out) - bare :] = [f"{current}={word}"]
            continue
        current = LIST_OPTIONS.get(word)
        out.append(word)
    return out


def make_launcher(
    args,
    launchpad,
    run_command=run_subprocess,
    clock=time.monotonic,
    sleep=time.sleep,
    required=True,
    settings=None,
) -> Optional[QueueLauncher]:
    """The QueueLauncher that -q/-w/-r/-d describe (None if no qadapter and not required).

    Without ``launchpad`` it opens the one -l names, only once -q and -w are
    known good: a mistyped option must not create or touch a store."""
    worker = load_fworker(args.fworker_file)
    path = find_qadapter_file(args.queueadapter_file, required=required)
    if path is None:
        return None
    adapter = get_adapter(path, run_command=run_command)
    if launchpad is None:
        launchpad = fw_config.open_launchpad(settings or fw_config.FWSettings(), args.launchpad_file)
    return QueueLauncher(
        launchpad,
        adapter,
        worker,
        launch_dir=args.launch_dir,
        reserve=args.reserve,
        maxjobs_block=getattr(args, "maxjobs_block", 500),
        submit_interval=args.submit_interval,
        clock=clock,
        sleep=sleep,
        submit_script=getattr(args, "submit_script", SUBMIT_SCRIPT),
    )


def setup_logging(args):
    level = logging.ERROR if args.silencer else getattr(logging, str(args.loglvl).upper(), None)
    if not isinstance(level, int):
        raise ConfigError(f"--loglvl {args.loglvl!r} is not DEBUG, INFO, WARNING or ERROR")
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)


def main(
    argv=None, launchpad=None, run_command=run_subprocess, clock=time.monotonic, sleep=time.sleep
) -> int:
    parser = build_parser()
    try:
        settings = fw_config.load_fw_settings()
    except StarshellError as exc:
        return cli_errors.report(exc, "qlaunch", prefix="qlaunch: ")
    fw_config.set_option_defaults({None: parser, **parser.subcommands}, OPTION_DEFAULTS, settings)
    args = parser.parse_args(split_list_options(sys.argv[1:] if argv is None else argv))
    with fw_config.applied(settings):
        return _run(args, parser, settings, launchpad, run_command, clock, sleep)


def _run(args, parser, settings, launchpad, run_command, clock, sleep) -> int:
    previous = _stop_on_sigterm()
    try:
        setup_logging(args)
        if args.remote_host:
            return _remote(args, parser, settings)
        if args.command == "init":  # needs no store and no qadapter
            return _init(args)
        find_files(args, settings)
        launcher = make_launcher(args, launchpad, run_command, clock, sleep, settings=settings)
        if args.command == "singleshot":
            return _singleshot(launcher)
        n = launcher.rapidfire(
            args.maxjobs_queue,
            nlaunches=args.nlaunches,
            sleep_time=args.sleep,
            timeout=args.timeout,
            max_errors=args.max_errors,
        )
        print(f"qlaunch rapidfire: submitted {n} pilot job(s)")
        return 0
    except cli_errors.HANDLED as exc:  # Ctrl-C 130, SIGTERM/SIGHUP 143
        return cli_errors.report(
            exc,
            "qlaunch",
            prefix="qlaunch: ",
            debug=args.debug,
            interrupted_note="jobs already submitted stay queued",
        )
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def find_files(args, settings):
    """-l/-w/-q resolved in docs/stores.md's order (-c DIR, FW_config.yaml's *_LOC...);
    also for lpad's queue commands, which have -w/-q but take lpad's -l and -c."""
    config_dir = fw_config.config_dir_option(getattr(args, "config_dir", None))
    for kind, dest in (
        ("launchpad", "launchpad_file"),
        ("fworker", "fworker_file"),
        ("qadapter", "queueadapter_file"),
    ):
        if hasattr(args, dest):
            setattr(args, dest, settings.find_file(kind, getattr(args, dest), config_dir))
    args.submit_script = settings.get("SUBMIT_SCRIPT_NAME", SUBMIT_SCRIPT)


def _stop_on_sigterm():
    """SIGTERM stops qlaunch like Ctrl-C, so a reservation in progress is given back.

    So does SIGHUP, unless ignored (nohup): a qlaunch run by ``qlaunch -rh``
    gets it when the SSH session that started it ends. Returns the handlers
    replaced, to put back."""
    if threading.current_thread() is not threading.main_thread():
        return {}

    def interrupt(signum, frame):
        raise Interrupted(f"stopped by {signal.Signals(signum).name}", signum)

    hangup = [signal.SIGHUP] if signal.getsignal(signal.SIGHUP) == signal.SIG_DFL else []
    return {signum: signal.signal(signum, interrupt) for signum in [signal.SIGTERM, *hangup]}


def _remote(args, parser, settings) -> int:
    if args.command == "init":
        raise ConfigError("qlaunch init writes files here; run it on the remote host itself")
    return run_remote(args, parser, settings)


def _init(args) -> int:
    written = write_starter_files(args.directory, force=args.force)
    for path in written:
        print(f"wrote {path}")
    print(
        "next: set queue, account and walltime in my_qadapter.yaml for your site, then "
        "lpad add hello_cluster.yaml && qlaunch singleshot"
    )
    return 0


def _singleshot(launcher) -> int:
    submission = launcher.singleshot()
    if submission is None:
        print("qlaunch: no READY firework for this worker; no job submitted", file=sys.stderr)
        return 0
    tied = f" for firework {submission.fw_id}" if submission.fw_id is not None else ""
    print(f"submitted job {submission.job_id}{tied} from {submission.launcher_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
