"""数据并行的扩展效率：1 个 rank 与 N 个 rank 的每步时间（MPI 后端，CPU）。

    python bench/distributed_scaling.py                 # runs mpiexec -n 1 and -n 2 of itself, prints a table
    python bench/distributed_scaling.py --ranks 1 2 4 --steps 30 --batch 64

Model: an MNIST-sized MLP 784-512-512-10 (float32, 669,706 parameters = 2.68 MB of gradients),
SGD, synthetic data. Each rank is pinned to one BLAS thread (OMP/OPENBLAS_NUM_THREADS=1), so one
rank uses one core and N ranks use N cores.

* weak scaling: every rank keeps the per-rank batch ``--batch``; the global batch grows with N.
  efficiency = (N-rank samples/s) / (N × 1-rank samples/s) = t_step(1) / t_step(N).
* strong scaling: the global batch ``--batch × max(ranks)`` is split over the N ranks.
  efficiency = t_step(1) / (N × t_step(N)).

Also a raw all-reduce sweep (4 KB … 16 MB) on max(ranks) ranks, with the bus bandwidth
2(N-1)/N · bytes / time. Reported per configuration: median step time (forward + backward + gradient all-reduce + SGD),
"wait": time a rank waits at a barrier (inserted by this benchmark only) for the slowest rank to
finish its backward, "sync": the gradient synchronisation itself (metadata check, flatten into
buckets, all-reduce, divide by N), and the number of all-reduce calls per step.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def worker(args):
    import tinygrad_zh as tg
    import tinygrad_zh.distributed as dist
    from tinygrad_zh.nn.parallel import DistributedDataParallel
    from tinygrad_zh.ops.softmax import SoftmaxCrossEntropy

    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    batch = args.batch if args.mode == "weak" else args.batch * args.global_ranks // world
    tg.manual_seed(0)
    model = tg.nn.Sequential(tg.nn.Linear(784, 512), tg.nn.ReLU(), tg.nn.Linear(512, 512), tg.nn.ReLU(),
                             tg.nn.Linear(512, 10))
    ddp = DistributedDataParallel(model, bucket_cap_mb=args.bucket_mb)
    opt = tg.optim.SGD(ddp.parameters(), lr=0.01)
    g = np.random.default_rng(rank)
    x = tg.tensor(g.standard_normal((batch, 784)).astype(np.float32))
    y = tg.tensor(g.integers(0, 10, batch))

    sync_times, wait_times = [], []
    original = ddp._sync_gradients
    group = dist.process_group._group

    def timed_sync():
        t0 = time.perf_counter()
        group.barrier()                      # waiting for the slowest rank's backward, timed apart
        t1 = time.perf_counter()
        original()
        wait_times.append(t1 - t0)
        sync_times.append(time.perf_counter() - t1)
    object.__setattr__(ddp, "_sync_gradients", timed_sync)

    steps = []
    for i in range(args.warmup + args.steps):
        dist.barrier()                       # start every step together: time the slowest rank
        t0 = time.perf_counter()
        opt.zero_grad()
        SoftmaxCrossEntropy.apply(ddp(x), y).backward()
        opt.step()
        steps.append(time.perf_counter() - t0)
    steps, sync_times, wait_times = steps[args.warmup:], sync_times[args.warmup:], wait_times[args.warmup:]
    all_steps = dist.all_gather_object(float(np.median(steps)))
    all_sync = dist.all_gather_object(float(np.median(sync_times)))
    all_wait = dist.all_gather_object(float(np.median(wait_times)))
    if rank == 0:
        nbytes = sum(p.array.nbytes for p in ddp.parameters())
        print(json.dumps({"ranks": world, "mode": args.mode, "per_rank_batch": batch,
                          "step_ms": 1e3 * max(all_steps), "sync_ms": 1e3 * max(all_sync), "wait_ms": 1e3 * max(all_wait),
                          "allreduce_calls_per_step": ddp.last_collectives, "grad_bytes": nbytes,
                          "samples_per_s": world * batch / max(all_steps)}), flush=True)
    dist.destroy_process_group()


def allreduce_worker(args):
    """Median time of one raw all-reduce (sum, float32) for a few message sizes."""
    from tinygrad_zh.distributed import process_group as pg
    import tinygrad_zh.distributed as dist
    g = dist.init_process_group("mpi")
    out = []
    for nbytes in (4 * 1024, 256 * 1024, 2678824, 16 * 1024 * 1024):
        a = np.ones(nbytes // 4, np.float32)
        ts = []
        for _ in range(args.warmup + args.steps):
            g.barrier()
            t0 = time.perf_counter()
            g.all_reduce_(a, "sum")
            ts.append(time.perf_counter() - t0)
        t = max(dist.all_gather_object(float(np.median(ts[args.warmup:]))))
        n = g.world_size
        out.append({"bytes": nbytes, "ms": 1e3 * t,
                    "bus_GB_s": 2 * (n - 1) / n * nbytes / t / 1e9 if n > 1 else None})
    if g.rank == 0:
        print(json.dumps({"ranks": g.world_size, "allreduce": out}), flush=True)
    pg.destroy_process_group()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--batch", type=int, default=64, help="per-rank batch (weak scaling)")
    p.add_argument("--bucket-mb", type=float, default=25.0)
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--mode", default="weak", help=argparse.SUPPRESS)
    p.add_argument("--global-ranks", type=int, default=1, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        return allreduce_worker(args) if args.mode == "allreduce" else worker(args)

    near = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    mpiexec = near if os.path.exists(near) else "mpiexec"
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    results = {}
    for mode in ("allreduce", "weak", "strong"):
        for n in (args.ranks if mode != "allreduce" else [max(args.ranks)]):
            cmd = [mpiexec, "-n", str(n), sys.executable, os.path.abspath(__file__), "--worker",
                   "--mode", mode, "--global-ranks", str(max(args.ranks)), "--steps", str(args.steps),
                   "--warmup", str(args.warmup), "--batch", str(args.batch), "--bucket-mb", str(args.bucket_mb)]
            out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
            if out.returncode != 0:
                sys.exit(f"{' '.join(cmd)} failed:\n{out.stdout}\n{out.stderr}")
            results[mode, n] = json.loads(out.stdout.strip().splitlines()[-1])
    sweep = results.pop(("allreduce", max(args.ranks)))
    print(f"raw all-reduce (sum, float32), {sweep['ranks']} ranks:")
    for r in sweep["allreduce"]:
        bus = "" if r["bus_GB_s"] is None else f"  bus bandwidth {r['bus_GB_s']:.2f} GB/s"
        print(f"  {r['bytes']:>10,d} bytes  {r['ms']:8.3f} ms{bus}")
    print(f"{'mode':7} {'ranks':>5} {'batch/rank':>10} {'step ms':>8} {'wait ms':>8} {'sync ms':>8} {'all-reduces':>11} "
          f"{'samples/s':>9} {'efficiency':>10}")
    for (mode, n), r in results.items():
        base = results[mode, args.ranks[0]]["step_ms"] * (args.ranks[0] if mode == "strong" else 1)
        eff = base / r["step_ms"] if mode == "weak" else base / (n * r["step_ms"])
        r["efficiency"] = eff
        print(f"{mode:7} {n:5d} {r['per_rank_batch']:10d} {r['step_ms']:8.2f} {r['wait_ms']:8.2f} {r['sync_ms']:8.2f} "
              f"{r['allreduce_calls_per_step']:11d} {r['samples_per_s']:9.0f} {eff:10.1%}")
    print(json.dumps({"distributed_scaling": [dict(r) for r in results.values()], "allreduce": sweep}))


if __name__ == "__main__":
    main()
