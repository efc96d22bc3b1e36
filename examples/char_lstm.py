"""Tiny Shakespeare 语言模型：Embedding → 两层 LSTM → Linear，按字符（或按词）预测下一个 token。

    python examples/char_lstm.py                                   # 5 epochs, val loss <= 1.76 nats/char
    python examples/char_lstm.py --tokens word --vocab-size 10000  # word level, val perplexity <= 340
    python examples/char_lstm.py --generate 500 --temperature 0.8  # print a longer sample at the end
    mpiexec -n 2 python examples/char_lstm.py --distributed        # data parallel: 32 streams per rank

The text is cut into 64 contiguous streams (one per batch row) and read in windows of --bptt tokens
(100 for characters, 35 for words).  The LSTM's hidden state is carried from one window to the next
and detached, so gradients flow back at most --bptt steps (truncated backpropagation through time).
Evaluation walks the whole validation split (the last 10 % of the text) the same way (with
--max-steps, only that many windows of it, for quick runs).
"""
import os
import time

import numpy as np

import common
from common import tg

import tinygrad_zh.nn as nn
import tinygrad_zh.nn.functional as F
from tinygrad_zh.data import TextCorpus, batchify, bptt_windows, num_bptt_windows


class LanguageModel(nn.Module):
    def __init__(self, vocab_size, embed_dim=100, hidden_size=200, num_layers=2):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.lstm = nn.LSTM(embed_dim, hidden_size, num_layers=num_layers, batch_first=True)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, x, state=None):
        """x (B, T) token ids -> logits (B, T, V) and the new (h, c) state."""
        out, state = self.lstm(self.embed(x), state)
        return self.head(out), state


def evaluate(model, data, bptt, device, max_windows=None):
    """Mean loss (nats/token) and next-token accuracy over a (B, L) split, state carried across windows."""
    model.eval()
    loss_sum, correct, n, state = 0.0, 0, 0, None
    with tg.no_grad():
        for k, (x, y) in enumerate(bptt_windows(data, bptt, device=device)):
            if max_windows is not None and k >= max_windows:
                break
            logits, state = model(x, state)
            logits, y = logits.reshape(-1, logits.shape[-1]), y.reshape(-1)
            loss_sum += F.cross_entropy(logits, y, reduction="sum").item()
            correct += int((logits.argmax(1) == y).numpy().sum())
            n += y.numel()
    model.train()
    return loss_sum / n, correct / n


def generate(model, corpus, prime, n, temperature, device):
    """Feed ``prime``, then sample ``n`` tokens one at a time from softmax(logits / temperature)."""
    model.eval()
    rng = tg.random.generator()
    ids = corpus.encode(prime)
    if len(ids) == 0:
        ids = np.zeros(1, dtype=np.int64)
    out = []
    with tg.no_grad():
        logits, state = model(tg.tensor(ids[None], device=device))
        for _ in range(n):
            z = logits.numpy()[0, -1].astype(np.float64) / max(temperature, 1e-6)
            p = np.exp(z - z.max())
            nxt = int(rng.choice(len(p), p=p / p.sum()))
            out.append(nxt)
            logits, state = model(tg.tensor(np.array([[nxt]], dtype=np.int64), device=device), state)
    model.train()
    sep = "" if corpus.level == "char" else " "
    return prime + sep + corpus.decode(out)


def main(argv=None):
    p = common.make_parser(__doc__, epochs=5, batch_size=64, lr=1e-3)
    p.add_argument("--tokens", choices=["char", "word"], default="char")
    p.add_argument("--vocab-size", type=common.positive_int, default=10000,
                   help="word level: vocabulary size incl. <unk>")
    p.add_argument("--bptt", type=common.positive_int, default=None,
                   help="window length (default 100 chars / 35 words)")
    p.add_argument("--clip", type=common.positive_float, default=5.0, help="clip the global gradient norm to this")
    p.add_argument("--generate", type=common.nonnegative_int, default=300, help="tokens to sample at the end (0: none)")
    p.add_argument("--temperature", type=common.positive_float, default=0.8)
    p.add_argument("--prime", default="ROMEO:", help="text the sample starts from")
    p.add_argument("--distributed", action="store_true", help="data parallel (launch with mpiexec -n N)")

    def resolve(a):
        a.bptt = a.bptt or (100 if a.tokens == "char" else 35)
    args = common.parse_args(p, argv, settings=("tokens", "vocab_size", "bptt", "clip"), resolve=resolve)
    if args.tokens == "word" and args.vocab_size < 2:
        p.error(f"--vocab-size {args.vocab_size}: the word vocabulary needs at least 2 entries (<unk> and a word)")
    t0 = time.time()
    folder = common.setup(args, "tinyshakespeare")
    dist = common.setup_distributed(args.distributed, args.device)
    args.quiet = args.quiet or not dist.is_main        # only rank 0 prints

    # 1. data: one id stream, first 90 % train / last 10 % val, cut into batch_size parallel streams
    if args.tokens == "char":
        corpus = TextCorpus.from_file(os.path.join(folder, "input.txt"), level="char")
    else:
        corpus = TextCorpus.from_file(os.path.join(folder, "input.txt"), level="word",
                                      top_k=args.vocab_size - 1)      # + '<unk>'
    V = corpus.vocab_size
    train_ids, val_ids = corpus.split(0.9)
    train_data, val_data = batchify(train_ids, args.batch_size), batchify(val_ids, args.batch_size)
    train_data = dist.shard_rows(train_data)           # --distributed: each rank its block of streams
    n_windows = num_bptt_windows(train_data, args.bptt)
    common.log(args, f"{args.tokens} level: vocabulary {V}, train {len(train_ids):,} tokens "
                     f"({n_windows} windows of {args.batch_size}x{args.bptt}), val {len(val_ids):,} tokens")

    # 2. model, loss, optimizer
    model = dist.wrap(LanguageModel(V).to(args.dtype).to(args.device))   # DDP averages gradients
    loss_fn = nn.CrossEntropyLoss()
    opt = tg.optim.Adam(model.parameters(), lr=args.lr)

    start, history = common.resume(args, model, opt, {"train_loss": [], "val_loss": [], "val_accuracy": []})

    # 3. training loop: truncated BPTT, hidden state carried across windows and detached
    with common.anomaly_mode(args):                        # --detect-anomaly: name the op of a NaN gradient
        for epoch in range(start, args.epochs + 1):
            windows = bptt_windows(train_data, args.bptt, device=args.device)
            bar, meter, state = common.progress(args, windows, epoch, total=n_windows), common.Meter(args, epoch), None
            for x, y in bar:
                opt.zero_grad()
                logits, state = model(x, state)
                loss = loss_fn(logits.reshape(-1, V), y.reshape(-1))
                loss.backward()
                nn.utils.clip_grad_norm_(model.parameters(), args.clip)
                opt.step()
                state = tuple(s.detach() for s in state)      # keep the values, cut the graph
                meter.update(bar, loss.item(), y.numel())     # stops the run if the loss is NaN/inf
            bar.close()
            val_loss, acc = evaluate(model, val_data, args.bptt, args.device, max_windows=args.max_steps)
            common.check_finite(args, epoch, val_loss=val_loss)
            history["train_loss"].append(dist.mean(meter.mean))
            history["val_loss"].append(val_loss)
            history["val_accuracy"].append(acc)
            if dist.is_main:
                common.checkpoint(args, model, opt, epoch, history)
            common.log(args, f"epoch {epoch}: train loss {history['train_loss'][-1]:.4f}  val loss {val_loss:.4f} "
                             f"(perplexity {np.exp(val_loss):.1f})  val accuracy {acc:.4f}")

    if args.plot and dist.is_main:
        common.plot_history(args.plot, history, f"Tiny Shakespeare LSTM LM ({args.tokens} level)")
    if args.generate > 0 and dist.is_main:
        common.log(args, "---- sample ----")
        print(generate(model, corpus, args.prime, args.generate, args.temperature, args.device), flush=True)
        common.log(args, "----------------")
    last = {k: (v[-1] if v else None) for k, v in history.items()}
    final = {"val_loss": last["val_loss"], "val_accuracy": last["val_accuracy"], "train_loss": last["train_loss"]}
    if args.tokens == "word" and last["val_loss"] is not None:
        final["val_perplexity"] = float(np.exp(last["val_loss"]))
    out = (common.finish("char_lstm", args, final, t0, tokens=args.tokens, vocab_size=V, bptt=args.bptt,
                         world_size=dist.world_size) if dist.is_main else None)
    dist.finish()
    return out


if __name__ == "__main__":
    main()
