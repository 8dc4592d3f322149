"""The helper the FireWorks dataflow tutorial's coffee workflows call (``auxiliary.printurn``).

It prints its arguments and returns them: a one-item list stands for its
item, and a single argument comes back as itself rather than in a list.
Keep this directory on PYTHONPATH so every rocket can import it.
"""


def printurn(*args):
    """Print and return the arguments, each one-item list unwrapped."""
    values = [a[0] if isinstance(a, list) and len(a) == 1 else a for a in args]
    result = values[0] if len(values) == 1 else values
    print(result)
    return result
