"""The parser framework of ``lpad``'s command modules: the global options every
subcommand accepts, and ``CommandGroup``, the subparsers that add them. Kept apart
from ``lpad.py`` so a command module (``admin.py``) can nest its own subcommands
without importing the module that imports it."""

import argparse

_GLOBAL_HELP = {
    "launchpad_file": "the launchpad file (my_launchpad.yaml). Default: $STARSHELL_LAUNCHPAD, "
    "-c DIR, FW_config.yaml's LAUNCHPAD_LOC, ./my_launchpad.yaml, "
    "~/.starshell/, ~/.fireworks/, else the embedded store under "
    "~/.starshell (docs/stores.md)",
    "config_dir": "FireWorks' config folder: look for my_launchpad.yaml there first (after "
    "-l and $STARSHELL_LAUNCHPAD; default: FW_config.yaml's CONFIG_FILE_DIR)",
    "output": "machine-readable output. json or yaml: what FireWorks prints for get_fws, "
    "get_fws_in_wflows, get_wflows and get_launchdir (the same as in a pipe), starshell's "
    "records for the other commands; records: starshell's own records as JSON, for every "
    "command (default: tables at a terminal, FireWorks' JSON in a pipe)",
    "debug": "show tracebacks of errors",
}


def add_global_options(parser, suppress):
    """The global options; on subcommands they default to SUPPRESS so that
    ``lpad -o json get_fws`` and ``lpad get_fws -o json`` mean the same."""
    defaults = dict(default=argparse.SUPPRESS) if suppress else {}
    if suppress:
        parser = parser.add_argument_group("global options (also accepted before the command)")
    parser.add_argument(
        "-l",
        "--launchpad_file",
        metavar="FILE",
        help=_GLOBAL_HELP["launchpad_file"],
        **(defaults or {"default": None}),
    )
    parser.add_argument(
        "-o",
        "--output",
        choices=("json", "yaml", "records"),
        help=_GLOBAL_HELP["output"],
        **(defaults or {"default": None}),
    )
    parser.add_argument(
        "--debug", action="store_true", help=_GLOBAL_HELP["debug"], **(defaults or {"default": False})
    )


def add_top_level_options(parser):
    """-c is only before the command, as in FireWorks: ``add -c`` and ``report -c`` are theirs."""
    parser.add_argument("-c", "--config_dir", metavar="DIR", default=None, help=_GLOBAL_HELP["config_dir"])


class CommandGroup:
    """argparse's subparsers, adding the global options to every subcommand.

    With ``only``, just that command's parser is built; the others get a
    stand-in, since argparse's set-up of ~30 subcommands costs as much as
    the rest of a read command."""

    def __init__(self, subparsers, only=None):
        self._subparsers = subparsers
        self._only = only
        self._common = argparse.ArgumentParser(add_help=False)
        add_global_options(self._common, suppress=True)

    def add_parser(self, name, **kwargs):
        if self._only is not None and self._only not in (name, *kwargs.get("aliases", ())):
            return _Unbuilt()
        kwargs["parents"] = [self._common, *kwargs.get("parents", [])]
        if "help" in kwargs:
            kwargs.setdefault("description", kwargs["help"])
        return self._subparsers.add_parser(name, **kwargs)

    def __getattr__(self, name):
        return getattr(self._subparsers, name)


class _Unbuilt:
    """A parser not built for this run: takes every call a register function
    makes (add_argument, set_defaults, add_subparsers...) and keeps nothing."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: self
