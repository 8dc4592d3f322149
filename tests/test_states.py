"""The state enum, the one table of legal transitions, and a workflow's overall state."""

import itertools

import pytest

from launchpad.errors import InvalidTransitionError
from launchpad.states import (
    ALL_STATES,
    DEFUSABLE,
    PAUSABLE,
    RERUNNABLE,
    TRANSITIONS,
    UNFINISHED,
    State,
    check_transition,
    is_legal,
    sources_of,
    workflow_state,
)

# Written out by hand, one line per source state, with the reason for each
# target; the test compares all 81 pairs against it, so any edit to the table
# must be made here too, on purpose.
EXPECTED = {
    # parents done -> READY; a reset or a new parent (detour) keeps WAITING
    "WAITING": {"READY", "WAITING", "DEFUSED", "PAUSED", "ARCHIVED"},
    # claimed (RUNNING) or reserved for a queue job; a detour above it -> WAITING
    "READY": {"RUNNING", "RESERVED", "READY", "WAITING", "DEFUSED", "PAUSED", "ARCHIVED"},
    # the queue job starts it, or it is handed back (unreserve)
    "RESERVED": {"RUNNING", "READY", "WAITING", "DEFUSED", "PAUSED", "ARCHIVED"},
    # finishes, fails, is requeued (interrupt, rerun, lost run), or fenced by defuse
    "RUNNING": {"COMPLETED", "FIZZLED", "READY", "WAITING", "DEFUSED", "ARCHIVED"},
    # only a rerun or archiving moves a finished firework
    "COMPLETED": {"READY", "WAITING", "ARCHIVED"},
    "FIZZLED": {"READY", "WAITING", "DEFUSED", "ARCHIVED"},
    # reignite / resume reset to READY or WAITING
    "DEFUSED": {"READY", "WAITING", "ARCHIVED"},
    "PAUSED": {"READY", "WAITING", "DEFUSED", "ARCHIVED"},
    # archiving is final
    "ARCHIVED": set(),
}


def test_states_are_fireworks_nine_as_strings():
    assert set(ALL_STATES) == set(EXPECTED)
    assert len(ALL_STATES) == 9
    assert State.READY == "READY" and str(State.READY) == "READY"
    assert State("FIZZLED") is State.FIZZLED
    assert f"{State.RUNNING}" == "RUNNING"


@pytest.mark.parametrize("source, target", list(itertools.product(ALL_STATES, ALL_STATES)))
def test_every_pair_matches_the_written_expectation(source, target):
    legal = target in EXPECTED[source]
    assert is_legal(source, target) is legal
    assert is_legal(State(source), State(target)) is legal
    if legal:
        check_transition(1, source, target)
    else:
        with pytest.raises(InvalidTransitionError) as info:
            check_transition(12, source, target)
        assert str(info.value) == f"firework 12 is {source}; it cannot become {target}"


def test_table_has_a_row_for_every_state():
    assert set(TRANSITIONS) == set(State)


def test_nothing_skips_running():
    for source in ALL_STATES:
        if source != "RUNNING":
            assert not is_legal(source, "COMPLETED")
            assert not is_legal(source, "FIZZLED")
    assert not is_legal("WAITING", "RUNNING")


def test_command_sources_follow_the_table():
    assert set(DEFUSABLE) == {"WAITING", "READY", "RESERVED", "RUNNING", "FIZZLED", "PAUSED"}
    assert set(PAUSABLE) == {"WAITING", "READY", "RESERVED"}
    assert set(RERUNNABLE) == set(ALL_STATES) - {"ARCHIVED"}
    assert all(isinstance(s, str) and type(s) is str for s in DEFUSABLE + PAUSABLE + RERUNNABLE)
    assert sources_of("COMPLETED") == ("RUNNING",)
    assert sources_of("DEFUSED", among=("COMPLETED", "FIZZLED")) == ("FIZZLED",)
    assert set(UNFINISHED) == {"WAITING", "READY", "RESERVED", "RUNNING", "PAUSED"}


def test_unknown_states_are_value_errors():
    with pytest.raises(ValueError):
        is_legal("READY", "DONE")


# ---- workflow_state -------------------------------------------------------------


@pytest.mark.parametrize(
    "counts, expected",
    [
        ({}, "WAITING"),
        ({"READY": 1, "WAITING": 3}, "READY"),
        ({"WAITING": 2}, "WAITING"),
        ({"RESERVED": 1, "READY": 1, "WAITING": 1}, "RESERVED"),
        ({"RUNNING": 1, "RESERVED": 1, "READY": 1}, "RUNNING"),
        # started: some done, the next one READY -> still RUNNING (as in FireWorks)
        ({"COMPLETED": 1, "READY": 1, "WAITING": 2}, "RUNNING"),
        ({"COMPLETED": 2, "RESERVED": 1}, "RUNNING"),
        ({"COMPLETED": 1, "WAITING": 1}, "RUNNING"),
        ({"COMPLETED": 4}, "COMPLETED"),
        ({"COMPLETED": 3, "ARCHIVED": 1}, "COMPLETED"),
        ({"ARCHIVED": 4}, "ARCHIVED"),
        ({"ARCHIVED": 1, "WAITING": 1}, "WAITING"),
        # alarms outrank activity, in FireWorks' order: DEFUSED, then PAUSED, then FIZZLED
        ({"FIZZLED": 1, "RUNNING": 5, "COMPLETED": 3}, "FIZZLED"),
        ({"FIZZLED": 1, "DEFUSED": 1, "PAUSED": 1}, "DEFUSED"),
        ({"FIZZLED": 1, "PAUSED": 1}, "PAUSED"),
        ({"DEFUSED": 1, "PAUSED": 1, "RUNNING": 1}, "DEFUSED"),
        ({"PAUSED": 1, "RUNNING": 1, "COMPLETED": 1}, "PAUSED"),
        ({"FIZZLED": 1, "COMPLETED": 3}, "FIZZLED"),
        ({"READY": 0, "COMPLETED": 2}, "COMPLETED"),
    ],
)
def test_workflow_state_precedence(counts, expected):
    assert workflow_state(counts) == expected


def test_workflow_state_does_not_edit_the_counts():
    counts = {"COMPLETED": 1, "READY": 1}
    workflow_state(counts)
    assert counts == {"COMPLETED": 1, "READY": 1}


def test_a_growing_workflow_stays_running_between_fireworks():
    """Run a chain of three one by one: the state never goes back to READY once started."""
    seen = []
    for done in range(4):
        counts = {"COMPLETED": done}
        if done < 3:
            counts["READY"] = 1
            counts["WAITING"] = 2 - done
        seen.append(workflow_state({k: v for k, v in counts.items() if v}))
    assert seen == ["READY", "RUNNING", "RUNNING", "COMPLETED"]
