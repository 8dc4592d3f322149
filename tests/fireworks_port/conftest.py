"""Fixtures shared by the ports of FireWorks' test modules."""

import pytest

from launchpad import Firework, PyTask


@pytest.fixture
def fws():
    """FireWorks' dagflow and visualize tests' chain: pow(2, 3), then its 4th power, printed."""
    fw1 = Firework(
        PyTask(func="math.pow", inputs=["base", "exponent"], outputs=["first power"]),
        name="pow(2, 3)",
        spec={"base": 2, "exponent": 3},
    )
    fw2 = Firework(
        PyTask(func="math.pow", inputs=["first power", "exponent"], outputs=["second power"]),
        name="pow(pow(2, 3), 4)",
        spec={"exponent": 4},
    )
    fw3 = Firework(PyTask(func="print", inputs=["second power"]), name="the third one")
    return fw1, fw2, fw3
