"""测试工具：gradcheck 与 Hypothesis 策略（strategies 需要安装 hypothesis）。

``tinygrad_zh.testing.gradcheck`` works without Hypothesis; the strategies (``shapes``, ``tensors``,
``arrays``, ``broadcastable_shapes``, ``load_ci_profile`` ...) are imported on first use, so
``import tinygrad_zh.testing`` never needs Hypothesis.
"""
from .gradcheck import GradcheckError, gradcheck

_STRATEGY_NAMES = ("PROFILE", "DEV_PROFILE", "load_ci_profile", "shapes", "broadcastable_shapes",
                   "matmul_shapes", "axes", "elements", "scalars", "arrays", "tensors")

__all__ = ["gradcheck", "GradcheckError", "strategies", *_STRATEGY_NAMES]


def __getattr__(name):
    # lazy: only touching a strategy imports hypothesis
    if name == "strategies" or name in _STRATEGY_NAMES:
        import importlib
        mod = importlib.import_module(".strategies", __name__)
        return mod if name == "strategies" else getattr(mod, name)
    raise AttributeError(f"module 'tinygrad_zh.testing' has no attribute {name!r}")
