"""Where built-in tasks may write or delete.

As in FireWorks, a file task writes where its author says: the author could
run any shell command anyway, so refusing a destination adds friction, not
safety. A site that wants launches kept in place opts in with
``confine_launch_dir: true`` in my_fworker.yaml; its rockets then give tasks
``_allow_outside_launch_dir: False``, and writes and deletions stay inside the
launch directory (the task's working directory). A workflow may confine its own
tasks the same way. Reading from anywhere stays allowed.
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
    """A rocket always says (False only where the worker confines its launches); a task
    run straight from user code, with no word in its spec, writes where it is told, as a
    FireWorks task does."""
    if _truthy(os.environ.get(ALLOW_ENV, "")):
        return True
    if not fw_spec or ALLOW_SPEC_KEY not in fw_spec:
        return True
    return _truthy(fw_spec[ALLOW_SPEC_KEY])


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
    first, as FireWorks' tasks do. Raises TaskError when ``fw_spec`` confines
    the task (``_allow_outside_launch_dir`` false, as a confining worker's
    rocket sets it), the path lies outside the launch directory, and
    ``$STARSHELL_ALLOW_OUTSIDE_LAUNCH_DIR`` does not lift the confinement.
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
            f"{root}, and this launch is confined (confine_launch_dir: true in my_fworker.yaml, "
            f"or {ALLOW_SPEC_KEY}: false in the spec); to allow it, drop that setting, set "
            f"allow_outside_launch_dir: true in my_fworker.yaml, or set ${ALLOW_ENV}=1"
        )
    return resolved
