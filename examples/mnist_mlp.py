"""MNIST 手写数字：两层 MLP（784 → 500 → 10），交叉熵 + 带动量的 SGD。

    python examples/mnist_mlp.py                 # 10 epochs, test accuracy >= 0.980
    python examples/mnist_mlp.py --lr 0.001      # the tutorial's learning rate (0.966 in 10 epochs)
    mpiexec -n 2 python examples/mnist_mlp.py --distributed   # data parallel over 2 processes
"""
import time

import common
from common import tg

import tinygrad_zh.nn as nn
import tinygrad_zh.nn.functional as F
from tinygrad_zh.data import DataLoader, TensorDataset
from tinygrad_zh.data.idx import load_mnist


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 500)
        self.fc2 = nn.Linear(500, 10)

    def forward(self, x):
        return self.fc2(self.fc1(x).relu())


def evaluate(model, loader):
    """Mean loss and accuracy over a whole split, without building a graph."""
    model.eval()
    loss_sum, correct, n = 0.0, 0, 0
    with tg.no_grad():
        for x, y in loader:
            logits = model(x)
            loss_sum += F.cross_entropy(logits, y, reduction="sum").item()
            correct += int((logits.argmax(1) == y).numpy().sum())
            n += len(y)
    model.train()
    return loss_sum / n, correct / n


def main(argv=None):
    parser = common.make_parser(__doc__, epochs=10, batch_size=64, lr=0.01)
    parser.add_argument("--distributed", action="store_true", help="data parallel (launch with mpiexec -n N)")
    args = common.parse_args(parser, argv)
    t0 = time.time()
    folder = common.setup(args, "mnist")
    dist = common.setup_distributed(args.distributed, args.device)
    args.quiet = args.quiet or not dist.is_main        # only rank 0 prints

    # 1. data: pixels standardised with the training set's mean and std
    xtr, ytr = load_mnist(folder, "train")
    xte, yte = load_mnist(folder, "test")
    xtr = xtr.reshape(len(xtr), -1).astype(args.dtype) / 255
    xte = xte.reshape(len(xte), -1).astype(args.dtype) / 255
    mean, std = xtr.mean(), xtr.std()
    xtr, xte = (xtr - mean) / std, (xte - mean) / std
    xtr, xte = tg.tensor(xtr, dtype=args.dtype), tg.tensor(xte, dtype=args.dtype)   # keeps float64
    train_set = TensorDataset(xtr, ytr)
    sampler = dist.sampler(train_set, seed=args.seed)  # None unless --distributed: each rank its shard
    train = DataLoader(train_set, batch_size=dist.local_batch(args.batch_size), shuffle=sampler is None,
                       sampler=sampler, device=args.device)
    test = DataLoader(TensorDataset(xte, yte), batch_size=1000, device=args.device)

    # 2. model, loss, optimizer
    model = dist.wrap(MLP().to(args.dtype).to(args.device))   # DDP averages gradients when distributed
    loss_fn = nn.CrossEntropyLoss()
    opt = tg.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)

    start, history = common.resume(args, model, opt, {"train_loss": [], "test_loss": [], "test_accuracy": []})

    # 3. training loop
    with common.anomaly_mode(args):                        # --detect-anomaly: name the op of a NaN gradient
        for epoch in range(start, args.epochs + 1):
            train.set_epoch(epoch - 1)       # the DistributedSampler's order of this epoch, also after --resume
            bar, meter = common.progress(args, train, epoch), common.Meter(args, epoch)
            for x, y in bar:
                opt.zero_grad()
                loss = loss_fn(model(x), y)
                loss.backward()
                opt.step()
                meter.update(bar, loss.item(), len(y))     # stops the run if the loss is NaN/inf
            bar.close()
            test_loss, acc = evaluate(model, test)
            common.end_classifier_epoch(args, model, opt, epoch, history, dist.mean(meter.mean), test_loss, acc,
                                        save=dist.is_main)

    if args.plot and dist.is_main:
        common.plot_history(args.plot, history, "MNIST MLP 784-500-10")
    final = {"test_accuracy": history["test_accuracy"][-1] if history["test_accuracy"] else None,
             "test_loss": history["test_loss"][-1] if history["test_loss"] else None,
             "train_loss": history["train_loss"][-1] if history["train_loss"] else None}
    out = common.finish("mnist_mlp", args, final, t0, world_size=dist.world_size) if dist.is_main else None
    dist.finish()
    return out


if __name__ == "__main__":
    main()
