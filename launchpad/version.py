"""starshell's version, for ``lpad version`` and every CLI's ``-v/--version``."""

import argparse
import sys


def starshell_version():
    """The installed distribution's version (read lazily: importlib.metadata costs start-up)."""
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("starshell")
    except PackageNotFoundError:
        return "unknown (not installed: pip install -e .)"


class VersionAction(argparse.Action):
    """``-v/--version``: print ``starshell X`` and exit 0, as FireWorks' scripts do."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS,
                 help="print starshell's version and exit"):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"starshell {starshell_version()}", file=sys.stdout)
        parser.exit(0)


def add_version_option(parser):
    parser.add_argument("-v", "--version", action=VersionAction)
