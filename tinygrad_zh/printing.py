"""张量怎样打印成文字：``repr(t)`` 和 ``tg.set_printoptions``（与 PyTorch 的显示方式相同）。

PyTorch 的习惯：浮点数统一保留 4 位小数（``tensor([1.5000, 2.0000])``），全是整数值时写成 ``1.``；
数值跨度很大时改用科学计数法；元素超过 1000 个时只显示开头和结尾各 3 个。默认类型（float32、
int64、bool）不写 dtype，其他类型写出来。

English: the text form of a tensor, PyTorch's way (4 fixed decimals, summarised above 1000
elements, dtype shown only when it is not float32 / int64 / bool), and ``set_printoptions``.
"""
import numpy as np

_DEFAULTS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80, "sci_mode": None}
_PROFILES = {
    "default": _DEFAULTS,
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80, "sci_mode": None},
    "full": {"precision": 4, "threshold": float("inf"), "edgeitems": 3, "linewidth": 80, "sci_mode": None},
}
_options = dict(_DEFAULTS)

_SHOWN_WITHOUT_DTYPE = (np.dtype("float32"), np.dtype("int64"), np.dtype("bool"))


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None,
                     sci_mode=None):
    """和 ``torch.set_printoptions`` 相同：profile 先恢复一组预设（'default' / 'short' / 'full'），
    再用给出的其他参数覆盖。sci_mode：None 自动选择，True 总用科学计数法，False 从不使用。"""
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions: unknown profile {profile!r} (expected one of {sorted(_PROFILES)})")
        _options.update(_PROFILES[profile])
    for name, value in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
                        ("linewidth", linewidth)):
        if value is not None:
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                raise TypeError(f"set_printoptions: {name} must be a non-negative number, got {value!r}")
            _options[name] = value
    if sci_mode is not None or profile is not None:
        _options["sci_mode"] = sci_mode


def _body(values, prefix):
    """数组部分的文字（不含 ``tensor(`` 和 dtype）。"""
    o = _options
    threshold = o["threshold"]
    kw = {"separator": ", ", "prefix": prefix, "max_line_width": o["linewidth"],
          "edgeitems": o["edgeitems"],
          "threshold": int(threshold) if threshold != float("inf") else np.iinfo(np.int64).max}
    if values.dtype.kind == "b":                   # 只有出现 False 时，True 才补一个空格对齐
        width = 5 if values.size and not values.all() else 4
        kw["formatter"] = {"bool": lambda v: f"{str(bool(v)):>{width}}"}
    if values.dtype.kind in "fc":
        finite = values[np.isfinite(values)] if values.size else values
        integral = finite.size == 0 or bool(np.all(finite == np.round(finite)))
        kw["precision"] = o["precision"]
        if not integral:
            kw["floatmode"] = "fixed"               # 1.5000, 2.0000：每个数同样多的小数位
        if o["sci_mode"] is True:
            p = o["precision"]
            kw["formatter"] = {"float_kind": lambda v: f"{v:.{p}e}"}
        elif o["sci_mode"] is False:
            kw["suppress_small"] = True
    text = np.array2string(values, **kw)
    return text.replace(", ...,", ",  ...,")        # PyTorch 在省略号前空两格


def tensor_repr(values, dtype, device, grad_fn_name, requires_grad):
    """``tensor([...], dtype=..., device=..., grad_fn=<...>)``。values 是 CPU 上的 NumPy 数组。"""
    extra = []
    if dtype not in _SHOWN_WITHOUT_DTYPE:
        extra.append(f"dtype={dtype}")
    if device != "cpu":
        extra.append(f"device='{device}'")
    if grad_fn_name is not None:
        extra.append(f"grad_fn=<{grad_fn_name}Backward>")
    elif requires_grad:
        extra.append("requires_grad=True")
    return "tensor(" + _body(values, "tensor(") + "".join(", " + e for e in extra) + ")"
