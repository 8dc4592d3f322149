"""FireWorks' web GUI addresses, redirected to ours so bookmarks keep working.

FireWorks names a workflow by any of its fireworks' ids (``/wf/<fw_id>``),
so those are looked up; state lists become the filtered workflow list.
"""

from flask import Blueprint, redirect, url_for

from .context import lp

bp = Blueprint("fireworks_compat", __name__)


def _moved(endpoint, **values):
    return redirect(url_for(endpoint, **values), code=301)


@bp.get("/fw/<int:fw_id>")
def firework(fw_id):
    return _moved("pages.firework", fw_id=fw_id)


@bp.get("/fw/<int:fw_id>/details")
def firework_json(fw_id):
    return _moved("api.firework", fw_id=fw_id)


@bp.get("/wf/<int:fw_id>")
def workflow(fw_id):
    return _moved("pages.workflow", wf_id=lp().wf_id_of(fw_id))


@bp.get("/wf/<int:fw_id>/json")
def workflow_json(fw_id):
    return _moved("api.workflow_graph", wf_id=lp().wf_id_of(fw_id))


@bp.get("/wf/", defaults={"state": "total"})
@bp.get("/wf/<state>/")
@bp.get("/wf/<state>/<_key>/<_order>/")
def workflows_by_state(state, _key=None, _order=None):
    if state.upper() == "TOTAL":
        return _moved("pages.workflows")
    return _moved("pages.workflows", state=state.upper())


@bp.get("/dashboard/")
def dashboard():
    return _moved("pages.dashboard")
