"""FireWorks' offline-mode files: their names, their JSON, and safe writes.

A compute node with no network runs ``rlaunch singleshot --offline`` in a
launch directory that ``qlaunch -r`` prepared; everything it reports goes
into files there, which ``lpad recover_offline`` reads from the login node.
The files are FireWorks' contract, so either program can read the other's:

- ``FW.json``: the firework to run (``Firework.to_dict`` form);
- ``FW_offline.json``: ``launch_id`` (written by qlaunch), then ``started_on``,
  ``checkpoint``, and at the end ``state``, ``completed_on`` and ``fwaction``;
- ``FW_ping.json``: ``{"ping_time": ...}``, the latest heartbeat;
- ``FW_action.json``: the FWAction alone (FireWorks' tutorial names this file).

starshell adds keys FireWorks ignores (``host``, ``ip``, ``ping_interval``,
``exception``, ``interrupted``, ``trackers``). Writes go to a temporary file
renamed over the old one, so a reader never sees half a file.
"""

import datetime
import json
import os

from .errors import WorkflowFileError
from .serializable import DATETIME_HANDLER, as_datetime, date_text

FW_JSON = "FW.json"
FW_YAML = "FW.yaml"
OFFLINE_JSON = "FW_offline.json"
PING_JSON = "FW_ping.json"
ACTION_JSON = "FW_action.json"

# The launch record's ``offline`` field: the run is waiting to be recovered,
# was recovered to its end, or was forgotten (FireWorks' completed/deprecated flags).
PENDING, RECOVERED, FORGOTTEN = "pending", "recovered", "forgotten"


def iso_now():
    """The timestamps the offline files hold: ISO-8601 with the UTC offset, as FireWorks writes."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat()


def store_time(text):
    """An offline file's timestamp in the store's form (UTC, no offset); None stays None."""
    if text is None:
        return None
    value = as_datetime(text)
    if not isinstance(value, datetime.datetime):
        raise WorkflowFileError(f"not a timestamp: {text!r}")
    return date_text(value)


def write_json(path, data, indent=None):
    """Write ``data`` as JSON to ``path`` atomically (a temporary file renamed over it)."""
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, indent=indent, default=DATETIME_HANDLER)
    os.replace(tmp, path)


def read_json(path):
    """The JSON object in ``path``; WorkflowFileError names the file when it is not one."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except ValueError as exc:
        raise WorkflowFileError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise WorkflowFileError(f"{path} must hold a JSON object, not {type(data).__name__}")
    return data


def read_optional_json(path):
    """As read_json, or None when the file does not exist."""
    try:
        return read_json(path)
    except FileNotFoundError:
        return None


def write_fw_json(fw, directory):
    """Write the firework as ``FW.json`` in ``directory`` (FireWorks' PRINT_FW_JSON file and
    offline mode's input); ``fw`` is a Firework or a firework record. Returns the path.

    The one writer of FW.json: qlaunch's offline reservations use it, and so should a rocket
    that leaves the file in every launch directory."""
    doc = fw.to_dict() if hasattr(fw, "to_dict") else fw_json_dict(fw)
    path = os.path.join(directory, FW_JSON)
    write_json(path, doc, indent=4)
    return path


def write_fw_yaml(fw, directory):
    """``FW.yaml`` beside FW.json (FireWorks' PRINT_FW_YAML), from the same dict."""
    from .files import dumps  # ruamel.yaml only when a worker asks for the file

    doc = fw.to_dict() if hasattr(fw, "to_dict") else fw_json_dict(fw)
    path = os.path.join(directory, FW_YAML)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(dumps(json.loads(json.dumps(doc, default=DATETIME_HANDLER))))
    return path


def fw_json_dict(doc):
    """A firework record in FireWorks' ``Firework.to_dict`` form (no task is imported)."""
    keys = ("spec", "fw_id", "created_on", "updated_on", "launches", "archived_launches", "state", "name")
    return {k: doc[k] for k in keys if doc.get(k) not in (None, [])}


def read_fw_json(directory):
    """The firework record in ``directory``'s FW.json, checked to have what a rocket needs."""
    path = os.path.join(directory, FW_JSON)
    doc = read_json(path)
    spec = doc.get("spec")
    if not isinstance(spec, dict) or not isinstance(spec.get("_tasks", []), list):
        raise WorkflowFileError(f"{path} holds no firework: it needs a spec with a _tasks list")
    if not isinstance(doc.get("fw_id"), int):
        raise WorkflowFileError(f"{path} holds no firework id (fw_id)")
    doc.setdefault("name", "Unnamed FW")
    return doc


def start_offline_file(directory, launch_id):
    """``FW_offline.json`` as qlaunch leaves it: the launch id, nothing run yet."""
    write_json(os.path.join(directory, OFFLINE_JSON), {"launch_id": int(launch_id)})


def ping_time(directory):
    """The latest heartbeat in ``directory``'s FW_ping.json, in the store's form, or None."""
    ping = read_optional_json(os.path.join(directory, PING_JSON))
    if ping is None:
        return None, None
    return store_time(ping.get("ping_time")), ping.get("trackers")


def was_started(launch_dir):
    """Whether an offline run in ``launch_dir`` has started (its FW_offline.json says so).

    A reservation whose job has ended is not stale while this is true: its result waits
    in the files for ``lpad recover_offline``."""
    if not launch_dir:
        return False
    try:
        data = read_optional_json(os.path.join(launch_dir, OFFLINE_JSON))
    except (OSError, WorkflowFileError):
        return True  # unreadable: leave it to recover_offline, which reports it
    return bool(data and data.get("started_on"))
