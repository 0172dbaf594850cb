"""The step-through as one self-contained web page: graph, steps, contributions, forward walk.

:func:`export_html` draws the annotated graph once with Graphviz (core.drawing.render) and puts the
SVG inline in a page together with the recorded trace as JSON and a small script that steps
through it: buttons and the arrow keys move from step to step, the current node is
highlighted and scrolled into view, finished nodes are marked, and the gradient each edge has
carried so far is written beside the edge. The step text (the gradient in, the local rule
with its arithmetic) and the contributions at each variable are the trace's own text, the
same words the window and the PDF pages use. A second mode walks the forward pass.

The page loads nothing: no network, no external scripts, styles or fonts (the SVG asks for
the generic ``monospace`` family, which every browser has). With ``embedded=True`` the same
page is returned as a fragment for Jupyter's ``_repr_html_``: everything is scoped to one
element with a unique id, and the arrow keys act only while that element has the focus.

Graphs too large to draw whole are drawn folded (core.drawing.folding): a step inside a folded box
highlights the box, so the deck pages through the folded view. A browser cannot run Graphviz,
so the page also carries the drawing with each folded box opened one level
(:func:`unfolded_views`, breadth first from the first picture, within a budget of drawings
and seconds): clicking a box swaps in its unfolded drawing, "Fold back" returns to the one it
came from, and the steps go on highlighting on whichever drawing is shown. The steps name the
graph's own nodes; the page maps them onto the drawing shown (``map`` of the first picture,
and each view's differences from it).
"""
from __future__ import annotations

import base64
import gzip
import html
import json
import re
import time
import uuid

from core.teaching.rules import fmt

#: Steps whose full text is written into the page; beyond this the deck still pages through
#: every step, with the title and the gradient only (keeps the file of a 20,000-node graph
#: to a few megabytes).
FULL_TEXT_STEPS = 3000
#: A folded page carries at most this many unfolded drawings (one per box, breadth first)...
MAX_UNFOLDED_VIEWS = 80
#: ... made within about this many seconds (each is a small drawing: about 0.1 s of Graphviz)
UNFOLD_SECONDS = 6.0
#: drawings made between two looks at the clock
_CHUNK = 8


def export_html(graph, trace, *, embedded: bool = False, title: str | None = None,
                options=None, folding=None) -> str:
    """The interactive page for ``graph`` (a BackwardGraph) and ``trace`` (its Trace).

    ``options`` are core.drawing.render.RenderOptions for the drawing (annotate, rankdir, theme);
    ``folding`` a :class:`core.drawing.folding.Folding` to draw instead of the whole graph (by
    default large graphs are folded automatically). Returns the HTML text; raises what
    core.drawing.render raises when Graphviz is missing or the layout times out.
    """
    from core.drawing import folding as folding_module
    from core.drawing.render import RenderOptions, render

    options = options or RenderOptions(constants=True)
    if folding is None:
        folding = folding_module.auto_fold(graph)
    drawn = folding.graph if folding is not None else graph
    svg = render(drawn, options, "svg").decode("utf-8")
    node_map = folding.node_map if folding is not None else {}
    data = page_data(trace, node_map, graph)
    data["views"] = unfolded_views(folding, options) if folding is not None else {}
    root_id = "ae-" + uuid.uuid4().hex[:12]
    title = title or f"Autograd Explorer: the backward pass of {trace.output_name}"
    fragment = _fragment(root_id, _clean_svg(svg), data, title, embedded)
    if embedded:
        return fragment
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{html.escape(title)}</title>\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"</head>\n<body style=\"margin:0\">\n{fragment}\n</body>\n</html>\n")


def write_html(path, graph, trace, **options) -> None:
    """Write :func:`export_html`'s page to ``path``; an unwritable path is an
    :class:`~core.errors.ExpressionError` naming it."""
    from pathlib import Path

    from core.errors import ExpressionError
    from core.safe_io import atomic_write

    text = export_html(graph, trace, **options)
    try:
        atomic_write(Path(path), text)  # an existing page is replaced only by a whole one
    except ExpressionError as err:
        raise ExpressionError("export", err.message) from None


def page_data(trace, node_map: dict | None = None, graph=None) -> dict:
    """The trace as the page's script reads it: for each step the node it runs (the graph's
    own id), its title, text and edge labels; the forward walk; the contributions at each
    variable; and ``map``, the folded box drawn for each node that is inside one (the page
    maps every id through it, or through the unfolded view on screen)."""
    steps = []
    for step in trace.steps:
        full = step.index < FULL_TEXT_STEPS
        text = []
        if step.grad_in and step.grad_in[0] is not None:
            text.append(f"gradient in: {fmt(step.grad_in[0])}")
        if full:
            text.append(step.rule.text)
            if len(step.contributions) > 1:
                text.append("contributions that arrived here:")
                text.extend(f"  {fmt(c.value)}  via {c.via}   (running sum "
                            f"{fmt(c.running_total)})" for c in step.contributions)
        # (source, target, k): the k-th of parallel edges (x*x has two from x)
        edges = [[key[0], key[1], label, key[2] if len(key) > 2 else 0]
                 for key, label in step.edge_labels]
        steps.append({"n": step.node_id, "l": step.leaf_id, "t": step.title,
                      "x": "\n".join(text), "e": edges})
    forward = []
    for value in trace.forward:
        what = f"{value.name} = {value.expression}" if value.name else value.expression
        forward.append({"n": value.node_id,
                        "t": f"{value.index + 1}. {what}",
                        "x": f"value: {fmt(value.value)}"})
    leaves = []
    for name, leaf in trace.leaves.items():
        leaves.append({"name": name, "n": leaf.leaf_id, "step": leaf.step,
                       "c": [[fmt(c.value), c.via, fmt(c.running_total)]
                             for c in leaf.contributions],
                       "total": fmt(leaf.total)})
    return {"steps": steps, "forward": forward, "leaves": leaves,
            "output": trace.output_id, "root": trace.root_id,
            "outputName": trace.output_name,
            "map": {k: v for k, v in (node_map or {}).items() if k != v},
            "empty": trace.no_steps_reason if not trace.steps else ""}


def unfolded_views(folding, options, *, limit: int = MAX_UNFOLDED_VIEWS,
                   seconds: float = UNFOLD_SECONDS) -> dict:
    """The drawings the page swaps in when a folded box is clicked: ``{box id: {"parent",
    "name", "svgz", "map"}}``, each the drawing of its ``parent`` view ("" for the first
    picture) with that box opened one level, as gzip in base64 (``svgz``: the browser's own
    DecompressionStream reads it; a drawing is a tenth of its size so), ``map`` the nodes
    drawn differently from the first picture (their box inside, or themselves). Breadth
    first, largest boxes first, two Graphviz processes at a time, at most ``limit``
    drawings and about ``seconds`` of work: a box left out says so on the page."""
    from concurrent.futures import ThreadPoolExecutor

    from core.drawing.render import render

    base = folding.node_map
    states = {"": folding}
    queue = [("", box) for box in _largest_first(folding.groups)]  # breadth first
    views: dict = {}
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=2) as pool:
        while queue and len(views) < limit and time.monotonic() - started < seconds:
            chunk = queue[: min(_CHUNK, limit - len(views))]
            del queue[: len(chunk)]
            opened = [states[parent].unfolded(box) for parent, box in chunk]
            drawings = pool.map(lambda f: render(f.graph, options, "svg"), opened)
            for (parent, box), unfolded, svg in zip(chunk, opened, drawings, strict=True):
                text = _clean_svg(svg.decode("utf-8")).encode("utf-8")
                views[box] = {"parent": parent,
                              "name": states[parent].graph.nodes[box].expression,
                              "svgz": base64.b64encode(gzip.compress(text, mtime=0))
                              .decode("ascii"),
                              "map": {k: v for k, v in unfolded.node_map.items()
                                      if base.get(k, k) != v}}
                states[box] = unfolded
                inner = {b: ids for b, ids in unfolded.groups.items()
                         if b not in states[parent].groups}
                queue.extend((box, b) for b in _largest_first(inner))
    return views


def _largest_first(groups: dict) -> list:
    return sorted(groups, key=lambda box: -len(groups[box]))


_DROP = re.compile(r"<\?xml[^>]*\?>|<!DOCTYPE[^>]*>|<!--.*?-->", re.S)
_NAMESPACES = re.compile(r'\s+xmlns(:xlink)?="[^"]*"')


def _clean_svg(svg: str) -> str:
    """Graphviz's SVG ready to inline: no XML prolog, DOCTYPE (which names a DTD on the
    web) or comments, no namespace URLs (HTML's parser puts inline SVG in its namespace)."""
    svg = _DROP.sub("", svg)
    svg = _NAMESPACES.sub("", svg)
    return svg.strip()


def _json_for_script(data) -> str:
    # inside <script>, "</" would end the element; "<!--" would open a comment
    return json.dumps(data, ensure_ascii=False).replace("</", "<\\/").replace("<!--", "<\\!--")


def _fragment(root_id: str, svg: str, data: dict, title: str, embedded: bool) -> str:
    style = _STYLE.replace("#ROOT", "#" + root_id)
    script = _SCRIPT.replace("ROOT_ID", root_id).replace(
        "EMBEDDED", "true" if embedded else "false")
    return (f'<div id="{root_id}" class="ae-root" tabindex="0" data-step="0" '
            f'data-mode="backward" data-view="">\n<style>{style}</style>\n'
            f'<div class="ae-head"><b class="ae-title">{html.escape(title)}</b>\n'
            '<span class="ae-controls">'
            '<button type="button" class="ae-mode" data-mode="forward">Forward pass</button>'
            '<button type="button" class="ae-mode ae-on" data-mode="backward">'
            'Backward pass</button>'
            '<button type="button" class="ae-first" title="first step (Home)">|&#x25C0;</button>'
            '<button type="button" class="ae-prev" title="previous step (←)">&#x25C0;</button>'
            '<span class="ae-counter"></span>'
            '<button type="button" class="ae-next" title="next step (→)">&#x25B6;</button>'
            '<button type="button" class="ae-last" title="last step (End)">&#x25B6;|</button>'
            '<button type="button" class="ae-fold" title="fold the opened box again" '
            'disabled>Fold back</button>'
            '</span></div>\n'
            '<div class="ae-body"><div class="ae-graph">' + svg + '</div>\n'
            '<div class="ae-side"><div class="ae-fold-note"></div>'
            '<div class="ae-step-title"></div>'
            '<pre class="ae-text"></pre>'
            '<div class="ae-leaves-title">Contributions at each variable</div>'
            '<div class="ae-leaves"></div></div></div>\n'
            '<script type="application/json" class="ae-data">' + _json_for_script(data)
            + '</script>\n<script>' + script + '</script>\n</div>')


_STYLE = """
#ROOT { font-family: system-ui, sans-serif; font-size: 14px; color: #222; outline: none;
  border: 1px solid #ccc; background: #fff; }
#ROOT .ae-head { display: flex; flex-wrap: wrap; gap: 8px; align-items: center;
  padding: 6px 8px; border-bottom: 1px solid #ddd; background: #f6f6f6; }
#ROOT .ae-title { flex: 1 1 auto; }
#ROOT button { font-size: 14px; padding: 3px 9px; margin: 0 2px; cursor: pointer; }
#ROOT button.ae-on { font-weight: bold; background: #dde8ff; }
#ROOT .ae-counter { display: inline-block; min-width: 9em; text-align: center; }
#ROOT .ae-body { display: flex; height: 70vh; min-height: 360px; }
#ROOT .ae-graph { flex: 3 1 0; overflow: auto; border-right: 1px solid #ddd; }
#ROOT .ae-side { flex: 2 1 0; overflow: auto; padding: 8px; }
#ROOT .ae-step-title { font-weight: bold; font-family: monospace; margin-bottom: 6px; }
#ROOT pre.ae-text { white-space: pre-wrap; font-size: 13px; margin: 0 0 12px 0; }
#ROOT .ae-leaves-title { font-weight: bold; border-top: 1px solid #ddd; padding-top: 6px; }
#ROOT .ae-leaves div { font-family: monospace; font-size: 12px; margin: 4px 0; }
#ROOT .ae-leaves .ae-leaf-current { background: #fff1c4; }
#ROOT g.node { cursor: pointer; }
#ROOT .ae-fold-note { font-size: 12px; color: #555; margin-bottom: 6px; }
#ROOT .ae-fold-note:empty { display: none; }
#ROOT g.node.ae-done polygon, #ROOT g.node.ae-done ellipse { stroke: #2ca02c;
  stroke-width: 2.2px; }
#ROOT g.node.ae-current polygon, #ROOT g.node.ae-current ellipse { stroke: #d62728;
  stroke-width: 3.5px; fill: #ffe3e0; }
#ROOT g.edge.ae-crossed path { stroke: #d62728; stroke-width: 2px; }
#ROOT g.edge.ae-crossed polygon { stroke: #d62728; fill: #d62728; }
#ROOT g.edge.ae-recent path { stroke-width: 3.5px; }
#ROOT text.ae-label { font-family: monospace; font-size: 11px; fill: #b01010;
  paint-order: stroke; stroke: #fff; stroke-width: 3px; pointer-events: none; }
"""

_SCRIPT = r"""
(function () {
  var root = document.getElementById("ROOT_ID");
  var embedded = EMBEDDED;
  var data = JSON.parse(root.querySelector("script.ae-data").textContent);
  var graphBox = root.querySelector(".ae-graph");
  var firstPicture = graphBox.innerHTML;
  var foldButton = root.querySelector(".ae-fold");
  var foldNote = root.querySelector(".ae-fold-note");
  var views = data.views || {};
  var view = "";  // the box opened in the drawing on screen ("" for the first picture)
  var svg, nodes, edges, layer, labels, stepOfNode;
  var mode = "backward", index = 0;
  function original(name) { return name.split("_copy")[0]; }
  function isBox(name) { return name.indexOf("fold_") === 0; }
  function drawn(id) {  // the node or folded box drawn for the graph's node id
    if (id === null || id === undefined) return null;
    var changed = view ? views[view].map : null;
    if (changed && id in changed) return changed[id];
    return id in data.map ? data.map[id] : id;
  }

  function indexDrawing() {  // the drawing on screen: its nodes, edges and a label layer
    svg = graphBox.querySelector("svg");
    nodes = {}; edges = {}; labels = {}; stepOfNode = {};
    svg.querySelectorAll("g.node").forEach(function (g) {
      var name = original(g.querySelector("title").textContent);
      (nodes[name] = nodes[name] || []).push(g);
    });
    svg.querySelectorAll("g.edge").forEach(function (g) {
      var ends = g.querySelector("title").textContent.split("->");
      var key = original(ends[0]) + "->" + ends[1];
      (edges[key] = edges[key] || []).push(g);
    });
    layer = document.createElementNS("http://www.w3.org/2000/svg", "g");
    (svg.querySelector("g.graph") || svg).appendChild(layer);
    data.steps.forEach(function (s, i) {
      var n = drawn(s.n), l = drawn(s.l);
      if (!(n in stepOfNode)) stepOfNode[n] = i;
      if (l && !(l in stepOfNode)) stepOfNode[l] = i;
    });
    Object.keys(nodes).forEach(function (name) {
      nodes[name].forEach(function (g) {
        g.addEventListener("click", function () { clicked(name); });
      });
    });
  }
  function clicked(name) {
    if (isBox(name) && views[name]) { open(name); return; }
    if (isBox(name))
      foldNote.textContent = "This box is not unfolded in this page (a page holds " +
        Object.keys(views).length + " unfolded drawings); open the graph in Autograd " +
        "Explorer to unfold every box.";
    if (name in stepOfNode) {
      if (mode !== "backward") setMode("backward");
      show(stepOfNode[name]);
    }
  }
  function inflate(svgz) {  // a view's drawing: gzip in base64, read by the browser itself
    var bytes = Uint8Array.from(atob(svgz), function (c) { return c.charCodeAt(0); });
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).text();
  }
  function open(box) {  // swap in the drawing with ``box`` unfolded ("" = the first picture)
    if (box && typeof DecompressionStream === "undefined") {
      foldNote.textContent = "This browser cannot unfold boxes (it has no " +
        "DecompressionStream); any browser since 2023 can.";
      return;
    }
    (box ? inflate(views[box].svgz) : Promise.resolve(firstPicture)).then(function (text) {
      view = box;
      graphBox.innerHTML = text;
      foldButton.disabled = !box;
      foldNote.textContent = box ? "Unfolded: " + views[box].name.replace(" [+]", "") +
        " (Fold back closes it)" : "";
      indexDrawing();
      show(index);
      root.setAttribute("data-view", box);  // last: tests wait for it
    });
  }

  function edgeOf(key) {  // "source->target#k": the k-th of the parallel edges drawn
    var cut = key.lastIndexOf("#"), list = edges[key.slice(0, cut)] || [];
    return list[Number(key.slice(cut + 1))] || list[0];
  }
  function edgeKey(e) {  // a step's edge on the drawing shown; null inside a folded box
    var source = drawn(e[0]), target = drawn(e[1]);
    if (source === target) return null;
    var k = (source === e[0] && target === e[1]) ? e[3] : 0;  // into a box: drawn once
    return source + "->" + target + "#" + k;
  }
  function label(key, text) {
    var el = labels[key];
    if (!el) {
      var g = edgeOf(key);
      var path = g && g.querySelector("path");
      if (!path) return;
      var p = path.getPointAtLength(path.getTotalLength() / 2);
      el = document.createElementNS("http://www.w3.org/2000/svg", "text");
      el.setAttribute("x", p.x + 4); el.setAttribute("y", p.y);
      el.setAttribute("class", "ae-label");
      layer.appendChild(el);
      labels[key] = el;
    }
    el.textContent = text;
    el.style.display = "";
  }
  function setClass(list, name, on) {
    (list || []).forEach(function (el) { el.classList.toggle(name, on); });
  }
  function clear() {
    root.querySelectorAll(".ae-current,.ae-done,.ae-crossed,.ae-recent").forEach(
      function (el) { el.classList.remove("ae-current", "ae-done", "ae-crossed", "ae-recent"); });
    Object.keys(labels).forEach(function (k) { labels[k].style.display = "none"; });
  }
  function reveal(list) {
    if (!list || !list.length) return;
    var box = list[0].getBoundingClientRect(), shown = graphBox.getBoundingClientRect();
    if (box.left < shown.left || box.right > shown.right)
      graphBox.scrollLeft += box.left - shown.left - (shown.width - box.width) / 2;
    if (box.top < shown.top || box.bottom > shown.bottom)
      graphBox.scrollTop += box.top - shown.top - (shown.height - box.height) / 2;
  }
  function items() { return mode === "backward" ? data.steps : data.forward; }
  function show(i) {
    var list = items();
    clear();
    if (!list.length) {
      index = 0;
      root.querySelector(".ae-counter").textContent = "no steps";
      root.querySelector(".ae-step-title").textContent = "";
      root.querySelector(".ae-text").textContent = mode === "backward" ?
        "no backward steps: " + data.empty : "no values were recorded";
      return;
    }
    index = Math.max(0, Math.min(i, list.length - 1));
    root.setAttribute("data-step", String(index));
    root.setAttribute("data-mode", mode);
    var item = list[index];
    root.querySelector(".ae-counter").textContent =
      (mode === "backward" ? "step " : "value ") + (index + 1) + " / " + list.length;
    root.querySelector(".ae-step-title").textContent = item.t;
    root.querySelector(".ae-text").textContent = item.x;
    var current = [drawn(item.n)].concat(item.l ? [drawn(item.l)] : []);
    if (mode === "backward") {
      var crossed = {};
      var top = drawn(data.root), out = drawn(data.output);
      if (top && out && top !== out) {
        crossed[top + "->" + out + "#0"] = "1";
        setClass(nodes[out], "ae-done", true);
      }
      for (var k = 0; k <= index; k++) {
        var s = data.steps[k];
        if (k < index) {
          setClass(nodes[drawn(s.n)], "ae-done", true);
          if (s.l) setClass(nodes[drawn(s.l)], "ae-done", true);
        }
        s.e.forEach(function (e) {
          var key = edgeKey(e);
          if (key) crossed[key] = e[2];
        });
      }
      Object.keys(crossed).forEach(function (key) {
        setClass([edgeOf(key)].filter(Boolean), "ae-crossed", true);
        label(key, crossed[key]);
      });
      item.e.forEach(function (e) {
        var key = edgeKey(e);
        if (key) setClass([edgeOf(key)].filter(Boolean), "ae-recent", true);
      });
    } else {
      for (var j = 0; j < index; j++) setClass(nodes[drawn(list[j].n)], "ae-done", true);
    }
    current.forEach(function (n) {
      setClass(nodes[n], "ae-done", false);
      setClass(nodes[n], "ae-current", true);
    });
    root.querySelectorAll(".ae-leaves > div").forEach(function (div) {
      div.classList.toggle("ae-leaf-current",
        mode === "backward" && div.getAttribute("data-node") === item.l);
    });
    reveal(nodes[drawn(item.n)]);
  }
  function go(delta) { show(index + delta); }
  function setMode(m) {
    mode = m;
    root.querySelectorAll("button.ae-mode").forEach(function (b) {
      b.classList.toggle("ae-on", b.getAttribute("data-mode") === m);
    });
    show(0);
  }
  var leavesBox = root.querySelector(".ae-leaves");
  data.leaves.forEach(function (leaf) {
    var div = document.createElement("div");
    div.setAttribute("data-node", leaf.n);
    var lines = [leaf.name + ":"];
    leaf.c.forEach(function (c) {
      lines.push("  " + c[0] + "  via " + c[1] + "   (running sum " + c[2] + ")");
    });
    lines.push("  total \u2202" + data.outputName + "/\u2202" + leaf.name + " = " + leaf.total);
    div.textContent = lines.join("\n");
    div.style.whiteSpace = "pre-wrap";
    leavesBox.appendChild(div);
  });
  if (!data.leaves.length) leavesBox.textContent = "none";
  root.querySelector(".ae-next").addEventListener("click", function () { go(1); });
  root.querySelector(".ae-prev").addEventListener("click", function () { go(-1); });
  root.querySelector(".ae-first").addEventListener("click", function () { show(0); });
  root.querySelector(".ae-last").addEventListener("click", function () { show(1e9); });
  foldButton.addEventListener("click", function () { if (view) open(views[view].parent); });
  root.querySelectorAll("button.ae-mode").forEach(function (b) {
    b.addEventListener("click", function () { setMode(b.getAttribute("data-mode")); });
  });
  (embedded ? root : document).addEventListener("keydown", function (ev) {
    var keys = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 };
    if (ev.key in keys) { go(keys[ev.key]); ev.preventDefault(); }
    else if (ev.key === "Home") { show(0); ev.preventDefault(); }
    else if (ev.key === "End") { show(1e9); ev.preventDefault(); }
  });
  indexDrawing();
  show(0);
})();
"""
