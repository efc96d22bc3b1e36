"""不是 ``tg.Function`` 的练习的判题：1 标量引擎的 backward，13 带动量的 SGD，14 Adam 的一步。

Exercise 1 builds random expression graphs (with reused nodes) on the page-0 engine, runs the learner's
``topological_order``/``backward`` and compares the leaf gradients with ``tinygrad_zh`` computing the same
expression; typical wrong backward passes (overwrite instead of accumulate, no upstream factor, no seed,
propagate before all gradients arrived, wrong order) are run too and recognised.
Exercises 13/14 run the learner's update rule for a few steps (a learning-rate schedule, optional weight
decay) and compare every step with a NumPy reference written here (tested against ``tg.optim``), and
with typical wrong rules.
"""
import dataclasses

import numpy as np
from hypothesis import strategies as st

import tinygrad_zh as tg

from ..testing.strategies import elements
from ._grading import Failure, NotDone, close, error_message, fmt_named, run_property, seeded_arrays
from .engine import Scalar

# ============================================================================= 01 scalar backward
BINARY = ("+", "*", "-")
UNARY = ("tanh", "sigmoid")


@dataclasses.dataclass
class GraphCase:
    leaves: tuple
    ops: tuple              # (op, i, j): node = nodes[i] op nodes[j]  (j is None for tanh/sigmoid)

    def describe(self):
        lines = [f"x{k} = Scalar({v:.6g})" for k, v in enumerate(self.leaves)]
        n = len(self.leaves)
        names = [f"x{k}" for k in range(n)]
        for op, i, j in self.ops:
            name = f"n{len(names)}"
            expr = f"{names[i]} {op} {names[j]}" if op in BINARY else f"{names[i]}.{op}()"
            lines.append(f"{name} = {expr}")
            names.append(name)
        lines.append(f"root = {names[-1]}")
        return "\n".join(lines)


@st.composite
def graph_cases(draw):
    n = draw(st.integers(1, 3))
    leaves = tuple(draw(elements(-2.0, 2.0)) for _ in range(n))
    ops = []
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(BINARY + UNARY))
        i = draw(st.integers(0, n - 1))
        j = draw(st.integers(0, n - 1)) if op in BINARY else None
        ops.append((op, i, j))
        n += 1
    return GraphCase(leaves, tuple(ops))


def build(case, leaf):
    nodes = [leaf(v) for v in case.leaves]
    for op, i, j in case.ops:
        a = nodes[i]
        if op == "+":
            nodes.append(a + nodes[j])
        elif op == "*":
            nodes.append(a * nodes[j])
        elif op == "-":
            nodes.append(a - nodes[j])
        else:
            nodes.append(getattr(a, op)())
    return nodes


def tg_leaf_grads(case):
    nodes = build(case, lambda v: tg.tensor(v, dtype="float64", requires_grad=True))
    nodes[-1].backward()
    return [0.0 if t.grad is None else t.grad.item() for t in nodes[:len(case.leaves)]]


def _order(root):
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
        elif node not in seen:
            seen.add(node)
            stack.append((node, True))
            stack += [(p, False) for p in node.parents]
    return order


def _wrong_backward(kind):
    """Typical wrong versions of backward(root) (each on a fresh graph)."""
    def run(root):
        if kind == "early":                     # propagate as soon as a node is first reached
            root.grad, seen = 1.0, set()

            def visit(node):
                if node in seen:
                    return
                seen.add(node)
                for p, local in zip(node.parents, node.local_grads):
                    p.grad += local * node.grad
                    visit(p)
            visit(root)
            return
        order = _order(root)
        if kind != "no_seed":
            root.grad = 1.0
        for node in (order if kind == "forward_order" else reversed(order)):
            for p, local in zip(node.parents, node.local_grads):
                if kind == "overwrite":
                    p.grad = local * node.grad
                elif kind == "no_upstream":
                    p.grad += local
                else:
                    p.grad += local * node.grad
    return run


SCALAR_MISTAKES = {
    "overwrite": "梯度要累加（+=），不能覆盖（=）：一个节点被用了几次，就有几份梯度传回来，要全部加起来。",
    "no_upstream": "忘了乘 node.grad：链式法则是 parent.grad += local × node.grad，local 只是这一条边的局部导数。",
    "no_seed": "忘了先设 root.grad = 1（∂root/∂root = 1）：没有它，乘出来全是 0。",
    "early": ("一个节点收到第一份梯度就往下传了：必须等所有用到它的节点都处理完、它的梯度收齐了，才能处理它。"
              "先排出拓扑序，再倒着走一遍。"),
    "forward_order": "顺序反了：要从 root 开始，按拓扑序 *倒着* 走（for node in reversed(order)）。",
}


def _check_order(module, case):
    nodes = build(case, Scalar)
    root = nodes[-1]
    fn = getattr(module, "topological_order", None)
    if fn is None:
        raise Failure("error", "文件里没有 topological_order 函数", case)
    try:
        order = fn(root)
    except NotImplementedError:
        raise NotDone("topological_order") from None
    except Exception as e:
        raise Failure("error", error_message("topological_order", e), case) from None
    names = {id(n): (f"x{k}" if k < len(case.leaves) else f"n{k}") for k, n in enumerate(nodes)}
    reach = _order(root)
    try:
        order = list(order)
    except TypeError:
        raise Failure("order", "topological_order 要返回一个 list", case) from None
    ids = [id(n) for n in order]
    for n in reach:
        if id(n) not in ids:
            raise Failure("order", f"topological_order 的结果里缺少节点 {names[id(n)]}", case)
    for k, n in enumerate(order):
        if ids.count(id(n)) > 1:
            raise Failure("order", f"节点 {names.get(id(n), '?')} 出现了不止一次：用一个 set 记住访问过的节点", case)
        for p in getattr(n, "parents", ()):
            if id(p) in ids and ids.index(id(p)) > k:
                raise Failure("order", f"节点 {names.get(id(n), '?')} 排在了它的输入 {names.get(id(p), '?')} "
                                       "前面：每个节点要排在它的所有输入之后（先 visit 输入，再 append 自己）", case)
    if len(order) != len(reach):
        raise Failure("order", "topological_order 返回了 root 到达不了的节点", case)


def _check_backward(module, case, twice=False):
    fn = getattr(module, "backward", None)
    if fn is None:
        raise Failure("error", "文件里没有 backward 函数", case)
    right = tg_leaf_grads(case)
    nodes = build(case, Scalar)
    try:
        fn(nodes[-1])
    except NotImplementedError:
        raise NotDone("backward") from None
    except RecursionError:
        raise Failure("error", "backward 递归太深（RecursionError）", case) from None
    except Exception as e:
        raise Failure("error", error_message("backward", e), case) from None
    mine = [n.grad for n in nodes[:len(case.leaves)]]
    if not close(mine, right, rtol=1e-6, atol=1e-9):
        raise Failure("grad", "叶子的梯度不对", case, mine=mine, right=right)
    if not twice:
        return
    try:
        fn(nodes[-1])
    except Exception as e:
        raise Failure("error", error_message("第二次调用 backward", e), case) from None
    again = [n.grad for n in nodes[:len(case.leaves)]]
    if not close(again, [2 * r for r in right], rtol=1e-6, atol=1e-9):
        raise Failure("accumulate", "对同一张图第二次调用 backward 之后，叶子的梯度应该是原来的 2 倍（叶子上累加，同 PyTorch）",
                      case, mine=again, right=[2 * r for r in right], first=mine)


# fixed graphs that tell the typical mistakes apart (reuse, non-unit local derivatives, a chain)
PROBES = (GraphCase((1.5, -0.5), (("*", 0, 1), ("*", 2, 0), ("+", 3, 2))),
          GraphCase((0.7,), (("*", 0, 0), ("tanh", 1, None), ("*", 2, 1), ("-", 3, 0))),
          GraphCase((0.3, 1.2), (("+", 0, 1), ("sigmoid", 2, None), ("*", 3, 2), ("+", 4, 4))))


def _leaf_grads(backward, case):
    nodes = build(case, Scalar)
    backward(nodes[-1])
    return [x.grad for x in nodes[:len(case.leaves)]]


def _scalar_hints(failure, learner):
    """Typical mistakes that give the learner's gradients on the failing example, preferring those that
    also agree with the learner on the probe graphs."""
    found = [(kind, hint) for kind, hint in SCALAR_MISTAKES.items()
             if close(failure.data["mine"], _leaf_grads(_wrong_backward(kind), failure.case), 1e-6, 1e-9)]
    if len(found) <= 1:
        return [h for _, h in found]
    try:
        mine = [_leaf_grads(learner, c) for c in PROBES]
    except Exception:                   # noqa: BLE001
        return [h for _, h in found]
    sure = [h for kind, h in found
            if all(close(m, _leaf_grads(_wrong_backward(kind), c), 1e-6, 1e-9) for m, c in zip(mine, PROBES))]
    return sure + [h for _, h in found if h not in sure]


def prefer_common(hints, first, last, diagnose):
    """With several candidate hints on the shrunk example, put first those that also explain the first
    failing example (random values: a stronger fingerprint than the shrunk one)."""
    if len(hints) <= 1 or first is None or first is last or first.kind != last.kind:
        return hints
    other = diagnose(first)
    both = [h for h in hints if h in other]
    return both + [h for h in hints if h not in both]


def grade_scalar(module):
    """Three stages, each its own Hypothesis run (so a hint is about the first thing that is wrong):
    the topological order, one backward pass, a second backward pass on the same graph."""
    n = 0
    for stage in (lambda case: _check_order(module, case), lambda case: _check_backward(module, case),
                  lambda case: _check_backward(module, case, twice=True)):
        k, first, last = run_property(graph_cases(), stage)
        n += k
        if last is not None:
            break
    if last is None:
        return n, None, "", []
    case, d = last.case, last.data
    detail, hints = "", []
    if last.kind in ("grad", "accumulate"):
        leaves = [f"x{k}" for k in range(len(case.leaves))]
        detail = fmt_named([("你的梯度", "  ".join(f"{x}: {v:.6g}" for x, v in zip(leaves, d["mine"]))),
                            ("正确的梯度", "  ".join(f"{x}: {v:.6g}" for x, v in zip(leaves, d["right"])))])
    if last.kind == "grad":
        hints = _scalar_hints(last, module.backward)
    elif last.kind == "accumulate":
        if close(d["mine"], d["first"], 1e-6, 1e-9):
            hints.append("叶子的梯度被清零了：backward 只应清零 *中间* 节点（有 parents 的），叶子上要累加，"
                         "由训练循环在每一步开始时清零（同 PyTorch 的 zero_grad）。")
        else:
            hints.append("中间节点的 grad 在第二次 backward 之前没有清零：它们带着上一次的梯度往下传，叶子就多加了。"
                         "开始时把所有有 parents 的节点的 grad 设为 0。")
    return n, last, detail, hints


# ============================================================================= 13 / 14 update rules
@dataclasses.dataclass
class UpdateCase:
    p0: np.ndarray
    grads: tuple
    lrs: tuple
    hyper: dict

    def describe(self):
        pairs = [("param", self.p0)] + [(f"第 {k + 1} 步的 grad", g) for k, g in enumerate(self.grads)]
        pairs.append(("每一步的 lr", list(self.lrs)))
        pairs += list(self.hyper.items())
        return fmt_named(pairs)


@st.composite
def update_cases(draw, hyper):
    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=2)))
    steps = draw(st.integers(1, 4))
    p0 = draw(seeded_arrays(shape))
    grads = tuple(draw(seeded_arrays(shape)) for _ in range(steps))
    lrs = tuple(draw(st.sampled_from([0.1, 0.5, 0.05])) for _ in range(steps))
    h = {k: draw(v) for k, v in hyper.items()}
    if "nesterov" in h and h.get("momentum", 0) == 0:
        h["nesterov"] = False
    return UpdateCase(p0, grads, lrs, h)


# -- 13 SGD
def sgd_reference(p, g, v, lr, momentum=0.0, weight_decay=0.0, nesterov=False, mistake=None):
    """PyTorch's SGD step (dampening 0) on arrays; ``mistake`` reproduces a typical wrong version."""
    d = g if mistake in ("no_wd", "wd_after") else g + weight_decay * p
    if mistake == "dampening":
        v = momentum * v + (1 - momentum) * d
    elif mistake == "lr_inside":
        v = momentum * v + lr * d
        return p - (d * lr + momentum * v if nesterov else v), v
    else:
        v = momentum * v + d
    step = d + momentum * v if nesterov and mistake != "no_nesterov" else v
    if mistake == "wd_after":
        step = step + weight_decay * p
    if mistake == "sign":
        return p + lr * step, v
    return p - lr * step, v


SGD_MISTAKES = {
    "sign": "方向反了：要沿 *负* 梯度走，param − lr·v。",
    "dampening": ("速度更新里多了 (1 − momentum)：PyTorch 的默认写法是 v ← μ·v + g（没有阻尼），"
                  "(1 − μ)·g 是指数滑动平均的写法，步长会小很多。"),
    "lr_inside": ("学习率要乘在速度 *外面*：v ← μ·v + g，param ← param − lr·v（PyTorch 的写法）。把 lr 乘进 v 里，"
                  "学习率变化时（学习率调度）两种写法的结果就不同了。"),
    "no_wd": "忘了权重衰减：先把 weight_decay·param 加到梯度上（g ← g + λ·param），再更新速度。",
    "wd_after": "权重衰减要在更新速度 *之前* 加到梯度上（g ← g + λ·param），这样它也会累积进动量。",
    "no_nesterov": "nesterov=True 时，走的方向是 g + μ·v（用更新后的 v 再\"往前看\"一步），不是 v。",
}


# -- 14 Adam
def adam_reference(p, g, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, mistake=None):
    """PyTorch's Adam step (L2 weight decay, no amsgrad) on arrays; ``mistake`` reproduces a wrong version."""
    if mistake == "adamw":
        p = p * (1 - lr * weight_decay)
    elif mistake != "no_wd":
        g = g + weight_decay * p
    b1, b2 = (beta2, beta1) if mistake in ("swap_betas", "swap_betas_all") else (beta1, beta2)
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * (np.abs(g) if mistake == "no_square" else g * g)
    if mistake == "swap_betas":             # swapped in the moment updates only
        b1, b2 = beta1, beta2
    tt = t - 1 if mistake == "t_from_0" else t
    with np.errstate(divide="ignore", invalid="ignore"):
        c1 = 1.0 if mistake == "no_bias_correction" else 1 - b1 ** tt
        c2 = 1.0 if mistake in ("no_bias_correction", "bias_m_only") else 1 - b2 ** tt
        mhat, vhat = m / c1, v / c2
        denom = np.sqrt(vhat + eps) if mistake == "eps_inside" else np.sqrt(vhat) + eps
        step = lr * mhat / denom
    return (p + step if mistake == "sign" else p - step), m, v


ADAM_MISTAKES = {
    "sign": "方向反了：param ← param − lr · m̂ / (√v̂ + ε)。",
    "no_bias_correction": ("漏了偏差修正：m、v 从 0 开始，前几步偏小，要除以 (1 − β₁ᵗ) 和 (1 − β₂ᵗ)："
                           "m̂ = m/(1 − β₁ᵗ)，v̂ = v/(1 − β₂ᵗ)。"),
    "bias_m_only": "v 也要做偏差修正：v̂ = v / (1 − β₂ᵗ)。",
    "eps_inside": "ε 加在根号 *外面*：√v̂ + ε，不是 √(v̂ + ε)（ε 较大时两者差别明显）。",
    "swap_betas": "β₁ 和 β₂ 用反了：一阶矩 m 用 β₁（默认 0.9），二阶矩 v 用 β₂（默认 0.999）。",
    "swap_betas_all": "β₁ 和 β₂ 用反了：一阶矩 m 用 β₁（默认 0.9），二阶矩 v 用 β₂（默认 0.999）。",
    "no_square": "二阶矩是梯度 *平方* 的滑动平均：v ← β₂·v + (1 − β₂)·g²。",
    "t_from_0": "步数 t 从 1 开始（第一步 t = 1）：t = 0 时 1 − βᵗ = 0，偏差修正会除以 0。",
    "no_wd": "忘了权重衰减：Adam 的 weight_decay 是 L2 形式，先 g ← g + λ·param。",
    "adamw": "这是 AdamW 的解耦权重衰减（param ← param·(1 − lr·λ)）；这里要的是 Adam 的 L2 形式 g ← g + λ·param。",
}


@dataclasses.dataclass
class UpdateSpec:
    function: str
    state: tuple                 # names of the state arrays, e.g. ("velocity",) or ("m", "v")
    hyper: dict                  # strategies of the hyper-parameters
    reference: object
    mistakes: dict
    needs_t: bool = False

    def trajectory(self, fn, case, mistake=None, learner=False):
        p = case.p0.copy()
        state = [np.zeros_like(p) for _ in self.state]
        out = []
        for k, (g, lr) in enumerate(zip(case.grads, case.lrs)):
            args = [p.copy(), g.copy(), *[s.copy() for s in state]]
            if self.needs_t:
                args.append(k + 1)
            kw = dict(case.hyper, lr=lr)
            res = fn(*args, **kw) if learner else fn(*args, mistake=mistake, **kw)
            if not isinstance(res, (tuple, list)) or len(res) != 1 + len(self.state):
                raise TypeError(f"{self.function} 要返回 {1 + len(self.state)} 个数组："
                                f"(param, {', '.join(self.state)})，你返回了 {type(res).__name__}")
            p, *state = [np.asarray(r, dtype=np.float64) for r in res]
            out.append((p, *state))
        return out

    def grade(self, module):
        fn = getattr(module, self.function, None)
        if fn is None:
            raise NotDone(self.function)
        names = ("param",) + self.state

        def check(case):
            right = self.trajectory(self.reference, case)
            try:
                mine = self.trajectory(fn, case, learner=True)
            except NotImplementedError:
                raise NotDone(self.function) from None
            except Exception as e:
                raise Failure("error", error_message(self.function, e), case) from None
            for k, (m, r) in enumerate(zip(mine, right)):
                for name, a, b in zip(names, m, r):
                    if name == "velocity" and case.hyper.get("momentum", 1) == 0:
                        continue            # without momentum the velocity is not used
                    if not close(a, b, rtol=1e-7, atol=1e-10):
                        raise Failure("update", f"第 {k + 1} 步之后 {name} 不对", case, step=k, name=name,
                                      mine=mine, right=right)

        n, first, last = run_property(update_cases(self.hyper), check)
        if last is None:
            return n, None, "", []
        detail, hints = "", []
        if last.kind == "update":
            d = last.data
            k, name = d["step"], d["name"]
            j = names.index(name)
            detail = fmt_named([(f"你的 {name}", d["mine"][k][j]), (f"正确的 {name}", d["right"][k][j])])
            hints = prefer_common(self.hints(last), first, last, self.hints)
        return n, last, detail, hints

    def hints(self, failure):
        """The typical wrong rules whose parameters match the learner's up to the failing step."""
        d, out = failure.data, []
        if failure.kind != "update":
            return out
        k, case = d["step"], failure.case
        used = [j for j, name in enumerate(("param",) + self.state)
                if not (name == "velocity" and case.hyper.get("momentum", 1) == 0)]

        def same(a, b):
            return all(close(x[j], y[j], 1e-7, 1e-10) for x, y in zip(a[:k + 1], b[:k + 1]) for j in used)
        for mistake, hint in self.mistakes.items():
            wrong = self.trajectory(self.reference, case, mistake=mistake)
            if same(wrong, d["right"]):
                continue                    # this mistake makes no difference on this example
            if same(d["mine"], wrong) or (not np.all(np.isfinite(d["mine"][k][0]))
                                          and not np.all(np.isfinite(wrong[k][0]))):
                out.append(hint)
        return out


SGD_SPEC = UpdateSpec("sgd_step", ("velocity",),
                      {"momentum": st.sampled_from([0.9, 0.5, 0.0]), "weight_decay": st.sampled_from([0.0, 0.1]),
                       "nesterov": st.booleans()},
                      sgd_reference, SGD_MISTAKES)

ADAM_SPEC = UpdateSpec("adam_step", ("m", "v"),
                       {"beta1": st.sampled_from([0.9, 0.5]), "beta2": st.sampled_from([0.999, 0.8]),
                        "eps": st.sampled_from([1e-8, 0.1]), "weight_decay": st.sampled_from([0.0, 0.1])},
                       adam_reference, ADAM_MISTAKES, needs_t=True)

__all__ = ["grade_scalar", "SGD_SPEC", "ADAM_SPEC", "sgd_reference", "adam_reference", "graph_cases", "build",
           "tg_leaf_grads"]
