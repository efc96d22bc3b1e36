"""练习目录：17 道题的编号、名字、标题、判题方式和分步提示。

The registry of exercises. ``EXERCISES`` is ordered along the learning path (scalar -> LSTM); each
``Exercise`` knows its stub/solution file name, how to grade a loaded module and its step-by-step hints.
"""
import dataclasses
import importlib.util
import pathlib
import sys
import time

from . import _basic, _custom, _nn
from ._grading import NotDone, Report, error_message, grade_op

HERE = pathlib.Path(__file__).resolve().parent
STUBS = HERE / "stubs"
SOLUTIONS = HERE / "solutions"


@dataclasses.dataclass
class Exercise:
    number: int
    name: str
    title: str
    page: str                   # the tutorial page that explains the maths
    specs: tuple = ()           # OpSpecs (tg.Function exercises), graded in order
    grader: object = None       # or a custom grader: module -> (n_passed, failure, detail, hints)
    hints: tuple = ()

    @property
    def file(self):
        return f"ex{self.number:02d}_{self.name}.py"

    @property
    def stub(self):
        return STUBS / self.file

    @property
    def solution(self):
        return SOLUTIONS / self.file

    def grade(self, module):
        """Grade a loaded module (the learner's file or a solution); returns a ``Report``."""
        t0 = time.perf_counter()
        rep = Report(self.number, self.name, self.title, "pass")
        try:
            if self.grader is not None:
                n, failure, detail, hints = self.grader(module)
            else:
                n, failure, detail, hints = 0, None, "", []
                for spec in self.specs:
                    k, failure, (detail, hints) = grade_op(spec, getattr(module, spec.cls, None))
                    n += k
                    if failure is not None:
                        break
        except NotDone as e:
            rep.status, rep.message = "todo", e.where
            rep.seconds = time.perf_counter() - t0
            return rep
        rep.examples, rep.seconds = n, time.perf_counter() - t0
        if failure is not None:
            rep.status, rep.message = "fail", failure.message
            rep.counterexample = failure.case.describe()
            rep.detail, rep.hints = detail, tuple(hints)
        return rep


def _ops(*groups):
    return tuple(s for g in groups for s in g)


EXERCISES = (
    Exercise(1, "scalar", "标量引擎上的链式法则", "00_build_an_engine.md", grader=_custom.grade_scalar, hints=(
        "topological_order(root)：深度优先搜索。visit(node)：访问过就返回；否则先 visit 每个 parent，再把 node 加进列表。",
        "backward(root)：先把所有有 parents 的节点的 grad 清零（叶子不动，它们要累加），再设 root.grad = 1。",
        "然后 for node in reversed(order)：对每一对 (parent, local) 做 parent.grad += local * node.grad。",
        "为什么要倒着走拓扑序？处理一个节点时，所有用到它的节点都已经把梯度加给它了（见第 0 页 0.3 节）。",
    )),
    Exercise(2, "broadcast", "广播的加法和乘法", "02_broadcasting.md", specs=_basic.broadcast_specs(), hints=(
        "先写 unbroadcast(grad, shape)：grad 的维数可能比 shape 多，多出来的前几维整个求和。",
        "剩下的维度里，shape 中长度为 1、grad 中长度不为 1 的维度，用 keepdims=True 求和；最后 reshape 成 shape。",
        "z = a + b：∂z/∂a = ∂z/∂b = 1，所以 backward 返回 unbroadcast(g, a 的形状), unbroadcast(g, b 的形状)。",
        "z = a · b：∂z/∂a = b，∂z/∂b = a（逐元素）。先乘，再 unbroadcast。forward 里把 a、b 存下来。",
    )),
    Exercise(3, "div", "除法", "02_broadcasting.md", specs=_basic.div_specs(), hints=(
        "z = a / b = a · b⁻¹。对 a：∂z/∂a = 1/b。",
        "对 b：b⁻¹ 的导数是 −b⁻²，所以 ∂z/∂b = −a / b²。",
        "广播规则和乘法一样：先算出和 z 同形的梯度，再 unbroadcast（可以 from tinygrad_zh.ops.elementwise import unbroadcast）。",
    )),
    Exercise(4, "exp_log", "exp 和 log", "01_chain_rule.md", specs=_basic.exp_log_specs(), hints=(
        "(eˣ)' = eˣ：forward 把输出存下来，backward 返回 g * 输出。",
        "(ln x)' = 1/x：forward 把输入存下来，backward 返回 g / x。",
    )),
    Exercise(5, "activations", "sigmoid 和 tanh", "01_chain_rule.md", specs=_basic.act_specs(), hints=(
        "σ(x) = 1/(1+e⁻ˣ)。对它求导（商的求导法则），整理成只含 σ(x) 的形式：σ' = σ(1 − σ)。",
        "tanh' = 1 − tanh²。两个导数都只用 *输出* 表示：forward 存下输出，backward 不必再算 exp。",
        "x 很负时 e⁻ˣ 会溢出：可以用 σ(x) = (1 + tanh(x/2)) / 2，它对任何 x 都不会溢出。",
    )),
    Exercise(6, "reductions", "sum 和 mean", "02_broadcasting.md", specs=_basic.reduce_specs(), hints=(
        "求和的每个输入元素对输出的导数都是 1：梯度就是把 g \"复制\"回输入的形状。",
        "keepdims=False 时 g 少了被求和的维度：先 reshape 成 keepdims=True 的形状（那些维度长度为 1），再 np.broadcast_to(g, x.shape)。",
        "axis 可能是 None、负数或元组：用 np.sum(np.zeros(x.shape), axis=axis, keepdims=True).shape 得到 keepdims 的形状最省事。",
        "mean = sum / n，n 是被平均的元素个数：每个元素分到 g / n。",
    )),
    Exercise(7, "shapes", "reshape 和 transpose", "02_broadcasting.md", specs=_basic.shape_specs(), hints=(
        "reshape 不改变元素，只改变排列：反向把 g reshape 回输入的形状。",
        "transpose(axes)：输出的第 k 个轴是输入的第 axes[k] 个轴。反向要把轴放回去：g.transpose(np.argsort(axes))。",
    )),
    Exercise(8, "indexing", "索引", "02_broadcasting.md", specs=_basic.index_specs(), hints=(
        "y = x[index] 只是把一些元素取出来：被取出的元素梯度是 g 里对应的值，没被取的是 0。",
        "同一个下标可能出现好几次（x[[0, 0, 2]]）：梯度要累加。np.add.at(grad, index, g) 对重复下标也会逐个相加。",
    )),
    Exercise(9, "matmul", "矩阵乘法", "03_matmul_softmax_ce.md", specs=_nn.matmul_specs(), hints=(
        "C = A B，A: (n,k)，B: (k,m)，G = ∂L/∂C: (n,m)。",
        "写出一个元素：C[i,j] = Σₜ A[i,t] B[t,j]。所以 ∂L/∂A[i,t] = Σⱼ G[i,j] B[t,j]，即 G Bᵀ。",
        "同理 ∂L/∂B = Aᵀ G。检查形状：(n,m)(m,k) = (n,k)，(k,n)(n,m) = (k,m)。",
    )),
    Exercise(10, "mse", "均方误差", "03_matmul_softmax_ce.md", specs=_nn.mse_specs(), hints=(
        "L = (1/N) Σ (pred − target)²，N 是元素个数。forward 返回 0 维数组（np.asarray(...)）。",
        "∂L/∂pred = 2 (pred − target) / N，再乘上游梯度 g（一个 0 维数组）。",
        "∂L/∂target = −∂L/∂pred。",
    )),
    Exercise(11, "cross_entropy", "softmax 交叉熵", "03_matmul_softmax_ce.md", specs=_nn.ce_specs(), hints=(
        "L = −(1/N) Σᵢ log softmax(xᵢ)[yᵢ]。log softmax(x) = x − log Σ eˣ。",
        "数值稳定：先减去每行的最大值 m（softmax 不变），log Σ e^(x−m) 不会溢出。",
        "∂L/∂x = (softmax(x) − onehot(y)) / N，再乘 g。推导：log-sum-exp 对 x 的导数就是 softmax(x)。",
    )),
    Exercise(12, "linear", "全连接层", "03_matmul_softmax_ce.md", specs=_nn.linear_specs(), hints=(
        "y = x Wᵀ + b，x: (N,in)，W: (out,in)，b: (out,)，G = ∂L/∂y: (N,out)。",
        "∂L/∂x = G W，∂L/∂W = Gᵀ x（和矩阵乘法那道题一样，按形状凑）。",
        "b 被广播到了每一行：∂L/∂b = G 按行求和 G.sum(axis=0)。",
    )),
    Exercise(13, "sgd", "带动量的 SGD", "07_optimizers.md", grader=_custom.SGD_SPEC.grade, hints=(
        "g ← g + λ·param（权重衰减），v ← μ·v + g（速度，第一步 v 从 0 开始），param ← param − lr·v。",
        "nesterov=True 时走的方向是 g + μ·v（用更新后的 v），而不是 v。",
        "返回新的 (param, velocity)，不要原地修改传进来的数组。",
    )),
    Exercise(14, "adam", "Adam 的一步", "07_optimizers.md", grader=_custom.ADAM_SPEC.grade, hints=(
        "g ← g + λ·param；m ← β₁m + (1−β₁)g；v ← β₂v + (1−β₂)g²。",
        "偏差修正：m̂ = m/(1−β₁ᵗ)，v̂ = v/(1−β₂ᵗ)，t 从 1 开始。",
        "param ← param − lr · m̂ / (√v̂ + ε)。返回 (param, m, v)。",
    )),
    Exercise(15, "lstm_cell", "LSTM 单步的反向", "05_lstm_bptt.md", specs=_nn.lstm_specs(), hints=(
        "前向已经写好：i, f, o = σ(…)，g = tanh(…)，c = f⊙c_prev + i⊙g，h = o⊙tanh(c)。",
        "先算到达 c 的总梯度：δc = dc + dh ⊙ o ⊙ (1 − tanh²c)（dh、dc 为 None 时当作 0）。",
        "四个门激活前的梯度：dAᵢ = δc⊙g⊙i(1−i)，dA_f = δc⊙c_prev⊙f(1−f)，dA_g = δc⊙i⊙(1−g²)，dAₒ = dh⊙tanh(c)⊙o(1−o)。",
        "∂L/∂c_prev = δc ⊙ f。返回 (dA, dc_prev)，dA 按 [i | f | g | o] 拼起来。",
    )),
    Exercise(16, "conv2d", "im2col 卷积", "06_conv_im2col.md", specs=_nn.conv_specs(), hints=(
        "im2col：把每个 k×k 窗口展开成一行（长度 C·k·k），卷积 = 这个矩阵乘以 reshape 成 (O, C·k·k) 的卷积核。",
        "反向：dcols = G 展平 @ W 展平；dW = G 展平ᵀ @ cols；db = G 对 N、OH、OW 求和。",
        "col2im 是 im2col 的转置：把每一行的梯度 *加* 回它来自的窗口（窗口重叠时同一个像素会被加好几次），最后裁掉 padding。",
    )),
    Exercise(17, "maxpool", "最大池化", "06_conv_im2col.md", specs=_nn.pool_specs(), hints=(
        "max 的输出只由窗口里最大的那个元素决定：它的局部导数是 1，其余是 0。",
        "forward 记下每个窗口最大值的位置（argmax），backward 把 g 加到那个位置上。",
        "窗口重叠时（stride < kernel_size）一个元素可能是几个窗口的最大值：用 += 累加。",
    )),
)

BY_NAME = {e.name: e for e in EXERCISES}


def find(name):
    """An exercise by name ("div"), number ("3", "03") or file name ("ex03_div", "ex03_div.py")."""
    key = str(name).strip().lower()
    if key.endswith(".py"):
        key = key[:-3]
    if key.startswith("ex") and key[2:4].isdigit():
        key = key[2:4]
    if key.isdigit():
        for e in EXERCISES:
            if e.number == int(key):
                return e
    if "_" in key and key.split("_", 1)[0].isdigit():
        key = key.split("_", 1)[1]
    if key in BY_NAME:
        return BY_NAME[key]
    raise KeyError(name)


_loaded = 0


def load(path):
    """Import a Python file as a fresh module (each call a new module: edits are picked up)."""
    global _loaded
    _loaded += 1
    path = pathlib.Path(path)
    modname = f"_tg_exercise_{path.stem}_{_loaded}"
    spec = importlib.util.spec_from_file_location(modname, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[modname] = module
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(modname, None)
    return module


def check(exercise, path):
    """Grade the file at ``path`` for ``exercise`` (an Exercise or a name); returns a ``Report``."""
    ex = exercise if isinstance(exercise, Exercise) else find(exercise)
    path = pathlib.Path(path)
    if not path.is_file():
        return Report(ex.number, ex.name, ex.title, "missing", message=str(path))
    try:
        module = load(path)
    except NotImplementedError:
        return Report(ex.number, ex.name, ex.title, "todo", message=path.name)
    except Exception as e:          # noqa: BLE001 - a syntax error in the learner's file
        return Report(ex.number, ex.name, ex.title, "fail", message=error_message(f"导入 {path.name} 时", e),
                      hints=("先让文件能被 Python 导入：python " + str(path),))
    return ex.grade(module)
