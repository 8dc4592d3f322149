"""Firework states and the one table of legal transitions.

Every state change in starshell asks ``check_transition`` first, so the rules
live here and nowhere else.
"""

from enum import Enum

from .errors import InvalidTransitionError


class State(str, Enum):
    ARCHIVED = "ARCHIVED"
    DEFUSED = "DEFUSED"
    PAUSED = "PAUSED"
    FIZZLED = "FIZZLED"
    WAITING = "WAITING"
    READY = "READY"
    RESERVED = "RESERVED"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"

    def __str__(self):
        return self.value


S = State
ALL_STATES = tuple(s.value for s in State)


class LaunchState(str, Enum):
    """The states of one launch (one run of a firework), stored as these strings.

    A launch shares four names with its firework, and adds two a firework
    never has (``LAUNCH_ONLY_STATES``).
    """

    RESERVED = "RESERVED"  # a queue job was submitted for the firework; it has not started
    RUNNING = "RUNNING"  # a rocket is running the firework's tasks
    COMPLETED = "COMPLETED"  # every task ran; its FWAction was applied
    FIZZLED = "FIZZLED"  # a task raised, the run was interrupted, or it was declared lost
    # FENCED: the firework was rerun, defused or archived under it; a late result is kept, not applied
    FENCED = "FENCED"
    CANCELLED = "CANCELLED"  # a reservation whose job went away (or was cancelled) before it ran

    def __str__(self):
        return self.value


L = LaunchState
LAUNCH_STATES = tuple(s.value for s in LaunchState)
# Launch states a firework never has.
LAUNCH_ONLY_STATES = (L.CANCELLED.value, L.FENCED.value)

# Reset targets: a rerun, reignite or resume puts a firework back to WAITING or
# READY depending on its parents, so both are always allowed together.
_RESET = {S.WAITING, S.READY}

TRANSITIONS = {
    S.WAITING: {S.READY, S.DEFUSED, S.PAUSED, S.ARCHIVED} | _RESET,
    S.READY: {S.RUNNING, S.RESERVED, S.DEFUSED, S.PAUSED, S.ARCHIVED} | _RESET,
    S.RESERVED: {S.RUNNING, S.DEFUSED, S.PAUSED, S.ARCHIVED} | _RESET,
    S.RUNNING: {S.COMPLETED, S.FIZZLED, S.DEFUSED, S.ARCHIVED} | _RESET,
    S.COMPLETED: {S.ARCHIVED} | _RESET,
    S.FIZZLED: {S.DEFUSED, S.ARCHIVED} | _RESET,
    S.DEFUSED: {S.ARCHIVED} | _RESET,
    S.PAUSED: {S.DEFUSED, S.ARCHIVED} | _RESET,
    S.ARCHIVED: set(),
}


# States from which each user command may start; derived from the table so the
# commands can never disagree with it.
def sources_of(target, among=ALL_STATES):
    """States that may move to ``target`` (restricted to ``among``)."""
    return tuple(s for s in among if State(target) in TRANSITIONS[State(s)])


DEFUSABLE = sources_of(S.DEFUSED)
PAUSABLE = sources_of(S.PAUSED)
RERUNNABLE = sources_of(S.READY)
# The states each user command on one firework may start from: what the web GUI
# offers, and what the LaunchPad's commands accept (tests/test_states.py checks both).
COMMAND_SOURCES = {
    "rerun": RERUNNABLE,
    # FireWorks' defuse_fw reruns a COMPLETED firework, then defuses it (LaunchPad.defuse_fw).
    "defuse": tuple(dict.fromkeys((*DEFUSABLE, S.COMPLETED.value))),
    "reignite": (S.DEFUSED.value,),
    "pause": PAUSABLE,
    "resume": (S.PAUSED.value,),
}


def commands_from(state):
    """The user commands a firework in ``state`` accepts, in ``COMMAND_SOURCES`` order."""
    return [command for command, sources in COMMAND_SOURCES.items() if str(state) in sources]


# States a worker may not pick up and that children must not treat as done.
UNFINISHED = (S.WAITING.value, S.READY.value, S.RESERVED.value, S.RUNNING.value, S.PAUSED.value)


def is_legal(source, target):
    return State(target) in TRANSITIONS[State(source)]


def check_transition(fw_id, source, target):
    """Raise InvalidTransitionError unless ``source -> target`` is legal."""
    if not is_legal(source, target):
        raise InvalidTransitionError(f"firework {fw_id} is {source}; it cannot become {target}")


def workflow_state(counts):
    """A workflow's state from the number of its fireworks in each state.

    Precedence: a workflow is ARCHIVED or COMPLETED only when every firework
    is; otherwise DEFUSED, PAUSED, FIZZLED, in FireWorks' order (``Workflow.state``).
    Then, as in FireWorks, a workflow that has started (a firework RUNNING or
    COMPLETED) is RUNNING, so its state does not flip back to READY between
    two fireworks; then RESERVED, READY, WAITING.
    """
    total = sum(counts.values())
    if total == 0:
        return _WAITING
    archived, completed = counts.get(_ARCHIVED, 0), counts.get(_COMPLETED, 0)
    if archived == total:
        return _ARCHIVED
    if completed + archived == total:
        return _COMPLETED
    if completed:
        return _first_of(counts, _ALARMS) or _RUNNING  # started: RUNNING unless alarmed
    return _first_of(counts, _BY_PRECEDENCE) or _WAITING


# workflow_state runs once per workflow of a listing (20,000 on a large dashboard):
# plain strings, not enum lookups, keep it cheap.
_WAITING, _ARCHIVED, _COMPLETED, _RUNNING = (s.value for s in (S.WAITING, S.ARCHIVED, S.COMPLETED, S.RUNNING))
_ALARMS = tuple(s.value for s in (S.DEFUSED, S.PAUSED, S.FIZZLED))  # FireWorks' order
_BY_PRECEDENCE = _ALARMS + tuple(s.value for s in (S.RUNNING, S.RESERVED, S.READY))


def _first_of(counts, states):
    for state in states:
        if counts.get(state):
            return state
    return None


def fireworks_workflow_state(fw_states, leaf_ids, tolerated_fizzles=()):
    """An in-memory Workflow's state, by FireWorks' rule (``Workflow.state``).

    COMPLETED when every leaf is; then ARCHIVED (all), DEFUSED, PAUSED (any);
    FIZZLED when a FIZZLED firework blocks the workflow (``tolerated_fizzles``:
    those whose children all accept fizzled parents, which leave it RUNNING);
    RUNNING when any is RUNNING or COMPLETED; RESERVED; else READY, also for a
    workflow not yet added (all WAITING). Store listings use ``workflow_state``.
    """
    states = list(fw_states.values())
    if all(fw_states[i] == S.COMPLETED.value for i in leaf_ids):
        return S.COMPLETED.value
    if all(s == S.ARCHIVED.value for s in states):
        return S.ARCHIVED.value
    for state in (S.DEFUSED, S.PAUSED):
        if state.value in states:
            return state.value
    fizzled = [i for i, s in fw_states.items() if s == S.FIZZLED.value]
    if fizzled:
        blocking = any(i not in tolerated_fizzles for i in fizzled)
        return S.FIZZLED.value if blocking else S.RUNNING.value
    if S.RUNNING.value in states or S.COMPLETED.value in states:
        return S.RUNNING.value
    return S.RESERVED.value if S.RESERVED.value in states else S.READY.value
