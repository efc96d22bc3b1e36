"""练习 1：标量引擎上的链式法则

读完第 0 页（docs/00_build_an_engine.md）之后，不看答案，自己写出引擎的反向传播。

节点是 tinygrad_zh.exercises.engine.Scalar，有四个字段：
    node.data         数值
    node.grad         梯度（新节点为 0.0）
    node.parents      输入节点的元组（叶子为空元组）
    node.local_grads  每个输入的局部导数 ∂node/∂parent，与 parents 一一对应（前向时已经算好的数）

要写两个函数：

1. topological_order(root)：返回 root 能到达的所有节点组成的 list，每个节点只出现一次，并且排在它的
   所有输入（parents）之后（root 在最后）。

2. backward(root)：把 ∂root/∂node 写进每个节点的 .grad。
   - 链式法则：对每条边 node -> parent，parent.grad += local × node.grad；
   - 一个节点要等它的梯度"收齐"（所有用到它的节点都处理完）之后才能往下传：按什么顺序处理节点？
   - ∂root/∂root 是多少？
   - 叶子（没有 parents 的节点）上的梯度 *累加*：对同一张图调用两次 backward，叶子的梯度变成 2 倍
     （同 PyTorch）；中间节点的梯度每次都从 0 重新算。

判题：随机生成有节点被重复使用的表达式（例如 n2 = x0 * x0，n3 = n2 - x0），把叶子的梯度和
tinygrad_zh 对同一个表达式算出的梯度对照。

检查：python -m tinygrad_zh.exercises check scalar --dir <你的目录>
提示：python -m tinygrad_zh.exercises hint scalar
"""
from tinygrad_zh.exercises.engine import Scalar  # noqa: F401  (节点的类，可以读它的源码)


def topological_order(root):
    raise NotImplementedError("在这里写你的代码")


def backward(root):
    raise NotImplementedError("在这里写你的代码")
