"""Shared pytest set-up: import path, Hypothesis profile, seeds, markers.

* ``CI=true`` loads the ``tinygrad_zh-ci`` Hypothesis profile (25 derandomized examples per test);
  locally the ``tinygrad_zh-dev`` profile runs 50 random examples.  ``HYPOTHESIS_PROFILE=<name>``
  overrides both.
* every test starts from the same seeds (NumPy's legacy global RNG and ``tg.manual_seed``).
* ``pytest -m core`` runs only the core suite (ops, autograd, gradcheck).
* GPU tests (marker ``cuda``) run on a real GPU when CuPy sees one; otherwise on the CUDA
  simulator (``tinygrad_zh/cuda/sim``: our kernels compiled for the CPU with g++), which this
  file switches on by setting ``TINYGRAD_ZH_CUDASIM=1`` when a C++ compiler is present. So the
  README's ``python -m pytest -q`` runs them everywhere; ``TINYGRAD_ZH_CUDASIM=0`` turns the
  simulator off (the cuda tests then skip without a GPU), ``pytest -m cuda`` runs only them.
  没有 GPU 时 cuda 测试在模拟器上运行（需要 g++）。
"""
import os
import pathlib
import sys

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:              # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(ROOT))


def _real_gpu():
    try:
        import cupy
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


if "TINYGRAD_ZH_CUDASIM" not in os.environ and not _real_gpu():
    import shutil
    if shutil.which(os.environ.get("CXX") or "g++") or shutil.which("c++"):
        os.environ["TINYGRAD_ZH_CUDASIM"] = "1"    # subprocesses (examples, docs) inherit it

import tinygrad_zh as tg  # noqa: E402
import tinygrad_zh.cuda  # noqa: E402,F401  (plugs the CUDA backend in; `import tinygrad_zh` will)

try:
    from hypothesis import settings
except ImportError:                        # Hypothesis is optional: property tests skip themselves
    settings = None

if settings is not None:
    from tinygrad_zh.testing.strategies import DEV_PROFILE, load_ci_profile
    if os.environ.get("HYPOTHESIS_PROFILE"):
        settings.load_profile(os.environ["HYPOTHESIS_PROFILE"])
    elif os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        load_ci_profile(max_examples=25)
    else:
        settings.load_profile(DEV_PROFILE)


def pytest_configure(config):
    config.addinivalue_line("markers", "core: tests of the core (Tensor, ops, autograd, gradcheck)")
    config.addinivalue_line("markers", "slow: a longer learning check (still part of the default run)")


@pytest.fixture(autouse=True)
def _seed_everything():
    """Same seeds for every test: failures reproduce, random inputs do not depend on test order."""
    np.random.seed(0)
    tg.manual_seed(0)
    yield


@pytest.fixture
def rng():
    """A fresh NumPy Generator seeded with 0 (use it for test inputs)."""
    return np.random.default_rng(0)


# ---------------------------------------------------------------- no silent skips in CI
# Under CI=true (and TINYGRAD_ZH_STRICT_SKIPS=1 anywhere) a skip fails the run unless its node id
# matches a line of tests/allowed_skips.txt ("<node id prefix>  # why it may skip on a CPU
# machine"). A missing test dependency therefore turns CI red instead of quietly testing less.
# Both kinds of skip count: a test that skips (pytest.skip, a skip marker, a fixture that skips)
# and a whole module skipped while it is collected (a module-level pytest.importorskip("torch")),
# which never reaches pytest_runtest_logreport and is only seen by pytest_collectreport.
# tests/test_ci_guard.py runs this guard on a scratch copy of this file.
_SKIPPED = {}                              # node id -> (kind, reason); dict: one entry per node


def _strict_skips():
    flag = os.environ.get("TINYGRAD_ZH_STRICT_SKIPS")
    if flag is not None:
        return flag.lower() in ("1", "true", "yes")
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _allowed_skips():
    path = pathlib.Path(__file__).with_name("allowed_skips.txt")
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        entry = line.split("#", 1)[0].strip()
        if entry:
            out.append(entry)
    return out


def _skip_reason(report):
    return report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)


def pytest_runtest_logreport(report):
    if report.skipped and not hasattr(report, "wasxfail"):
        _SKIPPED.setdefault(report.nodeid, ("test", _skip_reason(report)))


def pytest_collectreport(report):
    # A module (or class) skipped at collection: none of its tests is even collected.
    if report.skipped:
        _SKIPPED.setdefault(report.nodeid, ("collection", _skip_reason(report)))


_REPORT = []                               # the guard's message, printed with the summary


def pytest_sessionfinish(session, exitstatus):
    if not _strict_skips() or not _SKIPPED:
        return
    allowed = _allowed_skips()
    bad = [(n, k, r) for n, (k, r) in _SKIPPED.items() if not any(n.startswith(a) for a in allowed)]
    if bad:
        n_col = sum(k == "collection" for _, k, _ in bad)
        what = [f"{len(bad) - n_col} test(s)"] * (len(bad) > n_col)
        what += [f"{n_col} whole module(s) (at collection)"] * (n_col > 0)
        _REPORT.append(f"{' and '.join(what)} skipped that must run in CI (strict skips are on: CI=true or "
                       f"TINYGRAD_ZH_STRICT_SKIPS=1; the skips allowed are listed in tests/allowed_skips.txt):")
        _REPORT.extend(f"  {n} (module skipped at collection, none of its tests ran): {r}" if k == "collection"
                       else f"  {n}: {r}" for n, k, r in bad)
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter):
    # runs after pytest_sessionfinish, once the progress line is ended, before the "N passed" line
    if _REPORT:
        terminalreporter.write_sep("=", "skips not allowed in CI", red=True)
        for line in _REPORT:
            terminalreporter.write_line(line, red=True)
        _REPORT.clear()


def pytest_unconfigure(config):
    if _REPORT:                            # no terminal summary (--no-summary, -p no:terminal, ...)
        print("\n".join(_REPORT), file=sys.stderr)
        _REPORT.clear()
