"""FireWorks' small public helpers (``fireworks.utilities.fw_utilities``, ``dict_mods``),
for scripts that import them from FireWorks' modules: loggers, block directories, the
host's name and address, file-safe names, stdout redirection, in-place DictMods.

Plain standard-library code with FireWorks' signatures and results; starshell's own
modules keep their own helpers.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import string
import sys
import time
import traceback
from datetime import datetime, timezone

from .errors import InvalidArgumentError
from .fw_data import FWData
from .spec_mods import MOD_OPERATORS
from .spec_mods import apply_mod as _modified_copy

FW_BLOCK_FORMAT = "%Y-%m-%d-%H-%M-%S-%f"  # FireWorks' date stamp of block_/launcher_ dirs
FW_LOGGING_FORMAT = "%(asctime)s %(levelname)s %(message)s"
DEFAULT_FORMATTER = logging.Formatter(FW_LOGGING_FORMAT)

# Handlers already attached, so asking twice for a logger does not double its lines.
_FILE_HANDLERS: set = set()
_STREAM_HANDLERS: set = set()


def get_fw_logger(
    name: str,
    l_dir: str | None = None,
    file_levels=("DEBUG", "ERROR"),
    stream_level: str | None = "DEBUG",
    formatter: logging.Formatter = DEFAULT_FORMATTER,
    clear_logs: bool = False,
) -> logging.Logger:
    """The logger ``name`` at DEBUG, writing to stdout at ``stream_level`` and, with
    ``l_dir``, to ``<name with _ for .>-<level>.log`` there for each of ``file_levels``
    (truncated first with ``clear_logs``); each handler is added once per process."""
    logger = logging.getLogger(name)
    logger.setLevel(logging.DEBUG)
    stream_level = stream_level or "CRITICAL"
    for level in file_levels if l_dir else ():
        path = os.path.join(l_dir, f"{name.replace('.', '_')}-{level.lower()}.log")
        if path in _FILE_HANDLERS:
            continue
        handler = logging.FileHandler(path, mode="w" if clear_logs else "a")
        handler.setLevel(getattr(logging, level.upper()))
        handler.setFormatter(formatter)
        logger.addHandler(handler)
        _FILE_HANDLERS.add(path)
    if (name, stream_level) not in _STREAM_HANDLERS:
        handler = logging.StreamHandler(stream=sys.stdout)
        handler.setLevel(getattr(logging, stream_level.upper()))
        handler.setFormatter(formatter)
        logger.addHandler(handler)
        _STREAM_HANDLERS.add((name, stream_level))
    return logger


def log_multi(m_logger: logging.Logger, msg: str, log_lvl: str = "info") -> None:
    """Log ``msg``, naming the process when it runs under job packing (``rlaunch multi``)."""
    import multiprocessing  # only here: the CLIs import this module and start fast

    log = getattr(m_logger, log_lvl.lower())
    log(f"{msg} : ({multiprocessing.current_process().name})" if FWData().MULTIPROCESSING else msg)


def log_exception(m_logger: logging.Logger, msgs) -> None:
    """Log ``msgs`` (a string or lines) and the current traceback as one framed error."""
    lines = [msgs] if isinstance(msgs, str) else list(msgs)
    m_logger.error("----|vvv|----")
    m_logger.error("\n".join(lines))
    m_logger.error(traceback.format_exc())
    m_logger.error("----|^^^|----")


def create_datestamp_dir(root_dir: str, l_logger: logging.Logger, prefix: str = "block_") -> str:
    """Make and return ``root_dir/<prefix><UTC date stamp>`` (FireWorks' block and launcher
    directories), waiting a moment and retrying while the name is taken."""
    for _ in range(100):
        path = os.path.join(root_dir, prefix + datetime.now(timezone.utc).strftime(FW_BLOCK_FORMAT))
        try:
            os.mkdir(path)
        except FileExistsError:
            time.sleep(0.01)
            continue
        l_logger.info(f"Created new dir {path}")
        return path
    raise FileExistsError(f"cannot make a new {prefix}* directory in {root_dir}: every name was taken")


def get_my_host() -> str:
    """This machine's host name."""
    return socket.gethostname()


def get_my_ip() -> str:
    """This machine's address as its host name resolves, 127.0.0.1 when it does not."""
    try:
        return socket.gethostbyname(socket.gethostname())
    except OSError:
        return "127.0.0.1"


_SLUG_CHARACTERS = frozenset(f"-_.() {string.ascii_letters}{string.digits}")


def get_slug(m_str: str) -> str:
    """``m_str`` with only file-safe characters kept and spaces turned into underscores."""
    return "".join(c for c in m_str if c in _SLUG_CHARACTERS).replace(" ", "_")


@contextlib.contextmanager
def redirect_local(out_file: str = "FW_job.out", err_file: str = "FW_job.error"):
    """Send this process's stdout and stderr (file descriptors too, so child processes
    follow) to ``out_file`` and ``err_file`` while the block runs; yields both files."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(sys.stdout.fileno()), os.dup(sys.stderr.fileno())
    with open(out_file, "w") as new_out, open(err_file, "w") as new_err:
        try:
            os.dup2(new_out.fileno(), sys.stdout.fileno())
            os.dup2(new_err.fileno(), sys.stderr.fileno())
            yield new_out, new_err
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved_out, sys.stdout.fileno())
            os.dup2(saved_err, sys.stderr.fileno())
            os.close(saved_out)
            os.close(saved_err)


def apply_mod(modification: dict, obj: dict) -> None:
    """FireWorks' ``apply_mod``: apply one DictMod (``{"_set": {...}}``, ...) to ``obj``
    in place; an unknown operator is a ValueError. (``launchpad.spec_mods.apply_mod``
    is starshell's: the spec first, and it returns a copy.)"""
    unknown = [op for op in modification if op not in MOD_OPERATORS]
    if unknown:
        raise InvalidArgumentError(
            f"{unknown[0]} is not a supported action; use one of {', '.join(MOD_OPERATORS)}"
        )
    changed = _modified_copy(obj, modification)
    obj.clear()
    obj.update(changed)


def arrow_to_dot(input_dict):
    """The dict with ``->`` in its keys turned into ``.``, through nested dicts (a
    MongoDB query's nested fields written FireWorks' storable way)."""
    if not isinstance(input_dict, dict):
        return input_dict
    return {k.replace("->", "."): arrow_to_dot(v) for k, v in input_dict.items()}


__all__ = [
    "get_fw_logger",
    "log_multi",
    "log_exception",
    "create_datestamp_dir",
    "get_my_host",
    "get_my_ip",
    "get_slug",
    "redirect_local",
    "apply_mod",
    "arrow_to_dot",
]
