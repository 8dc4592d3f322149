"""Reserved spec keys a rocket honours: ``_launch_dir``, ``_files_in``,
``_files_out`` and ``_pass_job_info`` (FireWorks' meanings)."""

import bz2
import glob
import gzip
import lzma
import os
import shutil

from launchpad.actions import FWAction
from launchpad.errors import TaskError


def launch_dir_for(spec, launch_root, allow_outside=False):
    """The spec's ``_launch_dir``, kept under ``launch_root`` unless allowed."""
    wanted = spec.get("_launch_dir")
    if not wanted:
        return None
    path = os.path.realpath(os.path.join(launch_root, os.path.expanduser(str(wanted))))
    root = os.path.realpath(launch_root)
    inside = path == root or path.startswith(root + os.sep)
    if not inside and not (allow_outside or _says_yes(spec.get("_allow_outside_launch_dir"))):
        raise TaskError(
            f"_launch_dir {wanted} is outside the rocket's directory {root}; set "
            "allow_outside_launch_dir: true in my_fworker.yaml (or _allow_outside_launch_dir "
            "in the spec) to allow it"
        )
    return path


def _says_yes(flag):
    """YAML and JSON carry flags as text too: "false", "no" or "0" must not mean yes."""
    if isinstance(flag, str):
        return flag.strip().lower() in ("1", "true", "yes")
    return bool(flag)


# FireWorks' rule (monty's zopen): the suffix, in any case, says how a file is compressed.
_OPENERS = {".gz": gzip.open, ".z": gzip.open, ".bz2": bz2.open, ".xz": lzma.open, ".lzma": lzma.open}


def _opener(path):
    return _OPENERS.get(os.path.splitext(path)[1].lower())


def files_in(spec, launch_dir):
    """Copy files named by a parent's ``_files_out`` into this launch directory."""
    wanted = spec.get("_files_in") or {}
    previous = spec.get("_files_prev") or {}
    for label, dest in wanted.items():
        source = previous.get(label)
        if source is None:
            raise TaskError(f"_files_in wants {label!r}, but no parent provided it in _files_out")
        target = os.path.realpath(os.path.join(launch_dir, dest))
        if not target.startswith(os.path.realpath(launch_dir) + os.sep):
            raise TaskError(f"_files_in destination {dest!r} leaves the launch directory")
        _copy_file_in(label, source, target)


def _copy_file_in(label, source, target):
    """As FireWorks: a compressed source (.gz, .bz2, .xz...) arrives uncompressed
    under the name asked for, unless that name itself says compressed."""
    read, write = _opener(source), _opener(target)
    try:
        if read is None and write is None:
            shutil.copy2(source, target)
            return
        with (read or open)(source, "rb") as fin, (write or open)(target, "wb") as fout:
            shutil.copyfileobj(fin, fout)
    except (OSError, EOFError, lzma.LZMAError) as exc:
        raise TaskError(f"_files_in {label!r}: cannot copy {source} to {target}: {exc}") from exc


def output_files_action(spec, launch_dir):
    """Tell children where this firework's ``_files_out`` ended up."""
    outputs = spec.get("_files_out") or {}
    found = {}
    for label, pattern in outputs.items():
        matches = sorted(glob.glob(os.path.join(launch_dir, pattern)))
        if matches:
            found[label] = matches[-1]
    if not found:
        return FWAction()
    return FWAction(mod_spec=[{"_set": {f"_files_prev->{label}": path for label, path in found.items()}}])


def job_info_action(fw, spec, launch_dir):
    """``_pass_job_info``: children learn this firework's id, name and directory."""
    if not spec.get("_pass_job_info"):
        return FWAction()
    info = {"fw_id": fw["fw_id"], "name": fw["name"], "launch_dir": launch_dir}
    return FWAction(mod_spec=[{"_push": {"_job_info": info}}])
