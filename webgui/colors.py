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


def stylesheet():
    """CSS custom properties per state, consumed by ``style.css``."""
    rules = [
        f".state-{state} {{ --fill: {fill}; --ink: {ink}; }}" for state, (fill, ink) in STATE_COLORS.items()
    ]
    return "\n".join(rules) + "\n"
