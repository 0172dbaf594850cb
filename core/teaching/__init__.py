"""The backward pass as teaching material: the recorded trace, each node's local rule in the
program's names, the words of every step, the deck, frames and the web page.
"""
