"""Rules the structure depends on, enforced rather than hoped for (as napari does)."""
from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _python_files(folder: str):
    return sorted((ROOT / folder).rglob("*.py"))


def _imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


def test_core_never_imports_qt():
    offenders = [(str(p.relative_to(ROOT)), name) for p in _python_files("core")
                 for name in _imports(p)
                 if name.split(".")[0] in ("PySide6", "PyQt5", "PyQt6", "shiboken6", "gui")]
    assert offenders == []


def test_core_runs_without_qt_installed_in_the_process():
    # importing the whole core must not pull Qt in, even indirectly
    code = ("import sys, importlib, pkgutil, core\n"
            "for m in pkgutil.walk_packages(core.__path__, 'core.'):\n"
            "    importlib.import_module(m.name)\n"
            "print(sorted(k for k in sys.modules if k.split('.')[0] in ('PySide6', 'shiboken6')))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_parsing_does_not_import_torch():
    # the GUI parses on every keystroke on its own thread: that must not wait for torch
    code = ("import sys\nfrom core.language.parser import parse\n"
            "from core.language.values import parse_value\n"
            "parse('f = exp(w)')\nparse_value('[1, 2]')\nprint('torch' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.stdout.strip() == "False", result.stderr


def test_no_eval_or_exec_anywhere():
    pattern = re.compile(r"(^|[^_.a-zA-Z])(eval|exec)\s*\(")
    hits = []
    for folder in ("core", "gui"):
        for path in _python_files(folder):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if pattern.search(line.split("#")[0]):
                    hits.append(f"{path.relative_to(ROOT)}:{number}")
    assert hits == []


def test_every_public_function_has_a_docstring():
    missing = []
    for folder in ("core", "gui"):
        for path in _python_files(folder):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in tree.body:
                if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and \
                        not node.name.startswith("_") and ast.get_docstring(node) is None:
                    missing.append(f"{path.relative_to(ROOT)}:{node.name}")
    assert missing == []
