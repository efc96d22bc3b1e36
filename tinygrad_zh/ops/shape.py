"""形状运算：reshape / permute / expand / cat / stack / flip，以及 triu / tril（按位置保留或置 0）。

这些运算只搬动数字、不改变数值，所以反向也只是把梯度原路搬回去：reshape 回原形状，做逆置换，
把被 expand 复制出来的位置求和，把拼接后的梯度切回一块一块。

English: these ops move numbers around without changing them, so their backward just moves the
gradient back: undo the reshape, apply the inverse permutation, sum what was expanded, cut the
concatenated gradient into pieces.
"""
from ..autograd import Function
from ..backend import array_module
from .elementwise import unbroadcast
from ..errors import TensorError


class Reshape(Function):
    def forward(self, a, shape):
        self.in_shape = a.shape
        try:
            return a.reshape(shape)
        except ValueError:
            raise TensorError(f"reshape: cannot reshape a tensor of shape {a.shape} ({a.size} elements) "
                             f"into shape {tuple(shape)}") from None

    def backward(self, g):
        """z = reshape(x):  ∂L/∂x = reshape(∂L/∂z, x.shape) —— 元素一一对应，梯度 reshape 回输入形状即可。"""
        return g.reshape(self.in_shape)


class Permute(Function):
    def forward(self, a, dims):
        self.dims = dims
        return a.transpose(dims)

    def backward(self, g):
        """z = permute(x, p):  ∂L/∂x = permute(∂L/∂z, p⁻¹) —— 梯度做逆置换，回到原来的轴顺序。"""
        inv = [0] * len(self.dims)
        for i, d in enumerate(self.dims):
            inv[d] = i
        return g.transpose(inv)


class Expand(Function):
    def forward(self, a, shape):
        self.in_shape = a.shape
        return array_module(a).broadcast_to(a, shape)

    def backward(self, g):
        """z = expand(x):  ∂L/∂x = 复制出的各位置上 ∂L/∂z 之和 —— 一个元素被复制到多处，梯度把这些位置求和（同广播）。"""
        return unbroadcast(g, self.in_shape)


class Cat(Function):
    def forward(self, *arrays, dim=0):
        xp = array_module(arrays[0])
        self.dim = dim
        self.sizes = [a.shape[dim] for a in arrays]
        try:
            return xp.concatenate(arrays, axis=dim)
        except ValueError:
            raise TensorError(f"cat: tensors must have the same shape except in dim {dim}, got "
                             f"{[tuple(a.shape) for a in arrays]}") from None

    def backward(self, g):
        """z = cat(x₁, x₂, …):  ∂L/∂xᵢ = ∂L/∂z 沿拼接维属于 xᵢ 的那一段 —— 谁贡献了哪一段，就拿回哪一段。"""
        out, start = [], 0
        idx = [slice(None)] * g.ndim
        for n in self.sizes:
            idx[self.dim] = slice(start, start + n)
            out.append(g[tuple(idx)])
            start += n
        return tuple(out)


class Stack(Function):
    def forward(self, *arrays, dim=0):
        xp = array_module(arrays[0])
        self.dim = dim
        try:
            return xp.stack(arrays, axis=dim)
        except ValueError:
            raise TensorError(f"stack: expected tensors of one shape, got "
                             f"{[tuple(a.shape) for a in arrays]}") from None

    def backward(self, g):
        """z = stack(x₁, x₂, …):  ∂L/∂xᵢ = ∂L/∂z 沿新维的第 i 片 —— 每个输入正好占新维上的一片。"""
        xp = array_module(g)
        return tuple(xp.take(g, i, axis=self.dim) for i in range(g.shape[self.dim]))


class Flip(Function):
    """沿 ``dims`` 把元素顺序倒过来（与 PyTorch 一样返回拷贝，而不是共享内存的视图）。"""

    def forward(self, a, dims):
        self.dims = dims
        return array_module(a).flip(a, axis=dims).copy()

    def backward(self, g):
        """z = flip(x):  ∂L/∂x = flip(∂L/∂z) —— 元素只是换了位置，梯度再倒回来即可（flip 是自己的逆）。"""
        return array_module(g).flip(g, axis=self.dims)


class Triangle(Function):
    """triu / tril：保留最后两维的上（下）三角，其余位置置 0。``diagonal`` 把分界线向右上（>0）或左下（<0）平移。"""

    def forward(self, a, upper, diagonal):
        xp = array_module(a)
        self.upper, self.diagonal = upper, diagonal
        return xp.triu(a, diagonal) if upper else xp.tril(a, diagonal)

    def backward(self, g):
        """z = x·mask（mask 是三角形的 0/1 掩码）:  ∂z/∂x = mask —— 保留下来的位置传梯度，被置 0 的位置不传。"""
        xp = array_module(g)
        return xp.triu(g, self.diagonal) if self.upper else xp.tril(g, self.diagonal)
