"""tg.save / tg.load: round trips, safety (no pickle), atomic writes, damaged files."""
import io
import os
import pickle
from collections import OrderedDict

import numpy as np
import pytest

import tinygrad_zh as tg
import tinygrad_zh.io as tio
from tinygrad_zh.io import CheckpointError
from tinygrad_zh.nn import Module, Parameter


def test_roundtrip_nested_structure(tmp_path):
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    obj = {
        "arrays": [np.array([1.5, -2.0], np.float16), np.arange(5, dtype=np.int64),
                   np.array([True, False]), np.zeros((0, 3), np.float64), np.array(3.25),
                   a[:, ::2], np.arange(4, dtype=np.uint8)],
        "tensor": tg.tensor([[1.0, 2.0]], requires_grad=True),
        "plain": tg.tensor([1, 2, 3]),
        "param": Parameter(tg.tensor([0.5, 0.25], dtype="float64")),
        "nums": (1, 2.5, True, None, float("inf"), -0.0, 10 ** 30),
        "text": "学习率 lr",
        "raw": b"\x00\xffbytes",
        "np_scalar": np.float32(0.1),
        3: "int key",
        (1, "a"): "tuple key",
        "od": OrderedDict([("z", 1), ("a", 2)]),
        "empty": {},
    }
    path = tmp_path / "ck.tgz"
    tg.save(obj, path)
    assert os.listdir(tmp_path) == ["ck.tgz"]                # name used as given, no temp left
    r = tg.load(path)
    assert set(r) == set(obj)
    for x, y in zip(r["arrays"], obj["arrays"]):
        assert isinstance(x, np.ndarray) and x.dtype == y.dtype and x.shape == y.shape
        np.testing.assert_array_equal(x, y)
    assert type(r["tensor"]) is tg.Tensor and r["tensor"].requires_grad and r["tensor"].dtype == np.float32
    np.testing.assert_array_equal(r["tensor"].array, [[1.0, 2.0]])
    assert not r["plain"].requires_grad and r["plain"].dtype == obj["plain"].dtype
    assert isinstance(r["param"], Parameter) and r["param"].dtype == np.float64 and r["param"].requires_grad
    assert r["nums"][:4] == (1, 2.5, True, None) and type(r["nums"][0]) is int and type(r["nums"][2]) is bool
    assert r["nums"][4] == float("inf") and np.signbit(r["nums"][5]) and r["nums"][6] == 10 ** 30
    assert r["text"] == "学习率 lr" and r["raw"] == obj["raw"]
    assert type(r["np_scalar"]) is np.float32 and r["np_scalar"] == np.float32(0.1)
    assert r[3] == "int key" and r[(1, "a")] == "tuple key"
    assert type(r["od"]) is OrderedDict and list(r["od"]) == ["z", "a"]
    assert r["empty"] == {}


def test_nan_and_shared_arrays(tmp_path):
    shared = np.ones(3, np.float32)
    tg.save({"x": shared, "y": shared, "nan": float("nan")}, tmp_path / "a")
    r = tg.load(tmp_path / "a")
    assert r["x"] is r["y"] and np.isnan(r["nan"])


def test_module_state_dict_roundtrip(tmp_path):
    class Net(Module):
        def __init__(self, seed):
            super().__init__()
            rng = np.random.default_rng(seed)
            self.w = Parameter(rng.standard_normal((3, 2)).astype(np.float32))
            self.register_buffer("count", tg.tensor([7]))

    src, dst = Net(0), Net(1)
    tg.save(src.state_dict(), tmp_path / "m.ck")
    dst.load_state_dict(tg.load(tmp_path / "m.ck"))
    np.testing.assert_array_equal(dst.w.array, src.w.array)
    np.testing.assert_array_equal(dst.count.array, [7])


def test_file_objects_and_pathlib(tmp_path):
    buf = io.BytesIO()
    tg.save({"a": np.arange(3)}, buf)
    buf.seek(0)
    np.testing.assert_array_equal(tg.load(buf)["a"], [0, 1, 2])
    tg.save([1, 2], str(tmp_path / "x.bin"))
    assert tg.load(tmp_path / "x.bin") == [1, 2]


def test_unsupported_objects_are_refused(tmp_path):
    class Custom:
        pass

    with pytest.raises(TypeError, match=r"Custom.*obj\['a'\]\[1\]"):
        tg.save({"a": [1, Custom()]}, tmp_path / "c")
    with pytest.raises(TypeError, match="object"):
        tg.save({"a": np.array([{"x": 1}], dtype=object)}, tmp_path / "c")
    with pytest.raises(TypeError, match="key"):
        tg.save({frozenset([1]): 1}, tmp_path / "c")
    loop = []
    loop.append(loop)
    with pytest.raises(ValueError, match="circular"):
        tg.save(loop, tmp_path / "c")
    assert not os.path.exists(tmp_path / "c")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        tg.save({}, tmp_path / "missing_dir" / "c")


def test_map_location(tmp_path):
    tg.save({"t": tg.tensor([1.0])}, tmp_path / "m")
    assert tg.load(tmp_path / "m", map_location="cpu")["t"].device == "cpu"
    with pytest.raises((ValueError, TypeError)):
        tg.load(tmp_path / "m", map_location="tpu")
    if not tg.cuda_available():
        with pytest.raises(RuntimeError, match="cuda"):
            tg.load(tmp_path / "m", map_location="cuda")


# ------------------------------------------------------------------------ atomic writes
def _old_checkpoint(tmp_path):
    path = tmp_path / "model.ck"
    tg.save({"version": "old", "w": np.ones(100, np.float32)}, path)
    return path


def _assert_old_intact(tmp_path, path):
    r = tg.load(path)
    assert r["version"] == "old" and r["w"].sum() == 100
    assert os.listdir(tmp_path) == ["model.ck"]               # the temp file was removed


def test_crash_before_replace_keeps_previous_checkpoint(tmp_path, monkeypatch):
    path = _old_checkpoint(tmp_path)

    def crash(src, dst):
        raise OSError("simulated power loss before rename")
    monkeypatch.setattr(tio.os, "replace", crash)
    with pytest.raises(OSError, match="simulated"):
        tg.save({"version": "new", "w": np.zeros(100, np.float32)}, path)
    monkeypatch.undo()
    _assert_old_intact(tmp_path, path)


def test_crash_mid_write_keeps_previous_checkpoint(tmp_path, monkeypatch):
    path = _old_checkpoint(tmp_path)

    def half_writer(f, members):
        f.write(b"PK\x03\x04 half a zip")
        raise KeyboardInterrupt                               # even a Ctrl-C mid-save
    monkeypatch.setattr(tio, "_write_members", half_writer)
    with pytest.raises(KeyboardInterrupt):
        tg.save({"version": "new"}, path)
    monkeypatch.undo()
    _assert_old_intact(tmp_path, path)


def test_overwrite_replaces_content(tmp_path):
    path = _old_checkpoint(tmp_path)
    tg.save({"version": "new"}, path)
    assert tg.load(path) == {"version": "new"}
    assert os.listdir(tmp_path) == ["model.ck"]


# ------------------------------------------------------------------------ damaged / foreign files
def _sample(tmp_path):
    obj = {"w": np.linspace(-1, 1, 40).astype(np.float32), "step": 3, "name": "abc"}
    path = tmp_path / "s.ck"
    tg.save(obj, path)
    return obj, path, path.read_bytes()


def test_truncated_checkpoint_raises_clear_error(tmp_path):
    _, path, raw = _sample(tmp_path)
    bad = tmp_path / "bad.ck"
    for n in [0, 1, 3, 10, 100, len(raw) // 2, len(raw) - 30, len(raw) - 1]:
        bad.write_bytes(raw[:n])
        with pytest.raises(CheckpointError, match="bad.ck") as e:
            tg.load(bad)
        assert isinstance(e.value, ValueError)
        if n == 0:
            assert "empty" in str(e.value)


def test_corrupted_array_bytes_raise(tmp_path):
    obj, path, raw = _sample(tmp_path)
    pos = raw.find(obj["w"].tobytes())
    assert pos > 0
    bad = tmp_path / "bad.ck"
    b = bytearray(raw)
    b[pos + 17] ^= 0x10                                       # one flipped bit inside the weights
    bad.write_bytes(bytes(b))
    with pytest.raises(CheckpointError, match=r"bad\.ck.*(damaged|cannot be read)"):
        tg.load(bad)


def test_any_flipped_byte_is_detected_or_harmless(tmp_path):
    """Flip bytes all over the file: loading either fails with CheckpointError or gives the
    original content back (a flip in an unused zip field) - never silently wrong data."""
    obj, path, raw = _sample(tmp_path)
    bad = tmp_path / "bad.ck"
    for i in range(0, len(raw), 5):
        b = bytearray(raw)
        b[i] ^= 0xA5
        bad.write_bytes(bytes(b))
        try:
            r = tg.load(bad)
        except CheckpointError:
            continue
        assert r["step"] == 3 and r["name"] == "abc" and np.array_equal(r["w"], obj["w"]), i


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def test_pickle_is_refused_and_never_executed(tmp_path):
    marker = str(tmp_path / "pwned")
    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps({"w": _Evil(marker)}))
    with pytest.raises(CheckpointError, match="pickle"):
        tg.load(path)
    assert not os.path.exists(marker)


def test_npz_with_pickled_member_is_refused(tmp_path):
    marker = str(tmp_path / "pwned")
    good = tmp_path / "g.ck"
    tg.save({"w": np.ones(2)}, good)
    with np.load(good) as z:
        meta = z[tio._META]
    path = tmp_path / "evil.ck"
    with open(path, "wb") as f:
        np.savez(f, allow_pickle=True, **{tio._META: meta, "a0": np.array([_Evil(marker)], dtype=object)})
    with pytest.raises(CheckpointError, match="a0"):
        tg.load(path)
    assert not os.path.exists(marker)


def test_foreign_formats_are_refused(tmp_path):
    np.save(tmp_path / "x.npy", np.ones(3))
    with pytest.raises(CheckpointError, match="npy"):
        tg.load(tmp_path / "x.npy")
    np.savez(tmp_path / "x.npz", a=np.ones(3))
    with pytest.raises(CheckpointError, match="metadata"):
        tg.load(tmp_path / "x.npz")
    (tmp_path / "x.txt").write_text("hello")
    with pytest.raises(CheckpointError, match="unknown file format"):
        tg.load(tmp_path / "x.txt")


def test_torch_checkpoint_is_refused(tmp_path):
    torch = pytest.importorskip("torch")
    torch.save({"w": torch.ones(2)}, tmp_path / "t.pt")
    with pytest.raises(CheckpointError, match="PyTorch"):
        tg.load(tmp_path / "t.pt")


# ------------------------------------------------------------------------ stale temporary files
def _temps(folder):
    return sorted(n for n in os.listdir(folder) if n.endswith(".tmp"))


def test_a_killed_write_leaves_a_temp_file_that_the_next_save_removes(tmp_path):
    """SIGKILL in the middle of tg.save: nothing in the dying process can clean up, so the half
    written temporary file stays; the next save to the same path must remove it."""
    import signal
    import subprocess
    import sys
    path = tmp_path / "model.ckpt"
    tg.save({"version": "old"}, path)
    code = ("import os, signal, sys; sys.path.insert(0, sys.argv[2]); import tinygrad_zh as tg, tinygrad_zh.io as tio\n"
            "def half(f, members):\n"
            "    f.write(b'PK\\x03\\x04' + b'x' * 100000); f.flush(); os.kill(os.getpid(), signal.SIGKILL)\n"
            "tio._write_members = half\n"
            "tg.save({'version': 'new'}, sys.argv[1])\n")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    p = subprocess.run([sys.executable, "-c", code, str(path), root], capture_output=True, timeout=60)
    assert p.returncode == -signal.SIGKILL, p.stderr
    left = _temps(tmp_path)
    assert len(left) == 1 and left[0].startswith(".model.ckpt.") and os.path.getsize(tmp_path / left[0]) > 100000
    assert tg.load(path) == {"version": "old"}                 # the previous checkpoint is intact
    tg.save({"version": "next"}, path)
    assert _temps(tmp_path) == [] and sorted(os.listdir(tmp_path)) == ["model.ckpt"]
    assert tg.load(path) == {"version": "next"}


def test_stale_temp_rules_keep_saves_in_progress(tmp_path):
    import subprocess
    import sys
    import time
    host = tio._host_tag()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        dead_pid = subprocess.Popen([sys.executable, "-c", "pass"])
        dead_pid.wait()
        names = {
            f".m.ck.{host}-{dead_pid.pid}.abcd1234.tmp": False,         # writer gone: stale
            f".m.ck.{host}-{live.pid}.abcd1234.tmp": True,              # writer alive: a save in progress
            f".m.ck.{host}-{os.getpid()}.abcd1234.tmp": True,           # this process (another thread)
            ".m.ck.q7_x2kd9.tmp": False,                                # the older name, without a pid
            f".m.ck.otherhost-{live.pid}.abcd1234.tmp": True,           # another machine, recent
            ".m.ck.otherhost-1.oldold99.tmp": False,                    # another machine, hours old
            f".other.ck.{host}-{dead_pid.pid}.abcd1234.tmp": True,      # another checkpoint's file
            "notes.tmp": True, ".m.ck.tmp": True, "m.ck.backup": True,  # not ours
        }
        for n in names:
            (tmp_path / n).write_bytes(b"x")
        hours_ago = time.time() - 3 * 3600
        os.utime(tmp_path / ".m.ck.otherhost-1.oldold99.tmp", (hours_ago, hours_ago))
        tg.save({"a": 1}, tmp_path / "m.ck")
        kept = set(os.listdir(tmp_path)) - {"m.ck"}
        assert kept == {n for n, keep in names.items() if keep}
    finally:
        live.kill()
        live.wait()
