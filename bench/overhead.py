"""每个运算的固定开销：1000 个极小的逐元素运算连成一条链，前向 + 反向的总时间 / 1000。

On 4-element tensors the arithmetic is free, so what is measured is the framework's bookkeeping per
op: building the graph node, wrapping the result, and in backward visiting the node and routing its
gradient.  This decides the speed of models made of many small ops (a hand-written RNN cell, a
training loop on tiny data).
"""
from common import interleaved_times, try_torch

N_OPS = 1000


def _chain_tg(device):
    import numpy as np
    import tinygrad_zh as tg
    x = tg.tensor(np.ones(4, np.float32), device=device, requires_grad=True)

    def run():
        y = x
        for i in range(N_OPS):                  # alternate ×, + so the values stay moderate
            y = y * 1.0001 if i % 2 == 0 else y + 0.5
        y.sum().backward()
        x.grad = None
    return run


def _chain_torch(torch, device):
    x = torch.ones(4, device=device, requires_grad=True)

    def run():
        y = x
        for i in range(N_OPS):
            y = y * 1.0001 if i % 2 == 0 else y + 0.5
        y.sum().backward()
        x.grad = None
    return run


def per_op_overhead(device="cpu", repeats=7, sync=lambda: None):
    """{"tg_us_per_op", "torch_us_per_op" (or None), "ratio_tg_torch"}: median µs per op, forward +
    backward, tinygrad_zh and PyTorch timed in alternation."""
    torch = try_torch(device)
    steps = {"tg": _chain_tg(device)}
    if torch is not None:
        steps["torch"] = _chain_torch(torch, device)
    res = interleaved_times(steps, repeats=repeats, min_repeat_s=0.3, sync=sync)
    out = {f"{k}_us_per_op": round(v["median_ms"] * 1e3 / N_OPS, 2) for k, v in res.items()}
    out.setdefault("torch_us_per_op", None)
    out["ratio_tg_torch"] = (round(out["tg_us_per_op"] / out["torch_us_per_op"], 3)
                             if out["torch_us_per_op"] else None)
    out["n_ops"] = N_OPS
    return out
