"""Every array of a training step stays float32 (no silent float64 upcast anywhere).

One or two training steps of each example architecture (MNIST MLP, char- and word-level LSTM language
models, the binary CNN, the regression MLP), built by the example scripts themselves, with hooks that
record the dtype of

* every array a Function's forward returns and every array it saves for backward,
* every gradient array a backward returns (and receives),
* the parameters, their gradients and the optimizer state after the step.

A float64 anywhere (a Python float promoted by NumPy, an ``np.ones`` without dtype, an init function
drawing doubles) fails the test with the name of the op that produced it.
"""
import pathlib
import sys

import numpy as np
import pytest

import tinygrad_zh as tg
import tinygrad_zh.nn as nn
from tinygrad_zh import autograd
from tinygrad_zh.data import DataLoader, TensorDataset

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"
if str(EXAMPLES) not in sys.path:
    sys.path.insert(0, str(EXAMPLES))


def _arrays(obj, depth=0):
    """The ndarrays inside obj (an array, a Tensor, or tuples/lists/dicts of them)."""
    if isinstance(obj, np.ndarray):
        yield obj
    elif isinstance(obj, tg.Tensor):
        yield obj.array
    elif depth < 3 and isinstance(obj, (tuple, list)):
        for o in obj:
            yield from _arrays(o, depth + 1)
    elif depth < 3 and isinstance(obj, dict):
        for o in obj.values():
            yield from _arrays(o, depth + 1)


class DtypeRecorder:
    """Collects (where, dtype) for every floating point array that is not float32."""

    def __init__(self):
        self.bad, self.n_checked = [], 0

    def check(self, where, obj):
        for a in _arrays(obj):
            self.n_checked += 1
            if a.dtype.kind == "f" and a.dtype != np.float32:
                self.bad.append(f"{where}: {a.dtype} {a.shape}")


@pytest.fixture
def recorder(monkeypatch):
    rec = DtypeRecorder()
    apply = autograd.Function.apply.__func__

    def recording_apply(cls, *inputs, **kwargs):
        out = apply(cls, *inputs, **kwargs)
        rec.check(f"{cls.__name__}.forward output", out)
        return out

    def tracer(fn, gouts, gin):             # called by the engine after each node's backward
        name = type(fn).__name__
        rec.check(f"{name}.backward grad_out", list(gouts))
        rec.check(f"{name}.backward grad_in", list(gin))
        for k, v in vars(fn).items():       # what forward saved (still there: freed after the tracer)
            if k != "parents":
                rec.check(f"{name} saved {k}", v)

    monkeypatch.setattr(autograd.Function, "apply", classmethod(recording_apply))
    monkeypatch.setattr(autograd, "_tracer", tracer)
    return rec


def _after_step(rec, model, opt):
    for name, p in model.named_parameters():
        rec.check(f"parameter {name}", p.array)
        rec.check(f"grad of {name}", p.grad)
    for p, state in opt.state.items():
        rec.check("optimizer state", state)


def _batches(x, y, batch_size):
    """Batches as a DataLoader yields them, from float64 NumPy data (the loader must not keep float64)."""
    ds = TensorDataset(tg.tensor(x), tg.tensor(y))
    return DataLoader(ds, batch_size=batch_size, shuffle=True)


def _train(rec, model, opt, loss_fn, batches, clip=None):
    for x, y in batches:
        rec.check("input batch", [x, y])
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        if clip:
            nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
    _after_step(rec, model, opt)
    assert rec.n_checked > 20
    assert not rec.bad, "float64 arrays in a training step:\n" + "\n".join(rec.bad)


def test_mnist_mlp_float32(recorder):
    from mnist_mlp import MLP
    tg.manual_seed(0)
    rng = np.random.default_rng(0)
    model = MLP()
    opt = tg.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    data = _batches(rng.random((16, 784)), rng.integers(0, 10, 16), 8)
    _train(recorder, model, opt, nn.CrossEntropyLoss(), data)


def test_cnn_binary_float32(recorder):
    from cnn_binary import make_model
    tg.manual_seed(0)
    rng = np.random.default_rng(0)
    model = make_model()
    opt = tg.optim.Adam(model.parameters(), lr=1e-3)
    data = _batches(rng.random((8, 1, 28, 28)), rng.integers(0, 2, (8, 1)).astype(np.float64), 4)
    _train(recorder, model, opt, nn.BCELoss(), data)


def test_regression_mlp_float32(recorder):
    from regression_mlp import make_model
    tg.manual_seed(0)
    rng = np.random.default_rng(0)
    model = make_model(11)
    opt = tg.optim.Adam(model.parameters(), lr=1e-3)
    data = _batches(rng.standard_normal((32, 11)), rng.random((32, 1)), 16)
    _train(recorder, model, opt, nn.MSELoss(), data)


@pytest.mark.parametrize("vocab", [65, 10000], ids=["char", "word"])
def test_lstm_language_model_float32(recorder, vocab):
    from char_lstm import LanguageModel
    tg.manual_seed(0)
    rng = np.random.default_rng(0)
    model = LanguageModel(vocab)
    opt = tg.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    state = None
    for _ in range(2):                      # the second step starts from the carried (detached) state
        tok = rng.integers(0, vocab, (4, 7))
        x, y = tg.tensor(tok[:, :-1]), tg.tensor(tok[:, 1:])
        opt.zero_grad()
        logits, state = model(x, state)
        recorder.check("LSTM state", state)
        loss = loss_fn(logits.reshape(-1, vocab), y.reshape(-1))
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 0.25)
        opt.step()
        state = tuple(s.detach() for s in state)
    _after_step(recorder, model, opt)
    assert recorder.n_checked > 20
    assert not recorder.bad, "float64 arrays in a training step:\n" + "\n".join(recorder.bad)


def test_recorder_catches_a_float64_upcast(recorder):
    """The hook itself works: a float64 array made inside a step is reported."""
    w = nn.Parameter(tg.ones(3))
    (w * tg.tensor(np.ones(3), dtype="float64")).sum().backward()
    assert any("float64" in b for b in recorder.bad)
