"""Load torch's native libraries without holding Python's GIL, so the window keeps
responding while torch is imported on a worker thread.

``import torch`` maps libtorch_cpu.so (hundreds of MB, with long static initialisers) from
inside the import system, which holds the GIL: the GUI thread then froze for about 180 ms
on this project's machine. Calling libc's ``dlopen`` through ctypes releases the GIL for
the call (ctypes does that for every foreign call), so the heavy loading happens while the
window goes on painting; the ``import torch`` that follows finds the libraries already
mapped. Anything unexpected (another platform, another layout of the wheel) just skips the
preload: ``import torch`` then works exactly as before.
"""
from __future__ import annotations

import ctypes
import importlib.util
import os
import sys

#: Loaded in this order; each one's own dependencies are found through its RUNPATH.
LIBRARIES = ("libtorch_cpu.so", "libtorch_python.so")


def preload_torch_libraries() -> bool:
    """dlopen torch's largest libraries with the GIL released; True if they were loaded."""
    if not sys.platform.startswith("linux") or "torch" in sys.modules:
        return False
    try:
        spec = importlib.util.find_spec("torch")
        if spec is None or spec.origin is None:
            return False
        folder = os.path.join(os.path.dirname(spec.origin), "lib")
        libc = ctypes.CDLL(None)
        dlopen = libc.dlopen
        dlopen.restype = ctypes.c_void_p
        dlopen.argtypes = [ctypes.c_char_p, ctypes.c_int]
        rtld_now = 2
        for name in LIBRARIES:
            path = os.path.join(folder, name)
            if not os.path.exists(path) or not dlopen(path.encode(), rtld_now):
                return False
        return True
    except (OSError, AttributeError, ValueError):
        return False
