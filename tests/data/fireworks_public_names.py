"""Write fireworks_public_names.json: the public classes and functions of the FireWorks
modules docs/fireworks.md maps (tests/test_fireworks_names.py checks the doc names each).

Run it in an environment with FireWorks installed, e.g.
``bench/.venv-fireworks/bin/python tests/data/fireworks_public_names.py``.
"""

import importlib
import inspect
import json
import os
import pkgutil

import fireworks

PACKAGES = ("fireworks.user_objects.firetasks", "fireworks.queue")
MODULES = (
    "fireworks",
    "fireworks.core.firework",
    "fireworks.core.launchpad",
    "fireworks.core.rocket_launcher",
    "fireworks.core.fworker",
    "fireworks.features.multi_launcher",
    "fireworks.utilities.fw_serializers",
    "fireworks.fw_config",
)


def module_names():
    names = list(MODULES)
    for package in PACKAGES:
        path = importlib.import_module(package).__path__
        names += [f"{package}.{m.name}" for m in pkgutil.iter_modules(path) if m.name != "tests"]
    return names


def public_names(module):
    """Classes and functions a user can import from ``module``: FireWorks' own, not
    the standard library's or other packages' that the module happens to import."""
    return sorted(
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and (inspect.isclass(value) or inspect.isfunction(value))
        and (getattr(value, "__module__", "") or "").startswith("fireworks")
    )


def main():
    found = {name: public_names(importlib.import_module(name)) for name in module_names()}
    data = {"fireworks_version": fireworks.__version__, "modules": found}
    target = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fireworks_public_names.json")
    with open(target, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=1, sort_keys=True)
        handle.write("\n")


if __name__ == "__main__":
    main()
