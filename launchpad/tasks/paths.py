"""Where built-in tasks may write or delete.

A workflow file is data anyone can hand a worker; a task that writes to
``~/.bashrc`` or deletes ``$HOME/results`` must not run just because the file
says so. Writes and deletions therefore stay inside the launch directory (the
working directory the rocket gives the task) unless the firework's spec or
the worker explicitly allows more. Reading from anywhere stays allowed.
"""

import os

from ..errors import TaskError

ALLOW_SPEC_KEY = "_allow_outside_launch_dir"
ALLOW_ENV = "STARSHELL_ALLOW_OUTSIDE_LAUNCH_DIR"
_TRUE_WORDS = ("1", "true", "yes")


def _truthy(value):
    """YAML and env vars carry flags as text too: "false" must not mean yes."""
    if isinstance(value, str):
        return value.strip().lower() in _TRUE_WORDS
    return bool(value)


def _outside_allowed(fw_spec):
    if fw_spec and _truthy(fw_spec.get(ALLOW_SPEC_KEY)):
        return True
    return _truthy(os.environ.get(ALLOW_ENV, ""))


def _resolve(raw, follow_last):
    """The real location the OS will touch, symlinks and ``..`` included.

    ``realpath`` is applied before any normalisation, because ``link/..``
    names the parent of the link's target, not the launch directory.
    """
    joined = os.path.join(os.getcwd(), raw)
    head, name = os.path.split(joined.rstrip(os.sep) or os.sep)
    if follow_last or name in ("", ".", ".."):
        return os.path.realpath(joined)
    return os.path.join(os.path.realpath(head), name)


def writable_path(path, fw_spec=None, *, follow_last=True, expand=True):
    """The resolved absolute path of ``path``, if a task may write or delete it.

    ``follow_last=False`` checks a final symlink itself rather than its
    target: right for removing, renaming or creating a link, which never
    touch what the link points to. ``expand`` applies ``~`` and ``$VARS``
    first, as FireWorks' tasks do. Raises TaskError when the path lies outside
    the launch directory and neither ``_allow_outside_launch_dir`` in
    ``fw_spec`` nor ``$STARSHELL_ALLOW_OUTSIDE_LAUNCH_DIR`` allows it.
    """
    raw = os.fspath(path)
    if expand:
        raw = os.path.expandvars(os.path.expanduser(raw))
    resolved = _resolve(raw, follow_last)
    if _outside_allowed(fw_spec):
        return resolved
    root = os.path.realpath(os.getcwd())
    if resolved != root and os.path.commonpath([root, resolved]) != root:
        raise TaskError(
            f"{path!r} resolves to {resolved}, which is outside the launch directory "
            f"{root}; set {ALLOW_SPEC_KEY}: true in the firework's spec, or "
            f"allow_outside_launch_dir: true in my_fworker.yaml "
            f"(or ${ALLOW_ENV}=1 for this worker)"
        )
    return resolved
