"""爱因斯坦求和 einsum："ij,jk->ik" 这样一行字母写出乘法和求和。

规则：每个字母是一个维度；同一个字母在不同输入里出现，这些维度对齐（逐元素相乘）；不出现在 ``->`` 右边的
字母被求和；一个输入里重复的字母（"ii"）取对角线。例如 "ij,jk->ik" 是矩阵乘法，"ii->" 是迹，
"bij,bjk->bik" 是批量矩阵乘法。``...`` 代表"其余的维度"（从右对齐，可以广播）。

反向传播也是一个 einsum：z = Σ x·y·… 对输入 x 的导数是"其余输入的乘积"，所以
∂L/∂x = einsum(g, 其余输入 -> x 的下标)，即把上游梯度 g 当作一个输入、把 x 的下标当作输出。
两种情况要补一步：x 里只出现在 x 中、被求和掉的字母（"ij->i" 的 j），梯度沿这一维广播回去；
x 里重复的字母（"ii->i"），梯度只写回对角线，其余位置为 0。

English: forward is ``xp.einsum`` on a canonical equation (no ``...``, explicit output); the gradient of
operand k is an einsum of the upstream gradient with the other operands, written to operand k's labels
(broadcast along labels only operand k has, scattered onto the diagonal for repeated labels, and summed
where operand k was broadcast from size 1).
"""
import string

from ..autograd import Function
from ..backend import array_module

_LETTERS = string.ascii_uppercase + string.ascii_lowercase     # 大写在前，与 NumPy/PyTorch 的隐式输出顺序一致


def parse(equation, shapes):
    """把方程整理成规范形式：每个输入一个字母列表（``...`` 换成没用过的字母，从右对齐），输出也是字母列表。

    Returns ``(inputs, output, sizes)``: label lists and ``{label: size}`` (the broadcast size).
    Raises RuntimeError for a malformed equation or shapes that do not fit it."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise RuntimeError(f"einsum(): the equation {equation!r} has {len(terms)} operand(s), but "
                           f"{len(shapes)} tensor(s) were given")
    for t in terms + ([rhs] if arrow else []):
        bad = set(t.replace("...", "")) - set(_LETTERS)
        if bad or t.replace("...", "").count(".") or t.count("...") > 1:
            raise RuntimeError(f"einsum(): invalid subscript {t!r} in {equation!r}: use letters a-z, A-Z "
                               "and at most one '...' per operand")
    used = set(eq)
    spare = [c for c in _LETTERS if c not in used]              # 给 ... 的维度用的字母
    n_ell = 0
    for t, shape in zip(terms, shapes):
        n = len(t.replace("...", ""))
        if "..." in t:
            if n > len(shape):
                raise RuntimeError(f"einsum(): operand subscripts {t!r} need at least {n} dims, got shape "
                                   f"{tuple(shape)}")
            n_ell = max(n_ell, len(shape) - n)
        elif n != len(shape):
            raise RuntimeError(f"einsum(): the number of subscripts in {t!r} ({n}) does not match the number "
                               f"of dimensions ({len(shape)}) of the operand of shape {tuple(shape)}, and no "
                               "ellipsis was given")
    if n_ell > len(spare):
        raise RuntimeError("einsum(): too many dimensions under '...'")
    ell = spare[:n_ell]

    def expand(t, ndim):
        if "..." not in t:
            return list(t)
        head, _, tail = t.partition("...")
        k = ndim - len(head) - len(tail)
        return list(head) + ell[n_ell - k:] + list(tail)

    inputs = [expand(t, len(s)) for t, s in zip(terms, shapes)]
    sizes = {}
    for labels, shape in zip(inputs, shapes):
        own = {}
        for lab, n in zip(labels, shape):
            if own.setdefault(lab, n) != n:
                raise RuntimeError(f"einsum(): subscript {lab} is repeated in one operand of shape "
                                   f"{tuple(shape)} but the sizes don't match, {own[lab]} != {n}")
            prev = sizes.get(lab, 1)
            if prev != 1 and n != 1 and prev != n:
                raise RuntimeError(f"einsum(): subscript {lab} has size {n} in the operand of shape "
                                   f"{tuple(shape)}, which does not broadcast with the size {prev} seen before")
            sizes[lab] = max(prev, n)
    if arrow:
        output = list(rhs.replace("...", "".join(ell))) if "..." in rhs else list(rhs)
        for lab in output:
            if output.count(lab) > 1:
                raise RuntimeError(f"einsum(): output subscript {lab} appears more than once in the output")
            if lab not in sizes:
                raise RuntimeError(f"einsum(): output subscript {lab} does not appear in the equation for "
                                   "any input operand")
    else:                   # 隐式输出：... 的维度在前，再按字母顺序放只出现一次的字母
        counts = {}
        for labels in inputs:
            for lab in labels:
                counts[lab] = counts.get(lab, 0) + 1
        output = ell + sorted((lab for lab, c in counts.items() if c == 1 and lab not in ell), key=_LETTERS.index)
    return inputs, output, sizes


def _einsum(xp, inputs, output, arrays):
    spec = ",".join("".join(labels) for labels in inputs) + "->" + "".join(output)
    return xp.einsum(spec, *arrays, optimize=len(arrays) > 1)     # optimize：两个以上的输入用 tensordot（BLAS）


class Einsum(Function):
    """``einsum(equation, *operands)``：前向是 NumPy / CuPy 的 einsum，反向对每个输入再做一次 einsum。"""

    def forward(self, *arrays, equation):
        xp = array_module(arrays[0])
        self.inputs, self.output, self.sizes = parse(equation, [a.shape for a in arrays])
        self.shapes = [a.shape for a in arrays]
        # 先把大小为 1 的维度广播到对齐的大小（视图，不复制），之后所有同名维度一样长
        self.arrays = [xp.broadcast_to(a, [self.sizes[lab] for lab in labels])
                       for a, labels in zip(arrays, self.inputs)]
        return _einsum(xp, self.inputs, self.output, self.arrays)

    def backward(self, g):
        """z = Σ Πₖ xₖ[下标ₖ]（对不在输出里的字母求和）:  ∂z/∂xₖ = 其余输入的乘积 ——
        所以 ∂L/∂xₖ = einsum(g, 其余输入 -> xₖ 的下标)：把 g 当作一个输入，把 xₖ 的下标当作输出。"""
        return tuple(self._grad(g, k) if need else None for k, need in enumerate(self.needs_input_grad))

    def _grad(self, g, k):
        xp = array_module(g)
        labels, sizes = self.inputs[k], self.sizes
        unique = list(dict.fromkeys(labels))            # 去掉重复的字母（"ii" -> "i"）
        others = [(lab, a) for j, (lab, a) in enumerate(zip(self.inputs, self.arrays)) if j != k]
        seen = set(self.output).union(*(set(lab) for lab, _ in others))
        kept = [lab for lab in unique if lab in seen]   # 只在 xₖ 里出现的字母：einsum 写不出来，下面广播
        gk = _einsum(xp, [self.output] + [lab for lab, _ in others], kept, [g] + [a for _, a in others])
        gk = xp.broadcast_to(gk.reshape([sizes[lab] if lab in seen else 1 for lab in unique]),
                             [sizes[lab] for lab in unique])
        own = dict(zip(labels, self.shapes[k]))         # xₖ 自己的大小：广播过（1 -> n）的维度把梯度求和回去
        axes = tuple(i for i, lab in enumerate(unique) if own[lab] == 1 and sizes[lab] != 1)
        if axes:
            gk = gk.sum(axis=axes, keepdims=True)
        if len(unique) == len(labels):
            return xp.ascontiguousarray(gk).astype(g.dtype, copy=False)
        # 重复的字母：梯度写回对角线（每个位置只被写一次，所以直接赋值）
        out = xp.zeros(self.shapes[k], g.dtype)
        idx = []
        for lab in labels:
            pos, n = unique.index(lab), own[lab]
            idx.append(xp.arange(n).reshape([n if i == pos else 1 for i in range(len(unique))]))
        out[tuple(idx)] = gk
        return out
