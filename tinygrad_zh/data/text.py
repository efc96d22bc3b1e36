"""文本数据：词表 (Vocab)、字符/词级语料 (TextCorpus)、BPTT 切块，以及 TREC 问题分类数据的读取。

* ``Vocab``: token <-> id.  ``Vocab.build(tokens, top_k=..., specials=...)``.
* ``TextCorpus``: a whole text as one id stream, tokenised by characters or by words.
* ``batchify`` / ``bptt_windows``: the classic language-model batching — cut the stream into ``B``
  parallel contiguous streams and walk along them in windows of ``bptt`` steps; ``y`` is ``x``
  shifted by one token, also across window boundaries, so a recurrent state can be carried over.
* ``random_windows``: GPT-style batches of ``B`` random windows.
* ``read_trec`` / ``load_trec``: "COARSE:fine question" lines (Latin-1).
"""
import os
import re
from collections import Counter

import numpy as np

from ..random import generator
from ..tensor import Tensor

UNK = "<unk>"
PAD = "<pad>"

# a word: a run of letters/digits/underscore; every other non-space character is a token of its
# own (punctuation, apostrophes included: "don't" -> don ' t, "o'er" -> o ' er), the usual
# word-level split of language-model tutorials
_WORD_RE = re.compile(r"\w+|[^\w\s]")


def tokenize_words(text, lower=True):
    """词级切分：小写，词与标点分开。``"Hello, World! Don't" -> ['hello', ',', 'world', '!', 'don', "'", 't']``."""
    if lower:
        text = text.lower()
    return _WORD_RE.findall(text)


class Vocab:
    """词表：``itos`` (id -> token) 和 ``stoi`` (token -> id)。

    If ``unk`` is in the vocabulary, unknown tokens map to it; otherwise encoding an unknown token
    raises a KeyError that names it.
    """

    def __init__(self, tokens, unk=None):
        self.itos = list(tokens)
        self.stoi = {t: i for i, t in enumerate(self.itos)}
        if len(self.stoi) != len(self.itos):
            dup = [t for t, c in Counter(self.itos).items() if c > 1][:5]
            raise ValueError(f"Vocab: duplicate tokens {dup}")
        if unk is not None and unk not in self.stoi:
            raise ValueError(f"Vocab: unk token {unk!r} is not in the vocabulary")
        self.unk = unk
        self.unk_index = None if unk is None else self.stoi[unk]

    @classmethod
    def build(cls, tokens, top_k=None, min_freq=1, specials=(UNK,), unk=UNK):
        """Build from a token sequence (or a list of token lists).

        Specials come first, then tokens by decreasing frequency (ties: the token seen first comes
        first, like ``collections.Counter.most_common``), keeping the ``top_k`` most frequent with
        count >= ``min_freq``.  For a text whose end is the validation part, the words cut at the
        ``top_k`` boundary are then the ones that appear only late, in validation.
        """
        counts = Counter()
        tokens = list(tokens)
        if tokens and isinstance(tokens[0], (list, tuple)):
            for seq in tokens:
                counts.update(seq)
        else:
            counts.update(tokens)
        specials = list(specials)
        for s in specials:
            counts.pop(s, None)
        # Counter keeps first-seen order and sorted() is stable: equal counts stay in that order
        words = sorted((w for w, c in counts.items() if c >= min_freq), key=lambda w: -counts[w])
        if top_k is not None:
            words = words[:int(top_k)]
        return cls(specials + words, unk=unk if unk in specials else None)

    def __len__(self):
        return len(self.itos)

    def __contains__(self, token):
        return token in self.stoi

    def __getitem__(self, token):
        return self.index(token)

    def index(self, token):
        i = self.stoi.get(token)
        if i is None:
            if self.unk_index is None:
                raise KeyError(f"Vocab: token {token!r} is not in the vocabulary (and there is no unk token)")
            return self.unk_index
        return i

    def encode(self, tokens):
        """Token list -> int64 array."""
        stoi, unk = self.stoi, self.unk_index
        if unk is None:
            try:
                return np.fromiter((stoi[t] for t in tokens), dtype=np.int64)
            except KeyError as e:
                raise KeyError(f"Vocab: token {e.args[0]!r} is not in the vocabulary "
                               f"(and there is no unk token)") from None
        return np.fromiter((stoi.get(t, unk) for t in tokens), dtype=np.int64)

    def decode(self, ids):
        """Ids (array, Tensor or list) -> token list."""
        if isinstance(ids, Tensor):
            ids = ids.numpy()
        ids = np.asarray(ids).reshape(-1)
        n = len(self.itos)
        if ids.size and (ids.min() < 0 or ids.max() >= n):
            raise IndexError(f"Vocab.decode: ids must be in [0, {n}), got min {ids.min()} max {ids.max()}")
        return [self.itos[i] for i in ids.tolist()]

    def __repr__(self):
        return f"Vocab(size={len(self)}, first={self.itos[:8]})"


class TextCorpus:
    """整段文本 -> 一条 id 序列。

    ``TextCorpus(text, level="char")``: the vocabulary is the sorted set of characters (encode/decode
    round-trips exactly).  ``level="word"``: lowercased words and punctuation as separate tokens;
    the vocabulary is ``'<unk>'`` plus the ``top_k`` most frequent tokens (all if ``top_k`` is None);
    ``decode`` joins tokens with spaces.

    Attributes: ``vocab``, ``ids`` (int64 array of the whole text).
    """

    def __init__(self, text, level="char", top_k=None, min_freq=1):
        if level not in ("char", "word"):
            raise ValueError(f"TextCorpus: level must be 'char' or 'word', got {level!r}")
        if not isinstance(text, str):
            raise TypeError(f"TextCorpus: text must be a str, got {type(text).__name__}")
        self.level = level
        if level == "char":
            self.vocab = Vocab(sorted(set(text)))
            self.ids = self.vocab.encode(text)
        else:
            toks = tokenize_words(text)
            self.vocab = Vocab.build(toks, top_k=top_k, min_freq=min_freq, specials=(UNK,), unk=UNK)
            self.ids = self.vocab.encode(toks)

    @classmethod
    def from_file(cls, path, level="char", encoding="utf-8", **kwargs):
        """Read a text file and build the corpus."""
        path = os.fspath(path)
        if not os.path.exists(path):
            raise FileNotFoundError(f"TextCorpus: text file is missing: {path!r}")
        with open(path, encoding=encoding) as f:
            return cls(f.read(), level=level, **kwargs)

    @property
    def vocab_size(self):
        return len(self.vocab)

    def __len__(self):
        return int(self.ids.shape[0])

    def tokenize(self, text):
        return list(text) if self.level == "char" else tokenize_words(text)

    def encode(self, text):
        """str -> int64 id array."""
        return self.vocab.encode(self.tokenize(text))

    def decode(self, ids):
        """ids -> str (characters concatenated, or words joined by spaces)."""
        toks = self.vocab.decode(ids)
        return "".join(toks) if self.level == "char" else " ".join(toks)

    def split(self, train_fraction=0.9):
        """(train_ids, val_ids): the first ``train_fraction`` of the stream and the rest."""
        if not 0.0 < train_fraction < 1.0:
            raise ValueError(f"TextCorpus.split: train_fraction must be in (0, 1), got {train_fraction}")
        n = int(len(self) * train_fraction)
        return self.ids[:n], self.ids[n:]


def batchify(ids, batch_size):
    """一条长序列 -> (B, L) 的 B 条并行连续子序列（丢掉除不尽的尾巴）。

    Row ``b`` is ``ids[b*L:(b+1)*L]``, so reading along a row follows the original text.
    """
    ids = np.asarray(ids.numpy() if isinstance(ids, Tensor) else ids).reshape(-1)
    if int(batch_size) < 1:
        raise ValueError(f"batchify: batch_size must be >= 1, got {batch_size}")
    L = ids.shape[0] // int(batch_size)
    if L < 2:
        raise ValueError(f"batchify: {ids.shape[0]} tokens are too few for batch_size={batch_size} "
                         f"(need at least 2 per stream)")
    return ids[:L * batch_size].reshape(batch_size, L)


def bptt_windows(data, bptt, device="cpu", drop_last=False, as_tensor=True):
    """在 (B, L) 数据上按时间切窗口：产出 (x, y)，形状 (B, ≤bptt)，y 是 x 往后移一个 token。

    Window ``k`` covers columns ``[k*bptt, k*bptt + T)`` for ``x`` and one further for ``y``, so the
    last ``y`` column of one window equals the first ``x`` column of the next (carry hidden state
    across windows).  The last window may be shorter unless ``drop_last``.
    """
    data = np.asarray(data.numpy() if isinstance(data, Tensor) else data)
    if data.ndim != 2:
        raise ValueError(f"bptt_windows: data must be (B, L) from batchify, got shape {data.shape}")
    if bptt < 1:
        raise ValueError(f"bptt_windows: bptt must be >= 1, got {bptt}")
    L = data.shape[1]
    for i in range(0, L - 1, bptt):
        T = min(bptt, L - 1 - i)
        if drop_last and T < bptt:
            return
        x, y = data[:, i:i + T], data[:, i + 1:i + 1 + T]
        if as_tensor:
            x, y = Tensor(np.ascontiguousarray(x), device=device), Tensor(np.ascontiguousarray(y), device=device)
        yield x, y


def num_bptt_windows(data, bptt, drop_last=False):
    """How many windows ``bptt_windows`` yields."""
    L = np.shape(data)[1] - 1
    return L // bptt if drop_last else -(-L // bptt)


def random_windows(ids, batch_size, block_size, seed=None, device="cpu"):
    """B 个随机位置的窗口：x (B, block)，y 是 x 后移一位（GPT 式训练）。

    Uses the library generator unless ``seed`` (an int or a numpy Generator) is given.
    """
    ids = np.asarray(ids)
    n = ids.shape[0] - block_size
    if n < 1:
        raise ValueError(f"random_windows: {ids.shape[0]} tokens are too few for block_size={block_size}")
    rng = generator() if seed is None else np.random.default_rng(seed)
    starts = rng.integers(0, n, size=batch_size)
    pos = starts[:, None] + np.arange(block_size)
    return Tensor(ids[pos], device=device), Tensor(ids[pos + 1], device=device)


def pad_sequences(seqs, pad_value=0, max_len=None, dtype=np.int64):
    """List of id sequences -> (N, max_len) array, right-padded (and truncated) to ``max_len``."""
    lens = [len(s) for s in seqs]
    T = max(lens, default=0) if max_len is None else int(max_len)
    out = np.full((len(seqs), T), pad_value, dtype=dtype)
    for i, s in enumerate(seqs):
        s = s[:T]
        out[i, :len(s)] = s
    return out


# ---------------------------------------------------------------------- TREC
TREC_COARSE = ("ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM")
TREC_FILES = {"train": "train_5500.label", "test": "TREC_10.label"}


def read_trec(path, fine=False):
    """读取 TREC 问题分类文件（每行 "COARSE:fine question ..."，Latin-1 编码）。

    Returns ``(texts, labels)``: question strings and coarse labels (e.g. ``"NUM"``), or the full
    ``"NUM:dist"`` labels when ``fine=True``.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"TREC file is missing: {path!r}")
    texts, labels = [], []
    with open(path, encoding="latin-1") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            label, _, text = line.partition(" ")
            coarse, colon, _ = label.partition(":")
            if not colon or coarse not in TREC_COARSE or not text:
                raise ValueError(f"TREC file {path!r} line {lineno}: expected 'COARSE:fine question', got "
                                 f"{line[:60]!r}")
            texts.append(text)
            labels.append(label if fine else coarse)
    return texts, labels


def load_trec(data_dir, split="train", fine=False):
    """``read_trec`` on ``train_5500.label`` (split='train') or ``TREC_10.label`` (split='test')."""
    if split not in TREC_FILES:
        raise ValueError(f"load_trec: split must be 'train' or 'test', got {split!r}")
    return read_trec(os.path.join(data_dir, TREC_FILES[split]), fine=fine)
