"""Pure graph logic over ``{parent: [children]}`` maps: no store, no I/O."""

from collections import deque

from .errors import InvalidWorkflowError


def check_acyclic(links):
    """Raise InvalidWorkflowError naming a firework on a cycle (Kahn's algorithm)."""
    indegree = {node: 0 for node in links}
    for kids in links.values():
        for child in kids:
            indegree[child] = indegree.get(child, 0) + 1
    queue = deque(node for node, deg in indegree.items() if deg == 0)
    seen = 0
    while queue:
        node = queue.popleft()
        seen += 1
        for child in links.get(node, ()):
            indegree[child] -= 1
            if indegree[child] == 0:
                queue.append(child)
    if seen != len(indegree):
        on_cycle = sorted(node for node, deg in indegree.items() if deg > 0)
        raise InvalidWorkflowError(
            f"the links form a cycle through firework(s) {', '.join(map(str, on_cycle[:10]))}")


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


def topological_order(links):
    """Ids ordered so that every parent precedes its children."""
    indegree = {node: 0 for node in links}
    for kids in links.values():
        for child in kids:
            indegree[child] = indegree.get(child, 0) + 1
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


def parent_counts(links):
    """Number of parents of each firework."""
    counts = {node: 0 for node in links}
    for kids in links.values():
        for child in kids:
            counts[child] = counts.get(child, 0) + 1
    return counts
