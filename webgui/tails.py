"""The ends of a launch's output files, read only from its own directory.

Launch directories are recorded by rockets, and file names arrive from the
browser, so both are distrusted: a name must be a plain file name of an
output-like file (``*.out``, ``*.err``, ``*.error``, ``*.log``, or one
containing ``stdout``/``stderr``), and the resolved path (symlinks
followed) must still lie inside the resolved launch directory.
"""

import os

from launchpad.errors import NotFoundError, StarshellError

OUTPUT_SUFFIXES = (".out", ".err", ".error", ".log")
MAX_LISTED = 20


class FileRefusedError(StarshellError):
    """A requested file is not an output file inside the launch's directory."""

    http_status = 403


def is_output_name(name):
    lower = name.lower()
    return lower.endswith(OUTPUT_SUFFIXES) or "stdout" in lower or "stderr" in lower


def safe_path(launch_dir, name):
    """The real path of ``name`` inside ``launch_dir``; refuses anything else."""
    if not launch_dir:
        raise NotFoundError("this launch recorded no directory")
    if not name or name != os.path.basename(name) or name in (".", "..") or "\\" in name or "\0" in name:
        raise FileRefusedError(f"{name!r} is not a plain file name")
    if not is_output_name(name):
        raise FileRefusedError(f"{name!r} is not an output file (*.out, *.err, *.error, *.log)")
    root = os.path.realpath(launch_dir)
    path = os.path.realpath(os.path.join(root, name))
    if os.path.dirname(path) != root:
        raise FileRefusedError(f"{name!r} leads outside the launch directory")
    return path


def output_files(launch_dir):
    """Names of the output files directly inside ``launch_dir`` (none if unreadable)."""
    if not launch_dir:
        return []
    try:
        names = sorted(os.listdir(launch_dir))
    except OSError:
        return []
    found = []
    for name in names:
        if not is_output_name(name):
            continue
        try:
            path = safe_path(launch_dir, name)
        except StarshellError:
            continue
        if os.path.isfile(path):
            found.append(name)
    return found[:MAX_LISTED]


def tail(launch_dir, name, lines=100, max_bytes=64 * 1024):
    """The last ``lines`` lines (at most ``max_bytes``) of one output file."""
    path = safe_path(launch_dir, name)
    try:
        with open(path, "rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(size - max_bytes, 0))
            data = handle.read(max_bytes)
    except FileNotFoundError:
        raise NotFoundError(f"{name} is not in {launch_dir}") from None
    except OSError as exc:
        raise FileRefusedError(f"cannot read {name}: {exc.strerror}") from None
    text = data.decode("utf-8", errors="replace").splitlines()
    truncated = size > len(data) or len(text) > lines
    return {
        "name": name,
        "size": size,
        "truncated": truncated,
        "text": "\n".join(text[-lines:] if lines else []),
    }


def launch_tails(launch_dir, lines=100, max_bytes=64 * 1024):
    """Tails of every output file of a launch, for the firework page."""
    out = []
    for name in output_files(launch_dir):
        try:
            out.append(tail(launch_dir, name, lines, max_bytes))
        except StarshellError as exc:
            out.append({"name": name, "error": str(exc)})
    return out
