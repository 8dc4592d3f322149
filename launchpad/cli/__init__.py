"""The command lines: ``lpad`` (``lpad.py`` and one module per command group) and the
parts ``rlaunch`` and ``qlaunch`` share with it: ``common.py`` (argument helpers)
and ``errors.py`` (one error path and its exit codes).

Importing this package loads nothing else, so ``rlaunch`` can use the shared parts
without paying for ``lpad``'s parser; ``main`` and ``build_parser`` load ``lpad.py``
when first asked for.
"""

__all__ = ["build_parser", "main"]


def __getattr__(name):
    if name in __all__:
        from . import lpad

        return getattr(lpad, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
