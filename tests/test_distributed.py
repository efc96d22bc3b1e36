"""tg.distributed, DistributedDataParallel and DistributedSampler.

Multi-process tests launch ``mpiexec -n 2 python tests/dist_worker.py <case>`` with a timeout (a hang
fails the test instead of blocking CI). They are skipped, with the reason, when mpi4py or mpiexec is
missing: ``pip install "tinygrad_zh[distributed]"`` installs both (mpi4py + the mpich wheel).
Everything else runs in this process without MPI.
"""
import importlib.util
import os
import shutil
import signal
import subprocess
import sys

import numpy as np
import pytest

import tinygrad_zh as tg
import tinygrad_zh.distributed as dist
from tinygrad_zh.autograd import Function
from tinygrad_zh.data.sampler import DistributedSampler

HERE = os.path.dirname(os.path.abspath(__file__))
WORKER = os.path.join(HERE, "dist_worker.py")
TIMEOUT = 90


def _mpiexec():
    near = os.path.join(os.path.dirname(sys.executable), "mpiexec")    # the mpich wheel puts it here
    return near if os.path.exists(near) else shutil.which("mpiexec")


def _skip_reason():
    if importlib.util.find_spec("mpi4py") is None:
        return 'mpi4py is not installed (pip install "tinygrad_zh[distributed]")'
    if _mpiexec() is None:
        return 'no mpiexec found (pip install "tinygrad_zh[distributed]" provides one via the mpich wheel)'
    return None


needs_mpi = pytest.mark.skipif(_skip_reason() is not None, reason=str(_skip_reason()))


def _run(args, timeout=TIMEOUT, env=None):
    """Run a command in its own process group; kill the whole group if it exceeds ``timeout``."""
    env = dict(os.environ, PYTHONUNBUFFERED="1", **(env or {}))
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                         start_new_session=True, cwd=os.path.dirname(HERE))
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, _ = p.communicate()
        pytest.fail(f"{' '.join(args)} hung for more than {timeout} s; output:\n{out}")
    return p.returncode, out


def _ranks(case, n=2, backend="mpi", env=None):
    return _run([_mpiexec(), "-n", str(n), sys.executable, WORKER, case, backend], env=env)


def _ranks_cmd(script_argv, n=2):
    return _run([_mpiexec(), "-n", str(n), sys.executable] + script_argv, timeout=180)


def _ok(case, n=2, backend="mpi"):
    rc, out = _ranks(case, n, backend)
    assert rc == 0, out
    for r in range(n):
        assert f"OK {case} rank {r}" in out, out
    return out


# ============================================================================ multi-process (MPI)
@needs_mpi
def test_collectives_every_op_dtype_and_noncontiguous():
    _ok("collectives")


@needs_mpi
def test_shape_disagreement_names_ranks_and_shapes_no_hang():
    rc, out = _ranks("shape_mismatch")
    # caught on both ranks, group usable afterwards, then an uncaught one aborts the job
    for r in (0, 1):
        assert f"rank {r} caught: all_reduce: the ranks disagree: rank 0 called all_reduce(shape (3, 4)" in out
    assert "rank 1 called all_reduce(shape (4,), float32" in out
    assert rc != 0, out
    assert "shape (2, 2), float64, op='max'" in out and "shape (5,), float64, op='max'" in out, out
    assert "aborting all 2 ranks" in out


@needs_mpi
def test_failing_rank_aborts_the_job_instead_of_hanging():
    rc, out = _ranks("rank_fails")
    assert rc != 0
    assert "rank 1 fails on purpose" in out and "rank 1 failed with ValueError; aborting all 2 ranks" in out, out
    assert "rank 0 completed" not in out


@needs_mpi
def test_rank_exiting_early_aborts_the_job_after_the_exit_timeout():
    rc, out = _ranks("early_exit", env={"TINYGRAD_ZH_DIST_EXIT_TIMEOUT": "2"})
    assert rc != 0
    assert "rank 1 is exiting without destroy_process_group()" in out and "aborting all 2 ranks" in out, out
    assert "rank 0 completed" not in out


@needs_mpi
def test_ddp_mlp_two_ranks_equals_one_process_with_double_batch():
    out = _ok("ddp_mlp")
    assert "DDP(2 ranks) == 1 process after 20 steps" in out


@needs_mpi
def test_ddp_lstm_lm_two_ranks_equals_one_process_with_double_batch():
    out = _ok("ddp_lstm")
    if "SKIP ddp_lstm" in out:
        pytest.skip("tg.nn.LSTM / tg.nn.Embedding not available yet")
    assert "DDP(2 ranks) == 1 process after 20 steps" in out


@needs_mpi
def test_single_process_without_launcher_is_a_group_of_one():
    rc, out = _run([sys.executable, WORKER, "ddp_mlp", "mpi"])
    assert rc == 0 and "DDP(1 ranks) == 1 process" in out and "OK ddp_mlp rank 0" in out, out


def _json_lines(out):
    import json
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


@needs_mpi
def test_mnist_example_distributed_only_rank0_reports_and_checkpoints(tmp_path):
    ck = tmp_path / "mnist.ckpt"
    rc, out = _ranks_cmd(["examples/mnist_mlp.py", "--distributed", "--max-steps", "3", "--epochs", "1",
                          "--quiet", "--checkpoint", str(ck)])
    assert rc == 0, out
    lines = _json_lines(out)
    assert len(lines) == 1 and lines[0]["world_size"] == 2, out       # rank 1 prints nothing
    assert lines[0]["example"] == "mnist_mlp" and 0.0 <= lines[0]["test_accuracy"] <= 1.0
    assert ck.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["mnist.ckpt"]


@needs_mpi
def test_char_lstm_example_two_ranks_equals_one_process():
    # 64 streams split 32 + 32 over two ranks, gradients averaged: the same training as one process
    # with all 64 streams (float64, so the validation loss agrees to rounding)
    argv = ["--max-steps", "4", "--epochs", "1", "--bptt", "10", "--generate", "0", "--dtype", "float64",
            "--quiet"]
    rc, out = _ranks_cmd(["examples/char_lstm.py", "--distributed"] + argv)
    assert rc == 0, out
    (two,) = _json_lines(out)
    rc, out1 = _run([sys.executable, "examples/char_lstm.py"] + argv)
    assert rc == 0, out1
    (one,) = _json_lines(out1)
    assert two["world_size"] == 2 and one["world_size"] == 1
    assert abs(two["val_loss"] - one["val_loss"]) < 2e-6, (two, one)
    assert abs(two["train_loss"] - one["train_loss"]) < 2e-6, (two, one)
    # the streams really are split between the ranks: an odd global batch cannot be
    rc, out = _ranks_cmd(["examples/char_lstm.py", "--distributed", "--batch-size", "63"] + argv)
    assert rc != 0 and "63 rows (the global batch) must be divisible by the number of ranks 2" in out, out


@pytest.mark.cuda
@pytest.mark.skipif(not tg.cuda_available(), reason="needs a CUDA GPU with CuPy, or the simulator")
@needs_mpi
def test_nccl_single_process_collectives_and_ddp():
    _ok("collectives", n=1, backend="nccl")
    out = _ok("ddp_mlp", n=1, backend="nccl")
    assert "DDP(1 ranks) == 1 process" in out


# ============================================================================ in-process, no MPI
def test_api_without_a_group_gives_clear_errors():
    assert not dist.is_initialized()
    for fn in (dist.get_rank, dist.get_world_size, dist.barrier):
        with pytest.raises(RuntimeError, match="init_process_group"):
            fn()
    with pytest.raises(RuntimeError, match="not initialized"):
        dist.all_reduce(tg.ones(3))
    with pytest.raises(ValueError, match="unknown backend 'gloo'"):
        dist.init_process_group("gloo")
    from tinygrad_zh.nn.parallel import DistributedDataParallel
    with pytest.raises(RuntimeError, match="init_process_group"):
        DistributedDataParallel(tg.nn.Module())
    with pytest.raises(RuntimeError, match="init_process_group"):
        DistributedSampler(list(range(10)))


def test_missing_mpi4py_says_what_to_install(monkeypatch):
    if "mpi4py.MPI" in sys.modules:
        pytest.skip("MPI already loaded in this process")
    monkeypatch.setitem(sys.modules, "mpi4py", None)          # make `from mpi4py import MPI` fail
    with pytest.raises(RuntimeError) as e:
        dist.init_process_group("mpi")
    assert 'pip install "tinygrad_zh[distributed]"' in str(e.value) and "mpi4py" in str(e.value)
    assert not dist.is_initialized()


def test_post_backward_hook_runs_once_after_all_leaf_grads():
    seen = []

    class Mark(Function):
        def forward(self, x, cb=None):
            self.post_backward = cb
            return x

        def backward(self, g):
            """y = x:  ∂y/∂x = 1 —— 恒等。"""
            return g

    w = tg.tensor([1.0, 2.0], requires_grad=True)
    v = tg.tensor([3.0], requires_grad=True)

    def cb():
        seen.append((w.grad.numpy().copy(), v.grad.numpy().copy()))

    # two marked nodes with the same callback, and a leaf (v) reached only after the marks
    loss = Mark.apply(w * 2, cb=cb).sum() + Mark.apply(w * 3, cb=cb).sum() + (v * 4).sum()
    loss.backward()
    assert len(seen) == 1
    np.testing.assert_allclose(seen[0][0], [5.0, 5.0])
    np.testing.assert_allclose(seen[0][1], [4.0])
    (w * 2).sum().backward()                       # a graph without the mark: no call
    assert len(seen) == 1
    y = Mark.apply(w * 1, cb=cb).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert len(seen) == 3


def _shards(n, R, **kw):
    return [DistributedSampler(list(range(n)), num_replicas=R, rank=r, **kw) for r in range(R)]


@pytest.mark.parametrize("n,R", [(12, 3), (10, 4), (7, 2), (5, 8)])
def test_sampler_shards_are_disjoint_and_cover_the_epoch(n, R):
    for epoch in (0, 1):
        ss = _shards(n, R, seed=3)
        for s in ss:
            s.set_epoch(epoch)
        parts = [list(s) for s in ss]
        size = -(-n // R)
        assert all(len(p) == size == len(s) for p, s in zip(parts, ss))   # equal steps on every rank
        flat = [i for p in parts for i in p]
        assert set(flat) == set(range(n))
        pad = R * size - n
        counts = np.bincount(flat, minlength=n)
        assert counts.sum() == n + pad and (counts >= 1).all() and (counts - 1).sum() == pad
        if pad == 0:
            assert len(set(flat)) == n                                   # disjoint


def test_sampler_same_permutation_on_every_rank_and_new_one_each_epoch():
    n, R = 24, 3
    def interleave(epoch, seed):
        ss = _shards(n, R, seed=seed)
        for s in ss:
            s.set_epoch(epoch)
        parts = [s.indices() for s in ss]
        # rank r takes positions r, r+R, ...: interleaving rebuilds the common permutation
        return np.stack(parts, 1).reshape(-1)
    p0 = interleave(0, 5)
    assert sorted(p0.tolist()) == list(range(n)) and p0.tolist() != list(range(n))
    np.testing.assert_array_equal(p0, interleave(0, 5))                   # deterministic
    assert p0.tolist() != interleave(1, 5).tolist()                       # set_epoch reshuffles
    assert p0.tolist() != interleave(0, 6).tolist()                       # seed matters
    # the permutation does not depend on the number of replicas
    np.testing.assert_array_equal(p0, _shards(n, 1, seed=5)[0].indices())
    tg.manual_seed(0)
    a = _shards(n, R, seed=5)[1].indices()
    tg.manual_seed(1)
    np.testing.assert_array_equal(a, _shards(n, R, seed=5)[1].indices())  # not tied to the global RNG


def test_sampler_no_shuffle_drop_last_and_errors():
    assert [list(s) for s in _shards(7, 2, shuffle=False)] == [[0, 2, 4, 6], [1, 3, 5, 0]]
    parts = [list(s) for s in _shards(7, 2, shuffle=False, drop_last=True)]
    assert parts == [[0, 2, 4], [1, 3, 5]]
    parts = [set(s) for s in _shards(10, 3, drop_last=True, seed=1)]
    assert all(len(p) == 3 for p in parts) and not (parts[0] & parts[1] or parts[1] & parts[2] or parts[0] & parts[2])
    with pytest.raises(ValueError, match="rank 3 is out of range for num_replicas=3"):
        DistributedSampler(list(range(5)), num_replicas=3, rank=3)
    with pytest.raises(ValueError, match="no sample per rank"):
        DistributedSampler(list(range(2)), num_replicas=3, rank=0, drop_last=True)
    with pytest.raises(TypeError, match="num_replicas must be an integer"):
        DistributedSampler(list(range(5)), num_replicas=2.0, rank=0)


def test_sampler_with_dataloader_splits_the_global_batch():
    from tinygrad_zh.data import DataLoader, TensorDataset
    X = np.arange(40, dtype=np.float32).reshape(20, 2)
    ds = TensorDataset(tg.tensor(X), tg.tensor(np.arange(20)))
    R, B = 2, 5
    one = DataLoader(ds, batch_size=R * B, sampler=DistributedSampler(ds, 1, 0, seed=9))
    ranks = [DataLoader(ds, batch_size=B, sampler=DistributedSampler(ds, R, r, seed=9)) for r in range(R)]
    epochs = []
    for epoch in range(2):                       # the loader calls set_epoch itself
        big = [yb.numpy() for _, yb in one]
        small = [[yb.numpy() for _, yb in ld] for ld in ranks]
        assert len(big) == len(small[0]) == len(small[1]) == 2
        for k in range(len(big)):                # step k: the ranks' batches make up the big batch k
            assert sorted(np.concatenate([small[r][k] for r in range(R)]).tolist()) == sorted(big[k].tolist())
        epochs.append(np.concatenate(big).tolist())
    assert epochs[0] != epochs[1]


def _examples_common():
    root = os.path.dirname(HERE)
    if os.path.join(root, "examples") not in sys.path:
        sys.path.insert(0, os.path.join(root, "examples"))
    import common
    return common


def test_example_context_splits_batch_rows_and_samples():
    common = _examples_common()
    off = common.setup_distributed(False)
    model = tg.nn.Module()
    assert off.is_main and off.wrap(model) is model and off.sampler(list(range(4))) is None
    assert off.local_batch(64) == 64 and off.mean(2.5) == 2.5
    data = np.arange(24).reshape(8, 3)
    assert off.shard_rows(data) is data
    r1 = common.Distributed(True, rank=1, world_size=2)             # what rank 1 of 2 sees
    assert not r1.is_main and r1.local_batch(64) == 32
    np.testing.assert_array_equal(r1.shard_rows(data), data[4:])
    with pytest.raises(ValueError, match="must be divisible by the number of ranks 2"):
        r1.local_batch(63)
    s = r1.sampler(list(range(10)), seed=4)
    assert isinstance(s, DistributedSampler) and (s.rank, s.num_replicas, s.seed) == (1, 2, 4)


def _imports(path):
    """Every module a file imports (absolute names; relative ones resolved inside tinygrad_zh)."""
    import ast
    rel = os.path.relpath(path, os.path.dirname(HERE)).replace(os.sep, "/")[:-3].split("/")
    package = rel[:-1]                                   # e.g. ["tinygrad_zh", "distributed"]
    out = set()
    for node in ast.walk(ast.parse(open(path, encoding="utf-8").read())):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            mod = ".".join(base + ([node.module] if node.module else []))
            out.add(mod)
            out.update(f"{mod}.{a.name}" for a in node.names)
    return out


def test_distributed_parallel_and_sampler_depend_in_one_direction():
    """tg.nn.parallel and tg.data.sampler use tg.distributed; tg.distributed uses neither (no lazy
    import either), and the two do not import each other: no circle."""
    root = os.path.join(os.path.dirname(HERE), "tinygrad_zh")
    for f in sorted(os.listdir(os.path.join(root, "distributed"))):
        if f.endswith(".py"):
            bad = {m for m in _imports(os.path.join(root, "distributed", f))
                   if m.startswith(("tinygrad_zh.nn", "tinygrad_zh.data"))}
            assert not bad, f"tinygrad_zh/distributed/{f} imports {sorted(bad)}"
    parallel = _imports(os.path.join(root, "nn", "parallel.py"))
    sampler = _imports(os.path.join(root, "data", "sampler.py"))
    assert "tinygrad_zh.distributed" in parallel
    assert not any(m.startswith("tinygrad_zh.data") for m in parallel)
    assert not any(m.startswith("tinygrad_zh.nn") for m in sampler)
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import tinygrad_zh.distributed as d\n"
            "try:\n    d.init_process_group('mpi'); d.barrier(); d.destroy_process_group()\n"
            "except RuntimeError:\n    pass                  # no mpi4py: the imports are checked all the same\n"
            "print(sorted(m for m in sys.modules if m.startswith(('tinygrad_zh.nn', 'tinygrad_zh.data'))))")
    out = subprocess.run([sys.executable, "-c", code, os.path.dirname(HERE)], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stdout + out.stderr


# ============================================================================ exact resume, 2 ranks
def _mini_mnist(folder, n_train=1024, n_test=200):
    import gzip
    from tinygrad_zh.data import idx
    data = os.path.join(os.path.dirname(HERE), "data", "mnist")
    os.makedirs(folder)
    for stem, n in (("train", n_train), ("t10k", n_test)):
        with gzip.open(os.path.join(data, f"{stem}-images-idx3-ubyte.gz")) as f:
            x = np.frombuffer(f.read(16 + n * 784)[16:], np.uint8).reshape(n, 28, 28)
        with gzip.open(os.path.join(data, f"{stem}-labels-idx1-ubyte.gz")) as f:
            y = np.frombuffer(f.read(8 + n)[8:], np.uint8)
        idx.write_idx(os.path.join(folder, f"{stem}-images-idx3-ubyte"), x)
        idx.write_idx(os.path.join(folder, f"{stem}-labels-idx1-ubyte"), y)


@needs_mpi
def test_two_rank_run_killed_after_an_epoch_resumes_bit_for_bit(tmp_path):
    """mnist_mlp --distributed (DDP + DistributedSampler): SIGKILL the whole 2-rank job right after
    epoch k's checkpoint, resume, and the final parameters and optimizer state equal an uninterrupted
    run's exactly. (Before, the resumed DataLoader restarted its DistributedSampler at epoch 0: the
    resumed epochs repeated epoch 1's order.)"""
    import json
    _mini_mnist(str(tmp_path / "mnist"))
    argv = ["examples/mnist_mlp.py", "--distributed", "--data-dir", str(tmp_path), "--max-steps", "6",
            "--batch-size", "32", "--seed", "3", "--epochs", "3"]
    straight_ck, killed_ck, resumed_ck = (str(tmp_path / n) for n in ("straight.ck", "killed.ck", "resumed.ck"))
    rc, out = _ranks_cmd(argv + ["--quiet", "--checkpoint", straight_ck])
    assert rc == 0, out
    (straight,) = _json_lines(out)

    env = dict(os.environ, PYTHONUNBUFFERED="1", TQDM_DISABLE="1")
    p = subprocess.Popen([_mpiexec(), "-n", "2", sys.executable] + argv + ["--checkpoint", killed_ck],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                         start_new_session=True, cwd=os.path.dirname(HERE))
    seen = []
    try:
        for line in p.stdout:             # rank 0 saves epoch k's checkpoint, then prints "epoch k:"
            seen.append(line)
            if "epoch 1:" in line:
                os.killpg(p.pid, signal.SIGKILL)
                break
    finally:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.communicate(timeout=TIMEOUT)
    assert p.returncode != 0, "".join(seen)
    k = int(tg.load(killed_ck)["epoch"])
    assert 1 <= k < 3, (k, "".join(seen))      # killed after epoch 1 (at the latest during epoch 3)

    rc, out = _ranks_cmd(argv + ["--quiet", "--resume", killed_ck, "--checkpoint", resumed_ck])
    assert rc == 0, out
    (resumed,) = _json_lines(out)
    assert resumed["resumed_from_epoch"] == k and resumed["world_size"] == 2
    a, b = tg.load(straight_ck), tg.load(resumed_ck)
    assert a["epoch"] == b["epoch"] == 3 and list(a["model"]) == list(b["model"])
    for key in a["model"]:
        np.testing.assert_array_equal(b["model"][key].numpy(), a["model"][key].numpy(), err_msg=key)
    for i, st in a["optimizer"]["state"].items():
        for name, v in st.items():
            np.testing.assert_array_equal(np.asarray(b["optimizer"]["state"][i][name]), np.asarray(v))
    assert a["history"] == b["history"]
    drop = ("seconds", "resumed_from_epoch")
    assert {k: v for k, v in straight.items() if k not in drop} == {k: v for k, v in resumed.items() if k not in drop}
    assert json.dumps(a["history"]["train_loss"]) == json.dumps(b["history"]["train_loss"])


# ============================================================================ in-process with a fake group
class _FakeGroup:
    """Stands in for a 2-rank MPI group whose other rank sees exactly the same values as this one."""
    name, device, rank, world_size = "fake", "cpu", 0, 2
    DTYPES = ("float32", "float64", "int64")

    def __init__(self, other=None):
        self.calls, self.other = [], other          # other(obj) -> what "rank 1" sends

    def all_gather_object(self, obj):
        return [obj, obj if self.other is None else self.other(obj)]

    def all_reduce_(self, arr, op):
        self.calls.append(("all_reduce", arr.size))
        if op == "sum":
            arr *= 2                                 # both ranks contributed the same values

    def broadcast_(self, arr, src):
        self.calls.append(("broadcast", arr.size))

    def barrier(self):
        pass


@pytest.fixture
def fake_group(monkeypatch):
    from tinygrad_zh.distributed import process_group as pg
    g = _FakeGroup()
    monkeypatch.setattr(pg, "_group", g)
    return g


class _Net(tg.nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b, self.c = tg.nn.Linear(5, 40), tg.nn.Linear(40, 40), tg.nn.Linear(40, 3)
        self.spare = tg.nn.Linear(2, 2)              # never used in forward

    def forward(self, x):
        return self.c(self.b(self.a(x).tanh()).relu())


def test_ddp_syncs_once_per_backward_in_buckets(fake_group):
    from tinygrad_zh.nn.parallel import DistributedDataParallel
    tg.manual_seed(0)
    net = _Net()
    ddp = DistributedDataParallel(net, bucket_cap_mb=7000 / 2**20)     # ~7 KB buckets
    n_params = len(list(net.parameters()))
    assert [k for k, _ in fake_group.calls] == ["broadcast"]          # one flat float32 broadcast
    assert 1 < ddp.num_buckets < n_params
    assert list(ddp.state_dict()) == list(net.state_dict()) and "a.weight" in ddp.state_dict()
    assert list(ddp.parameters()) == list(net.parameters()) and ddp.b is net.b    # attribute fallback
    ddp.eval()
    assert not net.training and not net.b.training
    ddp.train()

    x = tg.randn(4, 5)
    ref = _Net()
    ref.load_state_dict(net.state_dict())
    (ref(x).sum() + ref(x).mean()).backward()
    fake_group.calls.clear()
    (ddp(x).sum() + ddp(x).mean()).backward()                          # DDP output used twice
    assert ddp.sync_count == 1                                         # ... still one sync
    reduces = [c for c in fake_group.calls if c[0] == "all_reduce"]
    used = sum(p.numel() for n, p in net.named_parameters() if not n.startswith("spare"))
    assert len(reduces) == ddp.last_collectives <= ddp.num_buckets and sum(s for _, s in reduces) == used
    for (n, p), (_, q) in zip(net.named_parameters(), ref.named_parameters()):
        if n.startswith("spare"):
            assert p.grad is None
        else:                                                          # mean of two equal grads
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-6, atol=1e-7)

    with ddp.no_sync():
        ddp(x).sum().backward()
    assert ddp.sync_count == 1
    with tg.no_grad():
        assert ddp(x).grad_fn is None
    (net(x).sum()).backward()                                          # not through DDP: no sync
    assert ddp.sync_count == 1


def test_ddp_treats_a_grad_missing_on_one_rank_as_zero(monkeypatch):
    from tinygrad_zh.distributed import process_group as pg
    from tinygrad_zh.nn.parallel import DistributedDataParallel
    # "rank 1" reports that every parameter has a gradient (here `spare` has none); every exchange is
    # a (call, local_error, payload) tuple
    def other(obj):
        call, err, payload = obj
        return (call, err, [True] * len(payload)) if call.startswith("DDP gradient sync") else obj
    g = _FakeGroup(other=other)
    monkeypatch.setattr(pg, "_group", g)
    net = _Net()
    ddp = DistributedDataParallel(net)
    ddp(tg.randn(3, 5)).sum().backward()
    assert net.spare.weight.grad is not None and not net.spare.weight.grad.numpy().any()


def test_ddp_construction_names_the_differing_parameter(monkeypatch):
    from tinygrad_zh.distributed import process_group as pg
    from tinygrad_zh.nn.parallel import DistributedDataParallel

    def other(obj):                          # rank 1 built a wider first layer
        call, err, payload = obj
        if call == "all_gather_object()":
            return (call, err, [(n, (50, 5) if n == "a.weight" else s, d) for n, s, d in payload])
        return obj
    monkeypatch.setattr(pg, "_group", _FakeGroup(other=other))
    with pytest.raises(RuntimeError, match=r"'a.weight' with shape \(40, 5\).*rank 0 but 'a.weight' "
                                           r"with shape \(50, 5\) and dtype float32 on rank 1"):
        DistributedDataParallel(_Net())


def test_collective_disagreement_is_reported_with_every_rank(monkeypatch):
    from tinygrad_zh.distributed import process_group as pg
    g = _FakeGroup(other=lambda obj: (obj[0].replace("(3,)", "(7,)"),) + obj[1:])
    monkeypatch.setattr(pg, "_group", g)
    with pytest.raises(RuntimeError, match=r"rank 0 called all_reduce\(shape \(3,\), float32, op='sum'\); "
                                           r"rank 1 called all_reduce\(shape \(7,\), float32"):
        dist.all_reduce(tg.ones(3))
    assert g.calls == []                              # nothing was sent after the mismatch
    g.other = None
    t = tg.tensor([1.0, 2.0])
    assert dist.all_reduce(t, op="mean") is t and t.numpy().tolist() == [1.0, 2.0]
    monkeypatch.setattr(g, "device", "cuda")         # pretend the group is NCCL-like, pass a CPU tensor
    with pytest.raises(RuntimeError, match=r"rank 0: the 'fake' backend works on cuda tensors, got a cpu "
                                           r"tensor of shape \(2,\) \(move it with .to\('cuda'\) or use "
                                           r"backend='mpi'\); rank 1"):
        dist.broadcast(tg.ones(2), src=0)


# ------------------------------------------------- NCCL backend glue, on a stand-in for CuPy + NCCL
class _FakeDeviceArray:
    """Just enough of a cupy.ndarray for NCCLBackend: numpy data, a device pointer, contiguity."""

    live = {}                     # device pointer -> array, so the fake NCCL can act on "device memory"

    def __init__(self, a):
        self.a = a
        _FakeDeviceArray.live[a.__array_interface__["data"][0]] = a

    flags = property(lambda self: self.a.flags)
    size = property(lambda self: self.a.size)
    dtype = property(lambda self: self.a.dtype)

    @property
    def data(self):
        return type("Mem", (), {"ptr": self.a.__array_interface__["data"][0]})()

    def __setitem__(self, key, value):
        self.a[key] = value.a if isinstance(value, _FakeDeviceArray) else value


def _fake_cupy_and_nccl(calls):
    import types
    nccl = types.ModuleType("cupy.cuda.nccl")
    for i, name in enumerate(("NCCL_SUM", "NCCL_MAX", "NCCL_MIN", "NCCL_FLOAT16", "NCCL_FLOAT32",
                              "NCCL_FLOAT64", "NCCL_INT32", "NCCL_INT64", "NCCL_UINT8")):
        setattr(nccl, name, 100 + i)
    nccl.available = True
    nccl.get_unique_id = lambda: ("uid",)

    class Comm:
        def __init__(self, n, uid, rank):
            calls.append(("init", n, uid, rank))

        def allReduce(self, send, recv, count, dtype, op, stream):
            calls.append(("allReduce", send, recv, count, dtype, op, stream))
            if op == nccl.NCCL_SUM:                # as if a second rank held the same values
                _FakeDeviceArray.live[recv].reshape(-1)[:count] *= 2

        def bcast(self, buf, count, dtype, root, stream):
            calls.append(("bcast", buf, count, dtype, root, stream))

        def destroy(self):
            calls.append(("destroy",))

    nccl.NcclCommunicator = Comm
    stream = types.SimpleNamespace(ptr=7, synchronize=lambda: calls.append(("sync",)))
    cuda = types.SimpleNamespace(
        nccl=nccl, runtime=types.SimpleNamespace(getDeviceCount=lambda: 2),
        Device=lambda i: types.SimpleNamespace(use=lambda: calls.append(("device", i))),
        get_current_stream=lambda: stream)
    cp = types.SimpleNamespace(
        cuda=cuda, float32=np.float32,
        ascontiguousarray=lambda x: _FakeDeviceArray(np.ascontiguousarray(x.a)),
        ones=lambda n, dt: _FakeDeviceArray(np.ones(n, dt)))
    return cp, nccl


def test_nccl_backend_calls_nccl_with_the_right_pointers_counts_types_and_ops(monkeypatch):
    """Without a GPU: NCCLBackend against stand-ins for CuPy and cupy.cuda.nccl, one process."""
    from tinygrad_zh import backend as B
    from tinygrad_zh.distributed import backends as NB
    calls = []
    cp, nccl = _fake_cupy_and_nccl(calls)
    monkeypatch.setattr(B, "require_cuda", lambda: cp)
    monkeypatch.setitem(sys.modules, "cupy", type(sys)("cupy"))
    monkeypatch.setitem(sys.modules, "cupy.cuda", cp.cuda)
    monkeypatch.setitem(sys.modules, "cupy.cuda.nccl", nccl)
    monkeypatch.setattr(NB, "_mpi_importable", lambda: False)
    monkeypatch.setattr(NB, "_launcher_world_size", lambda: None)

    be = NB.NCCLBackend()
    assert (be.rank, be.world_size) == (0, 1)
    assert ("device", 0) in calls and ("init", 1, ("uid",), 0) in calls

    x = _FakeDeviceArray(np.arange(6, dtype=np.float32))           # contiguous: reduced in place
    be.all_reduce_(x, "max")
    assert calls[-1] == ("allReduce", x.data.ptr, x.data.ptr, 6, nccl.NCCL_FLOAT32, nccl.NCCL_MAX, 7)

    base = np.arange(12, dtype=np.float64).reshape(3, 4)
    view = _FakeDeviceArray(base[:, ::2])                          # non-contiguous: via a copy
    be.all_reduce_(view, "sum")
    name, send, recv, count, dtype, op, stream = calls[-1]
    assert (name, count, dtype, op) == ("allReduce", 6, nccl.NCCL_FLOAT64, nccl.NCCL_SUM)
    assert send == recv != view.data.ptr
    expected = np.arange(12.0).reshape(3, 4)
    expected[:, ::2] *= 2                                          # the result was copied back into the view
    np.testing.assert_array_equal(base, expected)

    ids = _FakeDeviceArray(np.zeros(5, np.int64))
    be.broadcast_(ids, 0)
    assert calls[-1] == ("bcast", ids.data.ptr, 5, nccl.NCCL_INT64, 0, 7)

    x = _FakeDeviceArray(np.ones(3, np.float32))
    be.all_reduce_(x, "sum")
    np.testing.assert_array_equal(x.a, [2, 2, 2])                  # contiguous: in place, no copy
    be.barrier()                                                   # a 1-element sum, then a sync
    assert calls[-2][0] == "allReduce" and calls[-2][3:6] == (1, nccl.NCCL_FLOAT32, nccl.NCCL_SUM)
    assert calls[-1] == ("sync",)
    be.destroy()
    assert calls[-2:] == [("sync",), ("destroy",)]


def test_nccl_backend_without_nccl_says_what_to_install(monkeypatch):
    from tinygrad_zh import backend as B
    from tinygrad_zh.distributed import backends as NB
    cp, nccl = _fake_cupy_and_nccl([])
    nccl.available = False
    monkeypatch.setattr(B, "require_cuda", lambda: cp)
    monkeypatch.setitem(sys.modules, "cupy", type(sys)("cupy"))
    monkeypatch.setitem(sys.modules, "cupy.cuda", cp.cuda)
    monkeypatch.setitem(sys.modules, "cupy.cuda.nccl", nccl)
    with pytest.raises(RuntimeError, match="needs CuPy built with NCCL.*backend='mpi'"):
        NB.NCCLBackend()
