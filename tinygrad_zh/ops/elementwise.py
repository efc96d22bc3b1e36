"""逐元素运算：加减乘除、幂、exp/log、激活函数……以及它们的导数。

链式法则里最简单的一环：输出的每个元素只依赖输入的同一位置，所以每个 ``backward`` 都是
"上游梯度 × 局部导数"，逐元素相乘即可。二元运算会广播，反向时用 ``unbroadcast`` 把梯度求和回
各个输入的形状（见 docs/02 广播与反向传播中的求和）。

English: every class is one op: ``forward`` on raw arrays, ``backward`` returns one gradient per input.
Binary ops broadcast; their backward calls ``unbroadcast`` to sum the gradient back to each
input's shape (see docs/02 广播与反向传播中的求和).
"""
import contextlib
import functools
import math

from .. import backend
from ..autograd import Function
from ..backend import array_module, kernel_for
from ..errors import TensorError


def unbroadcast(grad, shape):
    """把广播后的梯度求和回原来的形状。

    广播把一个元素复制到了多个位置，复制出来的每一份都对 loss 有贡献，
    所以该元素的梯度 = 这些位置上梯度之和：前面补出来的维度整个求和，长度为 1 的维度 keepdims 求和。
    """
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(i + extra for i, n in enumerate(shape)
                                       if n == 1 and grad.shape[i + extra] != 1)
    g = grad.sum(axis=axes, keepdims=True) if axes else grad
    return g.reshape(shape)


def cuda_kernel(name, saved):
    """类装饰器：在 GPU 上改用 kernels/activation.cu 里的融合 kernel，CPU 上照常运行类里的 NumPy 代码。

    ``saved`` 说明 kernel 的反向要用什么：输入 ``"x"`` 还是输出 ``"y"``。
    English: ``saved`` says what the kernel's backward needs, the input ``"x"`` or the output ``"y"``."""
    def deco(cls):
        cpu_forward, cpu_backward = cls.forward, cls.backward

        @functools.wraps(cpu_forward)
        def forward(self, a, *args, **kwargs):
            k = kernel_for(a, "activation_forward")
            if k is None:
                return cpu_forward(self, a, *args, **kwargs)
            out = k(name, a)
            self.kernel_saved = a if saved == "x" else out
            return out

        @functools.wraps(cpu_backward)
        def backward(self, g):
            k = kernel_for(g, "activation_backward")
            if k is None:
                return cpu_backward(self, g)
            return k(name, g, **{saved: self.kernel_saved})

        cls.forward, cls.backward = forward, backward
        return cls
    return deco


class _Binary(Function):
    """会广播的二元运算的基类：形状不匹配时报错信息写出两边的形状。"""

    def forward(self, a, b):
        self.a_shape, self.b_shape = a.shape, b.shape
        try:
            return self.compute(a, b)
        except ValueError:
            raise TensorError(f"{type(self).__name__.lower()}: cannot broadcast shapes {a.shape} and "
                             f"{b.shape} (trailing dimensions must be equal or 1)") from None


class Add(_Binary):
    compute = staticmethod(lambda a, b: a + b)

    def backward(self, g):
        """z = a + b:  ∂z/∂a = 1, ∂z/∂b = 1 —— 梯度原样传给两个输入（再按广播求和）。"""
        ga = unbroadcast(g, self.a_shape) if self.needs_input_grad[0] else None
        gb = unbroadcast(g, self.b_shape) if self.needs_input_grad[1] else None
        return ga, gb


class Sub(_Binary):
    compute = staticmethod(lambda a, b: a - b)

    def backward(self, g):
        """z = a - b:  ∂z/∂a = 1, ∂z/∂b = -1 —— 减数拿到的是负梯度。"""
        ga = unbroadcast(g, self.a_shape) if self.needs_input_grad[0] else None
        gb = -unbroadcast(g, self.b_shape) if self.needs_input_grad[1] else None
        return ga, gb


class Mul(_Binary):
    only_for_grad = {0: ("b",), 1: ("a",)}      # ∂L/∂a 只用 b，∂L/∂b 只用 a

    def compute(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, g):
        """z = a·b:  ∂z/∂a = b, ∂z/∂b = a —— 每个因子的梯度是上游梯度乘以"另一个"因子。"""
        ga = unbroadcast(g * self.b, self.a_shape) if self.needs_input_grad[0] else None
        gb = unbroadcast(g * self.a, self.b_shape) if self.needs_input_grad[1] else None
        return ga, gb


class Div(_Binary):
    only_for_grad = {1: ("a",)}                 # b 两边都要用；a 只用于 ∂L/∂b

    def compute(self, a, b):
        self.a, self.b = a, b
        return a / b

    def backward(self, g):
        """z = a / b:  ∂z/∂a = 1/b, ∂z/∂b = -a/b² —— 分母越小，梯度越大。"""
        ga = unbroadcast(g / self.b, self.a_shape) if self.needs_input_grad[0] else None
        gb = unbroadcast(-g * self.a / (self.b * self.b), self.b_shape) if self.needs_input_grad[1] else None
        return ga, gb


def _quiet(xp):
    """NumPy 对 5.0 // 0 之类会发 RuntimeWarning；PyTorch 不警告（结果就是 inf / nan）。CuPy 本来就不警告。"""
    return xp.errstate(divide="ignore", invalid="ignore") if xp.__name__ == "numpy" else contextlib.nullcontext()


class IntegerDivisionByZero(RuntimeError, ZeroDivisionError):
    """整数除以 0（//、%、fmod、div(rounding_mode=...)）。PyTorch 抛出 ``RuntimeError: ZeroDivisionError``；
    这个类既是 RuntimeError 也是 ZeroDivisionError，两种 ``except`` 都接得住。"""


def check_divisor(a, b, op):
    """取整除法和取余的输入检查：bool 不支持（与 PyTorch 相同）；整数的除数不能有 0（浮点数除以 0 得到
    inf / nan，不报错，也与 PyTorch 相同）。"""
    if a.dtype.kind == "b" or b.dtype.kind == "b":
        raise NotImplementedError(f"{op}: not implemented for bool tensors (as in PyTorch); convert them "
                                  "with .int() or .float() first")
    if b.dtype.kind in "iu":
        backend.check_later(b == 0, IntegerDivisionByZero,
                            f"{op}: integer division by zero (ZeroDivisionError); the divisor has a 0 "
                            f"element (use floating point tensors to get inf/nan instead)")


def floor_div_array(a, b):
    """⌊a/b⌋：向下取整的除法（Python 的 //），整数和浮点数都可以。"""
    xp = array_module(a)
    with _quiet(xp):
        return xp.floor_divide(a, b)


def trunc_div_array(a, b):
    """trunc(a/b)：向 0 取整的除法（C 语言的整数除法）。浮点数先真除再截断；整数在 ⌊a/b⌋ 的基础上，
    有余数且 a、b 异号时加 1（例如 -7 // 2 = -4，截断则是 -3）。"""
    xp = array_module(a)
    with _quiet(xp):
        if a.dtype.kind == "f":
            return xp.trunc(a / b)
        q = xp.floor_divide(a, b)
        return q + ((xp.remainder(a, b) != 0) & ((a < 0) != (b < 0))).astype(q.dtype)


class DivRounding(_Binary):
    """取整的除法 ``div(a, b, rounding_mode="floor" / "trunc")``，结果 dtype 与输入相同（整数除整数还是整数）。"""

    def forward(self, a, b, mode):
        self.mode = mode
        return super().forward(a, b)

    def compute(self, a, b):
        check_divisor(a, b, "floor_divide (//)" if type(self) is FloorDivide else f"div(rounding_mode={self.mode!r})")
        return floor_div_array(a, b) if self.mode == "floor" else trunc_div_array(a, b)

    def backward(self, g):
        """z = ⌊a/b⌋ 或 trunc(a/b):  ∂z/∂a = ∂z/∂b = 0 —— 结果是台阶函数，台阶上处处是平的（与 PyTorch 相同）。"""
        xp = array_module(g)
        ga = xp.zeros(self.a_shape, g.dtype) if self.needs_input_grad[0] else None
        gb = xp.zeros(self.b_shape, g.dtype) if self.needs_input_grad[1] else None
        return ga, gb


class FloorDivide(DivRounding):
    """``a // b`` 与 ``floor_divide``：值与 ``div(a, b, rounding_mode="floor")`` 相同，但和 PyTorch 一样
    没有导数：结果需要梯度，反向传播经过它时报错。"""

    def forward(self, a, b):
        return super().forward(a, b, mode="floor")

    def backward(self, g):
        """PyTorch 没有为 floor_divide 定义导数，这里也不定义（用 div(rounding_mode="floor")，它的梯度是 0）。"""
        raise RuntimeError("derivative for floor_divide (a // b) is not implemented (as in PyTorch); "
                           "use torch.div(a, b, rounding_mode='floor'), whose gradient is 0, or detach()")


class Remainder(_Binary):
    """Python 的取余 a % b = a - b·⌊a/b⌋：结果的符号跟除数 b 相同（-7 % 3 = 2）。"""
    only_for_grad = {1: ("a", "b")}             # a、b 只用于 ∂L/∂b

    def compute(self, a, b):
        check_divisor(a, b, "remainder (%)")
        self.a, self.b = a, b
        with _quiet(array_module(a)):
            return array_module(a).remainder(a, b)

    def backward(self, g):
        """z = a - b·⌊a/b⌋:  ∂z/∂a = 1, ∂z/∂b = -⌊a/b⌋ —— ⌊a/b⌋ 是台阶函数（导数 0），只剩 -b·⌊a/b⌋ 对 b 的导数。"""
        ga = unbroadcast(g, self.a_shape) if self.needs_input_grad[0] else None
        gb = unbroadcast(-g * floor_div_array(self.a, self.b), self.b_shape) if self.needs_input_grad[1] else None
        return ga, gb


class Fmod(_Binary):
    """C 语言的取余 fmod(a, b) = a - b·trunc(a/b)：结果的符号跟被除数 a 相同（fmod(-7, 3) = -1）。"""
    only_for_grad = {1: ("a", "b")}

    def compute(self, a, b):
        check_divisor(a, b, "fmod")
        self.a, self.b = a, b
        with _quiet(array_module(a)):
            return array_module(a).fmod(a, b)

    def backward(self, g):
        """z = a - b·trunc(a/b):  ∂z/∂a = 1, ∂z/∂b = -trunc(a/b) —— 与 remainder 相同，只是向 0 取整。"""
        ga = unbroadcast(g, self.a_shape) if self.needs_input_grad[0] else None
        gb = unbroadcast(-g * trunc_div_array(self.a, self.b), self.b_shape) if self.needs_input_grad[1] else None
        return ga, gb


class Pow(_Binary):
    def compute(self, a, b):
        self.a, self.b = a, b
        self.out = a ** b
        return self.out

    def backward(self, g):
        """z = a^b:  ∂z/∂a = b·a^(b-1), ∂z/∂b = a^b·ln a —— 底数按幂函数求导，指数按指数函数求导。"""
        xp = array_module(g)
        ga = None
        if self.needs_input_grad[0]:     # b = 0：a⁰ = 1 是常数，导数 0（a = 0 处也是，而不是 0·0⁻¹ = nan）
            ga = unbroadcast(xp.where(self.b == 0, 0, g * self.b * self.a ** (self.b - 1)).astype(g.dtype),
                             self.a_shape)
        gb = None
        if self.needs_input_grad[1]:
            # 与 PyTorch 相同：a < 0 时 ln a 无定义，梯度是 nan；a = 0 时 ln a = -∞（b < 0 时梯度 -∞），但 b ≥ 0
            # 时 a^b 在 a = 0 附近不随 b 变，梯度取 0。log 只作用在正数上，所以不会有 divide/invalid 警告，
            # 也就不需要 errstate（CuPy 没有）。
            a, b = self.a, self.b
            loga = xp.where(a > 0, xp.log(xp.where(a > 0, a, 1)), xp.where(a == 0, -xp.inf, xp.nan))
            loga = xp.where((a == 0) & (b >= 0), 0, loga).astype(g.dtype)
            gb = unbroadcast(g * self.out * loga, self.b_shape)
        return ga, gb


class PowScalar(Function):
    def forward(self, a, p):
        self.a, self.p = a, p
        return a ** a.dtype.type(p) if a.dtype.kind == "f" else a ** p

    def backward(self, g):
        """z = a^p（p 为常数）:  ∂z/∂a = p·a^(p-1) —— 幂函数求导法则。"""
        p = self.p
        if p == 0:                      # x⁰ = 1 是常数（x = 0 处也一样）：导数为 0，而不是 0·0⁻¹ = nan
            return array_module(g).zeros(g.shape, g.dtype)
        if p == 2:
            return g * (2 * self.a)
        return g * (p * self.a ** (p - 1))


class Neg(Function):
    def forward(self, a):
        return -a

    def backward(self, g):
        """z = -a:  ∂z/∂a = -1 —— 梯度取反。"""
        return -g


class Exp(Function):
    def forward(self, a):
        self.out = array_module(a).exp(a)
        return self.out

    def backward(self, g):
        """z = eˣ:  ∂z/∂x = eˣ = z —— 指数函数的导数是它自己，直接复用前向输出。"""
        return g * self.out


class Log(Function):
    def forward(self, a):
        self.a = a
        return array_module(a).log(a)

    def backward(self, g):
        """z = ln x:  ∂z/∂x = 1/x —— x 越接近 0，梯度越大。"""
        return g / self.a


class Log1p(Function):
    """log(1 + x)，x 接近 0 时比 log(1 + x) 直接算更精确。"""

    def forward(self, a):
        self.a = a
        return array_module(a).log1p(a)

    def backward(self, g):
        """z = ln(1 + x):  ∂z/∂x = 1/(1 + x) —— 与 log 相同，只是平移了 1；x 很小时 log1p 比 log(1 + x) 精确。"""
        return g / (1 + self.a)


class Expm1(Function):
    """eˣ − 1，x 接近 0 时比 exp(x) − 1 更精确。"""

    def forward(self, a):
        self.out = array_module(a).expm1(a)
        return self.out

    def backward(self, g):
        """z = eˣ - 1:  ∂z/∂x = eˣ = z + 1 —— 复用前向输出；x 很小时 expm1 比 exp(x) - 1 精确。"""
        return g * (self.out + 1)


class Sqrt(Function):
    def forward(self, a):
        self.out = array_module(a).sqrt(a)
        return self.out

    def backward(self, g):
        """z = √x:  ∂z/∂x = 1/(2√x) = 1/(2z) —— 复用前向输出。"""
        return g / (2 * self.out)


class Abs(Function):
    def forward(self, a):
        self.a = a
        return array_module(a).abs(a)

    def backward(self, g):
        """z = |x|:  ∂z/∂x = sign(x)（x=0 处取 0，与 PyTorch 一致）—— 正数梯度不变，负数梯度取反。"""
        return g * array_module(g).sign(self.a)


class Sin(Function):
    def forward(self, a):
        self.a = a
        return array_module(a).sin(a)

    def backward(self, g):
        """z = sin x:  ∂z/∂x = cos x —— 正弦的斜率就是余弦。"""
        return g * array_module(g).cos(self.a)


class Cos(Function):
    def forward(self, a):
        self.a = a
        return array_module(a).cos(a)

    def backward(self, g):
        """z = cos x:  ∂z/∂x = -sin x —— 注意负号。"""
        return -g * array_module(g).sin(self.a)


@cuda_kernel("tanh", saved="y")
class Tanh(Function):
    def forward(self, a):
        self.out = array_module(a).tanh(a)
        return self.out

    def backward(self, g):
        """z = tanh x:  ∂z/∂x = 1 - tanh²x = 1 - z² —— 用输出表示导数，不必保存输入。"""
        return g * (1 - self.out * self.out)


def sigmoid_array(a):
    """σ(x) = (1 + tanh(x/2)) / 2：与 1/(1+e^{-x}) 相等，但对很大的 |x| 不会溢出。

    绝对误差在机器精度以内；x ≪ 0 时 σ(x) 很小，相对精度会丢（σ(-40) 得到 0）。需要 log σ(x) 的地方用
    ``F.logsigmoid``（ops/logsigmoid.py，单独的稳定写法）。不用 where(x≥0, 1/(1+e^{-x}), e^{x}/(1+e^{x}))：
    在 NumPy 上它慢约 5 倍，而 σ 在 LSTM / GRU 的每一步都要算。"""
    xp = array_module(a)
    out = xp.tanh(a * a.dtype.type(0.5))
    out += 1
    out *= 0.5
    return out


@cuda_kernel("sigmoid", saved="y")
class Sigmoid(Function):
    def forward(self, a):
        self.out = sigmoid_array(a)
        return self.out

    def backward(self, g):
        """z = σ(x):  ∂z/∂x = σ(x)(1-σ(x)) = z(1-z) —— 同样只用输出。"""
        s = self.out
        return g * s * (1 - s)


@cuda_kernel("relu", saved="x")
class ReLU(Function):
    def forward(self, a):
        self.out = array_module(a).maximum(a, 0)
        return self.out

    def backward(self, g):
        """z = max(x, 0):  ∂z/∂x = 1 (x>0), 0 (x≤0) —— 梯度只从"激活"的位置通过。"""
        return g * (self.out > 0)


class LeakyReLU(Function):
    def forward(self, a, slope=0.01):
        self.mask, self.slope = a > 0, slope
        return array_module(a).where(self.mask, a, a * a.dtype.type(slope))

    def backward(self, g):
        """z = x (x>0), αx (x≤0):  ∂z/∂x = 1 或 α —— 负半轴留一条小斜率，梯度不会完全消失。"""
        return array_module(g).where(self.mask, g, g * g.dtype.type(self.slope))


@cuda_kernel("gelu", saved="x")
class GELU(Function):
    """GELU(x) = x·Φ(x)，Φ 为标准正态分布函数（精确 erf 形式，与 PyTorch 默认一致）。"""

    def forward(self, a):
        xp = array_module(a)
        self.a = a
        erf = _erf(xp, a / math.sqrt(2))
        self.cdf = 0.5 * (1 + erf)
        return a * self.cdf

    def backward(self, g):
        """z = x·Φ(x):  ∂z/∂x = Φ(x) + x·φ(x)，φ(x) = e^{-x²/2}/√(2π) —— 乘积法则。"""
        xp = array_module(g)
        pdf = xp.exp(-0.5 * self.a * self.a) * (1 / math.sqrt(2 * math.pi))
        return g * (self.cdf + self.a * pdf).astype(g.dtype)


def _erf(xp, x):
    """不依赖 SciPy 的 erf：Abramowitz-Stegun 7.1.26 的近似（即使改进过）精度不够，所以 CPU 上把
    math.erf 向量化，GPU 上用 cupyx.scipy.special.erf。"""
    if xp.__name__ == "numpy":
        import numpy as np
        x = np.asarray(x)   # 0 维输入会让 frompyfunc 返回一个 Python float，而不是数组
        return np.asarray(np.frompyfunc(math.erf, 1, 1)(x), dtype=x.dtype)
    from cupyx.scipy.special import erf
    return erf(x)


class Clamp(Function):
    def forward(self, a, lo=None, hi=None):
        xp = array_module(a)
        self.mask = xp.ones(a.shape, bool)
        out = a
        if lo is not None:
            self.mask &= a >= lo
            out = xp.maximum(out, a.dtype.type(lo))
        if hi is not None:
            self.mask &= a <= hi
            out = xp.minimum(out, a.dtype.type(hi))
        return out

    def backward(self, g):
        """z = clamp(x, lo, hi):  ∂z/∂x = 1（lo ≤ x ≤ hi），否则 0 —— 被截断的位置不传梯度。"""
        return g * self.mask


class Hardtanh(Function):
    """hardtanh / relu6：和 clamp 的值一样，但边界点上的梯度是 0（PyTorch 的 hardtanh 如此，clamp 在边界上是 1）。"""

    def forward(self, a, lo, hi):
        xp = array_module(a)
        self.mask = ~((a <= lo) | (a >= hi))
        return xp.minimum(xp.maximum(a, a.dtype.type(lo)), a.dtype.type(hi))

    def backward(self, g):
        """z = hardtanh(x):  ∂z/∂x = 1（lo < x < hi），否则 0 —— 只有严格在区间内部的位置传梯度。"""
        return g * self.mask


class Softplus(Function):
    def forward(self, a, beta=1.0, threshold=20.0):
        xp = array_module(a)
        z = a * a.dtype.type(beta)
        self.z, self.beta, self.threshold = z, beta, threshold
        # log(1 + e^z) = max(z, 0) + log1p(e^{-|z|})：不会溢出，z 很负时也不会下溢成 0
        smooth = (xp.maximum(z, 0) + xp.log1p(xp.exp(-xp.abs(z)))) / a.dtype.type(beta)
        return xp.where(z > threshold, a, smooth)

    def backward(self, g):
        """z = log(1 + e^{βx})/β:  ∂z/∂x = σ(βx) —— softplus 的导数正是 sigmoid；βx > threshold 处取 1。"""
        xp = array_module(g)
        return xp.where(self.z > self.threshold, g, g * sigmoid_array(self.z))


def _tie_share(g, mine, other, loses):
    """一个输入在 max/min 里分到的梯度份额：赢 1，输 0，平局（mine == other）各得 1/2（与 PyTorch 相同）。

    ``loses(mine, other)`` is True where this input loses. NaN compares unequal and never "loses",
    so, as in PyTorch, both inputs of a NaN position receive the full gradient."""
    xp = array_module(g)
    one, half, zero = g.dtype.type(1), g.dtype.type(0.5), g.dtype.type(0)
    share = xp.where(mine == other, half, xp.where(loses(mine, other), zero, one))
    return g * share


class Maximum(_Binary):
    def compute(self, a, b):
        self.a, self.b = a, b
        return array_module(a).maximum(a, b)

    def backward(self, g):
        """z = max(a, b):  ∂z/∂a = 1（a > b），0（a < b），1/2（a = b）—— 像一个开关；平局时两边平分梯度，
        与 PyTorch 的 maximum 以及 amax 的平局规则一致（两份加起来仍是上游梯度）。"""
        ga = unbroadcast(_tie_share(g, self.a, self.b, lambda m, o: m < o), self.a_shape) \
            if self.needs_input_grad[0] else None
        gb = unbroadcast(_tie_share(g, self.b, self.a, lambda m, o: m < o), self.b_shape) \
            if self.needs_input_grad[1] else None
        return ga, gb


class Minimum(_Binary):
    def compute(self, a, b):
        self.a, self.b = a, b
        return array_module(a).minimum(a, b)

    def backward(self, g):
        """z = min(a, b):  ∂z/∂a = 1（a < b），0（a > b），1/2（a = b）—— 平局时两边平分梯度（与 PyTorch 相同）。"""
        ga = unbroadcast(_tie_share(g, self.a, self.b, lambda m, o: m > o), self.a_shape) \
            if self.needs_input_grad[0] else None
        gb = unbroadcast(_tie_share(g, self.b, self.a, lambda m, o: m > o), self.b_shape) \
            if self.needs_input_grad[1] else None
        return ga, gb


class Where(Function):
    def forward(self, cond, a, b):
        xp = array_module(a)
        self.cond, self.a_shape, self.b_shape = cond, a.shape, b.shape
        try:
            return xp.where(cond, a, b)
        except ValueError:
            raise TensorError(f"where: cannot broadcast condition {cond.shape}, x {a.shape} and "
                             f"y {b.shape}") from None

    def backward(self, g):
        """z = cond ? a : b:  ∂z/∂a = cond, ∂z/∂b = 1-cond —— 梯度按条件分给被选中的一方。"""
        xp = array_module(g)
        zero = g.dtype.type(0)
        ga = unbroadcast(xp.where(self.cond, g, zero), self.a_shape) if self.needs_input_grad[1] else None
        gb = unbroadcast(xp.where(self.cond, zero, g), self.b_shape) if self.needs_input_grad[2] else None
        return None, ga, gb


class Cast(Function):
    def forward(self, a, dtype):
        self.src = a.dtype
        return a.astype(dtype)

    def backward(self, g):
        """z = x 换一种精度:  ∂z/∂x = 1 —— 梯度换回输入的 dtype 即可。"""
        return g.astype(self.src)


class Step(Function):
    """分段常数的函数：sign、floor、ceil、round、trunc。"""

    def forward(self, a, name):
        self.shape, self.dtype = a.shape, a.dtype
        return getattr(array_module(a), name)(a)

    def backward(self, g):
        """z = floor(x) 之类的台阶函数:  ∂z/∂x = 0 —— 台阶上处处是平的（跳变点上也取 0，与 PyTorch 相同）。"""
        return array_module(g).zeros(self.shape, self.dtype)


class ToDevice(Function):
    """把张量拷到另一个设备（CPU <-> CUDA）。输出在新设备上，由 Tensor.to 设定它的 device。"""

    def forward(self, a, device):
        from ..backend import device_of, to_device
        self.src = device_of(a)
        return to_device(a, device)

    def backward(self, g):
        """z = x 拷到别的设备:  ∂z/∂x = 1 —— 梯度原样拷回输入所在的设备。"""
        from ..backend import to_device
        return to_device(g, self.src)
