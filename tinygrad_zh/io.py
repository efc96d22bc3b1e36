"""检查点存取：``tg.save(obj, path)`` / ``tg.load(path, map_location=None)``。

格式是安全的：一个 ``.npz``（zip）文件，里面是若干 ``.npy`` 数组，加上一份 JSON 说明整体结构
（字典/列表/元组怎样嵌套、哪些叶子是 Tensor、dtype、形状、原来在哪个设备上）。读取时
``allow_pickle=False``，**从不反序列化 pickle**——pickle 在加载时可以执行任意代码，而从网上
下载的检查点不应该有这种能力。

What can be saved: nested dict / OrderedDict / list / tuple containing NumPy or CuPy arrays,
Tensors (Parameters stay Parameters), NumPy scalars, Python int / float / bool / str / bytes / None.
That covers ``model.state_dict()``, ``optimizer.state_dict()``, scheduler state and training
metadata (epoch, best loss, config). Arbitrary Python objects are refused with a TypeError.

Writes are atomic: the archive goes to a temporary file in the same directory, is flushed and
fsync'ed, then ``os.replace`` swaps it in. A crash mid-save leaves the previous checkpoint intact.
The temporary file is named ``.<name>.<host>-<pid>.<random>.tmp``; a process killed while writing
(SIGKILL, power loss) cannot remove it, so the next ``save`` to the same path removes the stale ones:
those whose writer process no longer runs on this host, and any older than an hour.
"""
import io as _io
import json
import os
import re
import socket
import stat
import tempfile
import time
from collections import OrderedDict

import numpy as np

from . import backend

FORMAT = "tinygrad_zh.checkpoint"
VERSION = 1
_META = "__tinygrad_zh_meta__"          # npz member holding the JSON (as a uint8 array)

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_NPY_MAGIC = b"\x93NUMPY"


class CheckpointError(ValueError):
    """A file that is not a readable tinygrad_zh checkpoint (damaged, truncated, pickle, ...)."""


# ---------------------------------------------------------------------------- save
def _encode(obj, arrays, memo, active, where):
    """Python object -> JSON node; arrays go into ``arrays`` (name -> numpy array)."""
    from .tensor import Tensor
    if obj is None or type(obj) in (bool, int, float, str):
        return obj
    if isinstance(obj, (np.ndarray, np.generic, bytes, Tensor)) or type(obj).__module__.startswith("cupy"):
        return _encode_array(obj, arrays, memo, where)
    if isinstance(obj, (dict, list, tuple)):
        if id(obj) in active:
            raise ValueError(f"tg.save: circular reference at {where}")
        active.add(id(obj))
        try:
            if isinstance(obj, dict):
                tag = "odict" if isinstance(obj, OrderedDict) else "dict"
                items = []
                for k, v in obj.items():
                    items.append([_encode_key(k, where), _encode(v, arrays, memo, active, f"{where}[{k!r}]")])
                return {tag: items}
            tag = "tuple" if isinstance(obj, tuple) else "list"
            return {tag: [_encode(v, arrays, memo, active, f"{where}[{i}]") for i, v in enumerate(obj)]}
        finally:
            active.discard(id(obj))
    if callable(getattr(obj, "state_dict", None)):      # 整个模型 / 优化器：只存它的状态（不 pickle 代码）
        kind = type(obj).__name__
        raise TypeError(f"tg.save: cannot save a whole {kind} object at {where}: tinygrad_zh checkpoints hold "
                        f"data, not Python objects (no pickle). Save its state instead: "
                        f"tg.save(obj.state_dict(), path), e.g. tg.save(model.state_dict(), path); to restore, "
                        f"build the {kind} again and call .load_state_dict(tg.load(path))")
    raise TypeError(f"tg.save: cannot save an object of type {type(obj).__module__}.{type(obj).__qualname__} "
                    f"at {where}: checkpoints hold only dicts, lists, tuples, arrays, Tensors, numbers, "
                    "strings, bytes, bools and None (no pickled Python objects)")


def _encode_key(k, where):
    if k is None or type(k) in (bool, int, float, str):
        return k
    if type(k) is tuple:
        return {"tuple": [_encode_key(x, where) for x in k]}
    raise TypeError(f"tg.save: unsupported dict key {k!r} of type {type(k).__name__} in {where}: "
                    "keys must be str, int, float, bool, None or tuples of those")


def _encode_array(obj, arrays, memo, where):
    from .nn.parameter import Parameter
    from .tensor import Tensor
    node = {}
    if isinstance(obj, Tensor):
        arr, kind = obj.array, "tensor"
        node["requires_grad"] = bool(obj.requires_grad)
        if isinstance(obj, Parameter):
            node["parameter"] = True
    elif isinstance(obj, bytes):
        arr, kind = np.frombuffer(obj, np.uint8), "bytes"
    elif isinstance(obj, np.generic):
        arr, kind = np.asarray(obj), "scalar"
    else:
        arr, kind = obj, "array"
    device = backend.device_of(arr)
    if arr.dtype.hasobject:
        raise TypeError(f"tg.save: array of dtype {arr.dtype} at {where} holds Python objects, "
                        "which would need pickle: convert it to a numeric dtype")
    key = id(arr)
    name = memo.get(key)
    if name is None:
        name = memo[key] = f"a{len(arrays)}"
        arrays[name] = (arr.get() if device == "cuda" else arr, arr)   # keep the original alive for id()
    node[kind] = name
    node["dtype"], node["shape"], node["device"] = str(arr.dtype), list(arr.shape), device
    return node


def _pack(obj):
    arrays, memo = {}, {}
    tree = _encode(obj, arrays, memo, set(), "obj")
    meta = {"format": FORMAT, "version": VERSION, "tree": tree}
    blob = json.dumps(meta, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    members = {_META: np.frombuffer(blob, np.uint8)}
    members.update((name, host) for name, (host, _orig) in arrays.items())
    return members


def _write_members(f, members):
    np.savez(f, allow_pickle=False, **members)


def _default_mode(path):
    try:
        return stat.S_IMODE(os.stat(path).st_mode)      # keep an existing checkpoint's mode
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


_STALE_AFTER_S = 3600.0             # a temporary file this old is stale whoever wrote it


def _host_tag():
    return re.sub(r"[^A-Za-z0-9_]", "_", socket.gethostname() or "host")


def _pid_running(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True                   # exists (another user's), or cannot tell: keep its file
    return True


def _remove_stale_temps(directory, base):
    """删除上次被杀掉的写入留下的临时文件 ``.<base>.<host>-<pid>.<random>.tmp``.

    Stale: written on this host by a process that no longer runs, or older than an hour, or named
    the older way ``.<base>.<random>.tmp`` (before the writer's pid was in the name). A save in
    progress in a live process (another thread, another program) is left alone."""
    pattern = re.compile(r"\." + re.escape(base) + r"\.(?:([A-Za-z0-9_]+)-(\d+)\.)?[a-z0-9_]{6,}\.tmp\Z")
    host, now = _host_tag(), time.time()
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        m = pattern.match(name)
        if m is None:
            continue
        full = os.path.join(directory, name)
        try:
            age = now - os.lstat(full).st_mtime
        except OSError:
            continue
        writer_host, pid = m.group(1), m.group(2)
        if pid is None or age > _STALE_AFTER_S:
            stale = True
        elif writer_host == host:
            stale = int(pid) != os.getpid() and not _pid_running(int(pid))
        else:
            stale = False                     # another machine's save may still be running
        if stale:
            try:
                os.unlink(full)
            except OSError:
                pass


def save(obj, path):
    """把 ``obj``（state_dict 等嵌套结构）安全地写到 ``path``（原子写入：要么全新，要么不变）。

    ``path``: a file name (str / PathLike; used as given, no suffix is added) or a writable binary
    file object (then no atomic replace is possible)."""
    members = _pack(obj)
    if hasattr(path, "write"):
        _write_members(path, members)
        return
    path = os.path.realpath(os.fspath(path))            # write through a symlink, not over it
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"tg.save: directory {directory!r} does not exist (saving {path!r})")
    mode = _default_mode(path)
    base = os.path.basename(path)
    _remove_stale_temps(directory, base)
    fd, tmp = tempfile.mkstemp(prefix=f".{base}.{_host_tag()}-{os.getpid()}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            _write_members(f, members)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:                                                  # make the rename itself durable
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


# ---------------------------------------------------------------------------- load
def _bad(path, why):
    return CheckpointError(f"tg.load: {path!r} is not a valid tinygrad_zh checkpoint: {why}")


def _check_magic(path, head):
    if not head:
        raise _bad(path, "the file is empty (0 bytes); was the save interrupted?")
    if head.startswith(_ZIP_MAGIC):
        return
    if head.startswith(_NPY_MAGIC):
        raise _bad(path, "it is a single .npy array (written by np.save); read it with np.load")
    if head[:1] == b"\x80" or head[:1] in (b"(", b"c", b"}", b"]"):
        raise _bad(path, "it is a Python pickle (pickle.dump or an old-style torch.save). tg.load never "
                         "unpickles, because unpickling can execute arbitrary code")
    raise _bad(path, f"unknown file format (starts with {head[:8]!r}; expected a zip/.npz archive)")


def _decode(node, arrays, device, path):
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if isinstance(node, list) or not isinstance(node, dict) or not node:
        raise _bad(path, f"damaged structure description (unexpected node {str(node)[:60]})")
    if "dict" in node or "odict" in node:
        out = OrderedDict() if "odict" in node else {}
        for item in node.get("dict", node.get("odict")):
            if not isinstance(item, list) or len(item) != 2:
                raise _bad(path, "damaged structure description (bad dict item)")
            out[_decode_key(item[0], path)] = _decode(item[1], arrays, device, path)
        return out
    if "list" in node:
        return [_decode(v, arrays, device, path) for v in node["list"]]
    if "tuple" in node:
        return tuple(_decode(v, arrays, device, path) for v in node["tuple"])
    for kind in ("array", "tensor", "scalar", "bytes"):
        if kind in node:
            return _decode_array(kind, node, arrays, device, path)
    raise _bad(path, f"damaged structure description (unknown node {sorted(node)})")


def _decode_key(node, path):
    if isinstance(node, dict) and "tuple" in node:
        return tuple(_decode_key(x, path) for x in node["tuple"])
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    raise _bad(path, "damaged structure description (bad dict key)")


def _decode_array(kind, node, arrays, map_device, path):
    name = node[kind]
    arr = arrays.get(name)
    if arr is None:
        raise _bad(path, f"the structure refers to array {name!r}, which the archive does not contain")
    if str(arr.dtype) != node.get("dtype") or list(arr.shape) != node.get("shape"):
        raise _bad(path, f"array {name!r} has dtype {arr.dtype} and shape {tuple(arr.shape)} but the "
                         f"metadata says {node.get('dtype')} and {node.get('shape')} (damaged file)")
    if kind == "bytes":
        return arr.tobytes()
    if kind == "scalar":
        return arr[()]
    try:
        device = backend.normalize_device(map_device or node.get("device", "cpu"))   # tg.device，不是普通的 str
    except ValueError:
        raise _bad(path, f"array {name!r} names an unknown device {node.get('device')!r}") from None
    if device == "cuda":
        try:
            arr = backend.to_device(arr, "cuda")
        except RuntimeError as e:
            raise RuntimeError(f"tg.load: {path!r} holds CUDA arrays but CUDA is unavailable ({e}); "
                               "pass map_location='cpu' to load them on the CPU") from None
    if kind == "array":
        return arr
    from .tensor import Tensor
    if node.get("parameter"):
        from .nn.parameter import Parameter
        return Parameter(Tensor._make(arr, device, None, 0), requires_grad=bool(node.get("requires_grad", True)))
    t = Tensor._make(arr, device, None, 0)
    t.requires_grad = bool(node.get("requires_grad")) and arr.dtype.kind == "f"
    return t


def _read_archive(f, path):
    try:
        with np.load(f, allow_pickle=False) as z:
            names = list(z.files)
            if _META not in names:
                if any(n.endswith(".pkl") for n in z.zip.namelist()):
                    raise _bad(path, "it looks like a PyTorch checkpoint (torch.save), which stores pickled "
                                     "Python objects; tg.load refuses pickles. Convert it with torch: "
                                     "load it there and save the arrays with tg.save(... .numpy())")
                raise _bad(path, "a zip/.npz archive without tinygrad_zh metadata (written by np.savez?)")
            try:
                meta = json.loads(z[_META].tobytes().decode("utf-8"))
            except (ValueError, UnicodeDecodeError) as e:
                raise _bad(path, f"the metadata is damaged ({type(e).__name__}: {e})") from None
            if not isinstance(meta, dict) or meta.get("format") != FORMAT or "tree" not in meta:
                raise _bad(path, "the metadata does not describe a tinygrad_zh checkpoint")
            if not isinstance(meta.get("version"), int) or meta["version"] > VERSION:
                raise _bad(path, f"format version {meta.get('version')!r} is newer than this tinygrad_zh "
                                 f"understands ({VERSION}); upgrade tinygrad_zh")
            arrays = {}
            for n in names:
                if n != _META:
                    try:
                        arrays[n] = z[n]
                    except Exception as e:     # bad CRC, truncated member, pickled member, bad header
                        raise _bad(path, f"array {n!r} cannot be read ({type(e).__name__}: {e})") from None
                    if not isinstance(arrays[n], np.ndarray):
                        raise _bad(path, f"archive member {n!r} is not a .npy array")
            return meta, arrays
    except CheckpointError:
        raise
    except Exception as e:      # zipfile.BadZipFile, EOFError, NotImplementedError, ... on bad bytes
        if isinstance(e, MemoryError):
            raise
        raise _bad(path, f"the archive is damaged or truncated ({type(e).__name__}: {e})") from None


def load(path, map_location=None, pickle_module=None, *, weights_only=True, mmap=None, **kwargs):
    """读回 ``tg.save`` 写的对象：数组还是数组，Tensor 还是 Tensor（Parameter 还是 Parameter）。

    ``map_location``: None (each array goes back to the device it was saved from), ``"cpu"`` or
    ``"cuda"`` (or a ``tg.device``). A damaged, truncated or foreign file (pickle, torch.save, .npy)
    raises ``CheckpointError`` (a ValueError) naming the path and the problem.

    ``weights_only``: our format never unpickles code, so every load is "weights only" and both values
    load the same thing (``False`` is PyTorch's permission to run pickled code; there is none to run).
    ``pickle_module``/``mmap`` are refused: our files are not pickles."""
    if weights_only not in (True, False, None):
        raise TypeError(f"tg.load: weights_only must be a bool, got {weights_only!r}")
    if pickle_module is not None or mmap or kwargs:
        extra = "pickle_module" if pickle_module is not None else "mmap" if mmap else next(iter(kwargs))
        raise TypeError(f"tg.load: {extra!r} is not supported (our files are not pickles)")
    if map_location is not None:
        if hasattr(map_location, "type") and isinstance(map_location, str):
            map_location = str.__str__(map_location)
        if not isinstance(map_location, str):
            raise TypeError(f"tg.load: map_location must be None, 'cpu' or 'cuda', got {map_location!r}")
        map_location = backend.normalize_device(map_location)
    if hasattr(path, "read"):
        name = getattr(path, "name", "<file object>")
        f = _io.BytesIO(path.read())
        _check_magic(name, f.getvalue()[:8])
        meta, arrays = _read_archive(f, name)
        return _decode_tree(meta, arrays, map_location, name)
    path = os.fspath(path)
    with open(path, "rb") as f:
        _check_magic(path, f.read(8))
        f.seek(0)
        meta, arrays = _read_archive(f, path)
    return _decode_tree(meta, arrays, map_location, path)


def _decode_tree(meta, arrays, map_location, path):
    try:
        return _decode(meta["tree"], arrays, map_location, path)
    except (TypeError, KeyError, AttributeError, IndexError) as e:
        raise _bad(path, f"damaged structure description ({type(e).__name__}: {e})") from None
