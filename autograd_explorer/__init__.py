"""Autograd Explorer for your own PyTorch code.

    from autograd_explorer import explore, record

    with record(model):                 # optional: module names and values of the forward pass
        loss = loss_fn(model(x), y)
    ex = explore(loss, params=model)    # or dict(model.named_parameters())
    ex.render("graph.svg"); ex.save_html("steps.html"); ex.steps(); ex.show()
"""
from autograd_explorer.exploration import Exploration, explore
from core.evaluation.model_recording import record

__all__ = ["explore", "record", "Exploration"]
