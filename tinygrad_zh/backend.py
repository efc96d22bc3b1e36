"""后端：一个设备对应一个数组模块（NumPy 或 CuPy），以及 dtype 规则。

本文件不参与链式法则本身，它决定的是"数组放在哪里算"：运算通过 ``get_xp(device)``（或
``array_module(arr)``）拿到 ``numpy`` 或 ``cupy``，同一份代码在 CPU 和 GPU 上都能跑。CuPy 是可选的：
第一次用到 ``cuda`` 时才尝试加载，没有它时报一个说明如何安装 GPU 依赖的错误。

English: the one place that decides NumPy (``device="cpu"``) or CuPy (``device="cuda"``).
Ops call ``get_xp(device)`` (or ``array_module(arr)``) and are written once for both.
CuPy is optional: importing it is attempted lazily, and asking for ``cuda`` without it raises a
clear error that says how to install the GPU extra.
"""
import numpy as np

float16, float32, float64 = np.dtype("float16"), np.dtype("float32"), np.dtype("float64")
int32, int64, uint8, bool_ = np.dtype("int32"), np.dtype("int64"), np.dtype("uint8"), np.dtype("bool")

DEFAULT_FLOAT = float32
DEVICES = ("cpu", "cuda")

_cupy = None          # 加载成功后的 cupy 模块（或 CUDA 模拟器提供的同名模块）
_cupy_error = None    # 加载失败的原因

# ---------------------------------------------------------------------------- CUDA 插件
# 插件式结构：cuda 包在上层把自己注册进来，backend 不反向依赖它，没有循环导入。
# backend.py 不从 tinygrad_zh/cuda/ 导入任何东西；``import tinygrad_zh`` 会导入 cuda 包，由它调用
# ``set_cuda_provider`` 把自己接上。provider 返回设备 "cuda" 的数组模块（CuPy；设置
# TINYGRAD_ZH_CUDASIM=1 时是模拟器）；钩子在第一次加载时各运行一次（cuda 包在这里注册它的 kernel）。
_cuda_provider = None
_cuda_hooks = []


def set_cuda_provider(provider, on_load=()):
    """由 ``tinygrad_zh.cuda`` 调用：``provider()`` 返回设备 "cuda" 的模块（缺东西时抛出说明原因的异常）；
    模块加载成功后，每个 ``on_load(module)`` 运行一次。"""
    global _cuda_provider, _cupy, _cupy_error
    _cuda_provider = provider
    _cuda_hooks[:] = list(on_load)
    _cupy = _cupy_error = None          # 换了 provider：下次用时重新加载


def _load_cupy():
    global _cupy, _cupy_error
    if _cupy is None and _cupy_error is None:
        try:
            if _cuda_provider is None:
                raise RuntimeError("the CUDA backend is not plugged in (import tinygrad_zh.cuda, "
                                   "which `import tinygrad_zh` does)")
            cp = _cuda_provider()
            if cp.cuda.runtime.getDeviceCount() < 1:
                raise RuntimeError("no CUDA device found")
            _cupy = cp
            for hook in _cuda_hooks:
                hook(cp)
        except Exception as e:  # 各种失败：ImportError、CUDARuntimeError、缺少 NVRTC 等
            _cupy = None
            _cupy_error = f"{type(e).__name__}: {e}"
    return _cupy


def cuda_available():
    """设备 "cuda" 能否使用：装了 CuPy 且有 GPU，或者启用了 CUDA 模拟器。"""
    return _load_cupy() is not None


def require_cuda():
    """返回 cupy 模块（或模拟器的模块）；拿不到时抛出 RuntimeError，说明如何安装。"""
    cp = _load_cupy()
    if cp is None:
        raise RuntimeError(
            "device 'cuda' is not available: " + str(_cupy_error) +
            ". Install the GPU extra (pip install 'tinygrad_zh[cuda]': the prebuilt cupy-cuda12x "
            "wheel; for a CUDA 13 driver install cupy-cuda13x instead) and run on a machine with an "
            "NVIDIA GPU, or set TINYGRAD_ZH_CUDASIM=1 to simulate the GPU on the CPU.")
    return cp


class Device(str):
    """``tg.device("cuda")``：设备名，本身就是一个 ``str``（"cpu" 或 "cuda"），另有 PyTorch 的
    ``.type`` 和 ``.index``。``Tensor.device`` 就是它，所以 ``x.device == "cpu"`` 也成立。"""

    def __new__(cls, type_or_name="cpu", index=None):
        if isinstance(type_or_name, int) and not isinstance(type_or_name, bool):
            type_or_name, index = "cuda", type_or_name     # tg.device(0) 是 cuda:0（与 PyTorch 相同）
        if isinstance(type_or_name, Device) and index is None:
            index = type_or_name.index
            type_or_name = type_or_name.type
        if index is not None and (isinstance(index, bool) or not isinstance(index, int) or index < 0):
            raise ValueError(f"device {type_or_name!r}: the index must be an int >= 0, got {index!r}")
        name = str(type_or_name).lower()
        kind, _, idx = name.partition(":")
        if kind not in DEVICES:
            raise ValueError(f"unknown device {type_or_name!r}: expected 'cpu' or 'cuda' (or 'cuda:0')")
        if idx:
            if not idx.isdigit():
                raise ValueError(f"device {type_or_name!r}: the index after ':' must be an integer")
            if index is not None:
                raise ValueError(f"device {type_or_name!r}: the index is given twice")
            index = int(idx)
        if index is not None and index != 0:
            raise ValueError(f"device {kind}:{index}: tinygrad_zh uses one device of each type "
                             f"(index 0); for several GPUs run one process per GPU (docs/distributed.md)")
        d = super().__new__(cls, kind)
        d.index = index
        return d

    @property
    def type(self):
        return str.__str__(self)

    def __repr__(self):
        return f"device(type='{self.type}'" + ("" if self.index is None else f", index={self.index}") + ")"

    def __str__(self):
        """与 PyTorch 相同：``str(tg.device("cuda", 0)) == "cuda:0"``（字符串的值仍是 "cuda"，所以
        ``d == "cuda"`` 成立）。"""
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __reduce__(self):
        return (Device, (self.type, self.index))


_CANON = {}


def normalize_device(device):
    """'cpu'、'cuda'、'cuda:0'、tg.device(...) -> 规范的 Device 'cpu' / 'cuda'；其他写法报错。"""
    if device is None:
        device = "cpu"
    d = _CANON.get(device) if isinstance(device, str) else None
    if d is None:
        kind = Device(device).type
        d = _CANON.get(kind)
        if d is None:      # 与 PyTorch 相同：张量的 cuda 设备带序号 0（显示为 'cuda:0'），cpu 没有序号
            d = _CANON[kind] = Device(kind, 0 if kind == "cuda" else None)
    return d


def get_xp(device):
    """数组模块：cpu -> numpy, cuda -> cupy."""
    return np if device == "cpu" else require_cuda()


def array_module(arr):
    """数组所属的模块（numpy 或 cupy）。"""
    return np if isinstance(arr, np.ndarray) or np.isscalar(arr) else require_cuda()


_CPU, _CUDA = normalize_device("cpu"), normalize_device("cuda")


def device_of(arr):
    """数组所在的设备（规范的 ``tg.device``）：NumPy 数组是 'cpu'，CuPy 数组是 'cuda'（即 cuda:0）。"""
    if isinstance(arr, (np.ndarray, np.generic)):
        return _CPU
    if _cupy is not None and isinstance(arr, _cupy.ndarray):
        return _CUDA
    mod = type(arr).__module__
    if mod.startswith("cupy"):
        return _CUDA
    return _CPU


_ONES = {}   # (数组类型, 设备, n, dtype) -> 只读的全 1 向量


def ones_vector(like, n):
    """缓存的只读向量：``n`` 个 1，dtype 和设备与 ``like`` 相同。

    按行、按列求和写成 BLAS 的矩阵-向量乘（``ones @ g``：行很窄时比 ``g.sum(0)`` 快）；把全 1 向量缓存
    起来，每次调用省一次内存分配。绝不要往结果里写。
    English: a cached, read-only vector of ones for sums written as gemv; never write into it."""
    # 设备用字符串表示：cupy.cuda.Device 不可哈希（tinygrad_zh 每个进程只用一块 GPU）
    key = (type(like), device_of(like), n, like.dtype)
    v = _ONES.get(key)
    if v is None:
        if len(_ONES) > 256:                    # 尺寸太多（例如 batch 大小一直在变）：清空重来
            _ONES.clear()
        v = array_module(like).ones(n, like.dtype)
        if isinstance(v, np.ndarray):
            v.flags.writeable = False
        _ONES[key] = v
    return v


def writeable(arr):
    """``arr`` 能否原地写入而不改动别的数据。NumPy 看 ``flags.writeable``；CuPy 的 ``flags`` 没有
    ``writeable``（所有 CuPy 数组都可写），所以在长度 > 1 的维上步长为 0 的视图（即广播）算作不可写。"""
    if isinstance(arr, np.ndarray):
        return arr.flags.writeable
    return not any(s == 0 and n > 1 for s, n in zip(arr.strides, arr.shape))


def to_device(arr, device):
    """把数组拷到 ``device`` 上（已经在那里时不拷贝）。"""
    src = device_of(arr)
    if src == device:
        return arr
    if device == "cuda":
        return require_cuda().asarray(arr)
    return to_host(arr)  # cupy -> numpy（拷回主机）


def normalize_dtype(dtype):
    """接受 'float64'、np.float64、tg.float64 以及 PyTorch 风格的名字（'double' 等）-> np.dtype（或 None）。"""
    if dtype is None:
        return None
    if isinstance(dtype, str):
        dtype = {"float": "float32", "double": "float64", "half": "float16", "long": "int64",
                 "int": "int32", "bool": "bool"}.get(dtype, dtype)
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"unknown dtype {dtype!r}: expected e.g. 'float32', 'float64', 'int64'") from None


_TO_KWARGS = ("device", "dtype", "non_blocking", "copy")


def parse_to_args(args, kwargs):
    """解析 ``to(device)``、``to(dtype)``、``to(device, dtype)``、``to(other_tensor)`` 或关键字参数
    -> (device 或 None, dtype 或 None)。设备可以写成 'cuda'、'cuda:0'、tg.device(...) 或整数 0；
    ``non_blocking`` 接受但不起作用（我们的拷贝总是同步的），``copy`` 由调用者处理。"""
    for k in kwargs:
        if k not in _TO_KWARGS:
            raise TypeError(f"to() got an unexpected keyword argument {k!r} (expected one of {_TO_KWARGS})")
    device, dtype = kwargs.get("device"), kwargs.get("dtype")
    for a in args:
        if isinstance(a, str) and (a.startswith("cuda") or a.startswith("cpu")) or \
                isinstance(a, int) and not isinstance(a, bool):
            device = a
        elif hasattr(a, "array") and hasattr(a, "device"):     # to(other)：取 other 的设备和 dtype
            device, dtype = a.device, a.dtype
        else:
            dtype = a
    return device, dtype


def is_float(dtype):
    return dtype.kind == "f"


# --------------------------------------------------------------------------- 设备上的 kernel
# 手写 kernel 的挂钩（第一次用 CuPy 时由 tinygrad_zh.cuda.register 填入）：运算调用
# ``kernel_for(arr, name)``，拿到 None 就退回它自己的数组代码。
_KERNELS = {}


def register_kernel(device, name, fn):
    """把 ``fn`` 登记为 ``device`` 上 kernel ``name`` 的实现。"""
    _KERNELS[(device, name)] = fn


KERNEL_DTYPES = (float32, float64)     # kernels/*.cu 编译了哪些 dtype


def kernel_for(arr, name):
    """``arr`` 所在设备上登记的 kernel ``name``；没有则返回 None。NumPy 数组以及 kernel 不支持的
    dtype（整数、float16 等）继续用运算自己的数组代码。"""
    if not _KERNELS or isinstance(arr, np.ndarray) or arr.dtype not in KERNEL_DTYPES:
        return None
    return _KERNELS.get((device_of(arr), name))


# --------------------------------------------------------------------------- 训练一步之内不同步
# 设备上的检查（标签越界、概率越界、范数非有限）不能立即在主机上判断：那要等 GPU 算完（一次同步）。
# check_later 把 "bad" 留在设备上，等下一次本来就要同步的时候（loss.item()、.numpy()）一并检查。
# 具体做法：``check_later(bad, exc, message)`` 对 NumPy 数组立即检查；对 CuPy 数组只把 ``bad.any()``
# 留在设备上，由 ``raise_pending()``（在主机反正要等的地方调用：``to_host``、``Tensor.item()/numpy()``）
# 用一次传输查看全部标志。这样，训练的一步里不会因为检查而做任何设备到主机的同步。
_PENDING = []
MAX_PENDING = 64        # 限制占用的内存：攒到这么多就检查一次（最多每 64 步同步一次）


def check_later(bad, exc, message):
    """布尔数组 ``bad`` 中有任何一个元素为真，就抛出 ``exc(message)``：NumPy 数组立即检查，设备数组等到
    下一次 ``raise_pending()``。``message`` 可以是可调用对象（只在检查失败时求值，所以可以读设备数据）。"""
    if isinstance(bad, (np.ndarray, np.generic, bool)):
        if np.any(bad):
            raise exc(message() if callable(message) else message)
        return
    _PENDING.append((bad.any(), exc, message))
    if len(_PENDING) >= MAX_PENDING:
        raise_pending()


def _pending_flags(xp):
    items = list(_PENDING)
    _PENDING.clear()
    return items, xp.stack([b.reshape(1) for b, _, _ in items]).reshape(-1).astype(np.uint8)


def _raise_first(items, flags):
    for f, (_, exc, message) in zip(flags, items):
        if f:
            raise exc(message() if callable(message) else message)


def raise_pending():
    """执行所有推迟的设备检查（只做一次设备到主机的传输），抛出第一个失败的检查。"""
    if _PENDING:
        items, flags = _pending_flags(array_module(_PENDING[0][0]))
        _raise_first(items, flags.get())


def to_host(arr):
    """``arr`` 的 NumPy 拷贝。对设备数组来说，这里就是推迟检查的同步点：检查的标志和数据放在同一次
    传输里（只同步一次），有检查失败就报错。"""
    if isinstance(arr, np.ndarray):
        return arr
    if not _PENDING:
        return arr.get()
    xp = array_module(arr)
    items, flags = _pending_flags(xp)
    data = xp.ascontiguousarray(arr).reshape(-1).view(np.uint8)
    both = xp.concatenate([flags, data]).get()          # 标志和数据一次传回
    _raise_first(items, both[:len(items)])
    return both[len(items):].view(arr.dtype).reshape(arr.shape)


_SCALARS = {}       # (设备, dtype, 值的键) -> 0 维数组


def scalar_array(value, dtype, device):
    """缓存的 0 维数组：把 Python 标量 ``value`` 存成 ``device`` 上的 ``dtype``。这样 GPU 上的 ``x * 0.5``
    不必从主机拷任何东西（每次新建 ``cupy.asarray(0.5)`` 都是一次主机到设备的拷贝）。设备上的这个数组
    是共享的：绝不要往里写。"""
    if device == "cpu":
        return np.asarray(value, dtype=dtype)        # 在 CPU 上很便宜，而且只属于调用者
    key = (device, dtype, value.hex() if type(value) is float else (type(value), value))
    a = _SCALARS.get(key)
    if a is None:
        if len(_SCALARS) > 4096:
            _SCALARS.clear()
        a = _SCALARS[key] = get_xp(device).asarray(value, dtype=dtype)
    return a
