"""不改一行，用 tinygrad_zh 跑一个为 PyTorch 写的程序：``python -m tinygrad_zh.as_torch 程序.py [参数 ...]``。

Run a program written for PyTorch on tinygrad_zh, unchanged. ``import torch``, ``from torch import nn``,
``import torch.nn.functional as F``, ``from torch.utils.data import DataLoader`` ... then resolve to
``tinygrad_zh``, ``tinygrad_zh.nn``, ``tinygrad_zh.nn.functional``, ``tinygrad_zh.utils.data`` ...
(``torch.X.Y`` -> ``tinygrad_zh.X.Y``). A module tinygrad_zh does not have fails with an ImportError
that names it. In a notebook, ``import tinygrad_zh.as_torch as m; m.install()`` does the same.

The other way, editing one line (``import tinygrad_zh as torch``), works for programs that only use
``torch.xxx`` through that name.
"""
import importlib
import importlib.abc
import importlib.util
import os
import runpy
import sys

_PREFIX = "torch"
# torch 的子模块名与我们的文件名不同的地方（``torch.backends`` 是 torch_backends.py，免得和 backend.py 混淆）
_RENAMED = {"torch.backends": "tinygrad_zh.torch_backends"}


def _real_name(fullname):
    for torch_name, ours in _RENAMED.items():
        if fullname == torch_name or fullname.startswith(torch_name + "."):
            return ours + fullname[len(torch_name):]
    return "tinygrad_zh" + fullname[len(_PREFIX):]


class _TorchAlias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """A meta-path finder: ``torch`` and ``torch.*`` are tinygrad_zh's modules under another name."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != _PREFIX and not fullname.startswith(_PREFIX + "."):
            return None
        real = _real_name(fullname)
        try:
            importlib.import_module(real)
        except ModuleNotFoundError:
            raise ModuleNotFoundError(f"No module named {fullname!r}: tinygrad_zh has no {real} "
                                      "(see docs/pytorch_compat.md for what is supported)",
                                      name=fullname) from None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        return sys.modules[_real_name(spec.name)]

    def exec_module(self, module):
        pass


def install():
    """Make ``import torch`` (and its sub-modules) give tinygrad_zh from now on in this process."""
    if any(isinstance(f, _TorchAlias) for f in sys.meta_path):
        return
    loaded = [m for m in sys.modules if m == _PREFIX or m.startswith(_PREFIX + ".")]
    if loaded:
        raise RuntimeError(f"as_torch.install(): the real PyTorch is already imported ({loaded[0]}); "
                           "install the alias before the first `import torch`")
    sys.meta_path.insert(0, _TorchAlias())


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: python -m tinygrad_zh.as_torch SCRIPT.py [ARGS ...]\n"
              "runs SCRIPT.py with `import torch` resolved to tinygrad_zh")
        return 0 if argv else 2
    script = argv[0]
    if not os.path.isfile(script):
        print(f"as_torch: no such file: {script}", file=sys.stderr)
        return 2
    install()
    sys.argv = [script] + list(argv[1:])
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    runpy.run_path(script, run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())
