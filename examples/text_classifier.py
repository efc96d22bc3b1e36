"""TREC 问题分类（6 个粗类别）：词向量取平均 + Linear（--model bag），或 Embedding + LSTM + Linear（--model lstm）。

    python examples/text_classifier.py                             # bag of embeddings, Adam lr 0.01
    python examples/text_classifier.py --model lstm                # LSTM(64, 128), Adam lr 0.001

Questions are lowercased and split on whitespace; the vocabulary comes from the training questions
(words never seen in training become <unk>, whose embedding starts at zero: see
zero_unknown_row).  Each batch is padded with <pad> (id 0) to its longest
question; the bag model averages only the real tokens (the padding is masked out) and the LSTM model
reads the output at each question's last real token.
"""
import time

import numpy as np

import common
from common import tg

import tinygrad_zh.nn as nn
import tinygrad_zh.nn.functional as F
from tinygrad_zh.data import TREC_COARSE, DataLoader, TensorDataset, Vocab, load_trec, pad_sequences

PAD, UNK = "<pad>", "<unk>"


class BagOfEmbeddings(nn.Module):
    def __init__(self, vocab_size, embed_dim=64, num_classes=6):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.fc = nn.Linear(embed_dim, num_classes)

    def forward(self, x):
        """x (B, T) ids, 0 = padding -> logits (B, 6)."""
        e = self.embed(x)                                   # (B, T, D)
        mask = (x != 0).type_as(e).unsqueeze(-1)            # (B, T, 1): 1 for real tokens
        mean = (e * mask).sum(1) / mask.sum(1)              # average over the real tokens only
        return self.fc(mean)


class LSTMClassifier(nn.Module):
    def __init__(self, vocab_size, embed_dim=64, hidden_size=128, num_classes=6):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.lstm = nn.LSTM(embed_dim, hidden_size, batch_first=True)
        self.fc = nn.Linear(hidden_size, num_classes)

    def forward(self, x):
        out, _ = self.lstm(self.embed(x))                   # (B, T, H)
        lengths = (x != 0).sum(1)                           # padding is on the right; stays on x's device
        rows = tg.arange(x.shape[0], device=x.device)
        last = out[rows, lengths - 1]                       # (B, H): state after the last real token
        return self.fc(last)


def zero_unknown_row(embed, unk_index):
    """No training question contains <unk> (the vocabulary is built from them), so its embedding row
    never gets a gradient.  Left at its random N(0, 1) start, every unknown word of a test question
    would add that same random vector; at zero it adds nothing."""
    embed.weight.array[unk_index] = 0


def encode(texts, labels, vocab):
    """Questions -> padded (N, T) id matrix, lengths, class indices."""
    ids = [vocab.encode(t.lower().split()) for t in texts]
    return (pad_sequences(ids, pad_value=vocab.stoi[PAD]), np.array([len(s) for s in ids]),
            np.array([TREC_COARSE.index(c) for c in labels], dtype=np.int64))


def trim(x, lengths, device):
    """Cut a batch's padding down to its longest question (an LSTM then runs fewer steps), then move
    it to ``device``. The batches stay on the host until here: reading the lengths of a GPU batch
    would make the host wait for the GPU in every step."""
    return x[:, :int(lengths.numpy().max())].to(device)


def evaluate(model, loader, device):
    """Mean loss and accuracy over a whole split, without building a graph."""
    model.eval()
    loss_sum, correct, n = 0.0, 0, 0
    with tg.no_grad():
        for x, lengths, y in loader:
            logits = model(trim(x, lengths, device))
            y = y.to(device)
            loss_sum += F.cross_entropy(logits, y, reduction="sum").item()
            correct += int((logits.argmax(1) == y).numpy().sum())
            n += len(y)
    model.train()
    return loss_sum / n, correct / n


def main(argv=None):
    p = common.make_parser(__doc__, epochs=10, batch_size=64, lr=None)
    p.add_argument("--model", choices=["bag", "lstm"], default="bag")

    def resolve(a):
        a.lr = a.lr or (0.01 if a.model == "bag" else 0.001)
    args = common.parse_args(p, argv, settings=("model",), resolve=resolve)
    t0 = time.time()
    folder = common.setup(args, "trec")

    # 1. data: lowercase whitespace tokens, vocabulary from the training questions
    train_texts, train_labels = load_trec(folder, "train")
    test_texts, test_labels = load_trec(folder, "test")
    vocab = Vocab.build([t.lower().split() for t in train_texts], specials=(PAD, UNK), unk=UNK)
    xtr, ltr, ytr = encode(train_texts, train_labels, vocab)
    xte, lte, yte = encode(test_texts, test_labels, vocab)
    common.log(args, f"TREC: {len(ytr)} train / {len(yte)} test questions, vocabulary {len(vocab)}")
    train = DataLoader(TensorDataset(xtr, ltr, ytr), batch_size=args.batch_size, shuffle=True)   # on the host:
    test = DataLoader(TensorDataset(xte, lte, yte), batch_size=500)        # trim() moves them (see there)

    # 2. model, loss, optimizer
    Model = BagOfEmbeddings if args.model == "bag" else LSTMClassifier
    model = Model(len(vocab))
    zero_unknown_row(model.embed, vocab.stoi[UNK])
    model = model.to(args.dtype).to(args.device)
    loss_fn = nn.CrossEntropyLoss()
    opt = tg.optim.Adam(model.parameters(), lr=args.lr)

    start, history = common.resume(args, model, opt, {"train_loss": [], "test_loss": [], "test_accuracy": []})

    # 3. training loop
    with common.anomaly_mode(args):                        # --detect-anomaly: name the op of a NaN gradient
        for epoch in range(start, args.epochs + 1):
            train.set_epoch(epoch - 1)
            bar, meter = common.progress(args, train, epoch), common.Meter(args, epoch)
            for x, lengths, y in bar:
                x, y = trim(x, lengths, args.device), y.to(args.device)
                opt.zero_grad()
                loss = loss_fn(model(x), y)
                loss.backward()
                opt.step()
                meter.update(bar, loss.item(), len(y))     # stops the run if the loss is NaN/inf
            bar.close()
            test_loss, acc = evaluate(model, test, args.device)
            common.end_classifier_epoch(args, model, opt, epoch, history, meter.mean, test_loss, acc)

    if args.plot:
        common.plot_history(args.plot, history, f"TREC-6 question classifier ({args.model})")
    last = {k: (v[-1] if v else None) for k, v in history.items()}
    final = {"test_accuracy": last["test_accuracy"], "test_loss": last["test_loss"], "train_loss": last["train_loss"]}
    return common.finish("text_classifier", args, final, t0, model=args.model, vocab_size=len(vocab))


if __name__ == "__main__":
    main()
