"""Every differentiable Function of the library documents its derivative in Chinese.

The project's promise is that ``backward`` can be read to learn the chain rule: each one carries a
short Chinese docstring with the formula (see CONTRACT / docs).  This test imports every module
under ``tinygrad_zh.ops`` and ``tinygrad_zh.nn``, walks ``Function.__subclasses__()`` recursively and
fails for a class whose ``backward`` has no docstring with CJK characters.  Skipped: classes with
``differentiable = False`` (never recorded, backward never runs) and private bases whose name starts
with ``_`` (e.g. ``_Binary``: their subclasses are checked).
"""
import importlib
import inspect
import pkgutil
import re

from tinygrad_zh.autograd import Function

_CJK = re.compile(r"[\u4e00-\u9fff]")
PACKAGES = ("tinygrad_zh.ops", "tinygrad_zh.nn")


def _import_all():
    for name in PACKAGES:
        pkg = importlib.import_module(name)
        for info in pkgutil.walk_packages(pkg.__path__, name + "."):
            importlib.import_module(info.name)


def _all_functions():
    out, stack = [], list(Function.__subclasses__())
    while stack:
        cls = stack.pop()
        if cls not in out:
            out.append(cls)
            stack.extend(cls.__subclasses__())
    return out


def library_functions():
    """Differentiable, public Function subclasses defined inside tinygrad_zh."""
    _import_all()
    return sorted((c for c in _all_functions()
                   if c.__module__.startswith("tinygrad_zh.") and not c.__name__.startswith("_")
                   and getattr(c, "differentiable", True)),
                  key=lambda c: (c.__module__, c.__name__))


def test_enumeration_finds_the_core_ops():
    names = {c.__name__ for c in library_functions()}
    for expected in ("Add", "Mul", "Sigmoid", "MatMul", "Linear", "Sum", "Reshape", "Softmax",
                     "SoftmaxCrossEntropy", "GetItem", "Embedding"):
        assert expected in names, f"{expected} not found among {sorted(names)}"
    assert not any(c.__name__.startswith("_") for c in library_functions())


def missing_docstrings(classes):
    """'module.Class.backward (file:line)' for each class whose backward lacks a Chinese docstring."""
    missing = []
    for cls in classes:
        backward = cls.backward
        if backward is Function.backward:
            missing.append(f"{cls.__module__}.{cls.__name__} (no backward)")
            continue
        doc = backward.__doc__ or ""          # not inspect.getdoc: an override must carry its own
        if not _CJK.search(doc):
            where = f"{inspect.getsourcefile(backward)}:{inspect.getsourcelines(backward)[1]}"
            missing.append(f"{cls.__module__}.{cls.__name__}.backward ({where})")
    return missing


def test_checker_flags_a_missing_or_english_docstring():
    class Documented(Function):
        def backward(self, g):
            """z = 2x:  ∂z/∂x = 2 —— 梯度乘以 2。"""
            return 2 * g

    class English(Documented):
        def backward(self, g):
            """z = 2x: dz/dx = 2."""
            return 2 * g

    class Silent(Documented):
        def backward(self, g):      # inherits no docstring: must be flagged
            return 2 * g

    class NoBackward(Function):
        pass

    flagged = missing_docstrings([Documented, English, Silent, NoBackward])
    names = [f.split(" ")[0] for f in flagged]
    assert len(names) == 3, flagged
    assert names[0].endswith("English.backward") and names[1].endswith("Silent.backward"), flagged
    assert names[2].endswith("NoBackward"), flagged


def test_every_backward_has_a_chinese_docstring():
    missing = missing_docstrings(library_functions())
    assert not missing, ("backward without a Chinese docstring (write the derivative formula and one "
                         "sentence in Chinese):\n  " + "\n  ".join(missing))
