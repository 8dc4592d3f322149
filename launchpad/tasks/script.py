"""ScriptTask: run shell commands, FireWorks' most used task."""

import contextlib
import os
import shlex
import signal
import subprocess
import sys

from ..actions import FWAction
from ..errors import TaskError
from ..firetask import FiretaskBase
from .paths import writable_path

STDERR_TAIL_CHARS = 2000


def _decode(data):
    return data.decode("utf-8", errors="replace") if data else ""


class ScriptTask(FiretaskBase):
    """Run ``script`` (one command or a list run in turn, stopping at the first failure).

    A non-zero return code fizzles the firework unless ``defuse_bad_rc``
    (defuse the children instead) or ``fizzle_bad_rc: false`` is set.
    ``use_global_spec: true`` (or ``_use_global_spec``, as FireWorks' docs write it) reads
    the parameters from the spec, as in FireWorks.
    """

    _fw_name = "ScriptTask"
    required_params = ("script",)
    optional_params = (
        "use_shell",
        "shell_exe",
        "stdin_file",
        "stdin_key",
        "stdout_file",
        "stderr_file",
        "store_stdout",
        "store_stderr",
        "defuse_bad_rc",
        "fizzle_bad_rc",
        "use_global_spec",
        "_use_global_spec",
    )

    @classmethod
    def from_str(cls, shell_cmd, parameters=None):
        """FireWorks' shortcut: one shell command (``use_shell``), other parameters as given."""
        return cls({**(parameters or {}), "script": [shell_cmd], "use_shell": True})

    def run_task(self, fw_spec):
        params = self.params_source(fw_spec)
        if "script" not in params:
            raise TaskError("ScriptTask with use_global_spec needs a 'script' key in the spec")
        defuse = bool(params.get("defuse_bad_rc"))
        fizzle = bool(params.get("fizzle_bad_rc", not defuse))
        if defuse and fizzle:
            raise TaskError(
                "ScriptTask cannot both fizzle and defuse on a bad return code: "
                "set only one of fizzle_bad_rc and defuse_bad_rc"
            )
        if params.get("stdin_file") and params.get("stdin_key"):
            raise TaskError("ScriptTask takes stdin from stdin_file or stdin_key, not both")
        log_files = _log_files(params, fw_spec)  # refuse a bad path before running
        out, err, codes = _run_all(params, fw_spec)
        _write_outputs(log_files, out, err)
        stored = {"returncode": codes[-1], "all_returncodes": codes}
        if params.get("store_stdout"):
            stored["stdout"] = out
        if params.get("store_stderr"):
            stored["stderr"] = err
        if codes[-1] != 0:
            if defuse:
                return FWAction(stored_data=stored, defuse_children=True)
            if fizzle:
                raise TaskError(
                    f"ScriptTask: command exited with return code {codes[-1]} "
                    f"(all return codes: {codes}); end of stderr:\n"
                    f"{err[-STDERR_TAIL_CHARS:].rstrip() or '(empty)'}"
                )
        return FWAction(stored_data=stored)


def _commands(params):
    script = params["script"]
    scripts = [script] if isinstance(script, str) else list(script)
    if not scripts:
        raise TaskError("ScriptTask: 'script' is empty; give a command or a list of commands")
    if params.get("use_shell", True):
        return [str(s) for s in scripts]
    return [shlex.split(str(s)) for s in scripts]


def _stdin_bytes(params, fw_spec):
    key = params.get("stdin_key")
    if not key:
        return None
    if key not in fw_spec:
        raise TaskError(f"ScriptTask: stdin_key {key!r} is not in the firework's spec")
    value = fw_spec[key]
    return value if isinstance(value, bytes) else str(value).encode("utf-8")


def _run_all(params, fw_spec):
    """Run the commands in turn; stderr is always captured so a failure can quote it."""
    want_out = params.get("store_stdout") or params.get("stdout_file")
    want_err = params.get("store_stderr") or params.get("stderr_file")
    stdin_data = _stdin_bytes(params, fw_spec)
    outs, errs, codes = [], [], []
    with _open_stdin(params.get("stdin_file")) as stdin:
        for command in _commands(params):
            out, err, code = _run_one(command, params, stdin if stdin_data is None else stdin_data, want_out)
            outs.append(_decode(out))
            errs.append(_decode(err))
            if not want_err and err:
                sys.stderr.write(errs[-1])  # the launch's log still shows it
            codes.append(code)
            if code != 0:
                break
    return "".join(outs), "".join(errs), codes


def _open_stdin(path):
    if not path:
        return contextlib.nullcontext()
    try:
        return open(path, "rb")
    except OSError as exc:
        raise TaskError(f"ScriptTask cannot read stdin_file {path!r}: {exc.strerror or exc}") from None


def _run_one(command, params, stdin, want_out):
    feed = stdin if isinstance(stdin, bytes) else None
    try:
        proc = subprocess.Popen(
            command,
            shell=bool(params.get("use_shell", True)),
            executable=params.get("shell_exe"),
            stdin=subprocess.PIPE if feed is not None else stdin,
            stdout=subprocess.PIPE if want_out else None,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as exc:
        raise TaskError(
            f"ScriptTask cannot start {command!r}: {exc.strerror or exc}; "
            f"check the program name and shell_exe"
        ) from None
    try:
        out, err = proc.communicate(feed)
    except BaseException:  # a time limit or a signal to the rocket: stop the script too
        _stop_process_group(proc)
        raise
    return out, err, proc.returncode


def _stop_process_group(proc, grace=2.0):
    """TERM the script's whole process group, then KILL what is left after ``grace``."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=grace)
            break
        except subprocess.TimeoutExpired:
            continue
    for stream in (proc.stdout, proc.stderr, proc.stdin):
        if stream is not None:
            stream.close()


def _log_files(params, fw_spec):
    return {
        key: writable_path(params[key], fw_spec) for key in ("stdout_file", "stderr_file") if params.get(key)
    }


def _write_outputs(log_files, out, err):
    """Append, as FireWorks does, so several tasks can share one log file."""
    for key, text in (("stdout_file", out), ("stderr_file", err)):
        if key in log_files:
            with open(log_files[key], "a", encoding="utf-8") as f:
                f.write(text)
