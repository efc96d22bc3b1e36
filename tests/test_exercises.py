"""The graded exercises (``python -m tinygrad_zh.exercises``): reference solutions pass, stubs are reported
as not done, typical wrong solutions fail with the hint that names their mistake, grading is
deterministic, and the command line works."""
import os
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("hypothesis")

import tinygrad_zh as tg  # noqa: E402
from tinygrad_zh.exercises import EXERCISES, check, find  # noqa: E402
from tinygrad_zh.exercises._stubgen import make_stub  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_path_has_at_least_15_exercises_from_scalar_to_lstm():
    names = [e.name for e in EXERCISES]
    assert len(names) >= 15
    assert [e.number for e in EXERCISES] == list(range(1, len(EXERCISES) + 1))
    for topic in ("scalar", "broadcast", "div", "exp_log", "activations", "reductions", "shapes", "indexing",
                  "matmul", "cross_entropy", "mse", "linear", "sgd", "adam", "lstm_cell", "conv2d", "maxpool"):
        assert topic in names
    for e in EXERCISES:
        assert e.stub.is_file() and e.solution.is_file(), e.file
        assert e.hints, e.name
        assert (ROOT / "docs" / e.page).is_file(), e.page


def test_find_accepts_names_numbers_and_file_names():
    assert find("div").number == 3
    assert find("3") is find("03") is find("ex03_div") is find("ex03_div.py") is find("div")
    with pytest.raises(KeyError):
        find("nope")


def test_stubs_are_generated_from_the_solutions():
    for e in EXERCISES:
        sol = e.solution.read_text(encoding="utf-8")
        assert "# >>> 答案" in sol, e.file
        assert e.stub.read_text(encoding="utf-8") == make_stub(sol), (
            f"{e.stub.name} is out of date: run python -m tinygrad_zh.exercises._stubgen")
        stub = e.stub.read_text(encoding="utf-8")
        assert "# >>> 答案" not in stub and "# <<< 答案" not in stub and "NotImplementedError" in stub
        doc = stub.split('"""')[1]
        assert re.search(r"[\u4e00-\u9fff]", doc) and "检查：python -m tinygrad_zh.exercises check" in doc


@pytest.mark.parametrize("ex", EXERCISES, ids=[e.name for e in EXERCISES])
def test_reference_solution_passes(ex):
    rep = check(ex, ex.solution)
    assert rep.status == "pass", rep.format()
    assert rep.examples >= 20
    assert "通过" in rep.format()


def test_stubs_are_reported_as_not_done(tmp_path):
    for e in EXERCISES:
        rep = check(e, e.stub)
        assert rep.status == "todo", rep.format()
        assert "还没写" in rep.format()
    rep = check("div", tmp_path / "missing.py")
    assert rep.status == "missing"


def test_import_error_in_the_learners_file_is_reported(tmp_path):
    p = tmp_path / "ex03_div.py"
    p.write_text("def broken(:\n")
    rep = check("div", p)
    assert rep.status == "fail" and "SyntaxError" in rep.message


# --------------------------------------------------------------------------- typical wrong solutions
LOOP_ASSIGN_POOL = """        k, s = self.k, self.s
        dx = np.zeros(self.x_shape, dtype=G.dtype)
        N, C, OH, OW = G.shape
        for n in range(N):
            for c in range(C):
                for i in range(OH):
                    for j in range(OW):
                        a, b = divmod(int(self.arg[n, c, i, j]), k)
                        dx[n, c, i * s + a, j * s + b] = G[n, c, i, j]
        return dx
"""
EARLY_BACKWARD = """    for node in topological_order(root):
        if node.parents:
            node.grad = 0.0
    root.grad, seen = 1.0, set()

    def visit(node):
        if node in seen:
            return
        seen.add(node)
        for parent, local in zip(node.parents, node.local_grads):
            parent.grad += local * node.grad
            visit(parent)
    visit(root)
"""


def _body(ex_name, func_header):
    """The answer region that follows ``func_header`` in a solution (to replace it whole)."""
    text = find(ex_name).solution.read_text(encoding="utf-8")
    start = text.index("# >>> 答案\n", text.index(func_header)) + len("# >>> 答案\n")
    return text[start:text.index("# <<< 答案", start)].rstrip(" ")


# (exercise, text in the solution, replacement, words the first hint must contain)
MUTANTS = [
    ("scalar", "parent.grad += local * node.grad", "parent.grad = local * node.grad", "不能覆盖"),
    ("scalar", "parent.grad += local * node.grad", "parent.grad += local", "忘了乘 node.grad"),
    ("scalar", "    root.grad = 1.0\n", "", "root.grad = 1"),
    ("scalar", "for node in reversed(order):", "for node in order:", "倒着"),
    ("scalar", "        if node.parents:\n            node.grad = 0.0", "        node.grad = 0.0", "叶子的梯度被清零了"),
    ("scalar", "        if node.parents:\n            node.grad = 0.0", "        pass", "没有清零"),
    ("scalar", "EARLY", EARLY_BACKWARD, "收齐"),
    ("scalar", "        for parent in node.parents:\n            visit(parent)\n        order.append(node)",
     "        order.append(node)\n        for parent in node.parents:\n            visit(parent)", "排在了它的输入"),
    ("broadcast", "return unbroadcast(g, self.a_shape), unbroadcast(g, self.b_shape)", "return g, g",
     "忘了对广播的维度求和"),
    ("broadcast", "grad.sum(axis=axes, keepdims=True)", "grad.mean(axis=axes, keepdims=True)", "不是取平均"),
    ("broadcast", "unbroadcast(g * self.b, self.a.shape), unbroadcast(g * self.a, self.b.shape)",
     "unbroadcast(g * self.a, self.a.shape), unbroadcast(g * self.b, self.b.shape)", "乘错了因子"),
    ("div", "-g * a / (b * b), b.shape", "g * a / (b * b), b.shape", "符号反了"),
    ("div", "-g * a / (b * b), b.shape", "-g * a / b, b.shape", "忘了平方"),
    ("div", "return unbroadcast(g / b, a.shape), unbroadcast(-g * a / (b * b), b.shape)",
     "return g / b, -g * a / (b * b)", "忘了对广播的维度求和"),
    ("exp_log", "return g / self.x", "return g * self.x", "应该 *除以* x"),
    ("exp_log", "return g * self.out", "return self.out", "忘了乘上游梯度"),
    ("activations", "g * self.s * (1 - self.s)", "g * self.s * (1 + self.s)", "是 1 *减* σ"),
    ("activations", "g * (1 - self.t * self.t)", "g * (1 - self.t)", "漏了平方"),
    ("reductions", "return np.broadcast_to(g.reshape(self.kept), self.shape).copy()",
     "return np.broadcast_to(g, self.shape).copy()", "g 的形状是求和 *之后* 的形状"),
    ("reductions", "g.reshape(self.kept) / self.n", "g.reshape(self.kept)", "漏了除以元素个数"),
    ("reductions", "np.mean(x, axis=axis, keepdims=keepdims)", "np.sum(x, axis=axis, keepdims=keepdims)",
     "这是 sum，不是 mean"),
    ("reductions", "np.asarray(np.sum(x, axis=axis, keepdims=keepdims))", "np.asarray(np.sum(x, axis=axis))",
     "keepdims"),
    ("shapes", "np.argsort(self.axes)", "self.axes", "*逆* 置换"),
    ("shapes", "return g.reshape(self.in_shape)", "return g", "reshape 回输入的形状"),
    ("indexing", "np.add.at(grad, self.index, g)", "grad[self.index] += g", "np.add.at"),
    ("matmul", "G @ self.B.T", "G @ self.B", "G Bᵀ"),
    ("matmul", "self.A.T @ G", "G.T @ self.A", "转置"),
    ("mse", "g * 2 * self.diff / self.diff.size", "g * self.diff / self.diff.size", "差了一半"),
    ("mse", "g * 2 * self.diff / self.diff.size", "g * 2 * self.diff", "除以 N"),
    ("mse", "return grad, -grad", "return grad, grad", "带负号"),
    ("cross_entropy", "z = logits - logits.max(axis=1, keepdims=True)", "z = logits", "溢出"),
    ("cross_entropy", "grad[np.arange(n), self.target] -= 1", "pass", "忘了减去 one-hot"),
    ("cross_entropy", "return grad * (g / n)", "return grad * g", "除以 N"),
    ("linear", "G.sum(axis=0)", "G", "对 batch 维求和"),
    ("linear", "G.T @ self.x", "self.x.T @ G", "转置"),
    ("linear", "G @ self.W,", "G @ self.W.T,", "= G W"),
    ("sgd", "velocity = momentum * velocity + d", "velocity = momentum * velocity + (1 - momentum) * d",
     "(1 − momentum)"),
    ("sgd", "    velocity = momentum * velocity + d\n    step = d + momentum * velocity if nesterov else velocity\n"
            "    return param - lr * step, velocity",
     "    velocity = momentum * velocity + lr * d\n    step = lr * d + momentum * velocity if nesterov else velocity\n"
     "    return param - step, velocity", "外面"),
    ("sgd", "d = grad + weight_decay * param", "d = grad", "忘了权重衰减"),
    ("sgd", "param - lr * step", "param + lr * step", "方向反了"),
    ("adam", "    m_hat = m / (1 - beta1 ** t)\n    v_hat = v / (1 - beta2 ** t)", "    m_hat, v_hat = m, v",
     "偏差修正"),
    ("adam", "(np.sqrt(v_hat) + eps)", "np.sqrt(v_hat + eps)", "根号 *外面*"),
    ("adam", "    m_hat = m / (1 - beta1 ** t)\n    v_hat = v / (1 - beta2 ** t)",
     "    m_hat = m / (1 - beta1 ** (t - 1))\n    v_hat = v / (1 - beta2 ** (t - 1))", "t 从 1 开始"),
    ("adam", "    g = grad + weight_decay * param\n", "    g = grad\n    param = param * (1 - lr * weight_decay)\n",
     "AdamW"),
    ("lstm_cell", "dct = dh * o * (1 - tc * tc)", "dct = dh * o", "漏了 tanh 的导数"),
    ("lstm_cell", "dct = dct + dc", "dct = dct", "忘了加上直接传给 c 的梯度"),
    ("lstm_cell", "return dA, dct * f", "return dA, dct", "别忘了乘遗忘门"),
    ("lstm_cell", "        if dh is None:\n            dh = np.zeros_like(tc)\n", "", "None"),
    ("lstm_cell", "dct * self.c_prev * f * (1 - f)", "dct * (f * self.c_prev + i * g) * f * (1 - f)", "*上一步* 的 c_prev"),
    ("conv2d", "] += d[", "] = d[", "*累加*"),
    ("conv2d", "db = Gm.sum(axis=0)", "db = G", "对 N、OH、OW 三个维度求和"),
    ("conv2d", "return dxp[:, :, p:p + H, p:p + W], dw, db", "return dxp, dw, db", "裁掉"),
    ("conv2d", "out = self.cols @ w.reshape(O, -1).T + b", "out = self.cols @ w[:, :, ::-1, ::-1].reshape(O, -1).T + b",
     "翻转"),
    ("maxpool", "+= G * (self.arg == p * k + q)", "+= G", "给了整个窗口"),
    ("maxpool", "+= G * (self.arg == p * k + q)", "+= G / (k * k)", "平均池化"),
    ("maxpool", "POOL_ASSIGN", LOOP_ASSIGN_POOL, "不要用 ="),
    ("cross_entropy", "self.target].mean())", "self.target].sum())", "取 *平均*"),
    ("adam", "    m = beta1 * m + (1 - beta1) * g\n    v = beta2 * v + (1 - beta2) * g * g",
     "    m = beta2 * m + (1 - beta2) * g\n    v = beta1 * v + (1 - beta1) * g * g", "β₁ 和 β₂ 用反了"),
    ("exp_log", "        return g * self.out\n", "        return g * np.exp(self.out)\n", "不要再 exp 一次"),
    ("linear", "G.T @ self.x, G.sum(axis=0)", "G.T @ self.x, None", "返回了 None"),
    ("reductions", "        return np.asarray(np.sum(x, axis=axis, keepdims=keepdims))",
     "        return float(np.sum(x, axis=axis, keepdims=keepdims))", "NumPy 数组"),
    ("matmul", "return G @ self.B.T, self.A.T @ G", "return self.A.T @ G, G @ self.B.T", "交换了"),
]


def _mutant_text(name, old, new):
    text = find(name).solution.read_text(encoding="utf-8")
    if old == "EARLY":
        old = _body("scalar", "def backward(root)")
    elif old == "POOL_ASSIGN":
        old = _body("maxpool", "def backward(self, G)")
    assert old in text, (name, old)
    return text.replace(old, new)


@pytest.mark.parametrize("name,old,new,words", MUTANTS, ids=[f"{m[0]}-{m[3]}" for m in MUTANTS])
def test_typical_mistake_fails_with_the_right_hint(tmp_path, name, old, new, words):
    ex = find(name)
    path = tmp_path / ex.file
    path.write_text(_mutant_text(name, old, new), encoding="utf-8")
    rep = check(ex, path)
    out = rep.format()
    assert rep.status == "fail", out
    assert rep.counterexample, out                       # the shrunk example is shown
    assert "反例" in out
    first = rep.hints[0] if rep.hints else rep.message
    assert words in first or (words in rep.message and not rep.hints), out


def test_grading_is_deterministic(tmp_path):
    ex = find("div")
    path = tmp_path / ex.file
    path.write_text(_mutant_text("div", "-g * a / (b * b), b.shape", "-g * a / b, b.shape"), encoding="utf-8")
    a, b = check(ex, path), check(ex, path)
    assert a.format() == b.format()                     # a failure report shows no timings
    assert a.counterexample == b.counterexample and a.hints == b.hints


def test_shape_error_from_the_engine_becomes_the_broadcast_hint(tmp_path):
    """The engine refuses a gradient of the wrong shape (RuntimeError); the grader turns it into a hint."""
    ex = find("broadcast")
    path = tmp_path / ex.file
    path.write_text(_mutant_text("broadcast", "return unbroadcast(g, self.a_shape), unbroadcast(g, self.b_shape)",
                                 "return g, g"), encoding="utf-8")
    rep = check(ex, path)
    assert "引擎检查出的错误" in rep.message and "形状" in rep.message
    assert "unbroadcast" in rep.hints[0]


def test_counterexample_is_shrunk_and_shown_with_values(tmp_path):
    ex = find("indexing")
    path = tmp_path / ex.file
    path.write_text(_mutant_text("indexing", "np.add.at(grad, self.index, g)", "grad[self.index] += g"),
                    encoding="utf-8")
    rep = check(ex, path)
    # the smallest failing example repeats one index of a 1-element vector
    assert "index = [0, 0]" in rep.counterexample or "index = [-1, -1]" in rep.counterexample, rep.counterexample
    assert "你的 ∂L/∂x" in rep.detail and "正确的 ∂L/∂x" in rep.detail


def test_optimizer_references_match_tg_optim():
    """The graders' NumPy SGD/Adam equal tg.optim.SGD/Adam step for step (with a learning-rate change)."""
    from tinygrad_zh.exercises._custom import adam_reference, sgd_reference
    rng = np.random.default_rng(0)
    p0 = rng.standard_normal(5)
    grads = [rng.standard_normal(5) for _ in range(4)]
    lrs = [0.1, 0.1, 0.05, 0.3]
    for nesterov in (False, True):
        w = tg.tensor(p0.copy(), dtype="float64", requires_grad=True)
        opt = tg.optim.SGD([w], lr=0.1, momentum=0.9, weight_decay=0.1, nesterov=nesterov)
        p, v = p0.copy(), np.zeros(5)
        for g, lr in zip(grads, lrs):
            opt.param_groups[0]["lr"] = lr
            w.grad = tg.tensor(g, dtype="float64")
            opt.step()
            p, v = sgd_reference(p, g, v, lr, momentum=0.9, weight_decay=0.1, nesterov=nesterov)
            np.testing.assert_allclose(w.numpy(), p, rtol=1e-12)
    w = tg.tensor(p0.copy(), dtype="float64", requires_grad=True)
    opt = tg.optim.Adam([w], lr=0.1, betas=(0.5, 0.8), eps=0.1, weight_decay=0.1)
    p, m, v = p0.copy(), np.zeros(5), np.zeros(5)
    for t, (g, lr) in enumerate(zip(grads, lrs), 1):
        opt.param_groups[0]["lr"] = lr
        w.grad = tg.tensor(g, dtype="float64")
        opt.step()
        p, m, v = adam_reference(p, g, m, v, t, lr, beta1=0.5, beta2=0.8, eps=0.1, weight_decay=0.1)
        np.testing.assert_allclose(w.numpy(), p, rtol=1e-12)


def test_reference_forwards_match_the_library():
    """The NumPy references in the graders agree with tinygrad_zh's own ops (conv, pool, lstm, ce)."""
    from tinygrad_zh.exercises import _nn
    F = tg.nn.functional
    rng = np.random.default_rng(1)

    def T(a):
        return tg.tensor(a, dtype="float64")

    x, w, b = rng.standard_normal((2, 2, 5, 4)), rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(3)
    got = F.conv2d(T(x), T(w), T(b), stride=2, padding=1).numpy()
    np.testing.assert_allclose(_nn.conv_forward(x, w, b, stride=2, padding=1), got, rtol=1e-10)
    got = F.max_pool2d(T(x), 2, stride=1).numpy()
    np.testing.assert_allclose(_nn.pool_forward(x, kernel_size=2, stride=1), got)
    logits, target = rng.standard_normal((3, 4)) + 800, np.array([0, 3, 1])
    got = F.cross_entropy(T(logits), tg.tensor(target)).item()
    assert abs(_nn._ce(logits, target) - got) < 1e-9
    A, c = rng.standard_normal((2, 12)), rng.standard_normal((2, 3))
    from tinygrad_zh.ops.lstm import lstm_cell_forward_arrays
    h, c2, _, _ = lstm_cell_forward_arrays(A.copy(), c)
    for mine, ref in zip(_nn.lstm_forward(A, c), (h, c2)):
        np.testing.assert_allclose(mine, ref, rtol=1e-12)


# --------------------------------------------------------------------------- command line
def _main(capsys, *args):
    from tinygrad_zh.exercises.__main__ import main
    rc = main(list(args))
    return rc, capsys.readouterr().out


def test_python_dash_m_runs_the_command_line():
    r = subprocess.run([sys.executable, "-m", "tinygrad_zh.exercises", "list"], cwd=ROOT, capture_output=True,
                       env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8"})
    out = r.stdout.decode("utf-8")
    assert r.returncode == 0 and "标量引擎上的链式法则" in out and "共 17 题" in out


def test_cli_list_init_check_hint(tmp_path, capsys):
    rc, out = _main(capsys, "list")
    assert rc == 0 and "17   maxpool" in out
    d = tmp_path / "练习"
    rc, out = _main(capsys, "init", str(d))
    assert rc == 0 and "已复制 17 个题目文件" in out
    assert sorted(p.name for p in d.glob("ex*.py")) == sorted(e.file for e in EXERCISES)
    solution = find("div").solution.read_text(encoding="utf-8")
    (d / "ex03_div.py").write_text(solution, encoding="utf-8")
    rc, out = _main(capsys, "init", str(d))                 # never overwrites the learner's work
    assert "没有覆盖" in out and (d / "ex03_div.py").read_text(encoding="utf-8") == solution
    rc, out = _main(capsys, "check", "div", "--dir", str(d))
    assert rc == 0 and "✓ 03 div（除法）：通过" in out
    assert "下一题：" in out and "check exp_log" in out
    rc, out = _main(capsys, "check", "3", "--dir", str(d))
    assert rc == 0
    rc, out = _main(capsys, "check", "exp_log", "--dir", str(d))
    assert rc == 1 and "还没写" in out
    rc, out = _main(capsys, "hint", "matmul")
    assert rc == 0 and "G Bᵀ" in out
    rc, out = _main(capsys, "check", "nope", "--dir", str(d))
    assert rc == 2 and "没有叫" in out
    rc, out = _main(capsys, "check", "--dir", str(tmp_path / "none"))
    assert rc == 2 and "init" in out
    rc, out = _main(capsys)                                 # no command: usage and the list
    assert rc == 0 and "check [NAME]" in out and "共 17 题" in out


def test_cli_check_all_in_a_directory_summarises(tmp_path, capsys):
    _main(capsys, "init", str(tmp_path))
    (tmp_path / "ex04_exp_log.py").write_text(find("exp_log").solution.read_text(encoding="utf-8"),
                                             encoding="utf-8")
    rc, out = _main(capsys, "check", "--dir", str(tmp_path))
    assert rc == 1
    assert "✓ 04 exp_log" in out and "通过 1/17 题，16 题还没写" in out


def test_cli_check_reference(capsys):
    rc, out = _main(capsys, "check", "maxpool", "--reference")
    assert rc == 0 and "✓ 17 maxpool" in out


def test_the_report_shown_in_docs_exercises_md_is_real(tmp_path):
    """docs/exercises.md shows a wrong Div and the report it gets: both must be what the grader prints."""
    text = (ROOT / "docs" / "exercises.md").read_text(encoding="utf-8")
    code = re.search(r"```python no-run\n(class Div.*?)```", text, re.S).group(1)
    shown = re.search(r"check div --dir 我的练习` 输出：\n\n```text\n(.*?)```", text, re.S).group(1)
    path = tmp_path / "ex03_div.py"
    path.write_text("import numpy as np\nimport tinygrad_zh as tg\n"
                    "from tinygrad_zh.ops.elementwise import unbroadcast\n\n" + code, encoding="utf-8")
    assert check("div", path).format() == shown.rstrip("\n")
    # the engine's message quoted on the page
    quoted = re.search(r"RuntimeError: (Add\.backward returned [^`]*)`", text).group(1)

    class Add(tg.Function):
        def forward(self, a, b):
            return a + b

        def backward(self, g):
            return g, g
    a = tg.tensor(1.0, dtype="float64", requires_grad=True)
    b = tg.tensor([1.0], dtype="float64", requires_grad=True)
    with pytest.raises(RuntimeError) as err:
        Add.apply(a, b).sum().backward()
    assert str(err.value).startswith(quoted)
