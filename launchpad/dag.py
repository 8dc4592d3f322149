"""Pure graph logic over ``{parent: [children]}`` maps: no store, no I/O.

Everything here is iterative: a 100,000-firework chain must not hit
Python's recursion limit.
"""

from collections import deque

from .errors import InvalidWorkflowError


def parent_counts(links):
    """Number of parents of each firework (children missing as keys included)."""
    counts = {node: 0 for node in links}
    for kids in links.values():
        for child in kids:
            counts[child] = counts.get(child, 0) + 1
    return counts


def topological_order(links):
    """Ids ordered so that every parent precedes its children (Kahn's algorithm).

    Fireworks on a cycle, or below one, never become free and are left out;
    ``check_acyclic`` turns that into an error.
    """
    indegree = parent_counts(links)
    queue = deque(sorted(node for node, deg in indegree.items() if deg == 0))
    order = []
    while queue:
        node = queue.popleft()
        order.append(node)
        for child in links.get(node, ()):
            indegree[child] -= 1
            if indegree[child] == 0:
                queue.append(child)
    return order


def check_acyclic(links):
    """Raise InvalidWorkflowError naming the fireworks of one cycle, in link order."""
    counts = parent_counts(links)
    order = topological_order(links)
    if len(order) == len(counts):
        return
    cycle = find_cycle(links, set(counts) - set(order))
    shown = " -> ".join(map(str, cycle if len(cycle) <= 11 else cycle[:10] + ["..."]))
    size = f" ({len(cycle) - 1} fireworks)" if len(cycle) > 11 else ""
    raise InvalidWorkflowError(f"the links form a cycle: {shown}{size}; remove one of these links")


def find_cycle(links, unsorted):
    """One cycle among ``unsorted`` (nodes a topological sort could not place).

    Each such node has a parent that is also unsorted, so walking up from any
    of them must come back to a node already seen: that loop is a cycle.
    """
    parents = {}
    for parent, kids in links.items():
        if parent in unsorted:
            for child in kids:
                if child in unsorted:
                    parents.setdefault(child, parent)
    node, seen = min(unsorted), {}
    while node not in seen:
        seen[node] = len(seen)
        node = parents[node]
    path = list(seen)[seen[node] :]
    path.reverse()  # walked child -> parent; show parent -> child
    start = path.index(min(path))
    path = path[start:] + path[:start]
    return path + [path[0]]


def descendants(start_ids, children_of):
    """All fireworks reachable from ``start_ids`` (excluded), breadth first.

    ``children_of`` is a callable taking a list of ids and returning
    ``{id: [children]}``, so callers can fetch one level per store query.
    """
    found, frontier = set(), list(start_ids)
    while frontier:
        kids = children_of(frontier)
        frontier = []
        for children in kids.values():
            for child in children:
                if child not in found:
                    found.add(child)
                    frontier.append(child)
    found.difference_update(start_ids)
    return found
