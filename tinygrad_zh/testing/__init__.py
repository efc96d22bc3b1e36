"""测试工具：gradcheck 与 Hypothesis 策略（strategies 需要安装 hypothesis）。"""
from .gradcheck import GradcheckError, gradcheck

__all__ = ["gradcheck", "GradcheckError"]
