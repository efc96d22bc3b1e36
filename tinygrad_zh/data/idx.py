"""IDX 文件读写（MNIST / Fashion-MNIST 的格式），支持 gzip 压缩或未压缩。

IDX layout (big-endian): a 4-byte magic ``0x00 0x00 <dtype code> <ndim>``, then ``ndim`` int32
sizes, then the data row by row.  MNIST images have magic 2051 (= 0x0803: uint8, 3 dims) and labels
2049 (= 0x0801: uint8, 1 dim).  Data type codes: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
0x0D float32, 0x0E float64.

Every error names the file and says what is wrong (missing, not gzip, wrong magic, truncated, ...).
"""
import gzip
import os
import struct
import zlib

import numpy as np

# IDX type code -> big-endian numpy dtype
IDX_DTYPES = {0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
              0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_CODES = {np.dtype(v).newbyteorder("=") if v.itemsize > 1 else v: k for k, v in IDX_DTYPES.items()}

MNIST_IMAGES_MAGIC = 2051
MNIST_LABELS_MAGIC = 2049


class IDXError(ValueError):
    """An IDX file exists but its content is not what it should be."""


def _read_bytes(path):
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"IDX file is missing: {path!r} does not exist")
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":                         # gzip magic, whatever the file name says
        try:
            return gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as e:
            raise IDXError(f"IDX file {path!r}: corrupt or truncated gzip data ({e})") from None
    return raw


def parse_idx(buf, name="<bytes>", expected_magic=None):
    """Decode the bytes of an IDX file into a native-endian numpy array (validates everything)."""
    if len(buf) < 4:
        raise IDXError(f"IDX file {name!r} is truncated: {len(buf)} bytes, not even a 4-byte magic number")
    magic = struct.unpack(">i", buf[:4])[0]
    if expected_magic is not None and magic != expected_magic:
        raise IDXError(f"IDX file {name!r} has wrong magic number {magic} (0x{magic & 0xFFFFFFFF:08x}); "
                       f"expected {expected_magic} (0x{expected_magic:08x})")
    zero, code, ndim = buf[0:2], buf[2], buf[3]
    if zero != b"\x00\x00" or code not in IDX_DTYPES:
        raise IDXError(f"IDX file {name!r} has wrong magic number {magic} (0x{magic & 0xFFFFFFFF:08x}): the "
                       f"first two bytes must be 0 and the third a type code in "
                       f"{{{', '.join(hex(c) for c in IDX_DTYPES)}}}")
    header = 4 + 4 * ndim
    if len(buf) < header:
        raise IDXError(f"IDX file {name!r} is truncated: header needs {header} bytes for {ndim} dims, file has "
                       f"{len(buf)}")
    shape = struct.unpack(f">{ndim}i", buf[4:header]) if ndim else ()
    if any(s < 0 for s in shape):
        raise IDXError(f"IDX file {name!r} has negative dimension sizes {shape}")
    dtype = IDX_DTYPES[code]
    need = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    have = len(buf) - header
    if have < need:
        raise IDXError(f"IDX file {name!r} is truncated: shape {shape} of {dtype.name} needs {need} data bytes, "
                       f"found {have}")
    if have > need:
        raise IDXError(f"IDX file {name!r} has {have - need} unexpected trailing bytes after shape {shape} "
                       f"of {dtype.name} data")
    arr = np.frombuffer(buf, dtype=dtype, offset=header).reshape(shape)
    return arr.astype(dtype.newbyteorder("="), copy=True) if dtype.itemsize > 1 else arr.copy()


def read_idx(path, expected_magic=None):
    """读取一个 IDX 文件（.gz 或未压缩，按内容自动判断），返回 numpy 数组。

    ``expected_magic`` (e.g. 2051 for MNIST images) makes a different magic number an error.
    """
    return parse_idx(_read_bytes(path), os.fspath(path), expected_magic)


def write_idx(path, array, compress=None):
    """Write ``array`` as IDX (gzip-compressed when ``compress`` is True or the name ends in .gz)."""
    array = np.asarray(array)
    key = array.dtype.newbyteorder("=") if array.dtype.itemsize > 1 else array.dtype
    if key not in _CODES:
        raise TypeError(f"write_idx: dtype {array.dtype} has no IDX type code; use one of "
                        f"uint8, int8, int16, int32, float32, float64")
    code = _CODES[key]
    if array.ndim > 255:
        raise ValueError("write_idx: at most 255 dimensions")
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}i", *array.shape)
    body = header + np.ascontiguousarray(array, dtype=IDX_DTYPES[code]).tobytes()
    path = os.fspath(path)
    if compress is None:
        compress = path.endswith(".gz")
    with open(path, "wb") as f:
        f.write(gzip.compress(body, mtime=0) if compress else body)


def _find(data_dir, stem, kind, magic_digit):
    """Locate e.g. train-images-idx3-ubyte(.gz) (also the 'train-images.idx3-ubyte' spelling)."""
    names = [f"{stem}-{kind}-idx{magic_digit}-ubyte", f"{stem}-{kind}.idx{magic_digit}-ubyte"]
    for n in names:
        for cand in (n + ".gz", n):
            p = os.path.join(data_dir, cand)
            if os.path.exists(p):
                return p
    raise FileNotFoundError(f"MNIST file is missing: none of {[n + '[.gz]' for n in names]} exists in "
                            f"{os.fspath(data_dir)!r}")


def load_mnist(data_dir, split="train"):
    """读取 MNIST（或文件名相同的 Fashion-MNIST）：返回 (images uint8 (N,28,28), labels int64 (N,)).

    ``split`` is ``"train"`` (files ``train-*``) or ``"test"`` (files ``t10k-*``).
    """
    stems = {"train": "train", "test": "t10k", "t10k": "t10k"}
    if split not in stems:
        raise ValueError(f"load_mnist: split must be 'train' or 'test', got {split!r}")
    img_path = _find(data_dir, stems[split], "images", 3)
    lab_path = _find(data_dir, stems[split], "labels", 1)
    images = read_idx(img_path, expected_magic=MNIST_IMAGES_MAGIC)
    labels = read_idx(lab_path, expected_magic=MNIST_LABELS_MAGIC).astype(np.int64)
    if images.shape[0] != labels.shape[0]:
        raise IDXError(f"MNIST {split}: {img_path!r} has {images.shape[0]} images but {lab_path!r} has "
                       f"{labels.shape[0]} labels")
    return images, labels
