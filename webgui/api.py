"""The JSON API under ``/api``: everything the pages show, and the actions.

Reads are open; every POST passes the CSRF check (in ``app``) and
``require_actions``. Errors come back as ``{"error": message}`` with the
status the StarshellError subclass names.
"""

import math

from flask import Blueprint, jsonify, request
from werkzeug.exceptions import BadRequest

from launchpad.errors import StarshellError

from . import actions, activity, data, firework_view, graph_view
from .auth import can_act, logged_in, require_actions, settings
from .context import cfg, counts_cache, layouts, lp, scope
from .firework_list import FireworkFilters, firework_list
from .tails import tail

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/summary")
def summary():
    return jsonify(data.summary(lp(), scope=scope(), cache=counts_cache()))


@bp.get("/session")
def session_info():
    auth = settings()
    return jsonify(
        {
            "mode": auth.mode(),
            "logged_in": logged_in(),
            "can_act": can_act(),
            "refresh_seconds": cfg("STARSHELL_REFRESH_SECONDS"),
        }
    )


@bp.get("/workflows")
def workflows():
    return jsonify(
        data.workflow_list(lp(), data.WorkflowFilters.from_args(request.args), scope(), counts_cache())
    )


@bp.get("/workflows/<int:wf_id>")
def workflow(wf_id):
    return jsonify(data.workflow(lp(), wf_id))


@bp.get("/workflows/<int:wf_id>/graph")
def workflow_graph(wf_id):
    """``?expand=3,5`` opens grouped layers; ``?pin=12`` shows a firework outside its group."""
    expanded = graph_view.id_list(request.args.get("expand"), "expand")
    pinned = graph_view.id_list(request.args.get("pin"), "pin")
    graph = graph_view.workflow_graph(lp(), wf_id, cfg("STARSHELL_DAG_LIMIT"), expanded, pinned, layouts())
    return jsonify(graph)


@bp.get("/workflows/<int:wf_id>/find")
def workflow_find(wf_id):
    return jsonify({"matches": graph_view.find_fireworks(lp(), wf_id, request.args.get("q"))})


@bp.get("/workflows/<int:wf_id>/states")
def workflow_states(wf_id):
    limit = min(cfg("STARSHELL_DAG_LIMIT"), graph_view.LIVE_STATES_LIMIT)
    return jsonify(data.workflow_states(lp(), wf_id, limit))


@bp.get("/workflows/<int:wf_id>/fireworks")
def workflow_fireworks(wf_id):
    return jsonify(data.workflow_fireworks(lp(), wf_id, request.args))


@bp.get("/fireworks")
def fireworks():
    return jsonify(firework_list(lp(), FireworkFilters.from_args(request.args), scope()))


@bp.get("/activity/finished")
def finished_per_interval():
    return jsonify(activity.finished_per_interval(lp(), request.args))


@bp.get("/activity/runtimes")
def runtimes_by_task():
    return jsonify(activity.runtimes_by_task(lp(), request.args))


@bp.get("/workflows/<int:wf_id>/timeline")
def workflow_timeline(wf_id):
    return jsonify(activity.workflow_timeline(lp(), wf_id))


@bp.get("/fireworks/<int:fw_id>")
def firework(fw_id):
    return jsonify(data.firework(lp(), fw_id, cfg("STARSHELL_TAIL_LINES"), cfg("STARSHELL_TAIL_BYTES")))


@bp.get("/launches/<int:launch_id>/files/<path:name>")
def launch_file(launch_id, name):
    lines = data.int_arg(request.args, "lines", cfg("STARSHELL_TAIL_LINES"), 1, 5000)
    launch = lp().get_launch(launch_id)
    return jsonify(tail(launch.get("launch_dir"), name, lines, cfg("STARSHELL_TAIL_BYTES")))


def _payload():
    body = request.get_json(silent=True)
    if body is None and request.form:
        body = request.form.to_dict()
    if not isinstance(body, dict):
        body = {}
    return body


def _priority(body):
    value = body.get("priority")
    if isinstance(value, str):
        try:
            value = int(value)
        except ValueError:
            try:
                value = float(value)
            except ValueError:
                value = None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise BadRequest("priority must be a finite number")
    return value


def _priority_of(action, body):
    return _priority(body) if action == "priority" else None


@bp.get("/fireworks/<int:fw_id>/live")
def firework_live(fw_id):
    """What the page of a RUNNING firework polls: state, runtime, heartbeat, tracker lines."""
    return jsonify(firework_view.live(lp(), fw_id))


@bp.get("/fireworks/<int:fw_id>/state")
def firework_state(fw_id):
    """What the page of a WAITING, READY or RESERVED firework polls to notice it start."""
    return jsonify(firework_view.state(lp(), fw_id))


@bp.get("/fireworks/<int:fw_id>/actions")
def firework_actions(fw_id):
    """The actions legal in the firework's state, each with what it would change."""
    return jsonify(actions.firework_actions(lp(), fw_id))


@bp.post("/fireworks/<int:fw_id>/<action>")
@require_actions
def act(fw_id, action):
    changed = actions.apply(lp(), action, fw_id, _priority_of(action, _payload()))
    return jsonify({"action": action, "fw_id": fw_id, "changed": sorted(changed or [])})


def _selection(body):
    action, ids = body.get("action"), body.get("fw_ids")
    if action not in actions.FIREWORK_ACTIONS:
        raise BadRequest(f"unknown action {action!r:.40}; use one of {', '.join(actions.FIREWORK_ACTIONS)}")
    if (
        not isinstance(ids, list)
        or not ids
        or len(ids) > actions.MAX_SELECTION
        or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids)
    ):
        raise BadRequest(f"fw_ids must be a list of 1 to {actions.MAX_SELECTION} firework ids")
    return action, list(dict.fromkeys(ids))


@bp.post("/actions/preview")
@require_actions
def preview_selection():
    """What an action on a selection would change, for the confirmation; changes nothing."""
    action, ids = _selection(_payload())
    return jsonify(actions.shown(actions.plan(lp(), action, ids)))


@bp.post("/actions")
@require_actions
def act_on_selection():
    """One action on many fireworks; each succeeds or is refused on its own."""
    body = _payload()
    action, ids = _selection(body)
    priority = _priority_of(action, body)
    changed, failed = set(), []
    for fw_id in ids:
        try:
            changed.update(actions.apply(lp(), action, fw_id, priority) or [])
        except StarshellError as exc:
            failed.append({"fw_id": fw_id, "error": str(exc), "status": exc.http_status})
    status = 200 if changed or not failed else failed[0]["status"]
    return jsonify({"action": action, "changed": sorted(changed), "failed": failed}), status


@bp.get("/workflows/<int:wf_id>/actions")
def workflow_actions(wf_id):
    """Bulk actions over the workflow (rerun its FIZZLED, pause it...) with their counts."""
    offered = [actions.shown(p) for p in actions.workflow_actions(lp(), wf_id)]
    return jsonify({"wf_id": wf_id, "actions": offered})


@bp.get("/workflows/<int:wf_id>/actions/<action>")
def workflow_action_plan(wf_id, action):
    planned = actions.workflow_plan(lp(), wf_id, action, data.check_state(request.args.get("state")))
    return jsonify(actions.shown(planned))


@bp.post("/workflows/<int:wf_id>/actions")
@require_actions
def act_on_workflow(wf_id):
    body = _payload()
    action, state = body.get("action"), data.check_state(body.get("state"))
    changed = actions.apply_to_workflow(lp(), wf_id, action, state)
    return jsonify({"action": action, "wf_id": wf_id, "state": state, "changed": changed})
