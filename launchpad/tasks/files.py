"""File tasks with FireWorks' names and parameters: write, delete, transfer, (de)compress, archive.

Every path a task writes, removes or renames goes through ``writable_path``,
so under a confining worker (or spec) these tasks stay inside the launch
directory; sources may be read from anywhere. That refusal is never
silenced by ``ignore_errors``, which only covers failures of the operation.
"""

import bz2
import gzip
import logging
import os
import shutil
import tempfile
import time

from ..errors import TaskError
from ..firetask import FiretaskBase
from .paths import writable_path

log = logging.getLogger(__name__)

sleep = time.sleep  # FileTransferTask's wait between retries; tests replace it


def _expand(path, expand=True):
    path = os.fspath(path)
    return os.path.expandvars(os.path.expanduser(path)) if expand else path


def _failed(ignore_errors, message):
    """Raise, or only log when the task was told to carry on."""
    if not ignore_errors:
        raise TaskError(message)
    log.warning("ignored: %s", message)


class FileWriteTask(FiretaskBase):
    """Write ``files_to_write`` ([{filename, contents}]) into ``dest`` (default: the launch directory)."""

    _fw_name = "FileWriteTask"
    required_params = ("files_to_write",)
    optional_params = ("dest",)

    def run_task(self, fw_spec):
        dest = self.get("dest") or "."
        for item in self["files_to_write"]:
            if not isinstance(item, dict) or "filename" not in item or "contents" not in item:
                raise TaskError(
                    f"FileWriteTask: each entry of files_to_write needs 'filename' "
                    f"and 'contents', got {item!r:.80}"
                )
            path = writable_path(os.path.join(_expand(dest), _expand(item["filename"])), fw_spec)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            contents = item["contents"]
            with open(path, "w", encoding="utf-8") as f:
                f.write(contents if isinstance(contents, str) else str(contents))


class FileDeleteTask(FiretaskBase):
    """Delete the files ``files_to_delete`` in ``dest``; missing ones are ignored by default
    (as in FireWorks)."""

    _fw_name = "FileDeleteTask"
    required_params = ("files_to_delete",)
    optional_params = ("dest", "ignore_errors")

    def run_task(self, fw_spec):
        dest = _expand(self.get("dest") or ".")
        ignore_errors = self.get("ignore_errors", True)
        for name in self["files_to_delete"]:
            path = writable_path(os.path.join(dest, _expand(name)), fw_spec, follow_last=False)
            try:
                os.remove(path)
            except OSError as exc:
                _failed(ignore_errors, f"FileDeleteTask cannot delete {path}: {exc.strerror or exc}")


def _symlink(src, dest):
    """``ln -s``: a link made in an existing directory keeps the source's name."""
    if os.path.isdir(dest) and not os.path.islink(dest):
        dest = os.path.join(dest, os.path.basename(src.rstrip(os.sep)))
    os.symlink(src, dest)


_TRANSFERS = {
    "move": shutil.move,
    "mv": shutil.move,
    "copy": shutil.copy,
    "cp": shutil.copy,
    "copy2": shutil.copy2,
    "copytree": shutil.copytree,
    "copyfile": shutil.copyfile,
    "symlink": _symlink,
}
_MOVES = ("move", "mv")
_INTO_DIRECTORY = ("move", "mv", "copy", "cp", "copy2", "symlink")


class FileTransferTask(FiretaskBase):
    """Move, copy or link ``files`` ({src, dest} mappings, or sources sent to the task's ``dest``).

    A failed operation is retried ``max_retry`` times, ``retry_delay``
    seconds apart (shared file systems hiccup). Remote transfer
    (``rtransfer``) is refused: it would need SSH keys on compute nodes.
    """

    _fw_name = "FileTransferTask"
    required_params = ("mode", "files")
    optional_params = (
        "dest",
        "ignore_errors",
        "max_retry",
        "retry_delay",
        "shell_interpret",
        "server",
        "user",
        "key_filename",
    )

    def run_task(self, fw_spec):
        mode = self["mode"]
        if mode == "rtransfer":
            raise TaskError(
                "FileTransferTask mode 'rtransfer' (remote transfer over SSH) is not "
                "supported; stage the files with a ScriptTask running scp or rsync"
            )
        if mode not in _TRANSFERS:
            raise TaskError(f"FileTransferTask: unknown mode {mode!r}; use one of {', '.join(_TRANSFERS)}")
        expand = self.get("shell_interpret", True)
        files = self["files"]
        for entry in [files] if isinstance(files, (str, dict)) else files:
            src, dest = self._endpoints(entry, expand)
            dest = _checked_destination(mode, src, dest, fw_spec)
            self._transfer(mode, src, dest)

    def _endpoints(self, entry, expand):
        if isinstance(entry, dict):
            if "src" not in entry:
                raise TaskError(f"FileTransferTask: a files entry has no 'src': {entry!r:.80}")
            src, dest = entry["src"], entry.get("dest", self.get("dest"))
        else:
            src, dest = entry, self.get("dest")
        if dest is None:
            raise TaskError(
                f"FileTransferTask: no destination for {src!r}; give the entry a 'dest' or the task a 'dest'"
            )
        return os.path.abspath(_expand(src, expand)), _expand(dest, expand)

    def _transfer(self, mode, src, dest):
        attempts = 1 + max(0, int(self.get("max_retry", 0)))
        delay = float(self.get("retry_delay", 10))
        for attempt in range(1, attempts + 1):
            try:
                _TRANSFERS[mode](src, dest)
                return
            except OSError as exc:  # shutil.Error is an OSError too
                error = exc
            if attempt < attempts:
                log.warning(
                    "FileTransferTask %s %s -> %s failed (%s); retry %d/%d in %ss",
                    mode,
                    src,
                    dest,
                    error,
                    attempt,
                    attempts - 1,
                    delay,
                )
                sleep(delay)
        _failed(
            self.get("ignore_errors"),
            f"FileTransferTask {mode} {src} -> {dest} failed after {attempts} attempt(s): "
            f"{getattr(error, 'strerror', None) or error}",
        )


def _checked_destination(mode, src, dest, fw_spec):
    """The resolved destination, once every path the operation changes is allowed."""
    if mode in _MOVES:
        writable_path(src, fw_spec, follow_last=False, expand=False)  # moving deletes it here
    link = mode == "symlink"
    checked = writable_path(dest, fw_spec, follow_last=not link, expand=False)
    if mode in _INTO_DIRECTORY and os.path.isdir(checked):
        inner = os.path.join(checked, os.path.basename(src.rstrip(os.sep)))
        writable_path(inner, fw_spec, follow_last=not link, expand=False)
    return checked


# ---- compression -----------------------------------------------------------

_OPENERS = {"gz": gzip.open, "bz2": bz2.open}


def _stream(read, write, src, dst):
    """Copy src to dst through the given openers; no half-written file stays behind."""
    try:
        with read(src, "rb") as fin, write(dst, "wb") as fout:
            shutil.copyfileobj(fin, fout, 1 << 20)
    except (OSError, EOFError) as exc:
        if os.path.exists(dst):
            os.remove(dst)
        raise OSError(f"{src}: {exc}") from exc
    os.remove(src)


def _compress_file(path, compression):
    if path.lower().endswith("." + compression):
        return
    _stream(open, _OPENERS[compression], path, f"{path}.{compression}")


def _decompress_file(path, compressions):
    for ext in compressions:
        if path.lower().endswith("." + ext):
            _stream(_OPENERS[ext], open, path, path[: -len(ext) - 1])
            return


def _convert_tree(task, fw_spec, convert, verb):
    """Apply ``convert`` to every file below the task's ``dest``, one failure at a time."""
    ignore_errors = task.get("ignore_errors", False)
    root = writable_path(task.get("dest") or ".", fw_spec)
    if not os.path.isdir(root):
        _failed(ignore_errors, f"{task.fw_name}: {root} is not a directory")
        return
    for dirpath, _dirnames, filenames in os.walk(root):
        for name in sorted(filenames):
            try:
                convert(os.path.join(dirpath, name))
            except OSError as exc:
                _failed(ignore_errors, f"{task.fw_name} could not {verb} {exc}")


def _compression(task, default):
    value = task.get("compression", default)
    names = list(_OPENERS) if value is None else [value]
    unknown = [n for n in names if n not in _OPENERS]
    if unknown:
        raise TaskError(f"{task.fw_name}: compression must be 'gz' or 'bz2', got {value!r}")
    return names


class CompressDirTask(FiretaskBase):
    """Compress each file below ``dest`` (default: the launch directory) in place, to save quota."""

    _fw_name = "CompressDirTask"
    optional_params = ("compression", "dest", "ignore_errors")

    def run_task(self, fw_spec):
        (compression,) = _compression(self, "gz")
        _convert_tree(self, fw_spec, lambda path: _compress_file(path, compression), "compress")


class DecompressDirTask(FiretaskBase):
    """Decompress each .gz/.bz2 file below ``dest`` (only ``compression``'s kind if given)."""

    _fw_name = "DecompressDirTask"
    optional_params = ("compression", "dest", "ignore_errors")

    def run_task(self, fw_spec):
        compressions = _compression(self, None)
        _convert_tree(self, fw_spec, lambda path: _decompress_file(path, compressions), "decompress")


_ARCHIVE_SUFFIXES = {
    "gztar": ".tar.gz",
    "bztar": ".tar.bz2",
    "xztar": ".tar.xz",
    "tar": ".tar",
    "zip": ".zip",
}


class ArchiveDirTask(FiretaskBase):
    """Pack the launch directory into ``base_name`` + the format's suffix (default gztar)."""

    _fw_name = "ArchiveDirTask"
    required_params = ("base_name",)
    optional_params = ("format",)

    def run_task(self, fw_spec):
        fmt = self.get("format", "gztar")
        known = [name for name, _description in shutil.get_archive_formats()]
        if fmt not in known:
            raise TaskError(f"ArchiveDirTask: unknown format {fmt!r}; use one of {', '.join(known)}")
        base = writable_path(self["base_name"], fw_spec)
        writable_path(base + _ARCHIVE_SUFFIXES.get(fmt, ""), fw_spec)
        try:
            _make_archive(base, fmt)
        except OSError as exc:
            raise TaskError(f"ArchiveDirTask could not write {base}: {exc}") from None


def _make_archive(base, fmt):
    if fmt != "zip":  # tarfile skips its own output file
        return shutil.make_archive(base, fmt, root_dir=".")
    # zipfile would pack a half-written copy of itself: build it elsewhere, then move it in.
    with tempfile.TemporaryDirectory() as tmp:
        built = shutil.make_archive(os.path.join(tmp, "archive"), fmt, root_dir=".")
        return shutil.move(built, base + _ARCHIVE_SUFFIXES[fmt])
