"""Adam 与 AdamW：带偏差修正的一阶、二阶矩自适应学习率。

拿到 ``backward()`` 给出的梯度 g 后，Adam 不直接走 -lr·g，而是用 g 的滑动平均（方向）除以 g² 的滑动平均
的平方根（尺度），让每个参数有自己的步长。``_update`` 的每一行与类 docstring 里的公式对应；GPU 上用一个
融合 kernel 一次算完。

English: Adam and AdamW (first and second moment estimates with bias correction); the update lines
follow the formula in the class docstring, and on the GPU one fused kernel does the whole update.
"""
import math

from ..backend import array_module
from .optimizer import Optimizer, check_hparam, check_torch_flags

_cuda_adam = None       # tinygrad_zh.cuda 的融合 kernel，只查找一次（False 表示没有）


def _fused_adam_kernel():
    global _cuda_adam
    if _cuda_adam is None:
        try:
            from .. import cuda
            _cuda_adam = getattr(cuda, "adam_update", None) or getattr(cuda, "fused_adam")
        except (ImportError, AttributeError):
            _cuda_adam = False
    return _cuda_adam


class Adam(Optimizer):
    """Adam ``Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
    maximize=False, decoupled_weight_decay=False)``（PyTorch 的 ``foreach``/``fused``/``capturable``
    也接受并忽略，见 ``check_torch_flags``）.

    公式（第 t 步，g 为梯度，λ=weight_decay）::

        g ← g + λ·θ                                (L2 权重衰减；AdamW 改为 θ ← θ·(1 - lr·λ))
        m ← β₁·m + (1-β₁)·g                        一阶矩：梯度的指数滑动平均（方向）
        v ← β₂·v + (1-β₂)·g²                       二阶矩：梯度平方的滑动平均（尺度）
        v̂max ← max(v̂max, v)                        (amsgrad：分母只增不减)
        θ ← θ - lr/(1-β₁ᵗ) · m / (√v / √(1-β₂ᵗ) + ε)

    一句话：m、v 从 0 开始所以前几步偏小，除以 (1-βᵗ) 做偏差修正；每个参数按自己梯度的
    均方根缩放步长，于是不同尺度的参数都能用同一个 lr。
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False, differentiable=False,
                 fused=None, decoupled_weight_decay=False):
        name = type(self).__name__
        check_torch_flags(name, foreach=foreach, fused=fused, capturable=capturable,
                          differentiable=differentiable)
        lr = check_hparam(name, "lr", lr, label="learning rate")
        eps = check_hparam(name, "eps", eps)
        if isinstance(betas, (str, bytes)) or not hasattr(betas, "__len__") or len(betas) != 2:
            raise ValueError(f"{name}: invalid betas {betas!r} (expected two values in [0, 1))")
        betas = tuple(check_hparam(name, f"betas[{i}]", b, high=1.0, high_open=True, label="betas value")
                      for i, b in enumerate(betas))
        weight_decay = check_hparam(name, "weight_decay", weight_decay)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=bool(amsgrad), maximize=bool(maximize),
                                      decoupled_weight_decay=bool(decoupled_weight_decay)))

    def _update(self, group):
        lr, (b1, b2), eps = group["lr"], group["betas"], group["eps"]
        wd, amsgrad, maximize = group["weight_decay"], group["amsgrad"], group["maximize"]
        decoupled = group["decoupled_weight_decay"]
        for p, g in self._grads(group):
            theta, xp = p.array, array_module(p.array)
            state = self.state.get(p)
            if state is None:                   # 状态缓冲只分配一次，dtype 和设备与参数相同
                state = self.state[p] = {"step": 0, "exp_avg": self._zeros_like(p),
                                         "exp_avg_sq": self._zeros_like(p)}
                if amsgrad:
                    state["max_exp_avg_sq"] = self._zeros_like(p)
            state["step"] = t = state["step"] + 1
            m, v = state["exp_avg"], state["exp_avg_sq"]
            if p.device == "cuda" and theta.dtype.char in "fd" and not (amsgrad or maximize) \
                    and _fused_adam_kernel():
                _cuda_adam(theta, g, m, v, lr, b1, b2, eps, wd, t, decoupled)   # 一个融合 kernel 算完
                continue
            vmax = None
            if amsgrad:
                vmax = state.get("max_exp_avg_sq")
                if vmax is None:
                    vmax = state["max_exp_avg_sq"] = self._zeros_like(p)
            # θ -= lr/(1-β₁ᵗ) · m / (√v/√(1-β₂ᵗ) + ε); 乘开 √(1-β₂ᵗ) 后少一次遍历:
            # θ -= [lr·√(1-β₂ᵗ)/(1-β₁ᵗ)] · m / (√v + ε·√(1-β₂ᵗ))   (每个参数算一次，不是每块)
            c2 = math.sqrt(1 - b2 ** t)
            step_size, eps_t = lr * c2 / (1 - b1 ** t), eps * c2
            for theta, g, m, v, vmax in self._blocks(theta, g, m, v, vmax):   # 大参数分块（Optimizer._blocks）
                xp = array_module(theta)
                if maximize:
                    g = xp.negative(g, out=self._scratch(theta, 0))
                if wd != 0:
                    if decoupled:
                        theta *= 1 - lr * wd                                      # 解耦衰减：θ = θ(1 - lr·λ)
                    else:                                                         # L2 衰减：g = g + λθ
                        g = xp.add(g, self._scaled(theta, wd, 1), out=self._scratch(theta, 0))
                s = xp.subtract(g, m, out=self._scratch(theta, 1))                # 一阶矩：m = m + (1-β₁)(g - m)
                s *= 1 - b1
                m += s
                v *= b2                                                           # 二阶矩：v = β₂v + (1-β₂)g²
                s = xp.multiply(g, g, out=s)
                s *= 1 - b2
                v += s
                if vmax is not None:                                              # amsgrad：分母只增不减
                    xp.maximum(vmax, v, out=vmax)
                    v = vmax
                denom = xp.sqrt(v, out=s)                                         # 分母：√v + ε_t
                denom += eps_t
                step = xp.divide(m, denom, out=s)
                step *= step_size
                theta -= step


class AdamW(Adam):
    """AdamW ``AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
    maximize=False)``.

    公式：先 θ ← θ·(1 - lr·λ)，再做不含 λ 的 Adam 更新。
    一句话：把权重衰减从梯度里"解耦"出来，衰减强度不再被 Adam 的 1/√v 缩放扭曲。
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False, differentiable=False,
                 fused=None):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, foreach=foreach, maximize=maximize, capturable=capturable,
                         differentiable=differentiable, fused=fused, decoupled_weight_decay=True)
