"""The one place that defines what colour each firework state is drawn in.

Badges, DAG nodes and the dashboard bars all use the ``state-<STATE>``
classes of the stylesheet generated here, so a colour changes in one line.
"""

from launchpad.states import ALL_STATES

# state: (fill, ink). Ink is the text colour on the fill, chosen for contrast.
STATE_COLORS = {
    "COMPLETED": ("#2e7d32", "#ffffff"),
    "RUNNING": ("#1565c0", "#ffffff"),
    "RESERVED": ("#6a1b9a", "#ffffff"),
    "READY": ("#00796b", "#ffffff"),
    "WAITING": ("#b0bec5", "#1a2327"),
    "PAUSED": ("#f9a825", "#1a2327"),
    "FIZZLED": ("#c62828", "#ffffff"),
    "DEFUSED": ("#5d4037", "#ffffff"),
    "ARCHIVED": ("#e0e0e0", "#424242"),
}

# The order states are listed in: what needs attention first.
DISPLAY_ORDER = ("FIZZLED", "RUNNING", "RESERVED", "READY", "WAITING", "PAUSED",
                 "DEFUSED", "COMPLETED", "ARCHIVED")



def stylesheet():
    """CSS custom properties per state, consumed by ``style.css``."""
    rules = [f".state-{state} {{ --fill: {fill}; --ink: {ink}; }}"
             for state, (fill, ink) in STATE_COLORS.items()]
    return "\n".join(rules) + "\n"
