"""FireWorks' fireworks/tests/test_links.py (in its repository before 2.1; 2.1 keeps only
the pickling, in multiprocessing_tests.py): ``Workflow.Links`` as a dict of parent ->
children with ``nodes``, ``parent_links``, ``to_dict``, ``to_db_dict`` and ``from_dict``,
with Firework objects accepted as keys and values. In memory: no store is involved."""

import pytest

from launchpad import Firework, Workflow


@pytest.fixture
def links():
    return Workflow.Links({1: 2, 3: [5, 7, 8], 4: 5})


def test_nodes(links):
    assert links.nodes == [1, 2, 3, 4, 5, 7, 8]


def test_parent_links(links):
    assert links.parent_links == {2: [1], 5: [3, 4], 7: [3], 8: [3]}


def test_firework_keys_and_values():
    assert 1 in Workflow.Links({Firework([], fw_id=1): 2, 3: [5, 7, 8]}).keys()
    both = Workflow.Links({1: 2, 6: [Firework([], fw_id=3), Firework([], fw_id=4), 5]})
    assert both[6] == [3, 4, 5]


def test_to_dict_and_db_dict(links):
    assert links.to_dict() == {"1": [2], "3": [5, 7, 8], "4": [5]}
    assert links.to_db_dict() == {
        "links": {"1": [2], "3": [5, 7, 8], "4": [5]},
        "nodes": [1, 2, 3, 4, 5, 7, 8],
        "parent_links": {"2": [1], "5": [3, 4], "7": [3], "8": [3]},
    }


def test_from_dict_getitem_delitem_items(links):
    assert Workflow.Links.from_dict({1: [5, 6]}) == Workflow.Links({1: [5, 6]})
    assert (links[1], links[3], links[4]) == ([2], [5, 7, 8], [5])
    assert list(links.items()) == [(1, [2]), (3, [5, 7, 8]), (4, [5])]
    del links[4]
    assert links.nodes == [1, 2, 3, 5, 7, 8]
