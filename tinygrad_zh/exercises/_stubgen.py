"""从参考答案生成题目文件：``# >>> 答案`` 与 ``# <<< 答案`` 之间的代码换成 ``raise NotImplementedError``。

``python -m tinygrad_zh.exercises._stubgen`` rewrites ``stubs/`` from ``solutions/`` (a test checks that
they agree, so a stub can never drift from its solution)."""
import re

from ._catalog import EXERCISES, STUBS

_REGION = re.compile(r"^([ \t]*)# >>> 答案\n.*?^[ \t]*# <<< 答案\n", re.S | re.M)
STUB_LINE = 'raise NotImplementedError("在这里写你的代码")\n'


def make_stub(solution_text):
    """The stub for a solution file's text."""
    return _REGION.sub(lambda m: m.group(1) + STUB_LINE, solution_text)


def main():
    STUBS.mkdir(exist_ok=True)
    for e in EXERCISES:
        e.stub.write_text(make_stub(e.solution.read_text(encoding="utf-8")), encoding="utf-8")
        print("wrote", e.stub)


if __name__ == "__main__":
    main()
