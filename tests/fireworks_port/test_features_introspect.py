"""FireWorks' fireworks/features/tests/test_introspect.py: ``flatten_to_keys`` turns a
spec into "key.path" + separator + value keys, cut at ``max_recurs`` levels.

``from fireworks.features.introspect import flatten_to_keys, separator_str`` becomes
``from launchpad.reports import flatten_to_keys, separator_str``. A pure function:
no store is involved; ``lpad introspect``'s own report is tested with the CLI.
"""

import pytest

from launchpad.reports import flatten_to_keys, separator_str

NESTED = {"d": {"e": {"f": 4}, "f": 10}}


@pytest.mark.parametrize(
    ("doc", "max_recurs", "expected"),
    [
        (NESTED, 1, {f"d{separator_str}<TRUNCATED_OBJECT>"}),
        (NESTED, 2, {f"d.e{separator_str}<TRUNCATED_OBJECT>", f"d.f{separator_str}10"}),
        (NESTED, 3, {f"d.e.f{separator_str}4", f"d.f{separator_str}10"}),
        ({"d": [[0, 1], [2, 3]]}, 5, {f"d{separator_str}<TRUNCATED_OBJECT>"}),
        ({"d": [1, 2, 3]}, 2, {f"d{separator_str}{n}" for n in (1, 2, 3)}),
        ({"d": {"e": [0, 1]}}, 2, {f"d.e{separator_str}0", f"d.e{separator_str}1"}),
    ],
)
def test_flatten_dict(doc, max_recurs, expected):
    assert set(flatten_to_keys(doc, max_recurs=max_recurs)) == expected
