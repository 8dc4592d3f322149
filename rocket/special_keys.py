"""Reserved spec keys a rocket honours, with FireWorks' meanings: ``_launch_dir``,
``_files_in``, ``_files_out``, ``_pass_job_info``, ``_preserve_fworker``,
``_add_launchpad_and_fw_id``, ``_add_fworker`` and ``_fw_env``; and the ``FW.json``
(``FW.yaml``) a launch directory gets."""

import bz2
import glob
import gzip
import lzma
import os
import shutil

from launchpad.actions import FWAction
from launchpad.errors import TaskError
from launchpad.fw_data import NODE_LIST_ENV, SUB_NPROCS_ENV
from launchpad.offline_files import write_fw_json, write_fw_yaml


def packing_info():
    """What a packed rocket records in each launch's ``stored_data`` (FireWorks' keys),
    or None outside job packing."""
    if NODE_LIST_ENV not in os.environ:
        return None
    return {
        "multiprocess_name": f"rocket process {os.getpid()}",
        "node_list": os.environ[NODE_LIST_ENV].split(","),
        "sub_nproc": int(os.environ.get(SUB_NPROCS_ENV, "1")),
    }


def launch_dir_for(spec, launch_root, confined=False):
    """The spec's ``_launch_dir`` (``~`` and ``$VARS`` expanded, relative to
    ``launch_root``), as FireWorks honours it; a worker that ``confined`` its rockets
    (``confine_launch_dir`` in my_fworker.yaml) refuses one outside ``launch_root``."""
    wanted = spec.get("_launch_dir")
    if not wanted:
        return None
    expanded = os.path.expandvars(os.path.expanduser(str(wanted)))
    path = os.path.realpath(os.path.join(launch_root, expanded))
    root = os.path.realpath(launch_root)
    inside = path == root or path.startswith(root + os.sep)
    if confined and not inside:
        raise TaskError(
            f"_launch_dir {wanted} is outside the rocket's directory {root}, and this worker "
            "confines launch directories (confine_launch_dir in my_fworker.yaml)"
        )
    return path


def write_fw_files(fw, launch_dir, json_file=True, yaml_file=False):
    """FireWorks' PRINT_FW_JSON / PRINT_FW_YAML: the firework as it starts, which users
    and tools read from the launch directory."""
    if json_file:
        write_fw_json(fw, launch_dir)
    if yaml_file:
        write_fw_yaml(fw, launch_dir)


def equip_task(task, spec, fw_id, launchpad, worker):
    """``_add_launchpad_and_fw_id`` and ``_add_fworker``: attributes FireWorks sets on
    each task before running it."""
    if spec.get("_add_launchpad_and_fw_id"):
        task.fw_id, task.launchpad = fw_id, launchpad
    if spec.get("_add_fworker"):
        task.fworker = worker
    return task


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
    """``_pass_job_info``: children get the ``_job_info`` entries of this firework's
    ancestors plus its own (id, name, directory), as FireWorks passes them."""
    if not spec.get("_pass_job_info"):
        return FWAction()
    entries = list(spec.get("_job_info") or [])
    mine = {"fw_id": fw["fw_id"], "name": fw["name"], "launch_dir": launch_dir}
    if mine not in entries:
        entries.append(mine)
    return FWAction(mod_spec=[{"_push_all": {"_job_info": entries}}])


def preserve_fworker_action(worker_name):
    """``_preserve_fworker``: the children run on the worker that ran this firework."""
    return FWAction(update_spec={"_fworker": worker_name})
