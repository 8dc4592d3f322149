"""A layered left-to-right layout of a workflow's DAG, computed on the server.

Why here and not in a JavaScript library: the layout is plain Python that
tests can check, it costs O(sweeps x (nodes + edges)) so 2,000 fireworks lay
out in milliseconds, and the browser then only draws rectangles, so no
minified third-party code needs vendoring. Layers come from the longest path
from a root; a few barycenter sweeps order each layer to reduce crossings;
a layer taller than MAX_ROWS wraps into several columns, so a fan-out of
1,000 fireworks stays a block instead of a 40,000-pixel column.
"""

from launchpad.dag import topological_order

NODE_WIDTH = 168
NODE_HEIGHT = 30
LAYER_GAP = 64
ROW_GAP = 12
MARGIN = 16
MAX_ROWS = 32  # a wider layer wraps into more columns, so fan-outs stay on screen


def assign_layers(links):
    """Each node's layer: the length of the longest path reaching it from a root."""
    layer = {node: 0 for node in links}
    for node in topological_order(links):
        for child in links.get(node, ()):
            layer[child] = max(layer.get(child, 0), layer[node] + 1)
    return layer


def order_layers(links, layer, sweeps=4):
    """Rows of node ids, one list per layer, ordered to reduce edge crossings."""
    rows = [[] for _ in range(max(layer.values(), default=-1) + 1)]
    for node in topological_order(links):
        rows[layer[node]].append(node)
    parents = {node: [] for node in links}
    for parent, kids in links.items():
        for child in kids:
            parents[child].append(parent)
    for _ in range(sweeps):
        _sweep(rows, parents, downward=True)
        _sweep(rows, links, downward=False)
    return rows


def _sweep(rows, neighbours, downward):
    """Reorder each layer by the mean relative position of its neighbours."""
    where = _positions(rows)
    indices = range(1, len(rows)) if downward else range(len(rows) - 2, -1, -1)
    for i in indices:
        row = rows[i]

        def key(node, row=row):
            near = [where[n] for n in neighbours.get(node, ()) if n in where]
            return sum(near) / len(near) if near else where[node]

        row.sort(key=key)
        for j, node in enumerate(row):
            where[node] = (j + 0.5) / len(row)


def _positions(rows):
    return {node: (j + 0.5) / len(row) for row in rows for j, node in enumerate(row)}


def columns_of(rows, max_rows=MAX_ROWS):
    """Each layer cut into columns of at most ``max_rows`` nodes, left to right."""
    return [row[i : i + max_rows] for row in rows for i in range(0, len(row), max_rows)]


def layout(links, max_rows=MAX_ROWS):
    """Coordinates for every node of ``{parent: [children]}`` (every node a key).

    Returns ``{"nodes": {id: {"x", "y"}}, "width", "height", ...}``; x grows
    with the layer, each column is centred vertically on the tallest one.
    """
    columns = columns_of(order_layers(links, assign_layers(links)), max_rows)
    tallest = max((len(c) for c in columns), default=0)
    step_y = NODE_HEIGHT + ROW_GAP
    nodes = {}
    for i, column in enumerate(columns):
        offset = (tallest - len(column)) * step_y / 2
        for j, node in enumerate(column):
            nodes[node] = {"x": MARGIN + i * (NODE_WIDTH + LAYER_GAP), "y": MARGIN + offset + j * step_y}
    width = 2 * MARGIN + len(columns) * NODE_WIDTH + max(len(columns) - 1, 0) * LAYER_GAP
    height = 2 * MARGIN + tallest * step_y - (ROW_GAP if tallest else 0)
    return {
        "nodes": nodes,
        "width": width,
        "height": height,
        "node_width": NODE_WIDTH,
        "node_height": NODE_HEIGHT,
    }
