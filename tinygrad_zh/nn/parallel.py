"""DistributedDataParallel（DDP）：多进程数据并行，反向传播后自动把梯度在各 rank 间求平均。

怎么工作的 (how it works):

1. 构造时：检查各 rank 的参数名、形状、dtype 一致，然后把 rank 0 的参数与 buffer 广播给所有 rank，
   所有副本从同一个起点出发。
2. 前向：直接调用被包装的模块；输出张量再经过一个"恒等"节点 ``_GradSync``，它在图上做个记号。
3. 反向：``loss.backward()`` 照常求出本 rank 的梯度；因为图里有 ``_GradSync`` 节点，autograd 在整个反向
   结束（所有叶子梯度都已累加完毕）后调用 ``_sync_gradients``：把梯度拼进几个扁平的桶（bucket），
   每个桶做一次 all-reduce(sum) 再除以 world size，得到平均梯度 —— 等价于在 N 倍大的 batch 上求的梯度。
4. 之后 ``optimizer.step()`` 在每个 rank 上做完全相同的更新，参数始终一致。

为什么分桶 (why buckets): 一次集合通信有固定的启动延迟（α，几微秒到几十微秒），另加与字节数成正比的
传输时间。每个参数单独通信要付 (参数个数)×α；拼成 ~25 MB 的桶后只付 (桶数)×α，而带宽项不变。
"""
import contextlib

from .. import autograd
from .. import distributed as dist          # one direction only: tg.distributed never imports nn
from ..autograd import Function
from ..distributed import process_group as pg
from ..tensor import Tensor
from .module import Module


class _GradSync(Function):
    """恒等节点：前向原样返回，反向原样传梯度；它只在图上留下"反向结束后同步梯度"的回调。"""

    def forward(self, x, owner=None):
        self.post_backward = owner._sync_gradients       # called once, after the whole backward pass
        return x

    def backward(self, g):
        """y = x:  ∂y/∂x = 1 —— 恒等映射，梯度原样通过。"""
        return g


def _mark(out, owner):
    """Route every differentiable Tensor in ``out`` (nested tuples / lists / dicts) through _GradSync."""
    if isinstance(out, Tensor):
        return _GradSync.apply(out, owner=owner) if out.requires_grad else out
    if isinstance(out, tuple) and hasattr(out, "_fields"):          # namedtuple
        return type(out)(*(_mark(o, owner) for o in out))
    if isinstance(out, (tuple, list)):
        return type(out)(_mark(o, owner) for o in out)
    if isinstance(out, dict):
        return type(out)((k, _mark(v, owner)) for k, v in out.items())
    return out


class DistributedDataParallel(Module):
    """数据并行包装器：``DistributedDataParallel(module, bucket_cap_mb=25)``.

    * At construction: checks that every rank has the same parameters (names, shapes, dtypes) and
      broadcasts rank 0's parameters and buffers, so all replicas start equal.
    * ``forward`` calls ``module``; after ``loss.backward()`` the gradients are averaged over the
      ranks automatically, one all-reduce per flat bucket of at most ``bucket_cap_mb`` megabytes
      (buckets are filled in reverse parameter order, the order in which backward produces them).
    * Otherwise it is the wrapped module: ``.module``, ``parameters()``, ``state_dict()`` /
      ``load_state_dict()`` with the module's own keys (no ``module.`` prefix), ``train()/eval()``,
      and unknown attributes are looked up on the module.
    * ``with ddp.no_sync():`` skips the averaging (gradient accumulation over several backward passes:
      the next synchronized backward averages the accumulated sum).

    Parameters that got no gradient on any rank keep ``grad = None``; a parameter that got one on some
    ranks only is treated as a zero gradient on the others. Buffers (e.g. BatchNorm statistics) are
    broadcast once at construction only; afterwards each rank keeps its own.
    Requires ``tg.distributed.init_process_group()`` first.
    """

    def __init__(self, module, bucket_cap_mb=25.0, broadcast_buffers=True):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: expected a tg.nn.Module, got {type(module).__name__}")
        if not bucket_cap_mb > 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be > 0, got {bucket_cap_mb}")
        self._group = pg._require_group("DistributedDataParallel")
        self._dist = dist
        self.module = module
        self.bucket_cap_mb = float(bucket_cap_mb)
        object.__setattr__(self, "_sync_enabled", True)
        object.__setattr__(self, "sync_count", 0)          # backward passes synchronized so far
        object.__setattr__(self, "last_collectives", 0)    # all-reduces issued by the last sync
        named = list(module.named_parameters())
        object.__setattr__(self, "_params", [p for _, p in named if p.requires_grad])
        object.__setattr__(self, "_buckets", self._plan_buckets(self._params))
        self._check_replicas(named)
        tensors = [p for _, p in named] + (list(module.buffers()) if broadcast_buffers else [])
        self._broadcast_from_rank0(tensors)

    # ------------------------------------------------------------------ setup
    def _plan_buckets(self, params):
        """Group parameter indices into buckets of one device and dtype, at most bucket_cap_mb each."""
        cap = self.bucket_cap_mb * 1024 * 1024
        buckets, open_ = [], {}                               # (device, dtype) -> [indices, bytes]
        for i in reversed(range(len(params))):                # backward produces grads last-layer first
            p = params[i]
            key = (p.device, str(p.dtype))
            cur = open_.get(key)
            if cur is not None and cur[1] + p.array.nbytes > cap:
                buckets.append(cur[0])
                cur = None
            if cur is None:
                cur = open_[key] = [[], 0]
            cur[0].append(i)
            cur[1] += p.array.nbytes
        buckets.extend(c[0] for c in open_.values() if c[0])
        return buckets

    def _check_replicas(self, named):
        """Same parameter names, shapes and dtypes on every rank, or one clear error on every rank."""
        mine = [(n, p.shape, str(p.dtype)) for n, p in named]
        allp = self._dist.all_gather_object(mine)
        for r, theirs in enumerate(allp):
            if theirs == allp[0]:
                continue
            for k in range(max(len(theirs), len(allp[0]))):
                a = allp[0][k] if k < len(allp[0]) else None
                b = theirs[k] if k < len(theirs) else None
                if a != b:
                    raise RuntimeError(
                        f"DistributedDataParallel: the model differs across ranks: parameter #{k} is "
                        f"{_fmt_param(a)} on rank 0 but {_fmt_param(b)} on rank {r} (every rank must "
                        f"build the same model)")

    def _broadcast_from_rank0(self, tensors):
        """Copy rank 0's values into every rank's tensors, one broadcast per (device, dtype) group."""
        groups = {}
        for t in tensors:
            groups.setdefault((t.device, str(t.dtype)), []).append(t)
        self._dist.collectives.agree(self._group, f"DDP broadcast(groups={sorted(groups)}, "
                                                  f"sizes={[sum(t.numel() for t in g) for g in groups.values()]})")
        for ts in groups.values():
            xp = ts[0]._xp
            flat = xp.concatenate([t.array.reshape(-1) for t in ts])
            self._group.broadcast_(flat, 0)
            off = 0
            for t in ts:
                n = t.numel()
                t.array[...] = flat[off:off + n].reshape(t.shape)   # in place: optimizers keep their refs
                off += n

    # ------------------------------------------------------------------ forward / backward
    def forward(self, *args, **kwargs):
        out = self.module(*args, **kwargs)
        if self._sync_enabled and autograd.is_grad_enabled():
            out = _mark(out, self)
        return out

    @contextlib.contextmanager
    def no_sync(self):
        """Inside this block backward passes do not average gradients (accumulate locally)."""
        prev = self._sync_enabled
        object.__setattr__(self, "_sync_enabled", False)
        try:
            yield
        finally:
            object.__setattr__(self, "_sync_enabled", prev)

    def _sync_gradients(self):
        """平均梯度：g ← (1/N) Σ_ranks g，每个桶一次 all-reduce。Called by autograd after backward."""
        g = self._group
        params = self._params
        has = [p.grad is not None for p in params]
        masks = self._dist.collectives.agree(
            g, f"DDP gradient sync({len(params)} parameters, {len(self._buckets)} buckets)", payload=has)
        used = [any(m[i] for m in masks) for i in range(len(params))]
        n_coll = 0
        for bucket in self._buckets:
            idx = [i for i in bucket if used[i]]
            if not idx:
                continue
            xp = params[idx[0]]._xp
            flat = xp.concatenate([
                (params[i].grad.array if params[i].grad is not None else
                 xp.zeros(params[i].shape, params[i].dtype)).reshape(-1) for i in idx])
            g.all_reduce_(flat, "sum")
            flat /= g.world_size
            n_coll += 1
            off = 0
            for i in idx:
                p = params[i]
                n = p.numel()
                p.grad = Tensor._make(flat[off:off + n].reshape(p.shape), p.device, None, 0)
                off += n
        object.__setattr__(self, "last_collectives", n_coll)
        object.__setattr__(self, "sync_count", self.sync_count + 1)

    # ------------------------------------------------------------------ behave like the module
    @property
    def num_buckets(self):
        return len(self._buckets)

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        return self.module.named_parameters(prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        return self.module.parameters(recurse)

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        return self.module.named_buffers(prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        return self.module.buffers(recurse)

    def state_dict(self, *args, **kwargs):
        """The wrapped module's state_dict (same keys as without DDP: checkpoints stay portable)."""
        return self.module.state_dict(*args, **kwargs)

    def load_state_dict(self, state_dict, strict=True, assign=False):
        return self.module.load_state_dict(state_dict, strict, assign)

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            modules = self.__dict__.get("_modules", {})
            if "module" in modules:
                return getattr(modules["module"], name)
            raise

    def extra_repr(self):
        return (f"world_size={self._group.world_size}, backend={self._group.name!r}, "
                f"buckets={len(self._buckets)}, bucket_cap_mb={self.bucket_cap_mb:g}")


def _fmt_param(entry):
    if entry is None:
        return "missing"
    name, shape, dtype = entry
    return f"{name!r} with shape {shape} and dtype {dtype}"
