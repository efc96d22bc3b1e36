"""基准里用到的模型与一步训练（tinygrad_zh 与 PyTorch 各一份，结构、形状、优化器相同）。

The five example architectures, sized like the examples (and like the yardstick in
../shared/bench):

==============  =========================================================  ==========  ========
name            model                                                      batch       optimizer
==============  =========================================================  ==========  ========
mlp_mnist       784-500-10 MLP, ReLU, cross-entropy                        64          SGD 0.9
lstm_lm_char    Embedding(65, 100), 2-layer LSTM(200), Linear, CE, seq 35  64          Adam
lstm_lm_word    the same with a 10000-word vocabulary                      64          Adam
cnn_binary      Conv(1→32,3) Pool Conv(32→64,3) Pool FC128 FC1, BCE        32          Adam
mlp_regression  1000-500-250-100-1 MLP, sigmoid output, MSE                256         Adam
==============  =========================================================  ==========  ========

``make_step(framework, name, device, **overrides)`` builds model, optimizer and one fixed random
batch and returns ``step()``: one full training step (zero_grad, forward, loss, backward, optimizer
step), as a user's training loop runs it.  Overrides (e.g. ``batch=256``, ``hidden=400``, ``seq=140``)
give the points of the scaling curves.
"""
import numpy as np

CONFIGS = {
    "mlp_mnist": dict(kind="mlp", sizes=(784, 500, 10), head="ce", batch=64, optim="sgd"),
    "lstm_lm_char": dict(kind="lstm", vocab=65, embed=100, hidden=200, layers=2, seq=35, batch=64,
                         optim="adam"),
    "lstm_lm_word": dict(kind="lstm", vocab=10000, embed=100, hidden=200, layers=2, seq=35, batch=64,
                         optim="adam"),
    "cnn_binary": dict(kind="cnn", batch=32, optim="adam"),
    "mlp_regression": dict(kind="mlp", sizes=(1000, 500, 250, 100, 1), head="mse", batch=256,
                           optim="adam"),
}


def config(name, **overrides):
    c = dict(CONFIGS[name])
    c.update(overrides)
    return c


def batch_arrays(c, seed=0):
    """One fixed batch (x, y) as NumPy arrays: float32 inputs, int64 class labels."""
    rng = np.random.default_rng(seed)
    B = c["batch"]
    if c["kind"] == "lstm":
        tok = rng.integers(0, c["vocab"], (B, c["seq"] + 1))
        return tok[:, :-1].copy(), tok[:, 1:].copy()
    if c["kind"] == "cnn":
        return rng.random((B, 1, 28, 28), dtype=np.float32), rng.integers(0, 2, (B, 1)).astype(np.float32)
    x = rng.random((B, c["sizes"][0]), dtype=np.float32)
    if c["head"] == "ce":
        return x, rng.integers(0, c["sizes"][-1], B)
    return x, rng.random((B, 1), dtype=np.float32)


# ----------------------------------------------------------------------------- tinygrad_zh
def _tg_model(c):
    import tinygrad_zh.nn as nn
    if c["kind"] == "lstm":
        class LanguageModel(nn.Module):
            def __init__(self):
                super().__init__()
                self.embed = nn.Embedding(c["vocab"], c["embed"])
                self.lstm = nn.LSTM(c["embed"], c["hidden"], c["layers"], batch_first=True)
                self.out = nn.Linear(c["hidden"], c["vocab"])

            def forward(self, x):
                return self.out(self.lstm(self.embed(x))[0])
        return LanguageModel()
    if c["kind"] == "cnn":
        return nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(),
                             nn.MaxPool2d(2), nn.Flatten(), nn.Linear(1600, 128), nn.ReLU(), nn.Linear(128, 1),
                             nn.Sigmoid())
    layers = []
    for a, b in zip(c["sizes"][:-1], c["sizes"][1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    layers[-1:] = [nn.Sigmoid()] if c["head"] == "mse" else []
    return nn.Sequential(*layers)


def tg_step(name, device="cpu", seed=0, **overrides):
    """tinygrad_zh: (step function, model, optimizer) of workload ``name``."""
    import tinygrad_zh as tg
    import tinygrad_zh.nn.functional as F
    c = config(name, **overrides)
    tg.manual_seed(seed)
    model = _tg_model(c).to(device)
    x_np, y_np = batch_arrays(c, seed)
    x, y = tg.tensor(x_np, device=device), tg.tensor(y_np, device=device)
    opt = (tg.optim.SGD(model.parameters(), lr=0.01, momentum=0.9) if c["optim"] == "sgd" else
           tg.optim.Adam(model.parameters(), lr=1e-3))

    def loss_of(out):
        if c["kind"] == "lstm":
            return F.cross_entropy(out.reshape(-1, c["vocab"]), y.reshape(-1))
        if c["kind"] == "cnn":
            return F.binary_cross_entropy(out, y)
        return F.cross_entropy(out, y) if c["head"] == "ce" else F.mse_loss(out, y)

    def step():
        opt.zero_grad()
        loss = loss_of(model(x))
        loss.backward()
        opt.step()
        return loss

    return step, model, opt


# ----------------------------------------------------------------------------- PyTorch
def torch_step(name, device="cpu", seed=0, **overrides):
    """PyTorch: (step function, model, optimizer) of workload ``name`` (the same layers)."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    c = config(name, **overrides)
    torch.manual_seed(seed)
    if c["kind"] == "lstm":
        class LanguageModel(nn.Module):
            def __init__(self):
                super().__init__()
                self.embed = nn.Embedding(c["vocab"], c["embed"])
                self.lstm = nn.LSTM(c["embed"], c["hidden"], c["layers"], batch_first=True)
                self.out = nn.Linear(c["hidden"], c["vocab"])

            def forward(self, x):
                return self.out(self.lstm(self.embed(x))[0])
        model = LanguageModel()
    elif c["kind"] == "cnn":
        model = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(),
                              nn.MaxPool2d(2), nn.Flatten(), nn.Linear(1600, 128), nn.ReLU(), nn.Linear(128, 1),
                              nn.Sigmoid())
    else:
        layers = []
        for a, b in zip(c["sizes"][:-1], c["sizes"][1:]):
            layers += [nn.Linear(a, b), nn.ReLU()]
        layers[-1:] = [nn.Sigmoid()] if c["head"] == "mse" else []
        model = nn.Sequential(*layers)
    model = model.to(device)
    x_np, y_np = batch_arrays(c, seed)
    x, y = torch.from_numpy(x_np).to(device), torch.from_numpy(y_np).to(device)
    opt = (torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9) if c["optim"] == "sgd" else
           torch.optim.Adam(model.parameters(), lr=1e-3))

    def loss_of(out):
        if c["kind"] == "lstm":
            return F.cross_entropy(out.reshape(-1, c["vocab"]), y.reshape(-1))
        if c["kind"] == "cnn":
            return F.binary_cross_entropy(out, y)
        return F.cross_entropy(out, y) if c["head"] == "ce" else F.mse_loss(out, y)

    def step():
        opt.zero_grad()
        loss = loss_of(model(x))
        loss.backward()
        opt.step()
        return loss

    return step, model, opt
