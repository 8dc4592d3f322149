"""``qlaunch -rh HOST ...``: run the same ``qlaunch`` on remote login nodes over SSH.

From a workstation, one command keeps the queues of several clusters
supplied: for each host and each remote config directory (``-rc``), qlaunch
logs in, changes to that directory (where the remote ``qlaunch`` finds its
``my_*.yaml``) and runs the command it was given, without the remote options.
Hosts are done one after the other, each with a one-line result; any failure
makes the exit code non-zero, but does not stop the next host.

paramiko is imported only here, and only once a host is contacted: it is an
optional extra (``pip install 'starshell[ssh]'``) and costs a quarter of a
second that every other ``qlaunch`` should not pay. Host keys are checked
against ``~/.ssh/known_hosts`` and unknown hosts refused: the password or key
a user sends must not go to whoever answers on the network.
"""

from __future__ import annotations

import logging
import os
import shlex
import sys
import threading
from dataclasses import dataclass
from typing import Optional

from launchpad import fw_config
from launchpad.config import find_settings_file
from launchpad.errors import ConfigError, StarshellError

DEFAULT_CONFIG_DIR = "~/.starshell"
DEFAULT_SHELL = "/bin/bash -l -c"
CONNECT_TIMEOUT = 20
PASSWORD_ENV = "STARSHELL_REMOTE_PASSWORD"
KNOWN_HOSTS = "~/.ssh/known_hosts"
# The options that say where and how to log in: never passed on to the remote qlaunch.
REMOTE_DESTS = frozenset(
    {
        "remote_host",
        "remote_config_dir",
        "remote_user",
        "remote_password",
        "remote_key_file",
        "remote_shell",
        "remote_setup",
    }
)
# Local settings files (kind, option): with -rs they are copied to the config dirs, so
# these options are not passed on.
SETTINGS = {"launchpad": "launchpad_file", "fworker": "fworker_file", "qadapter": "queueadapter_file"}
COMMAND_NOT_FOUND = 127


class RemoteUnreachableError(StarshellError):
    """A remote host does not answer, or its SSH server breaks off (exit 5, like a store)."""

    exit_code = 5


class RemoteAuthError(ConfigError):
    """The remote host refused the login: a user, key or password to fix (exit 2)."""


class UnknownHostKeyError(ConfigError):
    """The remote host's key is not in known_hosts, or differs from it: refused before any login."""


@dataclass(frozen=True)
class Target:
    """One remote host: ``[USER@]HOST[:PORT]`` (``[ADDR]:PORT`` for IPv6), as Fabric takes it."""

    host: str
    port: int = 22
    user: Optional[str] = None

    @property
    def label(self) -> str:
        user = f"{self.user}@" if self.user else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{user}{host}" + (f":{self.port}" if self.port != 22 else "")


def parse_target(text: str, default_user: Optional[str] = None) -> Target:
    """A -rh value as a Target; FireWorks has no port option, so the port rides on the host."""
    user, _, hostport = text.rpartition("@")
    host, port = hostport, "22"
    if hostport.startswith("["):
        host, _, rest = hostport[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else "22"
    elif hostport.count(":") == 1:
        host, port = hostport.split(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"-rh {text!r}: expected HOST, USER@HOST or HOST:PORT")
    return Target(host, int(port), user or default_user)


def remote_argv(args, parser) -> list:
    """The qlaunch command line to run remotely: every option given that is not a remote one."""
    skip = REMOTE_DESTS | ({*SETTINGS.values(), "config_dir"} if args.remote_setup else set())
    argv = _given_options(parser, args, skip)
    sub = _subparser(parser, args.command)
    return argv + [args.command] + _given_options(sub, args, skip)


def _subparser(parser, name):
    for action in parser._actions:
        if action.choices and isinstance(action.choices, dict) and name in action.choices:
            return action.choices[name]
    raise ConfigError(f"no qlaunch command {name!r}")


def _given_options(parser, args, skip) -> list:
    """Options of one (sub)parser whose value is not the default, as argv words."""
    words = []
    for action in parser._actions:
        if not action.option_strings or action.dest in skip or action.dest == "help":
            continue
        value = getattr(args, action.dest, action.default)
        if value == action.default or value is None:
            continue
        flag = max(action.option_strings, key=len)
        words += [flag] if action.nargs == 0 else [flag, _word(action.dest, value)]
    return words


def _word(dest, value) -> str:
    if dest == "nlaunches" and value == -1:
        return "infinite"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def shell_path(path: str) -> str:
    """A remote path quoted for the shell, with a leading ~ left to the remote shell to expand."""
    if path == "~":
        return "~"
    if path.startswith("~/"):
        return "~/" + shlex.quote(path[2:])
    return shlex.quote(path)


def remote_command(shell: str, config_dir: str, argv: list) -> str:
    """What runs on the remote host: cd into the config dir, then qlaunch, in the -rsh shell.

    No secret is ever part of it: it shows in the remote ``ps`` and logs."""
    inner = f"cd {shell_path(config_dir)} || exit 2; qlaunch {shlex.join(argv)}"
    return f"{shell} {shlex.quote(inner)}"


def run_remote(args, parser, settings=None, out=None, err=None, connect=None) -> int:
    """Run qlaunch on every -rh host in every -rc dir; the exit code sums up all results."""
    out, err = out or sys.stdout, err or sys.stderr
    connect = connect or ssh_connect
    targets = [parse_target(h, args.remote_user) for h in args.remote_host]
    dirs = args.remote_config_dir or [DEFAULT_CONFIG_DIR]
    argv = remote_argv(args, parser)
    if args.remote_setup:  # read before any login: a missing file is this machine's error
        args.files_to_copy = local_settings_files(args, settings or fw_config.FWSettings())
    codes = [_run_host(t, dirs, argv, args, connect, out, err) for t in targets]
    failed = [c for c in codes if c != 0]
    if len(targets) > 1:
        print(
            f"qlaunch: {len(targets) - len(failed)} of {len(targets)} host(s) done",
            file=err if failed else out,
        )
    if not failed:
        return 0
    return failed[0] if len(set(failed)) == 1 else 1


def _run_host(target, dirs, argv, args, connect, out, err) -> int:
    """One host: its result line, and its exit code (errors stay with this host)."""
    try:
        client = connect(
            target,
            password=args.remote_password or os.environ.get(PASSWORD_ENV),
            key_file=args.remote_key_file,
        )
    except StarshellError as exc:
        print(f"qlaunch: {target.label}: error: {exc}", file=err)
        return exc.exit_code
    try:
        codes = [_run_dir(client, target, d, argv, args, out, err) for d in dirs]
    finally:
        client.close()
    return next((c for c in codes if c != 0), 0)


def _run_dir(client, target, config_dir, argv, args, out, err) -> int:
    where = f"{target.label} {config_dir}"
    try:
        if args.remote_setup:
            copy_settings(client, config_dir, args)
        rc = execute(
            client,
            remote_command(args.remote_shell, config_dir, argv),
            f"[{target.label}] ",
            out,
            err,
            pty=True,
        )
    except StarshellError as exc:
        print(f"qlaunch: {where}: error: {exc}", file=err)
        return exc.exit_code
    if rc == 0:
        print(f"qlaunch: {where}: done", file=out)
    elif rc == COMMAND_NOT_FOUND:
        print(
            f"qlaunch: {where}: qlaunch not found on the remote PATH (exit 127): install "
            "starshell there, or put it on the PATH in the login shell's profile",
            file=err,
        )
    else:
        print(f"qlaunch: {where}: remote qlaunch failed (exit {rc})", file=err)
    return rc


def execute(client, command: str, prefix: str, out, err, pty=False) -> int:
    """Run ``command``, passing its output on line by line as it comes (rapidfire runs long).

    With ``pty`` the remote side gets a terminal, so that when this end goes
    (Ctrl-C, a lost network) sshd hangs it up and the remote qlaunch gets
    SIGHUP and stops, instead of running on unseen; stderr then comes with stdout."""
    paramiko = _paramiko()
    try:
        stdin, stdout, stderr = client.exec_command(command, get_pty=pty)
    except (paramiko.SSHException, OSError) as exc:
        raise RemoteUnreachableError(f"the SSH connection broke off: {exc}") from None
    stdin.close()
    pumps = [
        threading.Thread(target=_pump, args=(f, prefix, dest), daemon=True)
        for f, dest in ((stdout, out), (stderr, err))
    ]
    for pump in pumps:
        pump.start()
    rc = stdout.channel.recv_exit_status()
    for pump in pumps:
        pump.join()
    if rc == -1:  # paramiko's word for a channel that closed without an exit status
        raise RemoteUnreachableError("the SSH connection broke off before the command ended")
    return rc


def _pump(stream, prefix, dest):
    for line in iter(stream.readline, ""):
        if isinstance(line, bytes):
            line = line.decode(errors="replace")
        if not line:
            return
        dest.write(prefix + line.rstrip("\r\n") + "\n")  # a terminal ends lines with \r\n
        dest.flush()


def local_settings_files(args, settings) -> dict:
    """-rs: {name: path} of the settings files a local qlaunch would use: -l/-w/-q, then
    FireWorks' -c DIR (what its -rs copies), FW_config.yaml, ./, $STARSHELL_HOME."""
    config_dir = fw_config.config_dir_option(getattr(args, "config_dir", None))
    files = {}
    for kind, dest in SETTINGS.items():
        name, _, env_var = fw_config.SETTINGS_FILES[kind]
        path = settings.find_file(kind, getattr(args, dest, None), config_dir) or find_settings_file(
            name, f"{name} to copy (-rs)", None, env_var
        )
        if path:
            files[name] = path
    if not files:
        raise ConfigError(
            "-rs: no my_launchpad.yaml, my_fworker.yaml or my_qadapter.yaml to "
            "copy (none given with -l/-w/-q or -c, none here or in $STARSHELL_HOME)"
        )
    return files


def copy_settings(client, config_dir, args):
    """-rs: copy the settings files in force here into the remote config dir (made if missing)."""
    paramiko = _paramiko()
    try:
        remote_dir = _remote_path(client, config_dir)
        if execute(client, f"mkdir -p {shlex.quote(remote_dir)}", "", sys.stdout, sys.stderr):
            raise ConfigError(f"-rs: cannot create {config_dir} on the remote host")
        with client.open_sftp() as sftp:
            for name, path in args.files_to_copy.items():
                _put_private(sftp, path, f"{remote_dir}/{name}")
    except (OSError, paramiko.SSHException) as exc:
        raise ConfigError(f"-rs: cannot copy the settings files into {config_dir}: {exc}") from None


def _put_private(sftp, local, remote):
    """Made 0600 before anything is written into it: my_launchpad.yaml may hold a password."""
    with open(local, "rb") as source, sftp.open(remote, "wb") as target:
        target.chmod(0o600)
        target.write(source.read())


def _remote_path(client, path):
    """A ~ path made absolute on the remote side (SFTP does not expand ~)."""
    if path != "~" and not path.startswith("~/"):
        return path
    with client.open_sftp() as sftp:
        home = sftp.normalize(".")
    return home + path[1:]


def ssh_connect(target: Target, password=None, key_file=None):
    """A logged-in paramiko client, or one of our errors with a one-line message."""
    paramiko = _paramiko()
    if key_file and not os.path.isfile(os.path.expanduser(key_file)):
        raise ConfigError(f"-rkf {key_file}: no such file")
    _quiet(logging.getLogger("paramiko"))
    client = paramiko.SSHClient()
    _load_known_hosts(client)
    client.set_missing_host_key_policy(_refuse_unknown(paramiko, target))
    try:
        client.connect(
            target.host,
            target.port,
            username=target.user,
            password=password,
            key_filename=os.path.expanduser(key_file) if key_file else None,
            look_for_keys=not key_file,
            allow_agent=not key_file,
            timeout=CONNECT_TIMEOUT,
            banner_timeout=CONNECT_TIMEOUT,
            auth_timeout=CONNECT_TIMEOUT,
        )
    except (OSError, EOFError, paramiko.SSHException, StarshellError) as exc:
        client.close()
        raise _connect_error(paramiko, exc, target, key_file, password) from None
    return client


def _paramiko():
    """paramiko, imported only here (see the module docstring)."""
    try:
        import paramiko  # type: ignore[import-untyped]
    except ImportError:
        raise ConfigError("-rh needs paramiko: pip install 'starshell[ssh]'") from None
    return paramiko


def _quiet(logger):
    """paramiko's INFO lines ("Connected", "Authentication successful") only with --loglvl DEBUG."""
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        logger.setLevel(logging.WARNING)


def _load_known_hosts(client):
    path = os.path.expanduser(KNOWN_HOSTS)
    if os.path.exists(path):
        client.load_host_keys(path)  # read-only: nothing is ever added to it


def _refuse_unknown(paramiko, target):
    """A host-key policy that refuses an unknown host with how to add it (Fabric adds it blindly)."""

    class Refuse(paramiko.MissingHostKeyPolicy):
        def missing_host_key(self, client, hostname, key):
            port = f"-p {target.port} " if target.port != 22 else ""
            raise UnknownHostKeyError(
                f"host key of {hostname} is not in {KNOWN_HOSTS} ({key.get_name()} "
                f"{key.fingerprint}): check it with the site, then add it with "
                f"'ssh-keyscan {port}{target.host} >> {KNOWN_HOSTS}' or log in once with ssh"
            )

    return Refuse()


def _connect_error(paramiko, exc, target, key_file, password) -> StarshellError:
    """The one-line error for a failed login; never includes the password."""
    if isinstance(exc, StarshellError):
        return exc
    if isinstance(exc, paramiko.BadHostKeyException):
        name = target.host if target.port == 22 else f"[{target.host}]:{target.port}"
        return UnknownHostKeyError(
            f"host key of {name} differs from the one in {KNOWN_HOSTS}: the host was "
            f"reinstalled, or someone is in between; ask the site, then "
            f"'ssh-keygen -R {shlex.quote(name)}' and add the new key"
        )
    if isinstance(exc, paramiko.PasswordRequiredException):
        return RemoteAuthError(
            f"key {key_file} has a passphrase: load it into ssh-agent (ssh-add) and leave out -rkf"
        )
    if isinstance(exc, paramiko.AuthenticationException):
        return RemoteAuthError(_refused(exc, target, key_file, password))
    return RemoteUnreachableError(  # OSError, EOFError, any other SSHException
        f"cannot reach {target.host} port {target.port}: {_reason(exc) or type(exc).__name__}"
    )


def _refused(exc, target, key_file, password) -> str:
    """Which login was refused and with what, naming the password's presence, never its value."""
    tried = [f"key {key_file}" if key_file else "the keys of ~/.ssh and ssh-agent"]
    if password:
        tried.append("a password")
    allowed = getattr(exc, "allowed_types", None)
    only = f"; the host accepts only {', '.join(allowed)}" if allowed else ""
    return (
        f"login as {target.user or 'the local user'} refused ({' and '.join(tried)}{only}); "
        "check -ru, -rkf or -rp"
    )


def _reason(exc) -> str:
    """Why a connection failed, in the socket's words ("Connection refused")."""
    errors = list(getattr(exc, "errors", {}).values()) or [exc]  # one per address tried
    return "; ".join(sorted({getattr(e, "strerror", None) or str(e) for e in errors}))
