"""The expression language: text read with ``ast.parse`` into a Program, the functions it allows
and the values a user types. Nothing here runs torch on user text.
"""
