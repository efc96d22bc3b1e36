"""Tests for tinygrad_zh.data: IDX files, DataLoader, text corpora, TREC and CSV readers, shipped data."""
import collections
import gzip
import os
import struct

import numpy as np
import pytest

import tinygrad_zh as tg
from tinygrad_zh import data as D

MNIST = D.data_path("mnist")
SHAKES = D.data_path("tinyshakespeare", "input.txt")


# ---------------------------------------------------------------------- IDX
def _idx_bytes(code, arr_be):
    """Hand-built IDX bytes (independent of write_idx)."""
    return bytes([0, 0, code, arr_be.ndim]) + b"".join(struct.pack(">i", s) for s in arr_be.shape) + \
        arr_be.tobytes()


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("dtype,code", [("u1", 0x08), ("i1", 0x09), (">i2", 0x0B), (">i4", 0x0C),
                                        (">f4", 0x0D), (">f8", 0x0E)])
def test_idx_read_hand_built_files(tmp_path, dtype, code, compress):
    rng = np.random.default_rng(0)
    arr = (rng.standard_normal((3, 4, 5)) * 50).astype(dtype)
    raw = _idx_bytes(code, arr)
    p = tmp_path / ("x.idx.gz" if compress else "x.idx")
    p.write_bytes(gzip.compress(raw) if compress else raw)
    out = D.read_idx(p)
    assert out.shape == (3, 4, 5)
    assert out.dtype == np.dtype(dtype).newbyteorder("=") or out.dtype == np.dtype(dtype)
    assert out.dtype.isnative
    np.testing.assert_array_equal(out, arr)


@pytest.mark.parametrize("name", ["a.gz", "a.raw"])
def test_idx_write_round_trip_and_bytes(tmp_path, name):
    arr = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    p = tmp_path / name
    D.write_idx(p, arr)
    blob = p.read_bytes()
    assert (blob[:2] == b"\x1f\x8b") == name.endswith(".gz")
    raw = gzip.decompress(blob) if name.endswith(".gz") else blob
    assert raw[:16] == struct.pack(">iiii", 2051, 2, 28, 28)   # the MNIST image header
    np.testing.assert_array_equal(D.read_idx(p, expected_magic=2051), arr)
    labels = np.array([3, 1, 4, 1, 5], np.uint8)
    D.write_idx(tmp_path / "l", labels)
    assert (tmp_path / "l").read_bytes()[:8] == struct.pack(">ii", 2049, 5)
    f = np.linspace(-1, 1, 7, dtype=np.float64)
    D.write_idx(tmp_path / "f.gz", f)
    np.testing.assert_array_equal(D.read_idx(tmp_path / "f.gz"), f)


def test_idx_errors_name_file_and_problem(tmp_path):
    missing = tmp_path / "nope-idx1-ubyte.gz"
    with pytest.raises(FileNotFoundError, match="nope-idx1-ubyte.gz.*"):
        D.read_idx(missing)
    with pytest.raises(FileNotFoundError, match="missing"):
        D.read_idx(missing)

    good = _idx_bytes(0x08, np.zeros((10, 28, 28), np.uint8))
    bad_magic = tmp_path / "badmagic"
    bad_magic.write_bytes(b"\x12\x34" + good[2:])
    with pytest.raises(D.IDXError, match="badmagic.*wrong magic"):
        D.read_idx(bad_magic)
    labels = tmp_path / "labels"
    labels.write_bytes(_idx_bytes(0x08, np.zeros(10, np.uint8)))
    with pytest.raises(D.IDXError, match="labels.*wrong magic number 2049.*expected 2051"):
        D.read_idx(labels, expected_magic=2051)

    trunc = tmp_path / "trunc-raw"
    trunc.write_bytes(good[:-5])
    with pytest.raises(D.IDXError, match="trunc-raw.*truncated"):
        D.read_idx(trunc)
    head = tmp_path / "trunc-head"
    head.write_bytes(good[:9])
    with pytest.raises(D.IDXError, match="trunc-head.*truncated"):
        D.read_idx(head)
    tgz = tmp_path / "trunc.gz"
    tgz.write_bytes(gzip.compress(good)[:-20])
    with pytest.raises(D.IDXError, match="trunc.gz.*truncated"):
        D.read_idx(tgz)
    extra = tmp_path / "extra"
    extra.write_bytes(good + b"\x00\x00")
    with pytest.raises(D.IDXError, match="extra.*2 unexpected trailing bytes"):
        D.read_idx(extra)
    assert issubclass(D.IDXError, ValueError)


def test_load_mnist_real_files():
    x, y = D.load_mnist(MNIST, "test")
    assert x.shape == (10000, 28, 28) and x.dtype == np.uint8
    assert y.shape == (10000,) and y.dtype == np.int64
    assert y.min() == 0 and y.max() == 9 and x.max() == 255 and x.min() == 0
    # first labels and class counts as published in data/mnist/SOURCE.md
    assert y[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert np.bincount(y).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    xt, yt = D.load_mnist(MNIST, "train")
    assert xt.shape == (60000, 28, 28) and xt.dtype == np.uint8 and yt.dtype == np.int64
    assert yt[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert np.bincount(yt).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


def test_load_mnist_other_names_and_errors(tmp_path):
    # Fashion-MNIST ships the same file names; also accept the raw (un-gzipped) and dotted spellings
    imgs = np.random.default_rng(1).integers(0, 256, (6, 28, 28), dtype=np.uint8)
    labs = np.array([9, 0, 0, 3, 0, 2], np.uint8)
    D.write_idx(tmp_path / "t10k-images-idx3-ubyte", imgs)
    D.write_idx(tmp_path / "t10k-labels.idx1-ubyte.gz", labs)
    x, y = D.load_mnist(tmp_path, "test")
    np.testing.assert_array_equal(x, imgs)
    assert y.dtype == np.int64 and y.tolist() == labs.tolist()
    with pytest.raises(FileNotFoundError, match="train-images"):
        D.load_mnist(tmp_path, "train")
    with pytest.raises(ValueError, match="split"):
        D.load_mnist(tmp_path, "val")
    # images and labels swapped -> wrong magic names the file
    D.write_idx(tmp_path / "train-images-idx3-ubyte.gz", labs)
    D.write_idx(tmp_path / "train-labels-idx1-ubyte.gz", labs)
    with pytest.raises(D.IDXError, match="train-images-idx3-ubyte.gz.*wrong magic"):
        D.load_mnist(tmp_path, "train")
    # count mismatch
    D.write_idx(tmp_path / "train-images-idx3-ubyte.gz", imgs[:5])
    D.write_idx(tmp_path / "train-labels-idx1-ubyte.gz", labs)
    with pytest.raises(D.IDXError, match="5 images.*6 labels"):
        D.load_mnist(tmp_path, "train")


# ---------------------------------------------------------------------- DataLoader
class CountingTensorDataset(D.TensorDataset):
    def __init__(self, *a):
        super().__init__(*a)
        self.getitem_calls = 0
        self.batch_calls = 0

    def __getitem__(self, i):
        self.getitem_calls += 1
        return super().__getitem__(i)

    def get_batch(self, idx):
        self.batch_calls += 1
        return super().get_batch(idx)


def _indices(loader):
    return np.concatenate([b.numpy() if isinstance(b, tg.Tensor) else b[0].numpy() for b in loader])


@pytest.mark.parametrize("n,bs,drop", [(10, 3, False), (10, 3, True), (12, 4, False), (12, 4, True), (5, 8, False)])
def test_dataloader_covers_every_index_once(n, bs, drop):
    loader = D.DataLoader(np.arange(n), batch_size=bs, shuffle=True, drop_last=drop)
    expected_batches = n // bs if drop else -(-n // bs)
    assert len(loader) == expected_batches
    for _ in range(2):
        batches = [b.numpy() for b in loader]
        assert len(batches) == expected_batches
        assert all(len(b) == bs for b in batches[:-1])
        got = np.concatenate(batches) if batches else np.zeros(0, np.int64)
        assert len(np.unique(got)) == len(got)          # no index twice
        if drop:
            assert len(got) == (n // bs) * bs
        else:
            assert sorted(got.tolist()) == list(range(n))


def test_dataloader_no_shuffle_keeps_order_and_dtypes():
    x = np.arange(20, dtype=np.float64).reshape(10, 2)
    y = np.arange(10, dtype=np.int64)
    loader = D.DataLoader(D.TensorDataset(x, y), batch_size=4)
    xb, yb = next(iter(loader))
    assert isinstance(xb, tg.Tensor) and xb.dtype == np.float32 and yb.dtype == np.int64   # float32 policy
    assert xb.shape == (4, 2) and yb.tolist() == [0, 1, 2, 3]
    assert [b[1].tolist() for b in loader] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert not xb.requires_grad


def test_dataloader_seed_reproducible_and_epochs_differ():
    a = D.DataLoader(np.arange(50), batch_size=7, shuffle=True, seed=123)
    b = D.DataLoader(np.arange(50), batch_size=7, shuffle=True, seed=123)
    a1, a2 = _indices(a), _indices(a)
    b1, b2 = _indices(b), _indices(b)
    np.testing.assert_array_equal(a1, b1)
    np.testing.assert_array_equal(a2, b2)
    assert not np.array_equal(a1, a2)                       # epochs differ
    assert not np.array_equal(a1, np.arange(50))
    c = D.DataLoader(np.arange(50), batch_size=7, shuffle=True, seed=124)
    assert not np.array_equal(_indices(c), a1)
    b.set_epoch(1)                                          # jump to an epoch
    np.testing.assert_array_equal(_indices(b), a2)
    # a seeded loader does not consume the library generator
    tg.manual_seed(0)
    before = tg.random.get_rng_state()
    _indices(a)
    assert tg.random.get_rng_state() == before


def test_dataloader_library_generator_reproducible():
    loader = D.DataLoader(np.arange(40), batch_size=8, shuffle=True)
    tg.manual_seed(7)
    o1, o2 = _indices(loader), _indices(loader)
    tg.manual_seed(7)
    p1, p2 = _indices(loader), _indices(loader)
    np.testing.assert_array_equal(o1, p1)
    np.testing.assert_array_equal(o2, p2)
    assert not np.array_equal(o1, o2)


def test_dataloader_fast_path_uses_fancy_indexing():
    x = np.random.default_rng(0).standard_normal((103, 3)).astype(np.float32)
    y = np.arange(103)
    ds = CountingTensorDataset(x, y)
    loader = D.DataLoader(ds, batch_size=10, shuffle=True, seed=0)
    seen = []
    for xb, yb in loader:
        np.testing.assert_array_equal(xb.numpy(), x[yb.numpy()])   # rows stay paired
        seen.append(yb.numpy())
    assert ds.getitem_calls == 0                      # no per-sample __getitem__
    assert ds.batch_calls == len(loader) == 11
    assert sorted(np.concatenate(seen).tolist()) == list(range(103))
    # a Subset (from random_split) of a TensorDataset keeps the fast path
    tr, va = D.random_split(ds, [0.8, 0.2], seed=3)
    assert len(tr) + len(va) == 103
    assert sorted(np.concatenate([tr.indices, va.indices]).tolist()) == list(range(103))
    got = np.concatenate([yb.numpy() for _, yb in D.DataLoader(tr, batch_size=16)])
    np.testing.assert_array_equal(got, tr.indices)
    assert ds.getitem_calls == 0


class PairDataset(D.Dataset):
    """Generic dataset: sample i is (array of 2 floats, int label, dict)."""

    def __init__(self, n):
        self.n = n
        self.calls = 0

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        self.calls += 1
        return np.array([i, -i], np.float64), i % 3, {"w": float(i) / 2}


def test_dataloader_generic_dataset_collate():
    ds = PairDataset(7)
    loader = D.DataLoader(ds, batch_size=3, shuffle=True, seed=5)
    batches = list(loader)
    assert ds.calls == 7 and len(batches) == len(loader) == 3
    xs, ys, ds_ = batches[0]
    assert xs.shape == (3, 2) and xs.dtype == np.float32
    assert ys.dtype == np.int64 and ds_["w"].dtype == np.float32
    idx = xs.numpy()[:, 0].astype(int)
    assert ys.tolist() == (idx % 3).tolist()
    np.testing.assert_allclose(ds_["w"].numpy(), idx / 2)
    all_idx = np.concatenate([b[0].numpy()[:, 0] for b in batches]).astype(int)
    assert sorted(all_idx.tolist()) == list(range(7))
    # custom collate_fn receives the list of samples
    out = list(D.DataLoader(ds, batch_size=4, collate_fn=lambda s: [t[1] for t in s]))
    assert out == [[0, 1, 2, 0], [1, 2, 0]]
    # collate_fn forces the per-sample path even for a TensorDataset
    tds = CountingTensorDataset(np.arange(5.0))
    list(D.DataLoader(tds, batch_size=2, collate_fn=lambda s: s))
    assert tds.getitem_calls == 5 and tds.batch_calls == 0


class RecordingSampler:
    def __init__(self, idx):
        self.idx, self.epochs = list(idx), []

    def __iter__(self):
        e = self.epochs[-1] if self.epochs else 0
        return iter(self.idx[e:] + self.idx[:e])

    def __len__(self):
        return len(self.idx)

    def set_epoch(self, e):
        self.epochs.append(e)


def test_dataloader_sampler_and_errors():
    s = RecordingSampler([4, 2, 0, 6])
    loader = D.DataLoader(np.arange(10) * 10, batch_size=3, sampler=s)
    assert len(loader) == 2
    assert [b.tolist() for b in loader] == [[40, 20, 0], [60]]
    assert [b.tolist() for b in loader] == [[20, 0, 60], [40]]
    assert s.epochs == [0, 1]
    assert len(D.DataLoader(np.arange(10), batch_size=3, sampler=s, drop_last=True)) == 1
    with pytest.raises(ValueError, match="mutually exclusive"):
        D.DataLoader(np.arange(3), sampler=s, shuffle=True)
    with pytest.raises(ValueError, match="batch_size"):
        D.DataLoader(np.arange(3), batch_size=0)
    with pytest.raises(ValueError, match="same length"):
        D.TensorDataset(np.zeros(3), np.zeros(4))
    with pytest.raises(IndexError, match="out of range"):
        D.Subset(D.TensorDataset(np.zeros(3)), [0, 3])


def test_dataloader_tensor_input_and_concat():
    t = tg.arange(6).reshape(3, 2)
    batches = list(D.DataLoader(t, batch_size=2))
    assert batches[0].shape == (2, 2) and batches[1].tolist() == [[4, 5]]
    cat = D.TensorDataset(np.arange(3)) + D.TensorDataset(np.arange(10, 12))
    assert len(cat) == 5 and cat[3][0].item() == 10 and cat[-1][0].item() == 11
    got = list(D.DataLoader(cat, batch_size=5))[0][0]
    assert got.tolist() == [0, 1, 2, 10, 11]


@pytest.mark.cuda
@pytest.mark.skipif(not tg.cuda_available(), reason="needs a GPU or the CUDA simulator")
def test_dataloader_device_cuda():
    """``device="cuda"``: every batch (the sliced fast path of TensorDataset, the default collate of a
    generic dataset with dicts, in-process workers, shuffling) arrives as device arrays with the same
    values as on the CPU; on the simulator, putting a batch on the device never reads it back."""
    ds = D.TensorDataset(np.arange(8.0), np.arange(8))
    loader = D.DataLoader(ds, batch_size=4, device="cuda")
    xb, yb = next(iter(loader))
    assert xb.device == "cuda" and yb.device == "cuda" and yb.tolist() == [0, 1, 2, 3]
    assert type(xb.array).__module__ == "cupy" and xb.dtype == tg.float32 and yb.dtype == tg.int64
    gen = D.DataLoader(PairDataset(6), batch_size=4, device="cuda", num_workers=2)
    x, label, extra = next(iter(gen))
    assert x.device == label.device == "cuda" and all(v.device == "cuda" for v in extra.values())
    ref = next(iter(D.DataLoader(PairDataset(6), batch_size=4)))
    np.testing.assert_array_equal(x.numpy(), ref[0].numpy())
    assert label.tolist() == ref[1].tolist()
    a, c = ([b.tolist() for b, _ in D.DataLoader(ds, batch_size=3, shuffle=True, device=d,
                                                 generator=tg.Generator().manual_seed(5))] for d in ("cuda", None))
    assert a == c and sorted(sum(a, [])) == list(range(8))
    sim = getattr(tg.backend.require_cuda(), "is_simulator", False)
    if sim:
        from tinygrad_zh.cuda import sim as cudasim
        with cudasim.count() as n:
            for xb, yb in D.DataLoader(ds, batch_size=4, device="cuda"):
                pass
        assert n.d2h == 0 and n.h2d == 4, n.report()


# ---------------------------------------------------------------------- text
@pytest.fixture(scope="module")
def shakes():
    return D.TextCorpus.from_file(SHAKES)


def test_char_corpus_tinyshakespeare(shakes):
    assert shakes.vocab_size == 65
    assert len(shakes) == 1115394 and shakes.ids.dtype == np.int64
    assert shakes.vocab.itos[0] == "\n" and shakes.vocab.itos[1] == " "
    with open(SHAKES) as f:
        text = f.read()
    s = text[:500]
    ids = shakes.encode(s)
    assert shakes.decode(ids) == s
    np.testing.assert_array_equal(ids, shakes.ids[:500])
    assert shakes.decode(tg.Tensor(ids)) == s
    tr, va = shakes.split(0.9)
    assert (len(tr), len(va)) == (1003854, 111540)    # nanoGPT split, per SOURCE.md
    assert shakes.decode(va[:20]) == text[1003854:1003874]
    with pytest.raises(KeyError, match="'~'"):
        shakes.encode("~")


def test_batchify_and_bptt_windows_are_contiguous():
    ids = np.arange(103)
    data = D.batchify(ids, 4)
    assert data.shape == (4, 25)
    np.testing.assert_array_equal(data[1], np.arange(25, 50))
    wins = list(D.bptt_windows(data, bptt=7))
    assert len(wins) == D.num_bptt_windows(data, 7) == 4          # 24 targets -> 7+7+7+3
    assert [x.shape for x, _ in wins] == [(4, 7), (4, 7), (4, 7), (4, 3)]
    xs = np.concatenate([x.numpy() for x, _ in wins], axis=1)
    ys = np.concatenate([y.numpy() for _, y in wins], axis=1)
    np.testing.assert_array_equal(xs, data[:, :-1])
    np.testing.assert_array_equal(ys, data[:, 1:])
    for (x, y), (x2, _) in zip(wins, wins[1:]):
        np.testing.assert_array_equal(y.numpy()[:, :-1], x.numpy()[:, 1:])     # shifted by one
        np.testing.assert_array_equal(y.numpy()[:, -1], x2.numpy()[:, 0])      # across the boundary
    assert len(list(D.bptt_windows(data, 7, drop_last=True))) == 3
    x, y = D.random_windows(ids, batch_size=5, block_size=8, seed=0)
    assert x.shape == (5, 8)
    np.testing.assert_array_equal(y.numpy(), x.numpy() + 1)


def test_word_tokenization_and_topk_vocab():
    s = "Hello, World! Don't stop: hello again... HELLO world."
    toks = D.tokenize_words(s)
    assert toks == ["hello", ",", "world", "!", "don", "'", "t", "stop", ":", "hello", "again", ".", ".", ".",
                    "hello", "world", "."]
    c = D.TextCorpus(s, level="word", top_k=3)
    # counts: hello 3, . 4, world 2 -> top 3 = ['.', 'hello', 'world'] plus '<unk>'
    assert c.vocab.itos == ["<unk>", ".", "hello", "world"]
    assert c.decode(c.encode("hello there world.")) == "hello <unk> world ."
    full = D.TextCorpus(s, level="word")
    assert full.vocab_size == 1 + len(set(toks))
    assert full.decode(full.ids) == " ".join(toks)


def test_trec_files():
    tr_x, tr_y = D.load_trec(D.data_path("trec"), "train")
    te_x, te_y = D.load_trec(D.data_path("trec"), "test")
    assert len(tr_x) == len(tr_y) == 5452 and len(te_x) == len(te_y) == 500
    assert set(tr_y) == set(te_y) == set(D.TREC_COARSE) and len(D.TREC_COARSE) == 6
    # counts as published in data/trec/SOURCE.md
    assert collections.Counter(tr_y) == {"ABBR": 86, "DESC": 1162, "ENTY": 1250, "HUM": 1223, "LOC": 835,
                                         "NUM": 896}
    assert collections.Counter(te_y) == {"ABBR": 9, "DESC": 138, "ENTY": 94, "HUM": 65, "LOC": 81, "NUM": 113}
    assert "\xf0" in tr_x[65]                        # the one Latin-1 byte, line 66
    _, fine = D.load_trec(D.data_path("trec"), "train", fine=True)
    assert len(set(fine)) == 50 and all(f.split(":")[0] in D.TREC_COARSE for f in fine)


def test_trec_bad_line(tmp_path):
    p = tmp_path / "bad.label"
    p.write_bytes(b"NUM:date When was it ?\nnot a label line\n")
    with pytest.raises(ValueError, match="bad.label.*line 2"):
        D.read_trec(p)


def test_pad_sequences_and_vocab_build():
    v = D.Vocab.build([["a", "b"], ["b", "c", "b"]], specials=("<pad>", "<unk>"), unk="<unk>")
    assert v.itos == ["<pad>", "<unk>", "b", "a", "c"] and v["zzz"] == 1
    out = D.pad_sequences([v.encode(["a", "b"]), v.encode(["c"])], pad_value=0)
    assert out.tolist() == [[3, 2], [4, 0]] and out.dtype == np.int64


# ---------------------------------------------------------------------- CSV
def test_wine_quality():
    X, y, names, tname = D.load_wine_quality(D.data_path("wine-quality"), return_names=True)
    assert X.shape == (1599 + 4898, 11) and X.dtype == np.float32 and y.dtype == np.float32
    assert tname == "quality" and names[0] == "fixed acidity" and names[-1] == "alcohol"
    # quality counts from data/wine-quality/SOURCE.md
    red = collections.Counter(y[:1599].astype(int).tolist())
    white = collections.Counter(y[1599:].astype(int).tolist())
    assert red == {3: 10, 4: 53, 5: 681, 6: 638, 7: 199, 8: 18}
    assert white == {3: 20, 4: 163, 5: 1457, 6: 2198, 7: 880, 8: 175, 9: 5}
    Xr, _ = D.load_wine_quality(D.data_path("wine-quality"), colour="red", colour_feature=True)
    assert Xr.shape == (1599, 12) and (Xr[:, -1] == 1).all()


def test_airfoil_and_csv_reader(tmp_path):
    X, y = D.load_airfoil(D.data_path("airfoil-self-noise"))
    assert X.shape == (1503, 5) and y.shape == (1503,)
    assert abs(float(y.min()) - 103.38) < 1e-3 and abs(float(y.max()) - 140.987) < 1e-3
    Xd, yd = D.read_csv(D.data_path("airfoil-self-noise", "airfoil_self_noise.dat"))   # tabs, no header
    np.testing.assert_array_equal(X, Xd)
    np.testing.assert_array_equal(y, yd)

    p = tmp_path / "t.csv"
    p.write_text('"a";"b";"c"\n1;2;3\n4;5;6\n')
    X, y, names, t = D.read_csv(p, return_names=True)
    assert X.tolist() == [[1, 2], [4, 5]] and y.tolist() == [3, 6] and names == ["a", "b"] and t == "c"
    X, y = D.read_csv(p, target="a")
    assert X.tolist() == [[2, 3], [5, 6]] and y.tolist() == [1, 4]
    q = tmp_path / "n.csv"
    q.write_text("1 2\n3 4\n")
    X, y = D.read_csv(q, target=0)
    assert X.tolist() == [[2], [4]] and y.tolist() == [1, 3]
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y\n1,2\n3,oops\n")
    with pytest.raises(ValueError, match="bad.csv.*line 3.*'oops'"):
        D.read_csv(bad)
    with pytest.raises(FileNotFoundError, match="missing"):
        D.read_csv(tmp_path / "none.csv")
    tr, te, m, s = D.standardize(np.array([[1.0, 5.0], [3.0, 5.0]]), np.array([[5.0, 6.0]]))
    assert tr.tolist() == [[-1, 0], [1, 0]] and te.tolist() == [[3, 1]]


def test_split_arrays():
    a, b = np.arange(10), np.arange(10) * 2
    atr, ate, btr, bte = D.split_arrays(a, b, test_fraction=0.3, seed=0)
    assert len(ate) == 3 and sorted(np.concatenate([atr, ate]).tolist()) == list(range(10))
    np.testing.assert_array_equal(btr, atr * 2)


def test_vocab_ties_keep_first_seen_order_so_late_rare_words_are_cut():
    # counts: b 2, a 2, c 1, z 1 -> equal counts stay in the order first seen (b before a, c before z)
    v = D.Vocab.build(["b", "a", "b", "c", "a", "z"])
    assert v.itos == ["<unk>", "b", "a", "c", "z"]
    # a text whose end is the validation part: the top-k cut drops the hapax that appears only late
    c = D.TextCorpus("one two one three two one zebra", level="word", top_k=3)
    assert c.vocab.itos == ["<unk>", "one", "two", "three"]
    assert c.decode(c.encode("zebra")) == "<unk>"
