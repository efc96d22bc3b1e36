"""The example trainings (examples/*.py) as tests.

Every example runs in-process on a small copy of the shipped data (the first few hundred rows of each
file, written to a temporary folder once per session) with ``--max-steps`` small, so the whole file
takes seconds.  Checked for every example and variant:

* the very last line of output is the JSON summary, with a finite loss; ``--plot`` writes a PNG;
* ``--checkpoint`` + ``--resume``: 2 epochs straight == 1 epoch, then resume for the 2nd (same metrics);
* the same ``--seed`` gives identical metrics, another seed different ones;
* clear errors: a missing data folder names the path, a checkpoint of another example names the keys.

One learning check trains ``mnist_mlp`` with its defaults on the real MNIST for one epoch (the only
long test, marked ``slow``; it still runs in the default ``pytest`` run).
"""
import importlib
import json
import math
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import tinygrad_zh as tg
from tinygrad_zh.data import idx

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
DATA = ROOT / "data"
if str(EXAMPLES) not in sys.path:
    sys.path.insert(0, str(EXAMPLES))

pytest.importorskip("matplotlib")

# (test id, module, extra argv)
VARIANTS = [
    ("mnist_mlp", "mnist_mlp", []),
    ("char_lstm", "char_lstm", ["--generate", "0", "--bptt", "10"]),
    ("char_lstm_word", "char_lstm", ["--tokens", "word", "--generate", "0", "--bptt", "10"]),
    ("text_bag", "text_classifier", ["--model", "bag"]),
    ("text_lstm", "text_classifier", ["--model", "lstm"]),
    ("cnn_binary", "cnn_binary", []),
    ("regression_wine", "regression_mlp", ["--dataset", "wine"]),
    ("regression_airfoil", "regression_mlp", ["--dataset", "airfoil"]),
]
IDS = [v[0] for v in VARIANTS]
LOSS_KEY = {"mnist_mlp": "train_loss", "char_lstm": "val_loss", "text_classifier": "train_loss",
            "cnn_binary": "test_loss", "regression_mlp": "test_rmse"}


@pytest.fixture(scope="session")
def mini_data(tmp_path_factory):
    """A data/ folder with the first rows of every shipped data set (same formats, same file names)."""
    out = tmp_path_factory.mktemp("mini_data")
    mn = out / "mnist"
    mn.mkdir()
    for stem, n in (("train", 384), ("t10k", 200)):
        x, y = _mnist_head(stem, n)
        idx.write_idx(mn / f"{stem}-images-idx3-ubyte", x[:n])
        idx.write_idx(mn / f"{stem}-labels-idx1-ubyte", y[:n].astype(np.uint8))
    (out / "tinyshakespeare").mkdir()
    text = (DATA / "tinyshakespeare" / "input.txt").read_text()[:30000]
    (out / "tinyshakespeare" / "input.txt").write_text(text)
    for folder, files, n in (("trec", ("train_5500.label", "TREC_10.label"), 300),
                             ("wine-quality", ("winequality-red.csv", "winequality-white.csv"), 200),
                             ("airfoil-self-noise", ("airfoil_self_noise.csv",), 300)):
        (out / folder).mkdir()
        for f in files:
            lines = (DATA / folder / f).read_bytes().splitlines(keepends=True)
            (out / folder / f).write_bytes(b"".join(lines[:n]))
    return out


def _mnist_head(stem, n):
    """The first n images and labels without decoding the whole file (gzip is read lazily)."""
    import gzip
    with gzip.open(DATA / "mnist" / f"{stem}-images-idx3-ubyte.gz") as f:
        x = np.frombuffer(f.read(16 + n * 784)[16:], np.uint8).reshape(n, 28, 28)
    with gzip.open(DATA / "mnist" / f"{stem}-labels-idx1-ubyte.gz") as f:
        y = np.frombuffer(f.read(8 + n)[8:], np.uint8)
    return x, y


def run(module, argv, capsys):
    """Run ``examples/<module>.py`` in-process; return (JSON dict of the last line, whole stdout)."""
    mod = importlib.import_module(module)
    mod.main([str(a) for a in argv])
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    assert lines, f"{module} printed nothing"
    return json.loads(lines[-1]), out


def quick(data, *extra):
    return ["--data-dir", data, "--max-steps", 2, "--batch-size", 32, *extra]


def same_metrics(a, b):
    drop = ("seconds",)
    return {k: v for k, v in a.items() if k not in drop} == {k: v for k, v in b.items() if k not in drop}


@pytest.mark.parametrize("name,module,extra", VARIANTS, ids=IDS)
def test_runs_plots_and_resumes_exactly(name, module, extra, mini_data, tmp_path, capsys):
    ck, png = tmp_path / "ck.tgz", tmp_path / "curves.png"
    first, out = run(module, quick(mini_data, *extra, "--epochs", 1, "--checkpoint", ck, "--plot", png), capsys)
    assert first["example"] == module and first["epochs"] == 1
    loss = first[LOSS_KEY[module]]
    assert isinstance(loss, float) and math.isfinite(loss), first
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert ck.exists()
    assert "epoch 1:" in out                               # the epoch summary line
    resumed, out = run(module, quick(mini_data, *extra, "--epochs", 2, "--resume", ck, "--quiet"), capsys)
    assert "epoch 1:" not in out                           # quiet, and epoch 1 was not trained again
    straight, _ = run(module, quick(mini_data, *extra, "--epochs", 2, "--quiet"), capsys)
    assert same_metrics(straight, resumed), (straight, resumed)


@pytest.mark.parametrize("name,module,extra", VARIANTS, ids=IDS)
def test_same_seed_same_metrics(name, module, extra, mini_data, capsys):
    a, _ = run(module, quick(mini_data, *extra, "--epochs", 1, "--quiet", "--seed", 3), capsys)
    tg.manual_seed(123)                                  # the example must reseed by itself
    np.random.seed(123)
    b, _ = run(module, quick(mini_data, *extra, "--epochs", 1, "--quiet", "--seed", 3), capsys)
    c, _ = run(module, quick(mini_data, *extra, "--epochs", 1, "--quiet", "--seed", 4), capsys)
    assert same_metrics(a, b), (a, b)
    assert a[LOSS_KEY[module]] != c[LOSS_KEY[module]]


@pytest.mark.parametrize("name,module,extra", VARIANTS, ids=IDS)
def test_float64(name, module, extra, mini_data, capsys):
    res, _ = run(module, quick(mini_data, *extra, "--epochs", 1, "--quiet", "--max-steps", 1, "--dtype", "float64"),
                 capsys)
    assert res["dtype"] == "float64" and math.isfinite(res[LOSS_KEY[module]])


def test_char_lstm_generates_a_sample(mini_data, capsys):
    res, out = run("char_lstm", quick(mini_data, "--epochs", 1, "--quiet", "--generate", 40,
                                      "--prime", "First", "--bptt", 10), capsys)
    sample = out.strip().splitlines()
    assert json.loads(sample[-1]) == res
    text = "\n".join(sample[:-1])
    assert text.startswith("First") and len(text) >= 40      # the prime, then 40 sampled characters
    corpus_chars = set((mini_data / "tinyshakespeare" / "input.txt").read_text())
    assert set(text) <= corpus_chars


def test_word_level_reports_perplexity(mini_data, capsys):
    res, _ = run("char_lstm", quick(mini_data, "--epochs", 1, "--quiet", "--generate", 0, "--tokens", "word",
                                    "--vocab-size", 500, "--bptt", 10), capsys)
    assert res["tokens"] == "word" and res["vocab_size"] == 500
    assert res["val_perplexity"] == pytest.approx(math.exp(res["val_loss"]), rel=1e-5)
    assert 0.0 <= res["val_accuracy"] <= 1.0


def test_regression_prints_linear_baseline(mini_data, capsys):
    res, out = run("regression_mlp", quick(mini_data, "--epochs", 1, "--dataset", "airfoil"), capsys)
    assert res["unit"] == "dB" and res["linear_rmse"] > 0
    assert f"linear regression test RMSE {res['linear_rmse']:.4f} dB" in out


def test_regression_split_and_init_do_not_share_random_bits():
    """The split is the first draw of the seeded stream (so it equals numpy's default_rng(seed)
    permutation), and the first Linear's weights come after it, not from the same bits again."""
    import regression_mlp
    tg.manual_seed(3)
    tr, te = regression_mlp.split_80_20(1503)
    assert len(tr) == 1202 and len(te) == 301
    assert sorted(np.r_[tr, te].tolist()) == list(range(1503))
    np.testing.assert_array_equal(np.r_[tr, te], np.random.default_rng(3).permutation(1503))
    w = regression_mlp.make_model(5)[0].weight.numpy().astype(np.float64).ravel()
    same_bits = np.random.default_rng(3).bit_generator.random_raw(w.size).astype(np.float64)
    assert abs(np.corrcoef(w, same_bits)[0, 1]) < 0.1


def test_resume_from_another_example_names_the_key(mini_data, tmp_path, capsys):
    ck = tmp_path / "regression.ck"
    run("regression_mlp", quick(mini_data, "--epochs", 1, "--quiet", "--checkpoint", ck), capsys)
    with pytest.raises(KeyError, match="embed.weight"):
        run("text_classifier", quick(mini_data, "--epochs", 1, "--quiet", "--resume", ck), capsys)


@pytest.mark.parametrize("module", ["mnist_mlp", "char_lstm", "text_classifier", "cnn_binary", "regression_mlp"])
def test_missing_data_dir_names_the_path(module, tmp_path, capsys):
    missing = tmp_path / "no_such_folder"
    with pytest.raises(FileNotFoundError, match="no_such_folder"):
        run(module, ["--data-dir", missing, "--epochs", 1, "--quiet"], capsys)


def test_cuda_without_gpu_says_how_to_install(capsys):
    if tg.cuda_available():
        pytest.skip("a GPU is available")
    with pytest.raises(RuntimeError, match="pip install"):
        run("mnist_mlp", ["--device", "cuda", "--epochs", 1], capsys)


def test_script_runs_from_another_directory(tmp_path):
    """As a learner runs it: a subprocess, started elsewhere, finds the repo's data/ by itself."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    p = subprocess.run([sys.executable, str(EXAMPLES / "regression_mlp.py"), "--epochs", "1", "--max-steps", "2",
                        "--quiet"], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 0, p.stderr
    res = json.loads(p.stdout.strip().splitlines()[-1])
    assert res["example"] == "regression_mlp" and math.isfinite(res["test_rmse"])


@pytest.mark.slow
def test_mnist_mlp_learns_in_one_epoch(capsys):
    """The learning check: the default settings reach >= 0.95 test accuracy after one epoch
    (PyTorch: 0.962 with the same settings)."""
    res, _ = run("mnist_mlp", ["--epochs", 1, "--quiet"], capsys)
    assert res["test_accuracy"] >= 0.95, res


def test_text_classifier_unknown_word_row_starts_and_stays_zero():
    # the vocabulary comes from the training questions, so <unk> never gets a gradient: its row must not
    # stay a random vector that every unknown test word would add
    tc = importlib.import_module("text_classifier")
    tg.manual_seed(0)
    model = tc.BagOfEmbeddings(10, embed_dim=4)
    assert np.abs(model.embed.weight.numpy()[1]).sum() > 0          # random before
    tc.zero_unknown_row(model.embed, 1)
    np.testing.assert_array_equal(model.embed.weight.numpy()[1], 0)
    opt = tg.optim.Adam(model.parameters(), lr=0.1)
    x = tg.tensor(np.array([[2, 3, 4, 0], [5, 6, 0, 0]]))           # no <unk> (id 1) in training
    for _ in range(3):
        opt.zero_grad()
        tg.nn.functional.cross_entropy(model(x), tg.tensor(np.array([0, 1]))).backward()
        opt.step()
    np.testing.assert_array_equal(model.embed.weight.numpy()[1], 0)
    assert np.abs(model.embed.weight.numpy()[2]).sum() > 0
