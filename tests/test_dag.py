"""Graph logic: cycles, topological order, descendants, parent counts."""

import sys

import pytest

from launchpad.dag import check_acyclic, descendants, parent_counts, topological_order
from launchpad.errors import InvalidWorkflowError

DIAMOND = {1: [2, 3], 2: [4], 3: [4], 4: []}


def _chain(n, cyclic=False):
    links = {i: [i + 1] for i in range(n - 1)}
    links[n - 1] = [0] if cyclic else []
    return links


def _precedes_everywhere(order, links):
    where = {node: i for i, node in enumerate(order)}
    return all(where[p] < where[c] for p, kids in links.items() for c in kids)


@pytest.mark.parametrize("links", [DIAMOND, {}, {7: []}, {1: [2], 3: [2], 2: []}, {10: [1], 1: [], 5: [10]}])
def test_acyclic_graphs_pass(links):
    check_acyclic(links)


@pytest.mark.parametrize(
    "links, cycle",
    [
        ({1: [1]}, "1 -> 1"),
        ({1: [2], 2: [1]}, "1 -> 2 -> 1"),
        ({0: [1], 1: [2], 2: [3], 3: [1]}, "1 -> 2 -> 3 -> 1"),
        # 8 sits below the cycle but is not on it, and is not named
        ({5: [6], 6: [7], 7: [5, 8], 8: []}, "5 -> 6 -> 7 -> 5;"),
        # a child that only appears as a link target still counts
        ({3: [4], 4: [3, 9]}, "3 -> 4 -> 3;"),
    ],
)
def test_a_cycle_is_one_line_naming_its_fireworks_in_link_order(links, cycle):
    with pytest.raises(InvalidWorkflowError) as info:
        check_acyclic(links)
    message = str(info.value)
    assert "\n" not in message
    assert f"cycle: {cycle}" in message


def test_a_huge_cycle_is_named_briefly():
    with pytest.raises(InvalidWorkflowError) as info:
        check_acyclic(_chain(5000, cyclic=True))
    message = str(info.value)
    assert message.startswith("the links form a cycle: 0 -> 1 -> 2")
    assert "(5000 fireworks)" in message and len(message) < 200


def test_100k_chains_need_no_recursion():
    """A recursive walk would pass Python's limit (1000 frames) a hundred times over."""
    assert sys.getrecursionlimit() < 100_000
    links = _chain(100_000)
    check_acyclic(links)
    assert topological_order(links) == list(range(100_000))
    assert descendants([0], lambda ids: {i: links[i] for i in ids}) == set(range(1, 100_000))
    with pytest.raises(InvalidWorkflowError, match="cycle: 0 -> 1"):
        check_acyclic(_chain(100_000, cyclic=True))


def test_topological_order_puts_parents_first_and_is_deterministic():
    links = {9: [1], 5: [1, 2], 1: [3], 2: [3], 3: []}
    order = topological_order(links)
    assert sorted(order) == [1, 2, 3, 5, 9]
    assert _precedes_everywhere(order, links)
    assert order[:2] == [5, 9]  # roots in id order
    assert topological_order(dict(reversed(list(links.items())))) == order


def test_topological_order_leaves_out_what_a_cycle_blocks():
    assert topological_order({0: [1], 1: [2], 2: [1], 3: []}) == [0, 3]


def test_descendants_excludes_the_start_and_fetches_one_level_per_call():
    calls = []

    def children_of(ids):
        calls.append(sorted(ids))
        return {i: DIAMOND.get(i, []) for i in ids}

    assert descendants([1], children_of) == {2, 3, 4}
    assert calls == [[1], [2, 3], [4]]  # 4 is reached twice but fetched once
    assert descendants([2, 3], children_of) == {4}
    assert descendants([4], children_of) == set()


def test_descendants_of_several_starts_excludes_each_start():
    assert descendants([1, 2], lambda ids: {i: DIAMOND[i] for i in ids}) == {3, 4}


def test_parent_counts_include_link_targets_without_keys():
    assert parent_counts(DIAMOND) == {1: 0, 2: 1, 3: 1, 4: 2}
    assert parent_counts({1: [2]}) == {1: 0, 2: 1}
