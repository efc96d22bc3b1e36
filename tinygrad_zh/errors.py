"""运算报错用的异常类型。

PyTorch 对形状不对、参数不合适的运算抛出 ``RuntimeError``；Python 的习惯（NumPy 也是）是 ``ValueError``。
``TensorError`` 同时是两者，所以照 PyTorch 写的 ``except RuntimeError`` 和照 Python 写的
``except ValueError`` 都能接住它。报错信息照例写明运算、形状 / dtype 和期望的是什么。

English: the error raised by ops for inputs they cannot work on (mismatched shapes, bad
arguments). It is both a ``RuntimeError`` (what PyTorch raises) and a ``ValueError`` (what Python
code expects), so code written either way catches it.
"""


class TensorError(RuntimeError, ValueError):
    """An op got inputs it cannot work on; the message names the op, the shapes and what was expected."""
