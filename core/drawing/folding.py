"""Large graphs drawn folded: one box per module (or, for typed programs, per range of
statements), with the number of nodes inside, unfolded on request.

Every node gets a *path*: for a model, its module path (``layer1.0.conv1`` ->
``("layer1", "layer1.0", "layer1.0.conv1")``, read from the node's text or a parameter's
name); for a typed program, the statement's line inside nested ranges of lines
(``lines 1001-2000``, ``lines 1001-1100``, ..., ``line 1042``). A node torch made inside a
function has no text of its own and takes the path of the node it feeds. Nodes without a
path (the output, top-level operations, a typed program's inputs) are never folded.

:func:`fold` draws each node under the shortest prefix of its path that is not in
``expanded`` as one box; :func:`auto_fold` starts from everything folded and unfolds the
largest boxes while the drawing stays under :data:`TARGET_NODES`, so the first picture of a
20,000-node graph is a few hundred boxes Graphviz lays out in well under a second.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from core.drawing.graph import BackwardGraph, GraphEdge, GraphNode

#: Graphs with more nodes than this open folded.
FOLD_ABOVE = 300
#: How many boxes and nodes a folded drawing aims for at most.
TARGET_NODES = 120
#: the separator core.evaluation.model_evaluation puts between a module and an operation
_MODULE_SEPARATOR = " · "
#: prefix of the DOT names of folded boxes
FOLD_PREFIX = "fold_"  # no colon: DOT reads "a:b" as node a, port b


@dataclass
class Folding:
    """A folded drawing: ``graph`` is what to draw, ``node_map`` maps every original node id
    to the id drawn for it (its box, or itself), ``groups`` maps each box's id to the
    original ids inside it, and ``expanded`` the path prefixes shown unfolded."""

    graph: BackwardGraph
    node_map: dict[str, str]
    groups: dict[str, list[str]]
    expanded: frozenset
    paths: dict[str, tuple] = field(default_factory=dict)
    source: BackwardGraph | None = None

    def prefix_of(self, box_id: str) -> tuple | None:
        """The path prefix a box stands for (to unfold it), None for an ordinary node."""
        if not box_id.startswith(FOLD_PREFIX):
            return None
        return tuple(box_id[len(FOLD_PREFIX):].split("/"))

    def unfolded(self, box_id: str) -> Folding:
        """The same graph with box ``box_id`` opened one level."""
        prefix = self.prefix_of(box_id)
        if prefix is None:
            return self
        return fold(self.source, self.expanded | {prefix}, self.paths)


def needs_folding(graph: BackwardGraph) -> bool:
    """True when the graph is too large to open unfolded."""
    return len(graph.nodes) > FOLD_ABOVE


def auto_fold(graph: BackwardGraph, target: int = TARGET_NODES, force: bool = False
              ) -> Folding | None:
    """The folded drawing a large graph opens with (None for a graph small enough to draw
    whole, unless ``force``): the largest boxes are opened one at a time while at most
    ``target`` boxes and nodes would be drawn."""
    if not force and not needs_folding(graph):
        return None
    paths = node_paths(graph)
    members: dict[tuple, int] = {}
    children: dict[tuple, set] = {}
    ends: dict[tuple, int] = {}  # nodes whose path ends exactly at a prefix
    unfoldable = 0
    for path in paths.values():
        if not path:
            unfoldable += 1
            continue
        for depth in range(1, len(path) + 1):
            prefix = path[:depth]
            members[prefix] = members.get(prefix, 0) + 1
            if depth < len(path):
                children.setdefault(prefix, set()).add(path[: depth + 1])
        ends[path] = ends.get(path, 0) + 1
    tops = {path[:1] for path in paths.values() if path}
    count = unfoldable + len(tops)
    expanded: set[tuple] = set()
    frontier = sorted(tops, key=lambda p: -members[p])
    while frontier:
        for position, prefix in enumerate(frontier):
            if members[prefix] < 2:
                continue
            inner = children.get(prefix, set())
            after = count - 1 + len(inner) + ends.get(prefix, 0)
            if after <= target:
                expanded.add(prefix)
                count = after
                frontier.pop(position)
                frontier.extend(inner)
                frontier.sort(key=lambda p: -members[p])
                break
        else:
            break
    return fold(graph, frozenset(expanded), paths)


def fold(graph: BackwardGraph, expanded=frozenset(), paths: dict | None = None) -> Folding:
    """Draw each node under the shortest prefix of its path not in ``expanded``."""
    paths = paths if paths is not None else node_paths(graph)
    expanded = frozenset(expanded)
    box_of: dict[str, tuple] = {}
    groups: dict[tuple, list[str]] = {}
    for node_id, path in paths.items():
        for depth in range(1, len(path) + 1):
            prefix = path[:depth]
            if prefix not in expanded:
                box_of[node_id] = prefix
                groups.setdefault(prefix, []).append(node_id)
                break
    _absorb_between(graph, box_of, groups)
    node_map = {node_id: node_id for node_id in graph.nodes}
    nodes: dict[str, GraphNode] = {}
    box_groups: dict[str, list[str]] = {}
    for node_id, node in graph.nodes.items():
        prefix = box_of.get(node_id)
        if prefix is None or len(groups[prefix]) < 2:
            nodes[node_id] = node
            continue
        box_id = FOLD_PREFIX + "/".join(prefix)
        node_map[node_id] = box_id
        if box_id not in nodes:
            inside = groups[prefix]
            nodes[box_id] = GraphNode(id=box_id, kind="op", op=_count_text(graph, inside),
                                      expression=_box_name(prefix[-1]))
            box_groups[box_id] = inside
    edges, seen = [], set()
    for edge in graph.edges:
        source, target = node_map[edge.source], node_map[edge.target]
        if source == target or (source, target) in seen:
            continue
        seen.add((source, target))
        edges.append(GraphEdge(source, target, edge.kind))
    drawn = BackwardGraph(nodes=nodes, edges=edges, output_id=graph.output_id,
                          output_tensor=graph.output_tensor, evaluation=graph.evaluation,
                          show_saved=graph.show_saved, show_attrs=graph.show_attrs)
    return Folding(drawn, node_map, box_groups, expanded, paths, source=graph)


def _absorb_between(graph, box_of: dict, groups: dict) -> None:
    """Put a node that belongs to no box into the box both its input and its consumer are
    in (the residual ``x + block(x)`` between two blocks of one range): otherwise the
    folded drawing has a cycle through the box and Graphviz's picture turns inside out."""
    inputs: dict[str, list[str]] = {}
    consumers: dict[str, list[str]] = {}
    for edge in graph.edges:
        if edge.kind == "data":
            inputs.setdefault(edge.target, []).append(edge.source)
            consumers.setdefault(edge.source, []).append(edge.target)
    free = [node_id for node_id, node in graph.nodes.items()
            if node_id not in box_of and node.kind == "op"]
    for _ in range(8):
        changed = False
        for node_id in free:
            if node_id in box_of:
                continue
            before = {box_of.get(i) for i in inputs.get(node_id, ())} - {None}
            after = {box_of.get(c) for c in consumers.get(node_id, ())} - {None}
            common = before & after
            if len(common) == 1:
                prefix = common.pop()
                box_of[node_id] = prefix
                groups[prefix].append(node_id)
                changed = True
        if not changed:
            break


def _count_text(graph, inside) -> str:
    ops = sum(1 for node_id in inside if graph.nodes[node_id].kind == "op")
    return f"folded: {len(inside):,} nodes ({ops:,} operations)"


def _box_name(label: str) -> str:
    return f"{label} [+]"


def node_paths(graph: BackwardGraph) -> dict[str, tuple]:
    """Each node's folding path (see the module notes); () for nodes never folded."""
    own = {node_id: _own_path(node) for node_id, node in graph.nodes.items()}
    lines = [path[0] for path in own.values() if path and isinstance(path[0], int)]
    if lines:
        last = max(lines)
        own = {node_id: (_line_path(path[0], last) if path and isinstance(path[0], int)
                         else path) for node_id, path in own.items()}
    own = _split_wide_levels(own)
    consumers: dict[str, str] = {}
    for edge in graph.edges:
        if edge.kind == "data":
            consumers.setdefault(edge.source, edge.target)
    paths: dict[str, tuple] = {}
    # discovery order meets a consumer before what it consumes, so one pass inherits paths
    for node_id, node in graph.nodes.items():
        path = own[node_id]
        if not path and node.kind == "op" and node.op != "AccumulateGrad" \
                and not node.expression:
            # made by torch inside a function: it belongs where its result went
            consumer = consumers.get(node_id)
            path = paths.get(consumer, ()) if consumer is not None else ()
        paths[node_id] = path
    _place_between(graph, paths)
    return paths


def _place_between(graph: BackwardGraph, paths: dict[str, tuple]) -> None:
    """An operation with no module of its own (the residual ``x + block(x)`` in the model's
    own forward) between nodes that have one goes where its neighbours meet: the longest
    prefix their paths share. It is then folded with them, and drawn by itself once that
    box is opened, so a folded drawing has no cycle through a box."""
    inputs: dict[str, list[str]] = {}
    consumers: dict[str, list[str]] = {}
    for edge in graph.edges:
        if edge.kind == "data":
            inputs.setdefault(edge.target, []).append(edge.source)
            consumers.setdefault(edge.source, []).append(edge.target)
    own = dict(paths)  # neighbours' own paths only: placed ones would chain (add to add)
    for node_id, node in graph.nodes.items():
        if own[node_id] or node.kind != "op" or node.op == "AccumulateGrad":
            continue
        before = [own[i] for i in inputs.get(node_id, ()) if own.get(i)]
        after = [own[c] for c in consumers.get(node_id, ()) if own.get(c)]
        if before and after:
            paths[node_id] = _common_prefix(before + after)


def _common_prefix(paths: list[tuple]) -> tuple:
    first = paths[0]
    length = min(len(p) for p in paths)
    for depth in range(length):
        if any(p[depth] != first[depth] for p in paths):
            return first[:depth]
    return first[:length]


#: A box with more boxes than this inside gets ranges in between (blocks.0-99, ...)
WIDE = 40


def _split_wide_levels(paths: dict[str, tuple]) -> dict[str, tuple]:
    """Insert ranges under a prefix with more than WIDE children (a ModuleList of 1,400
    blocks opens as blocks.0-999 and blocks.1000-1399, then by hundreds, then by tens), so
    every box opens into a drawable number of boxes."""
    children: dict[tuple, set] = {}
    for path in paths.values():
        for depth in range(len(path)):
            children.setdefault(path[:depth], set()).add(path[depth])
    wide = {prefix: sorted(names, key=_ordinal_key)
            for prefix, names in children.items() if len(names) > WIDE}
    if not wide:
        return paths
    orders = {prefix: {name: i for i, name in enumerate(names)} for prefix, names in wide.items()}
    result = {}
    for node_id, path in paths.items():
        new = []
        for depth, part in enumerate(path):
            prefix = path[:depth]
            if prefix in wide:
                names = wide[prefix]
                new.extend(_range_labels(prefix, names, orders[prefix][part]))
            new.append(part)
        result[node_id] = tuple(new)
    return result


def _ordinal_key(name):
    tail = str(name).rsplit(".", 1)[-1].rsplit(" ", 1)[-1]
    return (0, int(tail), "") if tail.isdigit() else (1, 0, str(name))


def _range_labels(prefix: tuple, names: list, position: int) -> list[str]:
    """The ranges (by thousands, hundreds, tens) that hold sibling ``position``."""
    where = prefix[-1] + "." if prefix and isinstance(prefix[-1], str) else ""
    count = len(names)
    labels = []
    size = 1
    while size * 10 < count:
        size *= 10
    while size > 1 and size * 10 > WIDE:
        start = position // size * size
        end = min(start + size, count) - 1
        first, last = _ordinal_key(names[start]), _ordinal_key(names[end])
        if first[0] == 0 and last[0] == 0:
            labels.append(f"{where}{first[1]}-{last[1]}")
        else:
            labels.append(f"{where}[{start + 1}-{end + 1} of {count}]")
        size //= 10
    return labels


def _own_path(node: GraphNode) -> tuple:
    if node.kind == "output":
        return ()
    if node.span is not None:
        return (node.span.line,)
    text = None
    if node.expression and _MODULE_SEPARATOR in node.expression:
        text = node.expression.split(_MODULE_SEPARATOR, 1)[0]
        if "(" in text or " " in text:  # a function name, not a module path
            text = None
    elif node.name and "." in node.name and (node.kind == "leaf" or node.op == "AccumulateGrad"):
        text = node.name.rsplit(".", 1)[0]
    if not text:
        return ()
    parts = text.split(".")
    return tuple(".".join(parts[: i + 1]) for i in range(len(parts)))


def _line_path(line: int, last: int) -> tuple:
    """``("lines 1001-2000", "lines 1001-1100", ..., "line 1042")`` for ``last`` lines."""
    path = []
    size = 1
    while size * 10 < last:
        size *= 10
    while size > 1:
        start = (line - 1) // size * size + 1
        path.append(f"lines {start}-{min(start + size - 1, last)}")
        size //= 10
    path.append(f"line {line}")
    return tuple(path)
