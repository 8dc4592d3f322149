"""What colour each firework state is drawn in: the table is launchpad.graph's
STATE_COLORS (lpad check_wflow's pictures use it too), the CSS is made here.

Badges, DAG nodes and the dashboard bars all use the ``state-<STATE>``
classes of the stylesheet generated here, so a colour changes in one line.
"""

from launchpad.graph import STATE_COLORS  # state: (fill, ink); lpad check_wflow's pictures too
from launchpad.states import State

# The order states are listed in: what needs attention first.
DISPLAY_ORDER = tuple(
    s.value
    for s in (
        State.FIZZLED,
        State.RUNNING,
        State.RESERVED,
        State.READY,
        State.WAITING,
        State.PAUSED,
        State.DEFUSED,
        State.COMPLETED,
        State.ARCHIVED,
    )
)


# The same states on the dark theme's background: lighter fills with dark ink,
# so badges, bars, nodes and plots stay readable (tests check the contrast).
DARK_STATE_COLORS = {
    State.COMPLETED.value: ("#66bb6a", "#0f1a10"),
    State.RUNNING.value: ("#64b5f6", "#0b1622"),
    State.RESERVED.value: ("#ce93d8", "#1f0d24"),
    State.READY.value: ("#4db6ac", "#061a18"),
    State.WAITING.value: ("#78909c", "#0e1417"),
    State.PAUSED.value: ("#fdd835", "#1a2327"),
    State.FIZZLED.value: ("#ef5350", "#1a0606"),
    State.DEFUSED.value: ("#bcaaa4", "#1e1613"),
    State.ARCHIVED.value: ("#a8a8a8", "#161616"),
}
DARK_CARD = "#1a232b"  # --card of style.css's dark theme, for the contrast test


def _rules(colors, indent=""):
    return [
        f"{indent}.state-{state} {{ --fill: {fill}; --ink: {ink}; }}" for state, (fill, ink) in colors.items()
    ]


def stylesheet():
    """CSS custom properties per state, consumed by ``style.css``; a dark set
    when the system prefers a dark colour scheme."""
    dark = ["@media (prefers-color-scheme: dark) {", *_rules(DARK_STATE_COLORS, "  "), "}"]
    return "\n".join(_rules(STATE_COLORS) + dark) + "\n"
