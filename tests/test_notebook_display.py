"""``explore`` in a real Jupyter kernel (nbclient + ipykernel): the exploration displays
inline as the interactive page, with no server and nothing fetched."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

CELLS = [
    "import torch\nfrom torch import nn\nfrom autograd_explorer import explore, record\n"
    "torch.manual_seed(0)\n"
    "model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))\n"
    "x, y = torch.randn(5, 3), torch.randn(5, 1)",
    "with record(model):\n    loss = nn.functional.mse_loss(model(x), y)\n"
    "ex = explore(loss)\nex",
    "loss.backward()\nprint(float(model[0].bias.grad.sum()))",
]


def test_explore_displays_the_page_inline_in_a_kernel():
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    client = nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(ROOT)}})
    client.execute()
    outputs = notebook.cells[1].outputs
    html = next(o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {}))
    # the page itself: the graph as inline SVG, the steps as data, a script, no page shell
    assert 'class="ae-root"' in html and "<svg" in html and "<html" not in html
    assert not re.search(r"<script[^>]*\bsrc=|<link\b", html)
    data = json.loads(re.search(r'<script type="application/json" class="ae-data">(.*?)'
                                r"</script>", html, re.S).group(1))
    titles = [step["t"] for step in data["steps"]]
    assert titles[0] == "1. MseLossBackward0  mse_loss"
    assert "2. AddmmBackward0  2 · AddmmBackward0" in titles
    assert {leaf["name"] for leaf in data["leaves"]} == {"0.weight", "0.bias", "2.weight",
                                                         "2.bias"}
    # the bias gradient the page reports is the one backward() then puts in .grad
    printed = float(notebook.cells[2].outputs[0]["text"])
    bias = next(leaf for leaf in data["leaves"] if leaf["name"] == "0.bias")
    total = [float(v) for v in re.findall(r"-?\d+\.?\d*(?:e-?\d+)?",
                                                bias["total"].replace("\u2212", "-"))]
    assert sum(total) == pytest.approx(printed, rel=1e-4, abs=1e-5)
