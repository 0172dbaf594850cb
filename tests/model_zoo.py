"""Small models built in torch with random weights and a fixed seed (no downloads), shared by
the API tests and benchmarks/bench_models.py: each returns ``(model, inputs, loss_fn)`` where
``loss_fn(model, *inputs)`` computes a scalar loss."""
from __future__ import annotations

import torch
from torch import nn


def mlp(seed: int = 0):
    """A two-layer perceptron with a ReLU, on a batch of 8, mean-squared error."""
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
    x, y = torch.randn(8, 4), torch.randn(8, 3)
    return model, (x, y), lambda m, x, y: nn.functional.mse_loss(m(x), y)


class SmallCNN(nn.Module):
    """Two convolutions with batch norm, ReLU and pooling, then a linear classifier."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 8, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(8)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(8 * 2 * 2, 10)

    def forward(self, x):
        x = self.pool(torch.relu(self.bn1(self.conv1(x))))
        x = self.pool(torch.relu(self.bn2(self.conv2(x))))
        return self.fc(x.flatten(1))


def cnn(seed: int = 0):
    """SmallCNN on a batch of 2 8×8 images, cross-entropy."""
    torch.manual_seed(seed)
    model = SmallCNN()
    x, y = torch.randn(2, 1, 8, 8), torch.tensor([3, 7])
    return model, (x, y), lambda m, x, y: nn.functional.cross_entropy(m(x), y)


def transformer(seed: int = 0):
    """nn.TransformerEncoderLayer (d_model 16, 2 heads, dropout 0), batch-first, 5 tokens."""
    torch.manual_seed(seed)
    model = nn.TransformerEncoderLayer(16, 2, dim_feedforward=32, dropout=0.0,
                                       batch_first=True)
    x = torch.randn(2, 5, 16)
    return model, (x,), lambda m, x: m(x).pow(2).mean()


class ResidualMLP(nn.Module):
    """``depth`` blocks x + W2 relu(W1 x), each in its own module ``blocks.i``."""

    def __init__(self, width: int = 8, depth: int = 20):
        super().__init__()
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.Linear(width, width), nn.ReLU(), nn.Linear(width, width))
            for _ in range(depth))
        self.head = nn.Linear(width, 1)

    def forward(self, x):
        for block in self.blocks:
            x = x + block(x)
        return self.head(x)


def residual_mlp(seed: int = 0, depth: int = 20):
    """ResidualMLP of ``depth`` blocks on a batch of 4, mean-squared error."""
    torch.manual_seed(seed)
    model = ResidualMLP(depth=depth)
    x, y = torch.randn(4, 8), torch.randn(4, 1)
    return model, (x, y), lambda m, x, y: nn.functional.mse_loss(m(x), y)


MODELS = {"mlp": mlp, "cnn": cnn, "transformer": transformer, "residual_mlp": residual_mlp}
