"""PyTorch 对照：与示例完全相同的数据管线，只把模型、损失、优化器和训练循环换成 PyTorch。

    python bench/examples_torch.py word_lm --seed 0       # = examples/char_lstm.py --tokens word
    python bench/examples_torch.py airfoil --seed 0       # = examples/regression_mlp.py --dataset airfoil
    python bench/examples_torch.py airfoil --seeds 0-7    # one line per seed
    python bench/examples_torch.py airfoil --seeds 0-11 --variant drop_last   # one pipeline change
    python bench/examples_torch.py trec_bag --seeds 0-2   # = examples/text_classifier.py [--model lstm]
    python bench/examples_torch.py trec_lstm --seeds 0-2

Data loading, splitting, tokenization and the vocabulary come from ``tinygrad_zh.data`` (the same
calls the examples make), so a difference in the result is a difference in the training, not in the
data.  Randomness that differs by nature: the initial weights (PyTorch's ``torch.manual_seed(seed)``)
and, for airfoil, the shuffling order.  Used for the PyTorch columns of docs/results.md; PyTorch is
an oracle here, the library never imports it.  Prints one JSON line per run.
"""
import argparse
import json
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "examples"))       # the examples' own helpers (encode, baseline)

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

from tinygrad_zh.data import TextCorpus, batchify, load_airfoil, standardize  # noqa: E402

DATA = os.path.join(ROOT, "data")


def word_lm(seed, epochs=5, batch=64, bptt=35, lr=1e-3, clip=5.0, vocab=10000):
    """Embedding(V,100) + LSTM(100,200,2) + Linear(200,V), Adam, clip 5, BPTT 35, state carried."""
    corpus = TextCorpus.from_file(os.path.join(DATA, "tinyshakespeare", "input.txt"), level="word",
                                  top_k=vocab - 1)
    V = corpus.vocab_size
    tr, va = corpus.split(0.9)
    tr, va = torch.from_numpy(batchify(tr, batch)), torch.from_numpy(batchify(va, batch))
    torch.manual_seed(seed)

    class LM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed, self.lstm = nn.Embedding(V, 100), nn.LSTM(100, 200, 2, batch_first=True)
            self.head = nn.Linear(200, V)

        def forward(self, x, state=None):
            out, state = self.lstm(self.embed(x), state)
            return self.head(out), state

    def windows(d):
        L = d.shape[1]
        for i in range(0, L - 1, bptt):
            k = min(bptt, L - 1 - i)
            yield d[:, i:i + k], d[:, i + 1:i + 1 + k]

    model = LM()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    history = []
    for _ in range(epochs):
        state = None
        for x, y in windows(tr):
            opt.zero_grad()
            logits, state = model(x, state)
            loss = nn.functional.cross_entropy(logits.reshape(-1, V), y.reshape(-1))
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), clip)
            opt.step()
            state = tuple(s.detach() for s in state)
        model.eval()
        total, correct, n, state = 0.0, 0, 0, None
        with torch.no_grad():
            for x, y in windows(va):
                logits, state = model(x, state)
                logits, y = logits.reshape(-1, V), y.reshape(-1)
                total += nn.functional.cross_entropy(logits, y, reduction="sum").item()
                correct += int((logits.argmax(1) == y).sum())
                n += y.numel()
        model.train()
        history.append(round(float(np.exp(total / n)), 2))
    return {"val_perplexity": history[-1], "val_accuracy": round(correct / n, 6),
            "perplexity_per_epoch": history}


AIRFOIL_VARIANTS = ("example", "sklearn_split", "randperm_split", "scale_on_all_rows", "drop_last",
                    "log_frequency")


def airfoil(seed, epochs=100, batch=64, lr=1e-3, variant="example"):
    """Linear(5,500) ReLU Linear(500,250) ReLU Linear(250,100) ReLU Linear(100,1) Sigmoid, MSE, Adam.

    ``variant`` changes one thing in the data pipeline, to see whether another common way of writing
    it makes the result systematically better (docs/results.md, airfoil): the split drawn like
    scikit-learn's ``train_test_split`` or with ``torch.randperm``; features and target scaled with
    the statistics of all rows; the last short batch dropped; log(frequency) as the first feature.
    """
    from regression_mlp import linear_baseline_rmse
    X, y = load_airfoil(os.path.join(DATA, "airfoil-self-noise"))
    X, y = X.astype(np.float64), y.astype(np.float64)
    n, n_train = len(X), int(0.8 * len(X))
    if variant == "sklearn_split":                                   # test rows first, RandomState
        perm = np.random.RandomState(seed).permutation(n)
        te, tr = perm[:n - n_train], perm[n - n_train:]
    elif variant == "randperm_split":
        perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).numpy()
        tr, te = perm[:n_train], perm[n_train:]
    else:                                                            # the example's split
        perm = np.random.default_rng(seed).permutation(n)
        tr, te = perm[:n_train], perm[n_train:]
    if variant == "log_frequency":
        X[:, 0] = np.log(X[:, 0])
    if variant == "scale_on_all_rows":
        mean, std = X.mean(0), X.std(0)
        xtr, xte = (X[tr] - mean) / std, (X[te] - mean) / std
        y_min, y_range = y.min(), y.max() - y.min()
    else:
        xtr, xte, _, _ = standardize(X[tr], X[te])
        y_min, y_range = y[tr].min(), y[tr].max() - y[tr].min()
    ytr, yte = y[tr].astype(np.float64), y[te].astype(np.float64)
    linear = linear_baseline_rmse(xtr, ytr, xte, yte)                # the example's own baseline
    f32 = lambda a: torch.tensor(a, dtype=torch.float32)  # noqa: E731
    xtr, xte = f32(xtr), f32(xte)
    ttr, tte = f32((ytr - y_min) / y_range).reshape(-1, 1), f32((yte - y_min) / y_range).reshape(-1, 1)
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(X.shape[1], 500), nn.ReLU(), nn.Linear(500, 250), nn.ReLU(),
                          nn.Linear(250, 100), nn.ReLU(), nn.Linear(100, 1), nn.Sigmoid())
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(epochs):
        for idx in torch.randperm(len(xtr)).split(batch):
            if variant == "drop_last" and len(idx) < batch:
                continue
            opt.zero_grad()
            nn.functional.mse_loss(model(xtr[idx]), ttr[idx]).backward()
            opt.step()
    with torch.no_grad():
        rmse = float(((model(xte) - tte) ** 2).mean().sqrt()) * y_range
    return {"variant": variant, "test_rmse": round(rmse, 4), "linear_rmse": round(linear, 4)}


def trec(seed, model_name, epochs=10, batch=64):
    """TREC: mean of embeddings (padding masked) + Linear, or Embedding + LSTM(64,128) + Linear."""
    from text_classifier import PAD, UNK, encode
    from tinygrad_zh.data import Vocab, load_trec
    folder = os.path.join(DATA, "trec")
    train_texts, train_labels = load_trec(folder, "train")
    test_texts, test_labels = load_trec(folder, "test")
    vocab = Vocab.build([t.lower().split() for t in train_texts], specials=(PAD, UNK), unk=UNK)
    xtr, ltr, ytr = (torch.from_numpy(a) for a in encode(train_texts, train_labels, vocab))
    xte, lte, yte = (torch.from_numpy(a) for a in encode(test_texts, test_labels, vocab))
    torch.manual_seed(seed)
    embed, lstm = nn.Embedding(len(vocab), 64), nn.LSTM(64, 128, batch_first=True)
    fc = nn.Linear(64 if model_name == "bag" else 128, 6)
    with torch.no_grad():
        embed.weight[vocab.stoi[UNK]] = 0                 # never trained (as in the example)

    def forward(x, lengths):
        x = x[:, :int(lengths.max())]
        e = embed(x)
        if model_name == "bag":
            mask = (x != 0).float().unsqueeze(-1)
            return fc((e * mask).sum(1) / mask.sum(1))
        out, _ = lstm(e)
        return fc(out[torch.arange(len(x)), lengths - 1])

    params = list(embed.parameters()) + list(fc.parameters())
    params += list(lstm.parameters()) if model_name == "lstm" else []
    opt = torch.optim.Adam(params, lr=0.01 if model_name == "bag" else 0.001)
    for _ in range(epochs):
        for idx in torch.randperm(len(xtr)).split(batch):
            opt.zero_grad()
            nn.functional.cross_entropy(forward(xtr[idx], ltr[idx]), ytr[idx]).backward()
            opt.step()
    with torch.no_grad():
        acc = float((forward(xte, lte).argmax(1) == yte).float().mean())
    return {"model": model_name, "test_accuracy": round(acc, 4)}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("example", choices=["word_lm", "airfoil", "trec_bag", "trec_lstm"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--seeds", default=None, help="a range like 0-7 (overrides --seed)")
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    p.add_argument("--variant", choices=AIRFOIL_VARIANTS, default="example",
                   help="airfoil only: one change to the data pipeline (see airfoil())")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    seeds = [args.seed]
    if args.seeds:
        a, _, b = args.seeds.partition("-")
        seeds = list(range(int(a), int(b or a) + 1))
    for seed in seeds:
        t0 = time.time()
        out = {"word_lm": word_lm, "airfoil": lambda s: airfoil(s, variant=args.variant), "trec_bag": lambda s: trec(s, "bag"),
               "trec_lstm": lambda s: trec(s, "lstm")}[args.example](seed)
        print(json.dumps({"example": args.example, "framework": f"torch {torch.__version__}", "seed": seed,
                          **out, "seconds": round(time.time() - t0, 1)}), flush=True)


if __name__ == "__main__":
    main()
