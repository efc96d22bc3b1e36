"""梯度检查：用 float64 中心差分验证解析梯度（反向传播）是否正确。

    numeric  ∂f/∂xᵢ ≈ (f(x + ε eᵢ) − f(x − ε eᵢ)) / 2ε
    analytic ∂f/∂xᵢ from ``backward()``

它检验的正是链式法则的每一环：把每个输入元素轻轻推一下，看输出变了多少（数值导数），再与 ``backward()``
算出的解析导数比较。输出不是标量时，检查固定随机向量 ``v`` 下 ``Σ f(x) ⊙ v`` 的梯度：只需一次反向，
而不是每个输出元素一次；雅可比矩阵里只要有一项错了，几乎对任何 v 结果都会变。

English: for a non-scalar output we check the gradient of ``Σ f(x) ⊙ v`` for a fixed random ``v`` (one
backward instead of one per output element; a wrong Jacobian entry changes it for almost every v).
"""
import numpy as np

from ..autograd import no_grad
from ..tensor import Tensor, tensor


class GradcheckError(AssertionError):
    """gradcheck 失败时抛出，信息里有输入的序号、元素下标以及解析值和数值两个结果。"""


def _scalar(fn, inputs, v):
    out = fn(*inputs)
    if isinstance(out, (tuple, list)):
        out = out[0]
    if v is None:
        return out
    return (out * v).sum()


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, check=None, skip_kinks=False,
              kink_tol=None, raise_exception=True, seed=0):
    """检查 ``fn(*inputs)`` 对每个浮点输入的梯度：全部通过返回 True，否则抛出 ``GradcheckError``。

    ``skip_kinks`` 跳过左右差分对不上的元素（relu 在 0 处、max 的并列）：那里导数不存在，怎么回答都"对"。
    Returns True or raises ``GradcheckError``.

    Args:
        fn: function of Tensors returning a Tensor (any shape).
        inputs: list of Tensors (floating ones are checked; integer/bool ones are passed through).
        eps, atol, rtol: finite-difference step and tolerances (|a - n| <= atol + rtol |n|).
        check: optional list of input positions to check (others are passed through).
        skip_kinks: skip elements where the one-sided differences disagree (relu at 0, ties in
            max): there the derivative does not exist and any answer is "right".
        kink_tol: how much the one-sided differences may disagree before an element counts as a
            kink (default ``100 * (atol + rtol)``).
    """
    inputs = list(inputs)
    xs = []
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor):
            t = tensor(t)
        floating = t.dtype.kind == "f" and (check is None or i in check)
        if floating:
            t = Tensor(t.array.astype(np.float64), dtype="float64", device=t.device, requires_grad=True)
        elif t.dtype.kind == "f":
            t = Tensor(t.array.astype(np.float64), dtype="float64", device=t.device)
        xs.append((t, floating))
    args = [t for t, _ in xs]
    if not any(floating for _, floating in xs):
        return True                      # 没有可求导的输入，无需检查
    probe = fn(*args)
    if isinstance(probe, (tuple, list)):
        probe = probe[0]
    rng = np.random.default_rng(seed)
    v = None
    if probe.array.size != 1 or probe.ndim != 0:
        v = Tensor(rng.standard_normal(probe.shape), dtype="float64", device=probe.device)
    out = _scalar(fn, args, v)
    out.backward()
    kink_tol = 100 * (atol + rtol) if kink_tol is None else kink_tol
    for i, (t, floating) in enumerate(xs):
        if not floating:
            continue
        analytic = np.zeros(t.shape) if t.grad is None else np.asarray(t.grad.numpy(), np.float64)
        data = t.array     # 用多维下标原地扰动：任何内存布局（包括非连续视图）都适用
        with no_grad():
            for idx in np.ndindex(*t.shape):
                orig = data[idx].item()
                data[idx] = orig + eps
                fp = _scalar(fn, args, v).item()
                data[idx] = orig - eps
                fm = _scalar(fn, args, v).item()
                data[idx] = orig
                numeric = (fp - fm) / (2 * eps)
                if skip_kinks:
                    f0 = _scalar(fn, args, v).item()
                    if abs((fp - f0) / eps - (f0 - fm) / eps) > kink_tol:
                        continue
                a = analytic[idx]
                if not abs(a - numeric) <= atol + rtol * abs(numeric):
                    if not raise_exception:
                        return False
                    raise GradcheckError(
                        f"gradcheck failed for input {i} (shape {t.shape}) at index {tuple(int(j) for j in idx)}: "
                        f"analytic {a:.8g} vs numeric {numeric:.8g}, error {abs(a - numeric):.3g} > "
                        f"atol {atol} + rtol {rtol} * |numeric|")
    return True
