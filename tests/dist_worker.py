"""One rank of a distributed test: ``mpiexec -n 2 python tests/dist_worker.py <case> [mpi|nccl]``.

Launched by tests/test_distributed.py. Each case checks its results itself and ends by printing
``OK <case> rank <r>``; a failed check raises (then the exception hook aborts every rank).
With ``nccl`` the tensors live on the GPU; the same cases run with any world size (1 included).
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import tinygrad_zh as tg  # noqa: E402
import tinygrad_zh.distributed as dist  # noqa: E402
from tinygrad_zh.nn import Module, Parameter  # noqa: E402
from tinygrad_zh.nn.parallel import DistributedDataParallel  # noqa: E402
from tinygrad_zh.ops.matmul import Linear as LinearFn  # noqa: E402
from tinygrad_zh.ops.softmax import SoftmaxCrossEntropy  # noqa: E402

DEVICE = "cpu"


def put(arr):
    return tg.Tensor(arr, dtype=arr.dtype, device=DEVICE)


def host(t):
    return t.numpy() if DEVICE == "cpu" else t.array.get()


# ----------------------------------------------------------------------------- collectives
def rank_values(r, shape, dtype):
    """The array rank ``r`` contributes (known on every rank, so each can compute the expected result)."""
    base = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    vals = (base * (r + 1) - 3 * r) if np.dtype(dtype).kind == "f" else (base * (r + 2) - 5 * r)
    return vals.astype(dtype)


def case_collectives(rank, world):
    shape = (3, 4)
    for dtype in ("float32", "float64", "int64", "int32", "float16"):
        everyone = np.stack([rank_values(r, shape, dtype) for r in range(world)])
        expected = {"sum": everyone.sum(0, dtype=everyone.dtype), "max": everyone.max(0),
                    "min": everyone.min(0)}
        if dtype.startswith("float"):
            expected["mean"] = (everyone.astype(np.float64).mean(0)).astype(dtype)
        for op, want in expected.items():
            t = put(rank_values(rank, shape, dtype))
            out = dist.all_reduce(t, op=op)
            assert out is t and t.dtype == np.dtype(dtype) and t.shape == shape, (op, dtype, t.dtype)
            tol = 1e-3 if dtype == "float16" else 1e-6
            np.testing.assert_allclose(host(t), want, rtol=tol, err_msg=f"all_reduce {op} {dtype}")

            # non-contiguous: a transposed view of a (4, 3) tensor; the result must land in its memory
            raw = np.ascontiguousarray(rank_values(rank, shape, dtype).T)       # (4, 3) storage
            owner = put(raw)
            view = owner.T                                                       # (3, 4) strided view
            assert not view.array.flags.c_contiguous
            dist.all_reduce(view, op=op)
            np.testing.assert_allclose(host(view), want, rtol=tol, err_msg=f"non-contiguous {op} {dtype}")
            np.testing.assert_allclose(host(owner), want.T, rtol=tol, err_msg=f"storage {op} {dtype}")

        for src in range(world):
            t = put(rank_values(rank, shape, dtype))
            dist.broadcast(t, src=src)
            np.testing.assert_array_equal(host(t), rank_values(src, shape, dtype))
            v = put(np.ascontiguousarray(rank_values(rank, shape, dtype).T)).T   # non-contiguous
            dist.broadcast(v, src=src)
            np.testing.assert_array_equal(host(v), rank_values(src, shape, dtype))

    # a 0-d tensor and a sum of one number per rank
    s = put(np.array(float(rank + 1)))
    dist.all_reduce(s)
    assert float(host(s)) == world * (world + 1) / 2
    dist.barrier()
    # local errors reach every rank as the same error (no rank is left waiting)
    for bad, words in ((lambda: dist.all_reduce(put(np.arange(3)), op="mean"), ["op='mean'", "int64"]),
                       (lambda: dist.all_reduce(put(np.ones(3)), op="prod"), ["unknown op 'prod'"]),
                       (lambda: dist.broadcast(put(np.ones(3)), src=world), [f"src={world}"])):
        try:
            bad()
        except RuntimeError as e:
            msg = str(e)
            assert all(w in msg for w in words) and "rank 0" in msg, msg
        else:
            raise AssertionError("expected a RuntimeError")
    assert dist.all_gather_object(rank * 10) == [r * 10 for r in range(world)]


def case_shape_mismatch(rank, world):
    """Rank 1 passes a different shape: every rank raises an error naming both ranks and shapes."""
    t = put(np.ones((3, 4), np.float32) if rank == 0 else np.ones((4,), np.float32))
    try:
        dist.all_reduce(t)
    except RuntimeError as e:
        print(f"rank {rank} caught: {e}", flush=True)
        msg = str(e)
        for want in ("rank 0", "rank 1", "shape (3, 4)", "shape (4,)"):
            assert want in msg, (want, msg)
    else:
        raise AssertionError("all_reduce accepted different shapes")
    # the group is still usable afterwards
    t = put(np.full((2,), rank + 1.0))
    dist.all_reduce(t)
    assert host(t).tolist() == [3.0, 3.0]
    # and an uncaught disagreement ends the job with the message (the test checks the exit status)
    dist.all_reduce(put(np.ones((2, 2) if rank == 0 else (5,))), op="max")


def case_rank_fails(rank, world):
    """Rank 1 dies before a collective; rank 0 must not wait forever."""
    if rank == 1:
        raise ValueError("rank 1 fails on purpose before the all_reduce")
    dist.all_reduce(put(np.ones(3)))
    raise AssertionError("rank 0 completed an all_reduce that rank 1 never joined")


def case_early_exit(rank, world):
    """Rank 1 leaves with sys.exit(0) while rank 0 waits in a collective: the exit check aborts."""
    if rank == 1:
        sys.exit(0)
    dist.all_reduce(put(np.ones(3)))
    raise AssertionError("rank 0 completed an all_reduce that rank 1 never joined")


# ----------------------------------------------------------------------------- DDP equivalence
class _Lin(Module):
    """Fallback linear layer (used only when tg.nn.Linear is not available)."""

    def __init__(self, i, o):
        super().__init__()
        bound = 1.0 / np.sqrt(i)
        self.weight = Parameter(tg.rand(o, i) * (2 * bound) - bound)
        self.bias = Parameter(tg.rand(o) * (2 * bound) - bound)

    def forward(self, x):
        return LinearFn.apply(x, self.weight, self.bias)


def _linear(i, o):
    return tg.nn.Linear(i, o) if hasattr(tg.nn, "Linear") else _Lin(i, o)


class MLP(Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.out = _linear(6, 16), _linear(16, 16), _linear(16, 3)
        self.unused = _linear(2, 2)              # never in the graph: its grads must stay None

    def forward(self, x):
        return self.out(self.fc2(self.fc1(x).tanh()).relu())


def _lstm_class():
    if hasattr(tg.nn, "LSTM"):
        return tg.nn.LSTM
    try:
        from tinygrad_zh.nn.rnn import LSTM
        return LSTM
    except ImportError:
        return None


class LSTMLM(Module):
    def __init__(self, vocab):
        super().__init__()
        self.emb = tg.nn.Embedding(vocab, 8)
        self.rnn = _lstm_class()(8, 12, batch_first=True)
        self.head = _linear(12, vocab)

    def forward(self, x):
        h, _ = self.rnn(self.emb(x))
        return self.head(h)


def _train(model, loader, loss_of, steps, lr):
    opt = tg.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    done = 0
    while done < steps:
        for batch in loader:
            opt.zero_grad()
            loss_of(model, batch).backward()
            opt.step()
            done += 1
            if done == steps:
                break


def _ddp_equivalence(rank, world, make_model, dataset, loss_of, per_rank_batch, lr):
    """20 SGD steps: DDP with per-rank batch B == one process with batch world*B (float64)."""
    from tinygrad_zh.data import DataLoader
    from tinygrad_zh.data.sampler import DistributedSampler
    steps, seed = 20, 7
    tg.manual_seed(100 + rank)                 # different init per rank: DDP must broadcast rank 0's
    model = make_model().to(DEVICE).double()
    ddp = DistributedDataParallel(model, bucket_cap_mb=0.002)        # ~2 KB: several buckets
    n_params = len(list(ddp.parameters()))
    assert 1 < ddp.num_buckets < n_params, (ddp.num_buckets, n_params)
    assert list(ddp.state_dict()) == list(model.state_dict()), "state_dict keys must not change"
    assert not any(k.startswith("module.") for k in ddp.state_dict())
    start = {k: host(v).copy() for k, v in model.state_dict().items()}
    if rank == 0:
        start0 = start
    sampler = DistributedSampler(dataset, shuffle=True, seed=seed)
    loader = DataLoader(dataset, batch_size=per_rank_batch, sampler=sampler)
    _train(ddp, loader, loss_of, steps, lr)
    assert ddp.sync_count == steps and ddp.last_collectives <= ddp.num_buckets, ddp.sync_count
    final = {k: host(v) for k, v in model.state_dict().items()}

    every = dist.all_gather_object(final)                            # replicas stay identical
    for r, theirs in enumerate(every):
        for k in final:
            np.testing.assert_array_equal(theirs[k], final[k], err_msg=f"rank {r} drifted on {k}")
    if hasattr(model, "unused"):
        assert model.unused.weight.grad is None, "a parameter outside the graph got a gradient"

    if rank == 0:                                                    # the one-process reference
        tg.manual_seed(100)
        ref = make_model().to(DEVICE).double()
        for k, v in ref.state_dict().items():
            np.testing.assert_array_equal(host(v), start0[k], err_msg=f"initial {k}")
        one = DistributedSampler(dataset, num_replicas=1, rank=0, shuffle=True, seed=seed)
        _train(ref, DataLoader(dataset, batch_size=per_rank_batch * world, sampler=one), loss_of, steps, lr)
        moved = 0.0
        for k, v in ref.state_dict().items():
            np.testing.assert_allclose(final[k], host(v), rtol=1e-10, atol=1e-12, err_msg=f"DDP vs 1 process: {k}")
            moved = max(moved, float(np.abs(final[k] - start0[k]).max()))
        assert moved > 1e-3, "training did not move the parameters"
        print(f"rank 0: DDP({world} ranks) == 1 process after {steps} steps, "
              f"{ddp.num_buckets} buckets, max param change {moved:.3g}", flush=True)


def case_ddp_mlp(rank, world):
    from tinygrad_zh.data import TensorDataset
    g = np.random.default_rng(0)
    X = g.standard_normal((160, 6))
    y = (X[:, 0] > 0).astype(np.int64) + (X[:, 1] > 0.5).astype(np.int64)
    ds = TensorDataset(tg.tensor(X, dtype="float64"), tg.tensor(y))

    def loss_of(model, batch):
        xb, yb = batch
        return SoftmaxCrossEntropy.apply(model(xb.to(DEVICE)), yb.to(DEVICE))

    _ddp_equivalence(rank, world, MLP, ds, loss_of, per_rank_batch=8, lr=0.1)

    # no_sync: a backward inside it leaves local gradients alone
    tg.manual_seed(1)
    ddp = DistributedDataParallel(MLP().to(DEVICE).double())
    xb = put(X[rank * 4:(rank + 1) * 4])
    with ddp.no_sync():
        ddp(xb).sum().backward()
    local = host(ddp.module.out.bias.grad).copy()
    assert ddp.sync_count == 0
    ddp.zero_grad()
    ddp(xb).sum().backward()
    assert ddp.sync_count == 1
    every = dist.all_gather_object(local)
    np.testing.assert_allclose(host(ddp.module.out.bias.grad), np.mean(every, axis=0), rtol=1e-12)


def case_ddp_lstm(rank, world):
    if _lstm_class() is None or not hasattr(tg.nn, "Embedding"):
        print(f"SKIP ddp_lstm rank {rank}: tg.nn.LSTM / tg.nn.Embedding not available yet", flush=True)
        return
    from tinygrad_zh.data import TensorDataset
    vocab, T = 11, 7
    tokens = np.random.default_rng(1).integers(0, vocab, size=(64, T + 1))
    ds = TensorDataset(tg.tensor(tokens[:, :-1]), tg.tensor(tokens[:, 1:]))

    def loss_of(model, batch):
        xb, yb = batch
        logits = model(xb.to(DEVICE))
        return SoftmaxCrossEntropy.apply(logits.reshape(-1, vocab), yb.to(DEVICE).reshape(-1))

    _ddp_equivalence(rank, world, lambda: LSTMLM(vocab), ds, loss_of, per_rank_batch=2, lr=0.5)


def main():
    global DEVICE
    case = sys.argv[1]
    backend = sys.argv[2] if len(sys.argv) > 2 else "mpi"
    DEVICE = "cuda" if backend == "nccl" else "cpu"
    dist.init_process_group(backend)
    rank, world = dist.get_rank(), dist.get_world_size()
    globals()["case_" + case](rank, world)
    dist.barrier()
    print(f"OK {case} rank {rank}", flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
