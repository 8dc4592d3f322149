"""The HTML pages: dashboard, workflow list, workflow, firework, login.

Each page renders the same dicts the JSON API returns (``data``); the
page scripts then keep them live through ``/api`` and post the actions.
"""

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for

from launchpad.errors import InvalidQueryError

from . import actions, data
from . import activity as over_time
from .auth import can_act, guessing_allowed, log_in, log_out, safe_next, settings
from .colors import DISPLAY_ORDER, stylesheet
from .context import cfg, counts_cache, lp, scope
from .firework_list import SORTS as FIREWORK_SORTS
from .firework_list import FireworkFilters, firework_list
from .late_data import SLOT, page_with_late_data

bp = Blueprint("pages", __name__)


@bp.get("/")
def dashboard():
    return render_template("dashboard.html", summary=data.summary(lp(), scope=scope(), cache=counts_cache()))


@bp.get("/workflows")
def workflows():
    """The list; a bad query shows its error above the form so it can be fixed there."""
    try:
        filters = data.WorkflowFilters.from_args(request.args)
        result, error, status = data.workflow_list(lp(), filters, scope(), counts_cache()), None, 200
    except InvalidQueryError as exc:
        filters = data.WorkflowFilters.raw(request.args)
        result, error, status = data.empty_page(), str(exc), 400
    return render_template(
        "workflows.html",
        filters=filters,
        states=DISPLAY_ORDER,
        error=error,
        sorts=list(data.SORTS),
        result=result,
    ), status


@bp.get("/workflows/<int:wf_id>")
def workflow(wf_id):
    info = data.workflow(lp(), wf_id)
    rows = data.workflow_fireworks(lp(), wf_id, request.args, known=True)
    drawable = info["nodes"] <= cfg("STARSHELL_DAG_LIMIT")
    html = render_template(
        "workflow.html",
        wf=info,
        rows=rows,
        states=DISPLAY_ORDER,
        drawable=drawable,
        dag_limit=cfg("STARSHELL_DAG_LIMIT"),
        wf_actions=actions.workflow_actions(lp(), wf_id, rows["state"]) if can_act() else [],
        legal_by_state={state: actions.legal_actions(state) for state in DISPLAY_ORDER},
        selection_actions=[
            {"action": a, "label": label} for a, (label, _) in actions.FIREWORK_ACTIONS.items()
        ],
    )
    return preloaded(html, *([url_for("api.workflow_graph", wf_id=wf_id)] if drawable else []))


@bp.get("/fireworks/<int:fw_id>")
def firework(fw_id):
    fw = data.firework(lp(), fw_id, cfg("STARSHELL_TAIL_LINES"), cfg("STARSHELL_TAIL_BYTES"))
    return render_template("firework.html", fw=fw, offered=actions.firework_actions(lp(), fw_id))


@bp.get("/fireworks")
def fireworks():
    """Every firework by state, workflow, name, host and date: FIZZLED ones with their error."""
    try:
        filters = FireworkFilters.from_args(request.args)
        result, error, status = firework_list(lp(), filters, scope()), None, 200
    except InvalidQueryError as exc:
        filters = FireworkFilters.raw(request.args)
        result, error, status = data.empty_page(), str(exc), 400
    return render_template(
        "fireworks.html",
        filters=filters,
        states=DISPLAY_ORDER,
        error=error,
        sorts=list(FIREWORK_SORTS),
        result=result,
    ), status


@bp.get("/activity")
def activity():
    """Plots over time. The page carries their data, sent after the rest of it
    (``late_data``): the browser lays the page out while the store is read."""
    first = next(iter(over_time.WINDOWS))  # the interval the page shows first
    store = lp()

    def plots():
        return {
            "finished": over_time.finished_per_interval(store, {"interval": first}),
            "runtimes": over_time.runtimes_by_task(store, {}),
        }

    html = render_template("activity.html", windows=over_time.WINDOWS, late_data=SLOT)
    return page_with_late_data(html, plots)


@bp.get("/workflows/<int:wf_id>/timeline")
def workflow_timeline(wf_id):
    html = render_template("timeline.html", wf=data.workflow(lp(), wf_id))
    return preloaded(html, url_for("api.workflow_timeline", wf_id=wf_id))


def preloaded(html, *urls):
    """The page, with its graph's or plots' data asked for as soon as the browser reads the
    response's headers (``Link: rel=preload``), beside its scripts, rather than once the
    page is parsed and laid out; the scripts then take that answer (one request each)."""
    response = Response(html, mimetype="text/html")
    if urls:
        response.headers["Link"] = ", ".join(f"<{url}>; rel=preload; as=fetch; crossorigin" for url in urls)
    return response


@bp.route("/login", methods=["GET", "POST"])
def login():
    auth = settings()
    target = safe_next(request.values.get("next"))
    if request.method == "POST" and auth.actions_enabled:
        throttle, client = guessing_allowed()
        if auth.check_password(request.form.get("password")):
            throttle.succeeded(client)
            log_in()
            return redirect(target)
        throttle.failed(client)
        flash("Wrong password.", "error")
        return render_template("login.html", next=target), 401
    return render_template("login.html", next=target)


@bp.post("/logout")
def logout():
    log_out()
    return redirect(url_for("pages.dashboard"))


@bp.get("/states.css")
def states_css():
    response = Response(stylesheet(), mimetype="text/css")
    response.cache_control.max_age = 3600
    return response
