"""模拟器的全局状态：设备到主机同步的计数、主机到设备拷贝的计数、kernel 启动次数、显存池记账。

Counters of the CUDA simulator. Every operation that on a real GPU makes the host wait for the
device and copies data back (``.get()``, ``cupy.asnumpy``, ``.item()``, ``.tolist()``, ``bool()``,
``float()``, ``int()``, printing) is recorded as a ``"d2h"`` event; every host-to-device copy
(``cupy.asarray(numpy_array or Python scalar)``, ``.set()``) as ``"h2d"``; every kernel launch of a
RawKernel as ``"launch"``. Use :func:`count` in tests::

    with sim.count() as c:
        train_step()
    assert c.d2h == 1, c.report("d2h")
"""
import contextlib
import threading
import traceback

_lock = threading.Lock()
totals = {"d2h": 0, "h2d": 0, "launch": 0}
_recorders = []


class Counter:
    """Events seen while a ``count()`` block was active: ``d2h``, ``h2d``, ``launch`` counts and
    ``events`` (kind, what, where) with the library frame that caused each one."""

    def __init__(self, stacks):
        self.stacks = stacks
        self.events = []

    def _n(self, kind):
        return sum(1 for e in self.events if e[0] == kind)

    d2h = property(lambda self: self._n("d2h"))
    h2d = property(lambda self: self._n("h2d"))
    launch = property(lambda self: self._n("launch"))

    def report(self, kind=None):
        """One line per event (of ``kind``): what happened and the first frame outside the simulator."""
        return "\n".join(f"{k}: {what} at {where}" for k, what, where in self.events
                         if kind is None or k == kind)


def _where():
    for fr in reversed(traceback.extract_stack(limit=30)[:-3]):
        if "/cuda/sim/" not in fr.filename.replace("\\", "/"):
            return f"{fr.filename}:{fr.lineno} ({fr.name}: {fr.line})"
    return "?"


def record(kind, what):
    """Count one event (called by the simulator)."""
    totals[kind] += 1
    if _recorders:
        where = _where() if any(r.stacks for r in _recorders) else ""
        with _lock:
            for r in _recorders:
                r.events.append((kind, what, where))


@contextlib.contextmanager
def count(stacks=True):
    """Record the simulator's events inside the ``with`` block (see the module docstring)."""
    c = Counter(stacks)
    _recorders.append(c)
    try:
        yield c
    finally:
        _recorders.remove(c)
