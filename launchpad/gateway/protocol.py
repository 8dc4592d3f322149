"""What crosses the wire between a gateway client and ``lpad gateway``.

A call is ``POST /v1/call/<LaunchPad method>`` with a JSON body
``{"kwargs": {...}, "request_id": "...", "retry": bool}`` and a bearer token;
the reply is ``{"result": ...}`` or ``{"error": {"type", "message"}}`` with the
error's HTTP status. Only the methods listed here are served: the rocket's
operations and reads that run no code. Objects travel as their ``to_dict``
forms, tagged so the other side rebuilds them; tags are looked for only at
the top of an argument or result, never inside user data.
"""

import functools
import inspect
import json
from datetime import date, datetime

from .. import errors
from ..actions import FWAction
from ..models import Firework, Workflow
from ..stores.base import WorkerFilter

API_PREFIX = "/v1/call/"
TAG = "__gateway__"

# What a rocket does to a launch. Calls that are not idempotent by themselves
# (a claim, a completion, a hand-back) are answered once per request id.
ROCKET_METHODS = frozenset(
    {
        "claim_to_run",
        "set_launch_dir",
        "ping_launch",
        "complete_launch",
        "finish_and_checkout",
        "interrupt_launch",
        "run_exists",
        "future_run_exists",
        "count_ready",
        "count_upcoming",
        "silent_runs",
        "activity_mark",
        "record_tracking",
    }
)
ONCE_ONLY = frozenset({"claim_to_run", "complete_launch", "finish_and_checkout", "interrupt_launch"})
# Arguments that are themselves a call's arguments, tagged one level down (a rapidfire
# rocket's next claim, sent with its completion).
NESTED = frozenset({"checkout"})
# Reads for lpad's read-only commands; each takes a vetted query, none runs code.
READ_METHODS = frozenset(
    {
        "get_fw_dict",
        "get_fw_by_id",
        "get_fws",
        "get_fw_ids",
        "fw_state_counts",
        "wf_id_of",
        "get_wf_summaries",
        "get_wf_summary_dict",
        "get_wf_ids",
        "wf_state_counts",
        "count_wfs",
        "get_launch",
        "get_launches",
        "get_launchdir",
        "get_wf",
        "get_wf_by_fw_id",
        "get_task_names",
        "describe",
    }
)
ALLOWED = ROCKET_METHODS | READ_METHODS
# Reads whose answer grows with the store: capped at the gateway's max_rows.
LISTINGS = frozenset({"get_fws", "get_fw_ids", "get_launches", "get_wf_summaries"})

_TYPES = {
    "WorkerFilter": (
        WorkerFilter,
        lambda w: {"name": w.name, "category": w.category, "query": w.query},
        lambda d: WorkerFilter(**d),
    ),
    "FWAction": (FWAction, FWAction.to_dict, FWAction.from_dict),
    "Firework": (Firework, Firework.to_dict, Firework.from_dict),
    "Workflow": (Workflow, Workflow.to_dict, Workflow.from_dict),
}


def named_arguments(launchpad_class, method, args, kwargs):
    """``{parameter: value}`` for a call, so positional and keyword calls look alike."""
    if not args:
        return kwargs
    bound = _signature(launchpad_class, method).bind(None, *args, **kwargs)
    named = dict(bound.arguments)
    named.pop(next(iter(named)))  # self
    return named


@functools.cache
def _signature(launchpad_class, method):
    return inspect.signature(getattr(launchpad_class, method))


def tag(value):
    """A JSON-able form of one argument or result."""
    for name, (cls, to_dict, _) in _TYPES.items():
        if isinstance(value, cls):
            return {TAG: name, "value": to_dict(value)}
    if isinstance(value, tuple):
        return {TAG: "tuple", "value": [tag(v) for v in value]}
    if isinstance(value, dict) and value and all(type(k) is int for k in value):
        return {TAG: "int_keys", "value": list(value.items())}  # JSON keys are text
    return value


def tag_arguments(kwargs):
    """A call's arguments as they travel: each tagged, nested ones one level down."""
    return {k: tag_arguments(v) if k in NESTED and isinstance(v, dict) else tag(v) for k, v in kwargs.items()}


def untag_arguments(kwargs):
    """The arguments ``tag_arguments`` sent."""
    return {
        k: untag_arguments(v) if k in NESTED and isinstance(v, dict) else untag(v) for k, v in kwargs.items()
    }


def untag(value):
    """The object ``tag`` made a JSON form of."""
    if not isinstance(value, dict) or TAG not in value:
        return value
    kind = value[TAG]
    if kind == "tuple":
        return tuple(untag(v) for v in value["value"])
    if kind == "int_keys":
        return {int(k): v for k, v in value["value"]}
    if kind not in _TYPES:
        raise errors.InvalidArgumentError(f"unknown object type {kind!r} in a gateway message")
    return _TYPES[kind][2](value["value"])


def dumps(value):
    return json.dumps(value, default=_json_default, separators=(",", ":")).encode()


def _json_default(value):
    if isinstance(value, (datetime, date)):  # MongoDB documents may hold dates
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} cannot be sent through the gateway")


def error_body(exc):
    kind = next(c.__name__ for c in type(exc).__mro__ if not c.__name__.startswith("_"))
    return {"error": {"type": kind, "message": str(exc)}}


def error_from(body, status):
    """The StarshellError a reply carries (its own class when it is one of ours)."""
    info = (body.get("error") if isinstance(body, dict) else None) or {}
    if not isinstance(info, dict):
        info = {}
    cls = getattr(errors, str(info.get("type")), None)
    if not (isinstance(cls, type) and issubclass(cls, errors.StarshellError)):
        unavailable = status in (502, 503, 504)  # a proxy in front, or the store, is down
        cls = errors.StoreUnavailableError if unavailable else errors.StarshellError
    message = info.get("message") or f"the gateway answered HTTP {status}"
    try:
        return cls(message)
    except TypeError:  # a class that takes more than a message
        return errors.StarshellError(message)
