"""MNIST 奇偶二分类：小卷积网络（两层 Conv2d + MaxPool2d）输出一个概率，Sigmoid + BCELoss。

    python examples/cnn_binary.py                # 2 epochs, test accuracy >= 0.985

The label is 1 for an odd digit and 0 for an even one; the network ends in Sigmoid, so its output is
P(odd) and the prediction is "odd" when it is above 0.5.
"""
import time

import common
from common import tg

import tinygrad_zh.nn as nn
import tinygrad_zh.nn.functional as F
from tinygrad_zh.data import DataLoader, TensorDataset
from tinygrad_zh.data.idx import load_mnist


def make_model():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),       # (1, 28, 28) -> (32, 13, 13)
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),      # -> (64, 5, 5)
        nn.Flatten(),                                          # -> 1600
        nn.Linear(1600, 128), nn.ReLU(),
        nn.Linear(128, 1), nn.Sigmoid(),                       # -> P(odd)
    )


def evaluate(model, loader):
    """Mean BCE loss and accuracy over a whole split, without building a graph."""
    model.eval()
    loss_sum, correct, n = 0.0, 0, 0
    with tg.no_grad():
        for x, y in loader:
            prob = model(x)
            loss_sum += F.binary_cross_entropy(prob, y, reduction="sum").item()
            correct += int(((prob > 0.5).numpy() == (y > 0.5).numpy()).sum())
            n += len(y)
    model.train()
    return loss_sum / n, correct / n


def main(argv=None):
    args = common.parse_args(common.make_parser(__doc__, epochs=2, batch_size=64, lr=1e-3), argv)
    t0 = time.time()
    folder = common.setup(args, "mnist")

    # 1. data: images (N, 1, 28, 28) scaled to [0, 1]; targets (N, 1) = 1.0 for odd digits
    xtr, ytr = load_mnist(folder, "train")
    xte, yte = load_mnist(folder, "test")
    xtr = xtr.reshape(-1, 1, 28, 28).astype(args.dtype) / 255
    xte = xte.reshape(-1, 1, 28, 28).astype(args.dtype) / 255
    ytr, yte = (ytr % 2).astype(args.dtype).reshape(-1, 1), (yte % 2).astype(args.dtype).reshape(-1, 1)
    xtr, ytr, xte, yte = (tg.tensor(a, dtype=args.dtype) for a in (xtr, ytr, xte, yte))  # keeps float64
    train = DataLoader(TensorDataset(xtr, ytr), batch_size=args.batch_size, shuffle=True, device=args.device)
    test = DataLoader(TensorDataset(xte, yte), batch_size=1000, device=args.device)

    # 2. model, loss, optimizer
    model = make_model().to(args.dtype).to(args.device)
    loss_fn = nn.BCELoss()
    opt = tg.optim.Adam(model.parameters(), lr=args.lr)

    start, history = common.resume(args, model, opt, {"train_loss": [], "test_loss": [], "test_accuracy": []})

    # 3. training loop
    with common.anomaly_mode(args):                        # --detect-anomaly: name the op of a NaN gradient
        for epoch in range(start, args.epochs + 1):
            train.set_epoch(epoch - 1)
            bar, meter = common.progress(args, train, epoch), common.Meter(args, epoch)
            for x, y in bar:
                opt.zero_grad()
                loss = loss_fn(model(x), y)
                loss.backward()
                opt.step()
                meter.update(bar, loss.item(), len(y))     # stops the run if the loss is NaN/inf
            bar.close()
            test_loss, acc = evaluate(model, test)
            common.end_classifier_epoch(args, model, opt, epoch, history, meter.mean, test_loss, acc)

    if args.plot:
        common.plot_history(args.plot, history, "MNIST even/odd CNN (BCELoss)")
    last = {k: (v[-1] if v else None) for k, v in history.items()}
    final = {"test_accuracy": last["test_accuracy"], "test_loss": last["test_loss"], "train_loss": last["train_loss"]}
    return common.finish("cnn_binary", args, final, t0)


if __name__ == "__main__":
    main()
