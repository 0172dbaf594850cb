"""Imported once by the server process the symbolic work forks from (core.sandbox): loads
SymPy and runs one small derivative, so that the parts SymPy imports on first use (its
printers, evalf) are loaded there once instead of in every check's child process (half a
second each)."""
from core.check import symbolic

symbolic.warm_up()
