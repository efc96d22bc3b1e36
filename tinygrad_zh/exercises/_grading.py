"""判题的公共部分：运行 Hypothesis、记录缩小后的反例、识别常见错误、输出中文报告。

Grading machinery shared by all exercises:

* ``run_property`` runs one property under fixed Hypothesis settings (derandomized, no example database,
  no deadline) and returns the first and the shrunk failing example (the last one Hypothesis replays);
* ``OpSpec`` grades one learner ``tg.Function`` (array form): forward against a NumPy reference, then
  ``tg.gradcheck`` through the engine (which also checks the gradient shapes); on a failure it calls the
  learner's ``backward`` directly with a fixed upstream gradient and compares the result with the
  correct gradient (central differences of the NumPy reference) and with typical wrong ones, to name
  the likely mistake in Chinese;
* ``Report`` is what ``check`` returns and prints.
"""
import contextlib
import dataclasses
import re
import time
import traceback

import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, given, settings, strategies as st

from .. import Tensor, gradcheck
from ..ops.elementwise import unbroadcast
from ..testing.gradcheck import GradcheckError
from ..testing.strategies import elements

MAX_EXAMPLES = 25

_SETTINGS = dict(max_examples=MAX_EXAMPLES, derandomize=True, database=None, deadline=None,
                 phases=(Phase.explicit, Phase.generate, Phase.shrink), verbosity=Verbosity.quiet,
                 suppress_health_check=list(HealthCheck), report_multiple_bugs=False, print_blob=False,
                 stateful_step_count=10)


# ----------------------------------------------------------------------------- outcome types
class NotDone(Exception):
    """The learner's code still raises NotImplementedError (a stub)."""

    def __init__(self, where):
        super().__init__(where)
        self.where = where


class Failure(Exception):
    """One failing example: ``kind`` in forward/grad/shape/error/update/order, a Chinese ``message``,
    the example (``case``) and what a diagnosis needs (``data``)."""

    def __init__(self, kind, message, case, **data):
        super().__init__(message)
        self.kind, self.message, self.case, self.data = kind, message, case, data


@dataclasses.dataclass
class Report:
    """Result of grading one exercise."""
    number: int
    name: str
    title: str
    status: str                 # "pass", "fail", "todo" (stub) or "missing" (no file)
    seconds: float = 0.0
    examples: int = 0           # examples that passed
    message: str = ""           # what went wrong (Chinese)
    counterexample: str = ""    # the shrunk example, formatted
    hints: tuple = ()           # the recognised mistakes (Chinese), most likely first
    detail: str = ""            # values: yours vs expected

    @property
    def passed(self):
        return self.status == "pass"

    def format(self, verbose=True):
        head = f"{self.number:02d} {self.name}（{self.title}）"
        if self.status == "pass":
            return f"✓ {head}：通过（{self.examples} 个随机例子，{self.seconds:.1f} 秒）"
        if self.status == "missing":
            return f"· {head}：没有找到文件 {self.message}"
        if self.status == "todo":
            return f"· {head}：还没写（{self.message} 仍然 raise NotImplementedError）"
        lines = [f"✗ {head}：未通过", f"  问题：{self.message}"]
        if verbose:
            if self.counterexample:
                lines.append("  反例（Hypothesis 找到并缩小后的最简输入）：")
                lines += ["    " + ln for ln in self.counterexample.splitlines()]
            if self.detail:
                lines += ["  " + ln for ln in self.detail.splitlines()]
            for k, h in enumerate(self.hints):
                lines.append(("  提示：" if k == 0 else "  另一种可能：") + h)
            if not self.hints:
                lines.append(f"  提示：运行 python -m tinygrad_zh.exercises hint {self.name} 看推导的提示。")
        return "\n".join(lines)


# ----------------------------------------------------------------------------- hypothesis
def run_property(strategy, check_one, max_examples=MAX_EXAMPLES):
    """Run ``check_one(case)`` on examples drawn from ``strategy``.

    Returns ``(n_passed, None, None)`` when every example passes, otherwise ``(n_passed, first, last)``
    with the first failing example found and the shrunk one (a ``Failure``), or raises ``NotDone``."""
    first, last, passed = [], [], [0]
    todo = []

    @settings(**dict(_SETTINGS, max_examples=max_examples))
    @given(strategy)
    def prop(case):
        try:
            check_one(case)
        except NotDone as e:
            todo.append(e)
            raise
        except Failure as f:
            if not first:
                first.append(f)
            last[:] = [f]
            raise
        passed[0] += 1

    try:
        with np.errstate(all="ignore"):     # the learner's overflow shows up as a wrong value, not a warning
            prop()
    except NotDone:
        raise todo[-1]
    except Failure:
        pass
    except Exception as e:          # Hypothesis' own errors (Flaky: the learner's code is not deterministic)
        if not last:
            raise
        last[0].message += f"（注意：同一个输入两次运行结果不同：{type(e).__name__}）"
    if not last:
        return passed[0], None, None
    return passed[0], first[0], last[0]


_ELEMENTS = {}


def float_arrays(shape, min_value=-3.0, max_value=3.0, positive=False, margin=0.05):
    """Float64 arrays of ``shape``, one Hypothesis float per element (``testing.strategies.elements``:
    bounded, ``margin`` away from 0). The element strategy is built once per range, so drawing stays
    cheap (building ``hypothesis.extra.numpy`` strategies per example costs milliseconds)."""
    key = (min_value, max_value, positive, margin)
    el = _ELEMENTS.get(key)
    if el is None:
        el = _ELEMENTS[key] = elements(min_value, max_value, positive=positive, margin=margin)
    shape = tuple(shape)
    n = int(np.prod(shape))
    return st.lists(el, min_size=n, max_size=n).map(lambda v: np.array(v, dtype=np.float64).reshape(shape))


def seeded_arrays(shape, lo=-2.0, hi=2.0, distinct=False):
    """Arrays whose values come from one Hypothesis-drawn seed (values rounded to 0.01; ``distinct``:
    a shuffled grid with step 0.25, no ties). Used where the structure (shapes, axes, indices, strides)
    is what a mistake depends on: one choice per array instead of one per element keeps drawing and
    shrinking fast (shrinking then minimises the structure)."""
    n = int(np.prod(shape))

    def fill(seed):
        rng = np.random.default_rng(seed)
        if distinct:
            return ((rng.permutation(n) - n // 2) * 0.25 + 0.125).reshape(shape)
        return np.round(rng.uniform(lo, hi, shape), 2)
    return st.integers(0, 2 ** 16 - 1).map(fill)


# ----------------------------------------------------------------------------- formatting
def fmt_array(a):
    a = np.asarray(a)
    if a.dtype.kind == "f":
        s = np.array2string(a, precision=4, suppress_small=True, separator=", ", max_line_width=90)
    else:
        s = np.array2string(a, separator=", ", max_line_width=90)
    return s


def fmt_value(v):
    if isinstance(v, str):
        return v
    if isinstance(v, np.ndarray):
        s = fmt_array(v)
        if v.ndim >= 1:
            s += f"    （形状 {tuple(v.shape)}）" if "\n" not in s else f"\n（形状 {tuple(v.shape)}）"
        return s
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, slice):
        return f"slice({v.start}, {v.stop}, {v.step})"
    if isinstance(v, tuple):
        return "(" + ", ".join(fmt_value(x) for x in v) + ("," if len(v) == 1 else "") + ")"
    if isinstance(v, list):
        return "[" + ", ".join(fmt_value(x) for x in v) + "]"
    return repr(v)


def fmt_named(pairs):
    out = []
    for name, v in pairs:
        s = fmt_value(v)
        first, *rest = s.splitlines() or [""]
        out.append(f"{name} = {first}")
        pad = " " * (len(name) + 3)
        out += [pad + r for r in rest]
    return "\n".join(out)


_EXERCISE_FILE = re.compile(r"ex\d\d_\w+\.py$")


def learner_line(exc):
    """'（ex03_div.py 第 12 行：code）' for the deepest frame of an exercise file in the traceback."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if _EXERCISE_FILE.search(f.filename.replace("\\", "/"))]
    if not frames:
        return ""
    f = frames[-1]
    name = f.filename.replace("\\", "/").rsplit("/", 1)[-1]
    return f"（{name} 第 {f.lineno} 行：{(f.line or '').strip()}）"


def error_message(where, exc):
    return f"{where} 抛出了 {type(exc).__name__}: {exc}{learner_line(exc)}"


# ----------------------------------------------------------------------------- comparing
def close(a, b, rtol=1e-5, atol=1e-8):
    try:
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=False))


def _as_array(x):
    if x is None:
        return None
    if isinstance(x, Tensor):
        x = x.array
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        return None


HINT_SIGN = "符号反了：你的梯度正好是正确答案的相反数。检查局部导数的正负号（例如 −a/b²、y − p 还是 p − y）。"
HINT_ZERO = "梯度全是 0：backward 是不是返回了 np.zeros，或者忘了把算出来的值返回？"
HINT_UPSTREAM = ("你返回的是局部导数本身，忘了乘上游梯度 g。链式法则：∂L/∂x = g · ∂z/∂x，"
                 "backward 的参数 g 就是 ∂L/∂z。")
HINT_TRANSPOSE = "转置了：你的梯度是正确答案的转置。梯度的形状必须和输入相同，写出每个量的形状再决定乘法的顺序和转置。"
HINT_BROADCAST = ("忘了对广播的维度求和：前向时这个输入被广播（复制）到了更大的形状，复制出来的每一份都对损失有贡献，"
                  "所以梯度要把这些位置加起来。用 unbroadcast(g, 输入的形状)：前面补出来的维度整个求和，"
                  "长度为 1 的维度 keepdims=True 求和。")
HINT_RESHAPE = "元素个数对了，形状不对：求和时要 keepdims=True，或者最后 reshape 回输入的形状。"
HINT_SWAP = "两个输入的梯度交换了：backward 返回的元组要按 forward 参数的顺序排列。"


def factor_hint(k):
    if abs(k - 2) < 1e-6:
        return "差了 2 倍：你的梯度是正确答案的 2 倍。检查是不是多乘了 2（或者同一项加了两次）。"
    if abs(k - 0.5) < 1e-6:
        return "差了一半：你的梯度是正确答案的 1/2。平方求导会带出系数 2，是不是漏了？"
    if abs(k + 2) < 1e-6 or abs(k + 0.5) < 1e-6:
        return f"你的梯度是正确答案的 {k:g} 倍：符号反了，而且系数也不对（检查 2 和正负号）。"
    if k > 1 and abs(k - round(k)) < 1e-6:
        return (f"你的梯度是正确答案的 {round(k)} 倍：是不是漏了除以元素个数 {round(k)}"
                "（mean 的每个元素只分到 g/N）？")
    if 0 < k < 1 and abs(1 / k - round(1 / k)) < 1e-6:
        return f"你的梯度是正确答案的 1/{round(1 / k)}：是不是多除了一次 {round(1 / k)}？"
    return f"你的梯度和正确答案只差一个常数因子（你的 = {k:.4g} × 正确的）：检查系数。"


def constant_ratio(mine, right):
    """k when ``mine == k * right`` for one constant k != 1 (None otherwise)."""
    mine, right = np.asarray(mine, np.float64), np.asarray(right, np.float64)
    if mine.shape != right.shape or mine.size == 0:
        return None
    nz = np.abs(right) > 1e-8
    if not nz.any():
        return None
    k = float(np.median(mine[nz] / right[nz]))
    if not np.isfinite(k) or abs(k - 1) < 1e-6 or abs(k) < 1e-9:
        return None
    if int(nz.sum()) < 2 and min(abs(abs(k) - 2), abs(abs(k) - 0.5)) > 1e-6:
        return None                     # one number: any two have a ratio; only 2 or 1/2 is telling
    return k if close(mine, k * right, rtol=1e-5, atol=1e-8) else None


def shape_hints(mine_shape, in_shape, out_shapes):
    """Hints for a gradient of the wrong shape (learner's ``mine_shape`` for an input of ``in_shape``)."""
    mine_shape, in_shape = tuple(mine_shape), tuple(in_shape)
    hints = []
    try:
        bc = np.broadcast_shapes(mine_shape, in_shape) == mine_shape
    except ValueError:
        bc = False
    if bc and mine_shape != in_shape:
        hints.append(HINT_BROADCAST)
    if len(in_shape) >= 2 and mine_shape == in_shape[::-1]:
        hints.append(HINT_TRANSPOSE)
    if not hints and int(np.prod(mine_shape)) == int(np.prod(in_shape)):
        hints.append(HINT_RESHAPE)
    if not hints and mine_shape in [tuple(s) for s in out_shapes]:
        hints.append("你返回的梯度和输出一样形状：梯度的形状必须和 *输入* 相同（∂L/∂x 与 x 同形）。")
    return hints


# ----------------------------------------------------------------------------- numeric reference
def numeric_vjp(forward, arrays, kwargs, upstream, eps=1e-6):
    """∂/∂arrays of Σₖ sum(forwardₖ(arrays) · upstreamₖ), by float64 central differences."""
    arrays = [np.array(a, dtype=np.float64) for a in arrays]

    def f():
        outs = forward(*arrays, **kwargs)
        outs = outs if isinstance(outs, tuple) else (outs,)
        return sum(float(np.sum(np.asarray(o) * u)) for o, u in zip(outs, upstream) if u is not None)

    grads = []
    for a in arrays:
        g = np.zeros_like(a)
        for idx in np.ndindex(*a.shape):
            orig = a[idx]
            a[idx] = orig + eps
            fp = f()
            a[idx] = orig - eps
            fm = f()
            a[idx] = orig
            g[idx] = (fp - fm) / (2 * eps)
        grads.append(g)
    return grads


# ----------------------------------------------------------------------------- ops (tg.Function)
@dataclasses.dataclass
class Case:
    """One example for an op: input arrays (named, in order) and keyword arguments."""
    names: tuple
    arrays: tuple
    kwargs: dict = dataclasses.field(default_factory=dict)
    outputs: str = "all"        # multi-output ops: which outputs the loss uses ("all" or an index)

    def describe(self):
        pairs = list(zip(self.names, self.arrays)) + [(k, v) for k, v in self.kwargs.items()]
        return fmt_named(pairs)


@dataclasses.dataclass
class OpSpec:
    """How to grade one ``tg.Function`` subclass that the learner writes.

    forward: NumPy reference ``forward(*arrays, **kwargs)`` (a tuple for several outputs).
    mistakes: ``mistakes(case, upstream, correct) -> [(input_index, wrong_gradient, hint)]``: typical
        wrong gradients, compared with the learner's.
    shape_hints: ``shape_hints(case, i, learner_shape) -> [hint]`` for wrong gradient shapes.
    forward_hints: ``forward_hints(case, outs, expected) -> [hint]`` for wrong forward values.
    """
    cls: str
    strategy: object
    forward: object
    n_outputs: int = 1
    mistakes: object = None
    shape_hints: object = None
    forward_hints: object = None
    error_hints: object = None
    rtol: float = 1e-3
    max_examples: int = MAX_EXAMPLES
    out_names: tuple = ()       # names of several outputs (the upstream gradients are shown as ∂L/∂name)

    # -- the property --------------------------------------------------------------------------
    def run(self, cls, case, backward=True):
        """One example through the engine: forward vs the reference, then tg.gradcheck."""
        tensors = [Tensor(np.array(a, dtype=np.float64), dtype="float64", requires_grad=True)
                   for a in case.arrays]
        try:
            out = cls.apply(*tensors, **case.kwargs)
        except NotImplementedError:
            raise NotDone(f"{self.cls}.forward") from None
        except Exception as e:
            raise Failure("error", error_message(f"{self.cls}.forward", e), case, exc=e, where="forward")
        outs = tuple(out) if isinstance(out, (tuple, list)) else (out,)
        expected = self.forward(*[np.array(a) for a in case.arrays], **case.kwargs)
        expected = expected if isinstance(expected, tuple) else (expected,)
        if len(outs) != len(expected):
            raise Failure("forward", f"{self.cls}.forward 应该返回 {len(expected)} 个数组，你返回了 {len(outs)} 个",
                          case, outs=None, expected=expected)
        mine = tuple(np.asarray(o.array) for o in outs)
        for k, (m, e) in enumerate(zip(mine, expected)):
            if m.shape != np.shape(e) or not close(m, e, rtol=1e-6, atol=1e-9):
                what = f"第 {k + 1} 个输出" if len(outs) > 1 else "输出"
                why = (f"形状是 {m.shape}，应为 {np.shape(e)}" if m.shape != np.shape(e) else "数值不对")
                raise Failure("forward", f"{self.cls}.forward 的{what}{why}", case, outs=mine,
                              expected=expected, index=k)
        if not backward:
            return
        # 1) one backward pass through the engine with a fixed upstream gradient, compared with central
        #    differences of the NumPy reference (cheap: this is what fails while Hypothesis shrinks)
        ups = self.upstream(case, expected)
        loss = None
        for o, u in zip(outs, ups):
            if u is not None:
                term = (o * Tensor(u, dtype="float64")).sum()
                loss = term if loss is None else loss + term
        with self._backward_errors(case):
            loss.backward()
        correct = numeric_vjp(self.forward, case.arrays, case.kwargs, ups)
        for i, (t, c) in enumerate(zip(tensors, correct)):
            g = None if t.grad is None else np.asarray(t.grad.array)
            if g is None or not close(g, c, rtol=1e-4, atol=1e-6):
                raise Failure("grad", f"{self.cls}.backward 给输入 {case.names[i]} 的梯度不对", case, index=i)

        # 2) tg.gradcheck (finite differences of the learner's own forward)
        def fn(*ts):
            res = cls.apply(*ts, **case.kwargs)
            return self.pick(res, case)

        with self._backward_errors(case):
            try:
                gradcheck(fn, [Tensor(np.array(a, dtype=np.float64), dtype="float64") for a in case.arrays],
                          rtol=self.rtol)
            except GradcheckError as e:
                m = re.search(r"input (\d+)", str(e))
                i = int(m.group(1)) if m else 0
                raise Failure("grad", f"{self.cls}.backward 给输入 {case.names[i]} 的梯度不对（{_gradcheck_zh(e)}）",
                              case, index=i) from None

    @contextlib.contextmanager
    def _backward_errors(self, case):
        """Turn what the learner's backward raises (and the engine's checks) into a Failure."""
        try:
            yield
        except (Failure, NotDone):
            raise
        except NotImplementedError:
            raise NotDone(f"{self.cls}.backward") from None
        except RuntimeError as e:
            s = str(e)
            m = re.search(r"gradient of shape \(([^)]*)\) for input (\d+), which has shape \(([^)]*)\)", s)
            if m:
                i = int(m.group(2))
                raise Failure("shape", f"{self.cls}.backward 给输入 {case.names[i]} 的梯度形状是 ({m.group(1)})，"
                                       f"但 {case.names[i]} 的形状是 ({m.group(3)})（引擎检查出的错误）",
                              case, index=i) from None
            if "gradients, expected" in s:
                raise Failure("error", f"{self.cls}.backward 返回的梯度个数不对：要按输入的顺序每个输入返回一个"
                                       f"（{len(case.arrays)} 个，不需要梯度的写 None）。引擎说：{s}", case) from None
            raise Failure("error", error_message(f"{self.cls}.backward", e), case, exc=e, where="backward") from None
        except Exception as e:
            raise Failure("error", error_message(f"{self.cls}.backward", e), case, exc=e, where="backward") from None

    def pick(self, res, case):
        """The tensor gradcheck differentiates: the output, or for several outputs the one named by
        ``case.outputs`` (an index) or a weighted sum of all of them ("all")."""
        if self.n_outputs == 1:
            return res
        if case.outputs == "all":
            total = res[0]
            for k, r in enumerate(res[1:], 1):
                total = total + r * (0.5 + 0.25 * k)
            return total
        return res[case.outputs]

    def upstream(self, case, expected):
        """A fixed upstream gradient per output (None for an output the loss does not use)."""
        rng = np.random.default_rng(1234)
        ups = [np.round(rng.uniform(-1.5, 1.5, np.shape(e)), 1) + 0.05 for e in expected]
        if self.n_outputs > 1 and case.outputs != "all":
            ups = [u if k == case.outputs else None for k, u in enumerate(ups)]
        return ups

    # -- diagnosis -----------------------------------------------------------------------------
    def learner_grads(self, cls, case, upstream):
        fn = cls()
        fn.needs_input_grad = (True,) * len(case.arrays)
        fn.may_overwrite_saved = False
        fn.forward(*[np.array(a, dtype=np.float64) for a in case.arrays], **case.kwargs)
        g = fn.backward(*upstream)
        return g if isinstance(g, tuple) else (g,)

    def diagnose(self, cls, failure):
        """(detail text, [hints]) for a failure on ``failure.case``."""
        case = failure.case
        if failure.kind == "forward":
            return self._diagnose_forward(failure)
        if failure.kind == "error":
            return "", self._error_hints(failure)
        expected = self.forward(*[np.array(a) for a in case.arrays], **case.kwargs)
        expected = expected if isinstance(expected, tuple) else (expected,)
        ups = self.upstream(case, expected)
        try:
            with np.errstate(all="ignore"):
                mine = self.learner_grads(cls, case, ups)
        except Exception as e:          # noqa: BLE001 - reported to the learner
            return "", [error_message(f"直接调用 {self.cls}.backward 时", e)]
        correct = numeric_vjp(self.forward, case.arrays, case.kwargs, ups)
        names = self.out_names or tuple(f"输出{k + 1}" for k in range(len(ups)))
        lines = [fmt_named([("上游梯度 g" if len(ups) == 1 else f"上游梯度 d{names[k]} = ∂L/∂{names[k]}",
                             u if u is not None else "None（这个输出没有用到）") for k, u in enumerate(ups)])]
        hints = []
        order = [failure.data.get("index", 0)] + [i for i in range(len(case.arrays))
                                                  if i != failure.data.get("index", 0)]
        for i in order:
            name = case.names[i]
            m = _as_array(mine[i]) if i < len(mine) else None
            c = correct[i]
            if m is not None and close(m, c, rtol=1e-4, atol=1e-7):
                continue
            lines.append(fmt_named([(f"你的 ∂L/∂{name}", m if m is not None else None),
                                    (f"正确的 ∂L/∂{name}", c)]))
            hints += self._grad_hints(case, i, m, c, correct, mine, ups, expected)
            break
        return "\n".join(lines), _unique(hints)

    def _grad_hints(self, case, i, m, c, correct, mine, ups, expected):
        name = case.names[i]
        if i >= len(mine) or mine[i] is None:
            return [f"你给 {name} 返回了 None，但它需要梯度。"]
        if m is None:
            return [f"给 {name} 的梯度不是数组：backward 要返回 NumPy 数组。"]
        if not np.all(np.isfinite(m)):
            return ["梯度里有 inf 或 nan：是不是 exp 溢出了，或者除以了 0？"
                    "（softmax 要先减去每行的最大值；能用前向存下的输出就别重新算 exp）"]
        hints = []
        if m.shape != c.shape:
            if self.shape_hints is not None:
                hints += self.shape_hints(case, i, m.shape) or []
            if not hints:
                hints += shape_hints(m.shape, c.shape, [np.shape(e) for e in expected])
            return hints or [f"梯度形状 {m.shape} 和输入 {name} 的形状 {c.shape} 不同。"]
        if self.mistakes is not None:
            for j, wrong, hint in self.mistakes(case, ups, correct):
                if j == i and wrong is not None and np.shape(wrong) == c.shape and close(m, wrong, 1e-4, 1e-7) \
                        and not close(wrong, c, 1e-4, 1e-7):
                    hints.append(hint)
        if hints:                       # a specific mistake was recognised: the generic ones add nothing
            return hints
        if len(ups) == 1 and ups[0].shape == c.shape and close(m, c / ups[0], 1e-4, 1e-7):
            return [HINT_UPSTREAM]
        for j, cj in enumerate(correct):
            if j != i and cj.shape == c.shape and close(m, cj, 1e-4, 1e-7) and not close(cj, c, 1e-4, 1e-7):
                hints.append(HINT_SWAP)
        if close(m, -c, 1e-4, 1e-7):
            hints.append(HINT_SIGN)
        k = constant_ratio(m, c)
        if k is not None and abs(k + 1) > 1e-6:
            hints.append(factor_hint(k))
        if not np.any(m) and np.any(c):
            hints.append(HINT_ZERO)
        if m.ndim == 2 and m.shape[0] == m.shape[1] and close(m, c.T, 1e-4, 1e-7) and not close(c, c.T):
            hints.append(HINT_TRANSPOSE)
        return hints

    def _diagnose_forward(self, failure):
        case = failure.case
        outs, expected = failure.data.get("outs"), failure.data.get("expected")
        if outs is None:
            return "", []
        k = failure.data.get("index", 0)
        m, e = np.asarray(outs[k], dtype=np.float64), np.asarray(expected[k], dtype=np.float64)
        lines = fmt_named([("你的输出", m), ("正确的输出", e)])
        hints = []
        if self.forward_hints is not None:
            hints += self.forward_hints(case, m, e) or []
        if hints:
            return lines, _unique(hints)
        if not np.all(np.isfinite(m)):
            hints.append("输出里有 inf 或 nan：是不是 exp 溢出了？（例如 softmax 要先减去每行的最大值）")
        if m.shape != e.shape:
            if m.size == e.size:
                hints.append("元素个数对了，形状不对：注意 keepdims，或者 reshape 成要求的形状。")
            else:
                hints.append(f"输出的形状应为 {e.shape}，你的是 {m.shape}。")
        else:
            if close(m, -e):
                hints.append("符号反了：你的输出正好是正确答案的相反数。")
            r = constant_ratio(m, e)
            if r is not None and abs(r + 1) > 1e-6:
                hints.append(f"你的输出是正确答案的 {r:.4g} 倍：检查系数（例如 mean 要除以元素个数）。")
        return lines, _unique(hints)

    def _error_hints(self, failure):
        hints = []
        exc = failure.data.get("exc")
        if self.error_hints is not None and exc is not None:
            hints += self.error_hints(failure.case, exc, failure.data.get("where")) or []
        if hints:
            return hints
        if exc is not None and re.search(r"'(float|int|list|tuple)' object", str(exc)):
            hints.append("forward/backward 要返回 NumPy 数组（np.ndarray），不是 Python 的 float 或 list。")
        if exc is not None and isinstance(exc, ValueError) and ("matmul" in str(exc) or "broadcast" in str(exc)
                                                                 or "shapes" in str(exc)):
            hints.append("形状对不上：把每个量的形状写在注释里（例如 g: (N, M)，B: (K, M)），"
                         "梯度必须和对应的输入同形，用转置把形状凑对。")
        return hints


def _gradcheck_zh(e):
    m = re.search(r"at index (\(.*?\)): analytic (\S+) vs numeric (\S+),", str(e))
    if not m:
        return f"gradcheck：{e}"
    return f"gradcheck：在下标 {m.group(1)} 处，反向传播得到 {m.group(2)}，中心差分得到 {m.group(3)}"


def _unique(xs):
    out = []
    for x in xs:
        if x not in out:
            out.append(x)
    return out


def grade_op(spec, cls):
    """Grade one op; returns (n_passed, failure or None, (detail, hints))."""
    if cls is None:
        raise NotDone(spec.cls)
    # forward first (its own Hypothesis run), so that a wrong forward is reported as such and not as
    # whatever wrong gradient Hypothesis shrinks to
    n, first, last = run_property(spec.strategy, lambda case: spec.run(cls, case, backward=False),
                                  max(spec.max_examples // 2, 1))
    if last is None:
        n, first, last = run_property(spec.strategy, lambda case: spec.run(cls, case), spec.max_examples)
    if last is None:
        return n, None, ("", [])
    detail, hints = spec.diagnose(cls, last)
    if first is not None and first is not last and len(hints) > 1 and first.kind == last.kind:
        try:
            _, first_hints = spec.diagnose(cls, first)
        except Exception:               # noqa: BLE001
            first_hints = []
        both = [h for h in hints if h in first_hints]
        if both:
            hints = both + [h for h in hints if h not in both]
    return n, last, (detail, hints)


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


__all__ = ["Case", "OpSpec", "Failure", "NotDone", "Report", "run_property", "grade_op", "numeric_vjp",
           "fmt_named", "fmt_value", "close", "unbroadcast", "constant_ratio", "factor_hint", "error_message"]
