"""FireWorks' own output for ``lpad get_fws``/``get_wflows``/``get_fws_in_wflows``.

FireWorks' lpad prints JSON (``-o json``, its default) or YAML, and its users'
scripts parse it (``lpad get_fws -d ids | python -c ...``). People at a terminal
get tables; when stdout is not a terminal, or ``-o json``/``-o yaml`` is given,
these commands print what FireWorks prints, with its defaults: ``-d ids`` without
a selection, ``-d more`` with one, and one result printed alone rather than in a
list. ``-o records`` gives starshell's own records instead.
"""

import json
import sys

from .. import display
from ..serialization import recursive_dict
from ..states import State

# -o values that mean FireWorks' own output (its -o choices).
FIREWORKS_FORMATS = ("json", "yaml")


def wanted(args):
    """FireWorks' output: -o json or yaml, or no -o and stdout a pipe or file (-t asks
    for the table, as in FireWorks; -o records for starshell's records)."""
    if getattr(args, "table", False):
        return False
    if args.output is None:
        return not display.is_terminal(sys.stdout)
    return args.output in FIREWORKS_FORMATS


def plain(args):
    """Whether a command that FireWorks answers with bare text (``get_launchdir``) prints
    it: at a terminal, in a pipe and with -o json|yaml alike; not with -o records."""
    return args.output != "records"


def display_format(args, selected):
    """``-d`` as given, else FireWorks' default in a pipe (ids, or more with a selection),
    else starshell's table (less)."""
    if args.display_format:
        return args.display_format
    if wanted(args):
        return "more" if selected else "ids"
    return "less"


def fireworks(lp, ids, shown):
    """FireWorks' ``print_fws``: ids, [count], or Firework dicts trimmed by ``shown``."""
    if shown in ("ids", "count"):
        return _one_or_list(ids if shown == "ids" else [ids])
    found = []
    for fw_id in ids:
        d = recursive_dict(lp.get_fw_by_id(fw_id).to_dict())
        d.setdefault("state", State.WAITING.value)  # FireWorks' to_dict leaves WAITING out
        if shown in ("more", "less"):
            d.pop("archived_launches", None)
            d.pop("spec", None)
        if shown == "less":
            d.pop("launches", None)
        found.append(d)
    return _one_or_list(found)


def workflows(lp, fw_ids, shown):
    """FireWorks' ``get_wflows``: one fw_id per workflow, [count], or summaries named ``name--fw_id``."""
    if shown in ("ids", "count"):
        return _one_or_list(fw_ids if shown == "ids" else [fw_ids])
    found = []
    for fw_id in fw_ids:
        summary = lp.get_wf_summary_dict(fw_id, shown)
        summary["name"] += f"--{int(fw_id)}"
        found.append(summary)
    return _one_or_list(found)


def show(data, fmt=None):
    """FireWorks' JSON (indent 4), or YAML with ``-o yaml``."""
    if fmt == "yaml":
        display.emit(recursive_dict(data), "yaml")
    else:
        display.out(json.dumps(data, indent=4, default=_iso))


def _one_or_list(items):
    return items[0] if len(items) == 1 else items


def _iso(value):
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
