"""The running app's LaunchPad and settings, for the views of both blueprints."""

from flask import current_app


def lp():
    """The LaunchPad ``create_app`` was given: the views' only way to the store."""
    return current_app.extensions["starshell"]


def cfg(name):
    return current_app.config[name]


def scope():
    """The ``data.Scope`` (FireWorks' --fwquery/--wflowquery) this GUI was started with."""
    return current_app.extensions["starshell_scope"]


def counts_cache():
    """The app's ``data.CountsCache`` of workflow counts (the dashboard's costly part)."""
    return current_app.extensions["starshell_counts"]


def layouts():
    """The app's ``graph_view.LayoutCache`` of workflow graphs' layouts."""
    return current_app.extensions["starshell_layouts"]
