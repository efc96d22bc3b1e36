"""动手练习：17 道自动判分的题，从标量引擎的链式法则一直到 LSTM、卷积和池化。

命令行（输出是中文）::

    python -m tinygrad_zh.exercises list                 # 题目列表
    python -m tinygrad_zh.exercises init 我的练习         # 把题目文件复制到 我的练习/
    python -m tinygrad_zh.exercises check div --dir 我的练习   # 判一道题（不写名字就判全部）
    python -m tinygrad_zh.exercises hint div             # 分步提示
    python -m tinygrad_zh.exercises check --reference    # 判参考答案（都应通过）

每道题是一个文件：写一个 ``tg.Function``（``forward``/``backward`` 作用在 NumPy 数组上，和
``tinygrad_zh/ops/`` 里的运算一样）或者一个参数更新函数。判题用 Hypothesis 生成形状和数值（固定的
随机序列，结果可重复），前向和写在判题程序里的 NumPy 参考实现对照，反向用 ``tg.gradcheck``；
不通过时给出缩小后的反例，并把你的梯度和几种典型的错误答案对照，用中文指出最可能的错误。

Graded exercises on the path scalar engine -> broadcasting -> ... -> LSTM, conv2d, max-pool. The learner
fills in stub files (``stubs/``); ``check`` grades them with Hypothesis-generated examples (derandomized,
no database), ``tg.gradcheck`` and NumPy references, shows the shrunk counterexample and recognises
typical mistakes. Reference solutions are in ``solutions/``. Python API: ``EXERCISES``, ``find(name)``,
``check(name, path)`` -> ``Report``.
"""
__all__ = ["EXERCISES", "Exercise", "Report", "check", "find", "load", "STUBS", "SOLUTIONS"]


def __getattr__(name):
    # lazy: ``from tinygrad_zh.exercises.engine import Scalar`` (page 0, exercise 1) must not need Hypothesis;
    # only grading does
    if name in __all__:
        from . import _catalog, _grading
        return getattr(_grading if name == "Report" else _catalog, name)
    raise AttributeError(f"module 'tinygrad_zh.exercises' has no attribute {name!r}")
