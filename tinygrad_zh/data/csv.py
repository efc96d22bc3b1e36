"""表格数据：读数值型 CSV，返回 float32 特征矩阵和目标列（葡萄酒质量、翼型噪声两个回归数据集）。

``read_csv(path, delimiter=None, header=None, target=-1)``:

* ``delimiter=None`` guesses from the first line among ``;`` ``,`` tab, else splits on whitespace.
* ``header=None`` guesses: the first line is a header if any of its fields is not a number.
* ``target``: column index or name of the target (default: the last column).

All fields must be finite numbers; a bad field (text, ``nan``, ``inf``) raises an error naming the
file, line and column.
"""
import math
import os

import numpy as np

from .. import backend


def _sniff_delimiter(line):
    counts = {d: line.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] > 0 else None        # None: any whitespace


def _split(line, delimiter):
    parts = line.split(delimiter) if delimiter is not None else line.split()
    return [p.strip().strip('"').strip("'").strip() for p in parts]


def _is_number(s):
    try:
        float(s)
        return True
    except ValueError:
        return False


def read_csv(path, delimiter=None, header=None, target=-1, dtype=backend.DEFAULT_FLOAT, return_names=False):
    """读一个数值 CSV：返回 (X (N, F), y (N,))，默认 float32。

    With ``return_names=True`` returns ``(X, y, feature_names, target_name)`` (names are
    ``col0, col1, ...`` when there is no header).  ``target=None`` returns all columns as ``X`` and
    ``y=None``.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"CSV file is missing: {path!r}")
    with open(path, encoding="utf-8-sig") as f:
        numbered = [(i, ln.rstrip("\r\n")) for i, ln in enumerate(f, 1)]
    numbered = [(i, ln) for i, ln in numbered if ln.strip()]       # (line number in the file, text)
    lines = [ln for _, ln in numbered]
    if not lines:
        raise ValueError(f"CSV file {path!r} is empty")
    if delimiter is None:
        delimiter = _sniff_delimiter(lines[0])
    first = _split(lines[0], delimiter)
    if header is None:
        header = not all(_is_number(x) for x in first)
    ncol = len(first)
    names = first if header else [f"col{j}" for j in range(ncol)]
    body = numbered[1:] if header else numbered
    if not body:
        raise ValueError(f"CSV file {path!r} has a header but no data rows")
    rows = []
    for lineno, ln in body:
        fields = _split(ln, delimiter)
        if len(fields) != ncol:
            raise ValueError(f"CSV file {path!r} line {lineno}: expected {ncol} fields (delimiter "
                             f"{delimiter!r}), got {len(fields)}")
        try:
            row = [float(x) for x in fields]
        except ValueError:
            bad = next(j for j, x in enumerate(fields) if not _is_number(x))
            raise ValueError(f"CSV file {path!r} line {lineno} column {bad} ({names[bad]!r}): "
                             f"{fields[bad]!r} is not a number") from None
        if not all(map(math.isfinite, row)):     # float() accepts 'nan', 'inf', '-Infinity', '1e999'
            bad = next(j for j, v in enumerate(row) if not math.isfinite(v))
            raise ValueError(f"CSV file {path!r} line {lineno} column {bad} ({names[bad]!r}): "
                             f"{fields[bad]!r} is not a finite number (missing values must be "
                             f"filled or the row removed before training)")
        rows.append(row)
    table = np.asarray(rows, dtype=np.float64)
    if target is None:
        X, y, tname, fnames = table.astype(dtype), None, None, list(names)
    else:
        if isinstance(target, str):
            if target not in names:
                raise ValueError(f"CSV file {path!r}: target column {target!r} not among {names}")
            t = names.index(target)
        else:
            if not -ncol <= target < ncol:
                raise IndexError(f"CSV file {path!r}: target column {target} out of range for {ncol} columns")
            t = target % ncol
        keep = [j for j in range(ncol) if j != t]
        X, y = table[:, keep].astype(dtype), table[:, t].astype(dtype)
        fnames, tname = [names[j] for j in keep], names[t]
    if return_names:
        return X, y, fnames, tname
    return X, y


def load_wine_quality(data_dir, colour="both", colour_feature=False, return_names=False):
    """葡萄酒质量（UCI）：``colour`` 取 'red'（1599 行）、'white'（4898 行）或 'both'（红在前，白在后）。

    Returns ``(X float32 (N, 11), y float32 quality)``.  ``colour_feature=True`` appends a 12th
    column ``is_red`` (1.0 for red, 0.0 for white).
    """
    if colour not in ("red", "white", "both"):
        raise ValueError(f"load_wine_quality: colour must be 'red', 'white' or 'both', got {colour!r}")
    parts = []
    for c in (("red", "white") if colour == "both" else (colour,)):
        X, y, names, tname = read_csv(os.path.join(data_dir, f"winequality-{c}.csv"), delimiter=";",
                                      header=True, return_names=True)
        if colour_feature:
            X = np.concatenate([X, np.full((len(X), 1), 1.0 if c == "red" else 0.0, X.dtype)], axis=1)
        parts.append((X, y))
    if colour_feature:
        names = names + ["is_red"]
    X = np.concatenate([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    return (X, y, names, tname) if return_names else (X, y)


def load_airfoil(data_dir, return_names=False):
    """翼型自噪声（NASA/UCI）：X float32 (1503, 5)，y 为声压级 (dB)。

    Reads ``airfoil_self_noise.csv`` (header, commas) or, if absent, the original tab-separated
    ``airfoil_self_noise.dat``.
    """
    csv_path = os.path.join(data_dir, "airfoil_self_noise.csv")
    if os.path.exists(csv_path):
        return read_csv(csv_path, delimiter=",", header=True, return_names=return_names)
    dat_path = os.path.join(data_dir, "airfoil_self_noise.dat")
    if not os.path.exists(dat_path):
        raise FileNotFoundError(f"Airfoil data is missing: neither {csv_path!r} nor {dat_path!r} exists")
    return read_csv(dat_path, delimiter="\t", header=False, return_names=return_names)


def standardize(train, *others, eps=1e-8):
    """按训练集的均值/标准差标准化：返回 (train_std, *others_std, mean, std)。

    Statistics come from ``train`` only, so no information leaks from validation/test data.
    """
    train = np.asarray(train)
    mean = train.mean(axis=0)
    std = train.std(axis=0)
    std = np.where(std < eps, 1.0, std).astype(train.dtype)
    out = [((train - mean) / std).astype(train.dtype)]
    out += [((np.asarray(o) - mean) / std).astype(train.dtype) for o in others]
    return (*out, mean.astype(train.dtype), std)
