"""Data the application ships: built-in examples, icons and style sheets.

Read them with :func:`importlib.resources.files` (``files("resources") / "examples.json"``)
so they are found in a checkout and in an installed package alike.
"""
