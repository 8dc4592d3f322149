"""How ``lpad`` shows things: tables for people, JSON or YAML for machines.

Every command hands plain data here, so output formats live in one place
and the command functions stay short. Only public fields leave the store:
the store's own bookkeeping (waiting_on, index copies of spec keys...) is
private and never printed.
"""

import sys

from .states import ALL_STATES

# "records": starshell's own records as JSON, where -o json gives FireWorks' shape
# (cli/fireworks_output.py); elsewhere the two are the same.
MACHINE_FORMATS = ("json", "yaml", "records")
# Bulk commands show progress past this many items (on a terminal only).
PROGRESS_THRESHOLD = 300

FW_LESS = ("fw_id", "name", "state", "created_on")
FW_MORE = (
    "fw_id",
    "name",
    "state",
    "wf_id",
    "priority",
    "category",
    "parents",
    "children",
    "created_on",
    "updated_on",
)
FW_PUBLIC = (
    "fw_id",
    "wf_id",
    "name",
    "state",
    "spec",
    "parents",
    "children",
    "created_on",
    "updated_on",
    "launches",
)
WF_LESS = ("fw_id", "wf_id", "name", "state", "nodes", "created_on")
WF_MORE = ("fw_id", "wf_id", "name", "state", "nodes", "states", "created_on", "updated_on")
LAUNCH_PUBLIC = (
    "launch_id",
    "fw_id",
    "state",
    "host",
    "ip",
    "launch_dir",
    "fworker",
    "time_start",
    "time_end",
    "runtime_secs",
    "last_ping",
    "reservation_id",
    "state_history",
    "action",
    "exception",
    "interrupted",
    "late_result",
    "ping_interval",
    "trackers",
    "background_errors",
)


def out(text="", stream=None):
    print(text, file=stream or sys.stdout)


def note(text):
    """A message for the person at the terminal; never mixed into data on stdout."""
    print(text, file=sys.stderr)


def emit(data, fmt, human=None):
    """Print ``data`` as JSON/YAML when ``fmt`` asks, else call ``human()`` (or print it)."""
    if fmt in MACHINE_FORMATS:
        text = dumps(data, fmt)
        if text.endswith("\n...\n"):  # YAML's end-of-document mark after a bare scalar
            text = text[:-4]
        out(text.rstrip("\n"))
    elif human is not None:
        human()
    elif isinstance(data, (list, tuple)):
        for item in data:
            out(item)
    else:
        out(data)


def dumps(data, fmt):
    """``files.dumps``, loaded on first use: ruamel.yaml's import would
    otherwise slow every command, even ``lpad get_fws -d count``."""
    from .files import dumps as files_dumps

    return files_dumps(data, "json" if fmt == "records" else fmt)


def table(rows, headers):
    """A plain-text table; ``rows`` are sequences matching ``headers``."""
    if not rows:
        out("  (none)")
        return
    from tabulate import tabulate  # ~40 ms of imports (wcwidth, importlib.metadata)

    out(
        tabulate(
            [[cell_text(c) for c in row] for row in rows],
            headers=headers,
            tablefmt="simple",
            disable_numparse=True,
        )
    )


def cell_text(value):
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    if isinstance(value, dict):
        return state_counts_text(value) if _is_state_counts(value) else dumps(value, "json")
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".") or "0"
    if isinstance(value, str) and len(value) >= 19 and value[10:11] == "T":
        return value[:19].replace("T", " ")  # a store timestamp, to the second
    return str(value)


def _is_state_counts(value):
    return bool(value) and all(k in ALL_STATES for k in value)


def state_counts_text(counts):
    """``{"READY": 2, "WAITING": 1}`` -> ``"READY:2 WAITING:1"`` in the states' order."""
    return " ".join(f"{s}:{counts[s]}" for s in ALL_STATES if counts.get(s))


def ids_text(ids):
    """``[1, 2, 3, 7]`` -> ``"1-3, 7"``: long id lists stay readable."""
    ids = sorted(set(ids))
    parts, start = [], None
    for i, value in enumerate(ids):
        if start is None:
            start = value
        if i + 1 == len(ids) or ids[i + 1] != value + 1:
            parts.append(str(start) if start == value else f"{start}-{value}")
            start = None
    return ", ".join(parts)


def id_map_text(id_map, shown=8):
    """``{1: 5, 2: 6}`` -> ``"1->5, 2->6"``; a long contiguous map as ``"1-100 -> 5-104"``."""
    pairs = sorted(id_map.items())
    if len(pairs) <= shown:
        return ", ".join(f"{old}->{new}" for old, new in pairs)
    olds, news = [p[0] for p in pairs], [p[1] for p in pairs]
    if olds == list(range(olds[0], olds[-1] + 1)) and news == list(range(news[0], news[-1] + 1)):
        return f"{olds[0]}-{olds[-1]} -> {news[0]}-{news[-1]}"
    head = ", ".join(f"{old}->{new}" for old, new in pairs[:shown])
    return f"{head}, ... ({len(pairs)} in all; -o yaml shows every one)"


def plural(n, word):
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# -- fireworks and workflows ---------------------------------------------------
def fw_row(doc):
    """A firework document as the fields people see (spec keys lifted out)."""
    spec = doc.get("spec") or {}
    return {**doc, "priority": spec.get("_priority"), "category": spec.get("_category")}


def fw_public(doc, launches=None):
    """The public form of a firework document (``-d all``)."""
    public = {k: doc[k] for k in FW_PUBLIC if k in doc}
    if launches is not None:
        public["launches"] = [launch_public(launch) for launch in launches]
    return public


def launch_public(doc):
    return {k: doc[k] for k in LAUNCH_PUBLIC if doc.get(k) is not None}


def pick(doc, fields):
    return {f: doc.get(f) for f in fields}


def show_records(records, fields, fmt, empty="nothing matches"):
    """A list of dicts: a table of ``fields`` for people, the dicts for machines."""
    if fmt in MACHINE_FORMATS:
        emit(records, fmt)
    elif not records:
        note(empty)
    else:
        table([[r.get(f) for f in fields] for r in records], list(fields))


def show_documents(docs, fmt, empty="nothing matches"):
    """Whole documents (``-d all``): YAML for people too, since specs nest."""
    if not docs and fmt not in MACHINE_FORMATS:
        note(empty)
        return
    emit(docs, fmt or "yaml")


def show_changes(verb, changed, failures, fmt, noun="firework"):
    """What a state command did: ids changed, and why others were not."""
    if fmt in MACHINE_FORMATS:
        emit(
            {"action": verb, "changed": sorted(changed), "failed": {str(k): v for k, v in failures.items()}},
            fmt,
        )
    elif changed:
        out(f"{verb} {plural(len(changed), noun)}: {ids_text(changed)}")
    elif not failures:
        out(f"{verb} no {noun}s: nothing needed changing")
    for _key, message in sorted(failures.items()):
        note(f"error: {message}")


# -- progress --------------------------------------------------------------------
def progress(items, label, stream=None):
    """Yield ``items``, drawing a counter on a terminal's stderr for long runs."""
    stream = stream or sys.stderr
    items = list(items)
    total = len(items)
    show = total > PROGRESS_THRESHOLD and _isatty(stream)
    step = max(1, total // 100)
    for i, item in enumerate(items, 1):
        yield item
        if show and (i % step == 0 or i == total):
            stream.write(f"\r{label}: {i}/{total}")
            stream.flush()
    if show:
        stream.write("\n")
        stream.flush()


def _isatty(stream):
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


is_terminal = _isatty  # for other CLI modules' progress output (``lpad add``'s bar)
