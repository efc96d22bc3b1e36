"""In-place semantics (tinygrad_zh/inplace.py), checked against PyTorch doing the same steps."""
import numpy as np
import pytest
import torch

import tinygrad_zh as tg

pytestmark = pytest.mark.core


def pair(values, requires_grad=False, dtype="float64"):
    a = np.asarray(values, dtype=dtype)
    return (tg.tensor(a.copy(), dtype=dtype, requires_grad=requires_grad),
            torch.tensor(a.copy(), requires_grad=requires_grad))


def same(t, ref):
    np.testing.assert_allclose(t.detach().numpy(), ref.detach().numpy(), rtol=1e-12, atol=1e-12)


def test_manual_sgd_update_under_no_grad_changes_the_parameter_itself():
    """d2l's sgd(): `param -= lr * param.grad / batch_size` inside no_grad, then grad.zero_()."""
    w, tw = pair([1.0, -2.0, 3.0], requires_grad=True)
    for _ in range(3):
        (w * w).sum().backward()
        (tw * tw).sum().backward()
        obj = w
        with tg.no_grad():
            w -= 0.1 * w.grad
        with torch.no_grad():
            tw -= 0.1 * tw.grad
        assert w is obj and w.requires_grad and w.is_leaf and w.grad is not None
        w.grad.zero_()
        tw.grad.zero_()
    same(w, tw)
    np.testing.assert_array_equal(w.grad.numpy(), [0.0, 0.0, 0.0])


@pytest.mark.parametrize("update", [
    lambda w: w.add_(1.0), lambda w: w.sub_(1.0), lambda w: w.mul_(2.0), lambda w: w.div_(2.0),
    lambda w: w.zero_(), lambda w: w.fill_(3.0), lambda w: w.normal_(), lambda w: w.uniform_(),
    lambda w: w.copy_(tg.ones(3)), lambda w: w.clamp_(0, 1), lambda w: w.__setitem__(0, 5.0),
    lambda w: w.__iadd__(1.0), lambda w: w.__imul__(2.0), lambda w: w.exp_(),
])
def test_in_place_on_a_leaf_that_requires_grad_raises_outside_no_grad(update):
    w = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    tw = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        update(w)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        tw.add_(1.0)                                               # PyTorch's rule and words
    np.testing.assert_array_equal(w.numpy(), [1.0, 2.0, 3.0])      # nothing was written
    with tg.no_grad():
        update(w)                                                   # allowed under no_grad


@pytest.mark.parametrize("name,args", [("add_", (2.5,)), ("sub_", (0.5,)), ("mul_", (3.0,)),
                                       ("div_", (4.0,)), ("clamp_", (-0.5, 0.5)), ("fill_", (7.0,)),
                                       ("zero_", ()), ("exp_", ()), ("abs_", ()), ("neg_", ()),
                                       ("sigmoid_", ()), ("tanh_", ()), ("relu_", ())])
def test_in_place_values_match_pytorch_and_keep_identity_and_memory(name, args):
    x, tx = pair([[-1.0, 0.25], [2.0, -3.0]])
    arr = x.array
    out = getattr(x, name)(*args)
    getattr(tx, name)(*args)
    assert out is x and x.array is arr                 # the same tensor, the same memory
    same(x, tx)


def test_augmented_assignment_broadcasts_other_into_self_but_never_self_into_other():
    x, tx = pair(np.zeros((2, 3)))
    x += tg.tensor([1.0, 2.0, 3.0], dtype="float64")
    tx += torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    same(x, tx)
    small = tg.zeros(3, dtype="float64")
    with pytest.raises(RuntimeError, match=r"add_: output with shape \(3,\) doesn't match the broadcast "
                                           r"shape \(2, 3\)"):
        small += tg.ones(2, 3, dtype="float64")
    with pytest.raises(RuntimeError):
        torch.zeros(3).add_(torch.ones(2, 3))


def test_int_tensor_refuses_a_float_result_in_place_as_pytorch_does():
    i = tg.tensor([1, 2, 3])
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type int64"):
        i += 0.5
    with pytest.raises(RuntimeError, match="can't be cast"):
        i /= 2
    with pytest.raises(RuntimeError):
        torch.tensor([1, 2, 3]).add_(0.5)
    i += 2
    np.testing.assert_array_equal(i.numpy(), [3, 4, 5])


def test_views_and_data_see_in_place_writes():
    x = tg.zeros(2, 3)
    row = x[0]
    flat = x.view(-1)
    x.add_(1.0)
    np.testing.assert_array_equal(row.numpy(), [1.0, 1.0, 1.0])
    flat[4] = 9.0
    assert x[1, 1].item() == 9.0
    x.data.mul_(2.0)
    assert x[1, 1].item() == 18.0 and row.numpy().tolist() == [2.0, 2.0, 2.0]


def test_data_is_a_tensor_sharing_memory_outside_the_graph():
    """net[0].weight.data.normal_(0, 0.01) and .data.fill_(0), d2l's initialisation idiom."""
    w = tg.zeros(3, 4, requires_grad=True)
    d = w.data
    assert isinstance(d, tg.Tensor) and not d.requires_grad and d.grad_fn is None
    d.normal_(0, 0.01)
    assert 0.001 < float(w.array.std()) < 0.03 and w.requires_grad and w.is_leaf
    w.data.fill_(0)
    np.testing.assert_array_equal(w.numpy(), np.zeros((3, 4)))
    w.data = tg.ones(2)                    # rebinding .data replaces the storage, like PyTorch
    assert w.shape == (2,) and w.requires_grad


def test_modifying_a_saved_tensor_makes_backward_raise_naming_the_op():
    x = tg.tensor([0.5, 1.0, 2.0], dtype="float64", requires_grad=True)
    y = x.sigmoid()                               # Sigmoid saves its output y
    with tg.no_grad():
        y.mul_(2.0)
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation: output 0 of "
                                           r"<SigmoidBackward>.*version 1; expected version 0"):
        y.sum().backward()
    tx = torch.tensor([0.5, 1.0, 2.0], requires_grad=True)
    ty = tx.sigmoid()
    with torch.no_grad():
        ty.mul_(2.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        ty.sum().backward()


def test_a_saved_alias_of_the_target_is_caught_as_in_pytorch():
    """y.mul_(y.detach()): Mul saved y's memory as its second input, then the write changed it."""
    x, tx = pair([0.5, -1.0, 2.0], requires_grad=True)
    y, ty = x * 3.0, tx * 3.0
    y.mul_(y.detach())
    ty.mul_(ty.detach())
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        (y * y).sum().backward()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        (ty * ty).sum().backward()


def test_modifying_a_saved_input_through_detach_is_caught_too():
    a = tg.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    b = tg.tensor([3.0, 4.0], dtype="float64", requires_grad=True)
    out = a * b                                   # Mul saves both inputs
    b.detach().add_(1.0)                          # same memory, same version counter
    with pytest.raises(RuntimeError, match=r"input 1 of <MulBackward>"):
        out.sum().backward()


def test_a_tensor_not_saved_by_the_op_may_change():
    """Add saves nothing: changing its input afterwards is fine (PyTorch agrees)."""
    a, ta = pair([1.0, 2.0], requires_grad=True)
    b = tg.tensor([3.0, 4.0], dtype="float64")
    tb = torch.tensor([3.0, 4.0], dtype=torch.float64)
    out, tout = a + b, ta + tb
    b.add_(10.0)
    tb.add_(10.0)
    out.sum().backward()
    tout.sum().backward()
    same(a.grad, ta.grad)


def test_in_place_on_a_non_leaf_is_recorded_like_pytorch():
    x, tx = pair([0.5, -1.0, 2.0], requires_grad=True)
    y, ty = x * 3.0, tx * 3.0
    c, tc = pair([2.0, -0.5, 4.0])
    y.mul_(c).add_(1.0).relu_()
    ty.mul_(tc).add_(1.0).relu_()
    assert y.grad_fn is not None and not y.is_leaf
    same(y, ty)
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    same(x.grad, tx.grad)


def test_in_place_with_an_operand_that_requires_grad_makes_the_target_part_of_the_graph():
    h, th = pair(np.zeros(3))
    x, tx = pair([1.0, 2.0, 3.0], requires_grad=True)
    h += x * x
    th += tx * tx
    assert h.requires_grad and h.grad_fn is not None
    h.sum().backward()
    th.sum().backward()
    same(x.grad, tx.grad)


def test_index_assignment_is_differentiable_on_non_leaves():
    x, tx = pair([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    v, tv = pair([10.0, 20.0], requires_grad=True)
    y, ty = x * 2.0, tx * 2.0
    y[0] = v * 3.0
    ty[0] = tv * 3.0
    same(y, ty)
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    same(x.grad, tx.grad)
    same(v.grad, tv.grad)


def _both_ways(program, x0):
    """Run ``program(module, x)`` with tinygrad_zh and torch on the same float64 leaf; return both
    (gradient of x, the program's values)."""
    out = []
    for m in (tg, torch):
        x = m.tensor(np.asarray(x0, dtype="float64"), dtype=m.float64, requires_grad=True)
        vals = program(m, x)
        out.append((x.grad.numpy(), [v.detach().numpy() for v in vals]))
    return out


def test_in_place_on_a_tensor_already_used_by_a_recorded_op_follows_pytorch():
    """d2l 5.1's FixedHiddenMLP (``while X.abs().sum() > 1: X /= 2``) and friends: earlier users of X
    keep its old value and grad_fn, X itself continues from the in-place op (this used to raise)."""
    def program(m, w):
        X = w * 1.5
        while X.abs().sum() > 1:                # abs() used X, and nobody backpropagates through it
            X /= 2
        Y = X * 3                                # Mul by a constant saves nothing that X += 1 breaks
        X += 1
        e = Y.exp()                              # exp saves its output, not Y
        Y.mul_(2)
        Y[0] = X[1] * 2                          # index assignment into a used tensor
        (Y.sum() + X.sum() + e.sum()).backward()
        return [X, Y, e]
    (g, vals), (gt, vals_t) = _both_ways(program, [0.7, -1.3, 2.0])
    np.testing.assert_allclose(g, gt, rtol=1e-12)
    for a, b in zip(vals, vals_t):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_multistep_prediction_loop_assigning_into_a_used_tensor_follows_pytorch():
    """d2l 8.1: ``preds[i] = net(preds[i - tau:i])`` reads earlier entries of the tensor it writes.
    The forward runs as in PyTorch (it used to raise at the first assignment); a backward through it
    fails in both, because the slices that Mul saved share the version counter of ``preds``."""
    results = []
    for m in (tg, torch):
        w = m.tensor([0.5, -0.2, 0.9, 0.3], dtype=m.float64, requires_grad=True)
        preds = m.zeros(6, dtype=m.float64)
        preds[:2] = w[:2]
        for i in range(2, 6):
            preds[i] = (preds[i - 2:i] * w[2:4]).sum()
        assert preds.requires_grad and not preds.is_leaf
        results.append(preds.detach().numpy().copy())
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            preds.sum().backward()
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12)


def test_a_user_that_saved_the_old_value_still_raises_in_backward_like_pytorch():
    for m, name in ((tg, "SinBackward"), (torch, "SinBackward0")):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2.0
        z = y.sin()                              # sin saves its input y for the derivative cos(y)
        y.mul_(3.0)                              # allowed: the error comes only if z is backpropagated
        y.sum().backward(retain_graph=True)      # through the new value: fine
        np.testing.assert_allclose(x.grad.numpy(), [6.0, 6.0])
        with pytest.raises(RuntimeError, match="modified by an inplace operation") as info:
            z.sum().backward()
        if m is tg:
            assert name in str(info.value)          # ours names the node whose saved input changed


def _masked_softmax_grads(m):
    """d2l 10.3's masked softmax: reshape the scores, write -1e6 through a boolean mask, softmax."""
    s = m.tensor(np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 10, requires_grad=True)
    x = s * 2.0
    shape = x.shape
    x = x.reshape(-1, shape[-1])
    mask = m.arange(4)[None, :] < m.tensor([2, 3, 1, 4, 2, 3])[:, None]
    x[~mask] = -1e6
    p = m.nn.functional.softmax(x.reshape(shape), dim=-1)
    w = m.tensor(np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32))
    (p * w).sum().backward()
    return p.detach().numpy(), s.grad.numpy()


def test_recorded_in_place_on_a_view_rebases_the_base_as_pytorch():
    for ours, theirs in zip(_masked_softmax_grads(tg), _masked_softmax_grads(torch)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-7)


def _row_of_the_base(m, x, w):
    y = x * 1.5
    v = y[1]                      # a row of a non-leaf
    v.mul_(w.sum())
    return y.sum() * 2 + (v * v).sum()


def _strided_slice(m, x, w):
    y = x * 1.0
    v = y[:, ::2]
    v += w.reshape(3, 1)
    return (y * y).sum()


def _transposed(m, x, w):
    y = x * 2.0 + 1.0
    t = y.t()
    t.mul_(2.0)
    return (t * w.sum()).sum() + y.sum()


def _setitem_through_view(m, x, w):
    y = x * 1.0
    y.view(-1)[0:3] = w
    return (y ** 2).sum()


VIEW_CASES = {"row of the base, both used": _row_of_the_base, "strided slice += w": _strided_slice,
              "transposed view": _transposed, "setitem through view(-1)": _setitem_through_view}


@pytest.mark.parametrize("name", sorted(VIEW_CASES))
def test_recorded_in_place_on_views_matches_pytorch(name):
    res = []
    for m in (torch, tg):
        x = m.tensor(np.linspace(-1, 1, 12).reshape(3, 4).astype(np.float32), requires_grad=True)
        w = m.tensor([0.5, -2.0, 3.0], requires_grad=True)
        loss = VIEW_CASES[name](m, x, w)
        loss.backward()
        res.append((loss.item(), x.grad.numpy(), None if w.grad is None else w.grad.numpy()))
    (lt, gxt, gwt), (lg, gxg, gwg) = res
    np.testing.assert_allclose(lg, lt, rtol=1e-5)
    np.testing.assert_allclose(gxg, gxt, rtol=1e-5, atol=1e-6)
    assert (gwg is None) == (gwt is None)
    if gwt is not None:
        np.testing.assert_allclose(gwg, gwt, rtol=1e-5, atol=1e-6)


def test_writing_through_a_view_into_a_saved_output_raises_in_both():
    for m in (torch, tg):
        x = m.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        y = x.exp()                      # exp saves its output for backward
        y.t().mul_(2.0)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


def test_a_view_taken_before_another_views_in_place_write_is_loud_not_wrong():
    x = tg.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    y = x * 1.0
    a = y.view(2, 2)                 # taken before the write below: its grad_fn no longer matches its values
    b = y[0:2]
    b.mul_(3.0)
    with pytest.raises(RuntimeError, match="modified in place through another view"):
        (a * a).sum().backward()


def test_in_place_on_a_view_of_a_leaf_that_requires_grad_is_refused_as_pytorch():
    for m in (torch, tg):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        with pytest.raises(RuntimeError, match="view of a leaf Variable that requires grad"):
            x[0:1].add_(1.0)


def test_detach_in_place_and_requires_grad_in_place():
    """RNN from scratch: `state.detach_()` between batches; requires_grad_() on a new leaf."""
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    s = x * 2.0
    assert s.detach_() is s and s.grad_fn is None and not s.requires_grad and s.is_leaf
    w = tg.zeros(2).requires_grad_()
    assert w.requires_grad
    with pytest.raises(RuntimeError, match="floating point"):
        tg.tensor([1, 2]).requires_grad_()


def test_optimizer_and_zero_grad_still_update_in_place():
    lin = tg.nn.Linear(3, 2)
    w = lin.weight
    arr = w.array
    opt = tg.optim.SGD(lin.parameters(), lr=0.1)
    lin(tg.ones(4, 3)).sum().backward()
    before = arr.copy()
    opt.step()
    assert lin.weight is w and w.array is arr and not np.array_equal(arr, before)
