"""main.py as a user meets it: headless sub-commands, and a plain message where the window
cannot open."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_without_a_display_the_app_says_so_instead_of_aborting():
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    result = subprocess.run([sys.executable, "main.py"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.startswith("error: no display was found")
    assert "Traceback" not in result.stderr


def test_help_lists_every_sub_command():
    result = subprocess.run([sys.executable, "main.py", "--help"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0
    for command in ("compute", "render", "steps", "check"):
        assert command in result.stdout


def test_the_window_opens_and_draws_offscreen(tmp_path):
    # the README's run command starts this; offscreen it quits after the first drawing
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path))
    result = subprocess.run([sys.executable, "main.py", "--startup-time", "--quit-after-draw"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("window shown") for line in lines)
    assert any(line.startswith("graph drawn") for line in lines)
