"""starshell's version, for ``lpad version`` and every CLI's ``-v/--version``.

Our top-level package names are also other PyPI distributions' (``launchpad``,
``rocket``; ``dm-launchpad`` installs a ``launchpad`` too), and whichever comes
first on ``sys.path`` wins: so the version report names the folder each of our
packages was found in, and warns when one of them is not starshell's.
"""

import argparse
import os
import sys

PACKAGES = ("launchpad", "rocket", "queue_adapters", "webgui")


def starshell_version():
    """The installed distribution's version (read lazily: importlib.metadata costs start-up)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("starshell")
    except PackageNotFoundError:
        return "unknown (not installed: pip install -e .)"


def package_locations(names=PACKAGES):
    """``{name: folder (or file) it is imported from, or None}``, found without importing it
    (``webgui`` would import Flask)."""
    import importlib.util

    found = {}
    for name in names:
        module = sys.modules.get(name)
        origin = getattr(module, "__file__", None)
        if module is None:
            try:
                spec = importlib.util.find_spec(name)
            except (ImportError, ValueError):
                spec = None
            locations = list(spec.submodule_search_locations or []) if spec else []
            origin = spec.origin if spec and spec.has_location else (locations[0] if locations else None)
        if origin and os.path.basename(origin).startswith("__init__."):
            origin = os.path.dirname(origin)
        found[name] = os.path.abspath(origin) if origin else None
    return found


def foreign_owner(name, location):
    """The installed distribution other than starshell whose files are ``location``, or None."""
    from importlib import metadata

    for dist_name in sorted(set(metadata.packages_distributions().get(name, ()))):
        if dist_name.lower() == "starshell":
            continue
        try:
            dist = metadata.distribution(dist_name)
        except metadata.PackageNotFoundError:
            continue
        for file in dist.files or ():
            path = os.path.abspath(dist.locate_file(file))
            if path == location or path.startswith(location + os.sep):
                return dist_name
    return None


def origin_warnings(locations):
    """Why a package in ``locations`` may not be starshell's (ours sit beside launchpad)."""
    ours = os.path.dirname(locations["launchpad"] or os.path.dirname(os.path.abspath(__file__)))
    warnings = []
    for name, location in locations.items():
        if location is None:
            warnings.append(f"{name} is not found: starshell's install is incomplete (pip install -e .)")
            continue
        owner = foreign_owner(name, location)
        if owner:
            why = f"belongs to the {owner!r} distribution, not starshell"
        elif os.path.dirname(location) != ours:
            why = f"is not beside starshell's launchpad ({ours}): another {name!r} comes first on sys.path"
        else:
            continue
        warnings.append(f"{name} from {location} {why}; uninstall it or use a separate virtualenv")
    return warnings


def version_report():
    """``(lines for stdout, data for -o json|yaml, warnings for stderr)``."""
    number = starshell_version()
    locations = package_locations()
    width = max(map(len, locations))
    lines = [f"starshell {number}"] + [
        f"  {name:<{width}}  {location or 'not found'}" for name, location in locations.items()
    ]
    data = {"version": number, "packages": locations}
    return lines, data, origin_warnings(locations)


def print_warnings(warnings):
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)


class VersionAction(argparse.Action):
    """``-v/--version``: print ``starshell X`` (and where its packages are) and exit 0,
    as FireWorks' scripts do."""

    def __init__(
        self,
        option_strings,
        dest=argparse.SUPPRESS,
        default=argparse.SUPPRESS,
        help="print starshell's version, where its packages are, and exit",
    ):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        lines, _data, warnings = version_report()
        print("\n".join(lines), file=sys.stdout)
        print_warnings(warnings)
        parser.exit(0)


def add_version_option(parser):
    parser.add_argument("-v", "--version", action=VersionAction)
