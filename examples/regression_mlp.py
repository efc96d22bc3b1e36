"""表格回归：四层 MLP 预测葡萄酒质量（--dataset wine）或翼型噪声（--dataset airfoil），MSELoss + Adam。

    python examples/regression_mlp.py                      # wine, 20 epochs: test RMSE <= 0.72
    python examples/regression_mlp.py --dataset airfoil    # airfoil, 100 epochs: test RMSE <= 1.5 dB

The rows are split 80/20 at random (the split depends on --seed).  Features are standardised with
the training rows' mean and std; the target is scaled to [0, 1] with the training rows' min and max,
because the network ends in Sigmoid.  The test RMSE is reported in the target's own unit (quality
points / dB), next to the RMSE of a closed-form linear regression fitted on the same training rows.
"""
import time

import numpy as np

import common
from common import tg

import tinygrad_zh.nn as nn
from tinygrad_zh.data import DataLoader, TensorDataset, load_airfoil, load_wine_quality, standardize

DATASETS = {  # name -> (folder under data/, loader, default epochs, unit)
    "wine": ("wine-quality", load_wine_quality, 20, "quality points"),
    "airfoil": ("airfoil-self-noise", load_airfoil, 100, "dB"),
}


def make_model(n_features):
    return nn.Sequential(
        nn.Linear(n_features, 500), nn.ReLU(),
        nn.Linear(500, 250), nn.ReLU(),
        nn.Linear(250, 100), nn.ReLU(),
        nn.Linear(100, 1), nn.Sigmoid(),                   # prediction of the target scaled to [0, 1]
    )


def split_80_20(n):
    """Random 80/20 split of row indices, drawn from the library's generator (seeded by --seed).

    The split, the initial weights and the shuffling then come one after another from the same
    stream.  A second generator built from the same seed (``np.random.default_rng(seed)``) would
    repeat the very same random bits: the first weights would be a function of the split.
    """
    perm = tg.random.generator().permutation(n)
    n_train = int(0.8 * n)
    return perm[:n_train], perm[n_train:]


def linear_baseline_rmse(xtr, ytr, xte, yte):
    """Closed-form least squares y ≈ [x, 1] w on the training rows; RMSE on the test rows."""
    A = np.c_[xtr.astype(np.float64), np.ones(len(xtr))]
    w, *_ = np.linalg.lstsq(A, ytr.astype(np.float64), rcond=None)
    pred = np.c_[xte.astype(np.float64), np.ones(len(xte))] @ w
    return float(np.sqrt(np.mean((pred - yte) ** 2)))


def evaluate(model, loader, y_min, y_range):
    """Mean MSE on the [0, 1] scale and RMSE in the target's unit, without building a graph."""
    model.eval()
    se_scaled, se, n = 0.0, 0.0, 0
    with tg.no_grad():
        for x, y in loader:
            pred = model(x)
            d = (pred - y).numpy().astype(np.float64)
            se_scaled += float((d ** 2).sum())
            se += float(((d * y_range) ** 2).sum())        # back to the target's unit
            n += len(y)
    model.train()
    return se_scaled / n, float(np.sqrt(se / n))


def main(argv=None):
    p = common.make_parser(__doc__, epochs=None, batch_size=64, lr=1e-3)
    p.add_argument("--dataset", choices=sorted(DATASETS), default="wine")

    def resolve(a):
        a.epochs = a.epochs or DATASETS[a.dataset][2]
    args = common.parse_args(p, argv, settings=("dataset",), resolve=resolve)
    folder_name, load, default_epochs, unit = DATASETS[args.dataset]
    t0 = time.time()
    folder = common.setup(args, folder_name)

    # 1. data: 80/20 split by seed, standardised features, target scaled to [0, 1]
    X, y = load(folder)
    tr, te = split_80_20(len(X))
    xtr, xte, _, _ = standardize(X[tr].astype(np.float64), X[te].astype(np.float64))
    ytr, yte = y[tr].astype(np.float64), y[te].astype(np.float64)
    y_min, y_range = ytr.min(), ytr.max() - ytr.min()
    linear_rmse = linear_baseline_rmse(xtr, ytr, xte, yte)

    def as_tensors(x, t):
        return tg.tensor(x, dtype=args.dtype), tg.tensor(((t - y_min) / y_range).reshape(-1, 1), dtype=args.dtype)

    train = DataLoader(TensorDataset(*as_tensors(xtr, ytr)), batch_size=args.batch_size, shuffle=True,
                       device=args.device)
    test = DataLoader(TensorDataset(*as_tensors(xte, yte)), batch_size=1000, device=args.device)
    common.log(args, f"{args.dataset}: {len(tr)} train / {len(te)} test rows, {X.shape[1]} features; "
                     f"linear regression test RMSE {linear_rmse:.4f} {unit}")

    # 2. model, loss, optimizer
    model = make_model(X.shape[1]).to(args.dtype).to(args.device)
    loss_fn = nn.MSELoss()
    opt = tg.optim.Adam(model.parameters(), lr=args.lr)

    start, history = common.resume(args, model, opt, {"train_loss": [], "test_loss": [], "test_rmse": []})

    # 3. training loop
    with common.anomaly_mode(args):                        # --detect-anomaly: name the op of a NaN gradient
        for epoch in range(start, args.epochs + 1):
            train.set_epoch(epoch - 1)
            bar, meter = common.progress(args, train, epoch), common.Meter(args, epoch)
            for x, t in bar:
                opt.zero_grad()
                loss = loss_fn(model(x), t)
                loss.backward()
                opt.step()
                meter.update(bar, loss.item(), len(t))     # stops the run if the loss is NaN/inf
            bar.close()
            test_loss, rmse = evaluate(model, test, y_min, y_range)
            common.check_finite(args, epoch, test_loss=test_loss)
            history["train_loss"].append(meter.mean)
            history["test_loss"].append(test_loss)
            history["test_rmse"].append(rmse)
            common.checkpoint(args, model, opt, epoch, history)
            common.log(args, f"epoch {epoch}: train loss {meter.mean:.5f}  test loss {test_loss:.5f}  "
                             f"test RMSE {rmse:.4f} {unit} (linear {linear_rmse:.4f})")

    if args.plot:
        common.plot_history(args.plot, history, f"{args.dataset} regression MLP (MSELoss)",
                            loss_keys=("train_loss", "test_loss"))
    last = {k: (v[-1] if v else None) for k, v in history.items()}
    final = {"test_rmse": last["test_rmse"], "linear_rmse": linear_rmse, "test_loss": last["test_loss"],
             "train_loss": last["train_loss"]}
    return common.finish("regression_mlp", args, final, t0, dataset=args.dataset, unit=unit)


if __name__ == "__main__":
    main()
