"""A layered left-to-right layout of a workflow's DAG, computed on the server.

Why here and not in a JavaScript library: the layout is plain Python that
tests can check, it costs O(sweeps x (nodes + edges)) so 2,000 fireworks lay
out in milliseconds, and the browser then only draws rectangles, so no
minified third-party code needs vendoring. Layers come from the longest path
from a root; a few barycenter sweeps order each layer to reduce crossings.
"""

from launchpad.dag import topological_order

NODE_WIDTH = 168
NODE_HEIGHT = 30
LAYER_GAP = 64
ROW_GAP = 12
MARGIN = 16


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


def layout(links):
    """Coordinates for every node of ``{parent: [children]}`` (every node a key).

    Returns ``{"nodes": {id: {"x", "y"}}, "width", "height"}``; x grows with
    the layer, each layer is centred vertically on the tallest one.
    """
    rows = order_layers(links, assign_layers(links))
    tallest = max((len(r) for r in rows), default=0)
    step_y = NODE_HEIGHT + ROW_GAP
    nodes = {}
    for i, row in enumerate(rows):
        offset = (tallest - len(row)) * step_y / 2
        for j, node in enumerate(row):
            nodes[node] = {"x": MARGIN + i * (NODE_WIDTH + LAYER_GAP),
                           "y": MARGIN + offset + j * step_y}
    width = 2 * MARGIN + len(rows) * NODE_WIDTH + max(len(rows) - 1, 0) * LAYER_GAP
    height = 2 * MARGIN + tallest * step_y - (ROW_GAP if tallest else 0)
    return {"nodes": nodes, "width": width, "height": height,
            "node_width": NODE_WIDTH, "node_height": NODE_HEIGHT}
