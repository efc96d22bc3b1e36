"""Shared pytest set-up: import path, Hypothesis profile, seeds, markers.

* ``CI=true`` loads the ``tinygrad_zh-ci`` Hypothesis profile (25 derandomized examples per test);
  locally the ``tinygrad_zh-dev`` profile runs 50 random examples.  ``HYPOTHESIS_PROFILE=<name>``
  overrides both.
* every test starts from the same seeds (NumPy's legacy global RNG and ``tg.manual_seed``).
* ``pytest -m core`` runs only the core suite (ops, autograd, gradcheck).
"""
import os
import pathlib
import sys

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:              # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(ROOT))

import tinygrad_zh as tg  # noqa: E402

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
