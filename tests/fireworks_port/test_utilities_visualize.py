"""Port of FireWorks 2.1.x fireworks/utilities/tests/test_visualize.py.

FireWorks draws with the graphviz Python package (``wf_to_graph`` returns its
``Digraph``) and matplotlib (``plot_wf``), both optional extras. starshell's
``wf_to_graph`` returns its own graph object with the parts people use
(``source``, ``render``, ``pipe``) and needs no Python package; ``plot_wf``
accepts FireWorks' styling options and ignores them (docs/cli.md, check_wflow).
So ``isinstance(dag, graphviz.Digraph)`` is not carried over; the rest is.
"""

import pytest

from launchpad import Workflow, plot_wf, wf_to_graph


@pytest.fixture
def power_wf(fws):
    fw1, fw2, fw3 = fws  # the chain of conftest.py, as FireWorks' test builds it
    return Workflow([fw1, fw2, fw3], {fw1: [fw2], fw2: [fw3], fw3: []})


def test_wf_to_graph_with_and_without_tasks(power_wf):
    with_tasks = wf_to_graph(power_wf)
    assert with_tasks.source.startswith("digraph") and "PyTask" in with_tasks.source
    without = wf_to_graph(power_wf, wf_show_tasks=False)
    assert without.source.startswith("digraph") and "PyTask" not in without.source
    for fw in power_wf:
        assert fw.name in without.source


def test_plot_wf_takes_fireworks_options(power_wf, tmp_path):
    plot_wf(power_wf)
    plot_wf(power_wf, depth_factor=0.5, breadth_factor=1)
    plot_wf(power_wf, labels_on=True)
    plot_wf(power_wf, save_as=str(tmp_path / "wf.dot"))
    assert (tmp_path / "wf.dot").read_text().startswith("digraph")
