"""A layered left-to-right layout of a workflow's DAG, computed on the server.

Why here and not in a JavaScript library: the layout is plain Python that
tests can check, and the browser then only draws rectangles, so no minified
third-party code needs vendoring. Layers come from the longest path from a
root, and a layer is always one column: a layer with more than
``GROUP_ABOVE`` fireworks is drawn as one group node (its counts by state)
until the user expands it, so a 300-firework layer never looks like ten
layers. The work is bounded: layering is O(nodes + edges), and the crossing
sweeps and coordinates only touch what is drawn (single nodes and groups).
"""

from collections import Counter
from itertools import chain, repeat

NODE_WIDTH = 168
NODE_HEIGHT = 30
GROUP_HEIGHT = 100
LAYER_GAP = 96
ROW_GAP = 12
MARGIN = 16
GROUP_ABOVE = 24  # a layer with more fireworks than this starts as one group node
MAX_SINGLE = 400  # past this many single nodes, the widest layers are grouped too
EXPAND_MAX = 500  # an expanded group shows this many fireworks; the rest stay a group
MAX_EDGES = 5000  # links drawn at most; the rest are counted, not drawn
SPAN_MAX = 50  # a deep chain of one-firework layers is drawn as spans of this many layers


def layered(links):
    """``(order, layer)``: a topological order (Kahn's: sorted roots first, then first
    in, first out, as ``launchpad.dag.topological_order``) and each node's layer, the
    length of the longest path reaching it from a root, found in the same one pass (a
    node's layer is final when its last parent is taken). Nodes on a cycle are left out
    of ``order`` (layer 0). One pass over plain dicts: 10,000 fireworks in a few ms."""
    waiting = dict(Counter(chain.from_iterable(links.values())))  # parents not yet taken
    layer = dict.fromkeys(links, 0)
    layer.update(dict.fromkeys(waiting, 0))  # children missing as keys too
    order = sorted(node for node in layer if node not in waiting)
    for node in order:  # grows while it is walked: the queue and the result at once
        below = layer[node] + 1
        for child in links.get(node, ()):
            if layer[child] < below:
                layer[child] = below
            waiting[child] -= 1
            if not waiting[child]:
                order.append(child)
    return order, layer


def assign_layers(links):
    """Each node's layer: the length of the longest path reaching it from a root."""
    return layered(links)[1]


def layer_rows(order, layer):
    """One list of node ids per layer, in topological (then id) order."""
    rows = [[] for _ in range(max(layer.values(), default=-1) + 1)]
    for node in order:
        rows[layer[node]].append(node)
    return rows


def _grouped_layers(rows, expanded):
    """Layers drawn as groups: the dense ones, then the widest until few singles remain."""
    grouped = {i for i, row in enumerate(rows) if len(row) > GROUP_ABOVE and i not in expanded}
    singles = sum(len(row) for i, row in enumerate(rows) if i not in grouped)
    for i in sorted(range(len(rows)), key=lambda i: -len(rows[i])):
        if singles <= MAX_SINGLE or len(rows[i]) < 2:
            break
        if i not in grouped and i not in expanded:
            grouped.add(i)
            singles -= len(rows[i])
    return grouped


def _spans(rows, grouped, expanded, pinned):
    """Runs of one-firework layers to draw as one span group each (deep, thin DAGs).

    Only when the single fireworks left still number more than MAX_SINGLE;
    each span covers at most SPAN_MAX layers. Returns ``{first layer: last}``.
    """
    singles = sum(len(row) for i, row in enumerate(rows) if i not in grouped)
    if singles <= MAX_SINGLE:
        return {}

    def thin(i):
        return len(rows[i]) == 1 and i not in grouped and i not in expanded and rows[i][0] not in pinned

    spans, i = {}, 0
    while i < len(rows):
        if not thin(i):
            i += 1
            continue
        last = i
        while last + 1 < len(rows) and last + 1 - i < SPAN_MAX and thin(last + 1):
            last += 1
        if last > i:
            spans[i] = last
        i = last + 1
    return spans


def _items(rows, expanded, pinned):
    """The drawn columns: ``(first layer, last layer, items)``, items being
    ``("fw", id)`` or ``("group", key, members)``; one layer a column but for spans."""
    grouped = _grouped_layers(rows, expanded)
    spans = _spans(rows, grouped, expanded, pinned)
    columns, i = [], 0
    while i < len(rows):
        if i in spans:
            last = spans[i]
            members = [row[0] for row in rows[i : last + 1]]
            columns.append((i, last, [("group", f"s{i}", members)]))
            i = last + 1
            continue
        row = rows[i]
        if i in grouped:
            shown = [n for n in row if n in pinned]
            rest = [n for n in row if n not in pinned]
        else:
            shown = row[:EXPAND_MAX] + [n for n in row[EXPAND_MAX:] if n in pinned]
            rest = [n for n in row[EXPAND_MAX:] if n not in pinned]
        items = [("fw", n) for n in shown] + ([("group", f"g{i}", rest)] if rest else [])
        columns.append((i, i, items))
        i += 1
    return columns, grouped | {j for first, last in spans.items() for j in range(first, last + 1)}


def _key(item):
    """A firework's id, or the group's ``g<layer>``."""
    return item[1]


def _item_edges(links, columns):
    """Links between drawn items, each pair once with how many links it stands for."""
    owner = {}
    for column in columns:
        for item in column:
            if item[0] == "group":
                owner.update(dict.fromkeys(item[2], item[1]))
            else:
                owner[item[1]] = item[1]
    parents = chain.from_iterable(repeat(parent, len(kids)) for parent, kids in links.items())
    counts = Counter(zip(map(owner.get, parents), map(owner.get, chain.from_iterable(links.values()))))
    # not inside a span, nor from or to a node not drawn
    return {pair: n for pair, n in counts.items() if None not in pair and pair[0] != pair[1]}


def _order(columns, pairs, sweeps=4):
    """Reorder each column by the mean position of its neighbours (fewer crossings)."""
    keyed = [[_key(item) for item in column] for column in columns]
    ups, downs = {}, {}
    for parent, child in pairs:
        downs.setdefault(parent, []).append(child)
        ups.setdefault(child, []).append(parent)
    where = {k: (j + 0.5) / len(col) for col in keyed for j, k in enumerate(col)}
    for sweep in range(2 * sweeps):
        downward = sweep % 2 == 0
        neighbours = ups if downward else downs
        indices = range(1, len(keyed)) if downward else range(len(keyed) - 2, -1, -1)
        for i in indices:
            col = keyed[i]

            def rank(k, neighbours=neighbours):
                near = [where[n] for n in neighbours.get(k, ()) if n in where]
                return sum(near) / len(near) if near else where[k]

            col.sort(key=rank)
            for j, k in enumerate(col):
                where[k] = (j + 0.5) / len(col)
    by_key = {_key(item): item for column in columns for item in column}
    return [[by_key[k] for k in col] for col in keyed]


def layout(links, expanded=(), pinned=()):
    """Coordinates for the drawn items of ``{parent: [children]}`` (every node a key).

    ``expanded``: layer numbers the user opened; ``pinned``: node ids to show
    singly even inside a group (a search result). Returns ``{"nodes": {id:
    {"x", "y", "layer"}}, "groups": [{"key", "layer", "last_layer", "members",
    "x", "y", "height"}], "edges": [[from key, to key, links]], "layers":
    [{"layer", "size", "grouped", "x"}], "width", "height", "edges_hidden", ...}``.
    A group is one dense layer (``g<layer>``) or, in a deep thin DAG, a span of
    one-firework layers (``s<first layer>``, through ``last_layer``).
    """
    rows = layer_rows(*layered(links))
    spans, grouped = _items(rows, set(expanded), set(pinned))
    pairs = _item_edges(links, [items for _, _, items in spans])
    columns = _order([items for _, _, items in spans], pairs)
    step = NODE_WIDTH + LAYER_GAP

    def height_of(item):
        return GROUP_HEIGHT if item[0] == "group" else NODE_HEIGHT

    heights = [sum(height_of(item) + ROW_GAP for item in col) - (ROW_GAP if col else 0) for col in columns]
    tallest = max(heights, default=0)
    nodes, groups, column_x = {}, [], {}
    for i, column in enumerate(columns):
        first, last = spans[i][0], spans[i][1]
        x, y = MARGIN + i * step, MARGIN + (tallest - heights[i]) / 2
        column_x.update({layer_no: x for layer_no in range(first, last + 1)})
        for item in column:
            if item[0] == "group":
                groups.append(
                    {
                        "key": item[1],
                        "layer": first,
                        "last_layer": last,
                        "members": item[2],
                        "x": x,
                        "y": y,
                        "height": GROUP_HEIGHT,
                    }
                )
            else:
                nodes[item[1]] = {"x": x, "y": y, "layer": first}
            y += height_of(item) + ROW_GAP
    edges = sorted(([a, b, n] for (a, b), n in pairs.items()), key=lambda e: (str(e[0]), str(e[1])))
    return {
        "nodes": nodes,
        "groups": groups,
        "edges": edges[:MAX_EDGES],
        "edges_hidden": max(len(edges) - MAX_EDGES, 0),
        "layers": [
            {"layer": i, "size": len(row), "grouped": i in grouped, "x": column_x[i]}
            for i, row in enumerate(rows)
        ],
        "width": 2 * MARGIN + len(columns) * NODE_WIDTH + max(len(columns) - 1, 0) * LAYER_GAP,
        "height": 2 * MARGIN + tallest,
        "node_width": NODE_WIDTH,
        "node_height": NODE_HEIGHT,
    }
