"""Drawing the backward graph: the graph as plain data, Graphviz rendering, pinned layouts,
folding of large graphs and what one step of the walk highlights.
"""
