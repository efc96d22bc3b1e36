"""第 0 页（docs/00_build_an_engine.md）一步步写出的标量自动求导引擎，完整版（约 100 行）。

每个 ``Scalar`` 记住三件事：数值 ``data``、梯度 ``grad``、以及它是由哪些节点（``parents``）算出来的，
连同每个输入的 **局部导数** ``local_grads``（∂本节点/∂输入，前向时就算好的数）。``backward`` 按拓扑
逆序走一遍计算图，对每条边做一次链式法则：``parent.grad += local * node.grad``。

A scalar reverse-mode autograd engine in about 100 lines: every node stores its value, its gradient,
its inputs and the local derivative with respect to each input (a number known at forward time);
``backward`` visits the graph in reverse topological order and applies the chain rule once per edge.
The tensor library (``tinygrad_zh.autograd``) keeps this structure but replaces the stored numbers by a
``backward(g)`` method, because the local derivative of a tensor op is a Jacobian matrix too large to store.
"""
import math
import random


def lift(x):
    """数字 -> 常数节点（没有输入）；已经是 Scalar 的原样返回。"""
    return x if isinstance(x, Scalar) else Scalar(x)


class Scalar:
    """计算图中的一个标量节点。"""

    def __init__(self, data, parents=(), local_grads=(), op=""):
        self.data = float(data)
        self.grad = 0.0
        self.parents = tuple(parents)           # 输入节点
        self.local_grads = tuple(local_grads)   # ∂self/∂parent，与 parents 一一对应
        self.op = op                            # 产生它的运算名（叶子为空）

    def __repr__(self):
        return f"Scalar(data={self.data:.4g}, grad={self.grad:.4g})"

    # ---- 二元运算：局部导数 ∂(a+b)/∂a = 1，∂(a·b)/∂a = b ...
    def __add__(self, other):
        other = lift(other)
        return Scalar(self.data + other.data, (self, other), (1.0, 1.0), "+")

    def __mul__(self, other):
        other = lift(other)
        return Scalar(self.data * other.data, (self, other), (other.data, self.data), "*")

    def __pow__(self, k):                      # k 是普通的数（常数指数）
        return Scalar(self.data ** k, (self,), (k * self.data ** (k - 1),), f"**{k}")

    __radd__, __rmul__ = __add__, __mul__

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-lift(other))

    def __rsub__(self, other):
        return lift(other) - self

    def __truediv__(self, other):
        return self * lift(other) ** -1

    def __rtruediv__(self, other):
        return lift(other) * self ** -1

    # ---- 一元函数：局部导数尽量用输出表示（exp' = exp，tanh' = 1 - tanh²，σ' = σ(1-σ)）
    def exp(self):
        e = math.exp(self.data)
        return Scalar(e, (self,), (e,), "exp")

    def log(self):
        return Scalar(math.log(self.data), (self,), (1.0 / self.data,), "log")

    def tanh(self):
        t = math.tanh(self.data)
        return Scalar(t, (self,), (1.0 - t * t,), "tanh")

    def sigmoid(self):
        s = 0.5 * (1.0 + math.tanh(0.5 * self.data))        # = 1/(1+e⁻ˣ)，但不会溢出
        return Scalar(s, (self,), (s * (1.0 - s),), "sigmoid")

    def relu(self):
        return Scalar(max(self.data, 0.0), (self,), (1.0 if self.data > 0 else 0.0,), "relu")

    # ---- 反向传播
    def backward(self):
        """把 ∂self/∂node 写进图中每个节点的 .grad。叶子上的梯度累加（同 PyTorch），中间节点每次重算。"""
        order = topological_order(self)
        for node in order:
            if node.parents:
                node.grad = 0.0
        self.grad = 1.0
        for node in reversed(order):           # 先处理 self，每个节点在它的所有使用者之后
            for parent, local in zip(node.parents, node.local_grads):
                parent.grad += local * node.grad   # 链式法则：一条边一次


def topological_order(root):
    """root 能到达的所有节点，每个节点排在它的所有输入之后（root 在最后）。"""
    order, seen = [], set()

    def visit(node):
        if node in seen:
            return
        seen.add(node)
        for parent in node.parents:
            visit(parent)
        order.append(node)                     # 输入都排好了，才轮到自己
    visit(root)
    return order


class MLP:
    """全连接网络：``MLP([2, 4, 1])`` = 2 个输入、4 个 tanh 隐藏单元、1 个线性输出。"""

    def __init__(self, sizes, seed=0):
        rng = random.Random(seed)
        self.layers = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            bound = 1.0 / math.sqrt(n_in)
            weights = [[Scalar(rng.uniform(-bound, bound)) for _ in range(n_in)] for _ in range(n_out)]
            self.layers.append((weights, [Scalar(0.0) for _ in range(n_out)]))

    def __call__(self, xs):
        for k, (weights, biases) in enumerate(self.layers):
            zs = [sum((w * x for w, x in zip(row, xs)), b) for row, b in zip(weights, biases)]
            xs = zs if k == len(self.layers) - 1 else [z.tanh() for z in zs]
        return xs

    def parameters(self):
        return [p for weights, biases in self.layers for row in weights + [biases] for p in row]
