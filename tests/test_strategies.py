"""The Hypothesis strategies in tinygrad_zh.testing keep their promises."""
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("hypothesis")
from hypothesis import given, settings, strategies as st  # noqa: E402

import tinygrad_zh as tg  # noqa: E402
from tinygrad_zh.testing import strategies as S  # noqa: E402

pytestmark = pytest.mark.core


@given(S.shapes())
def test_shapes_are_small(shape):
    assert len(shape) <= 4 and all(1 <= n <= 4 for n in shape)


def test_shapes_include_zero_d_and_size_one_dims():
    seen = []

    @settings(max_examples=60, derandomize=True, database=None)
    @given(S.shapes())
    def collect(shape):
        seen.append(shape)

    collect()
    assert () in seen and any(1 in s for s in seen if s) and max(len(s) for s in seen) == 4


@given(S.broadcastable_shapes(3))
def test_broadcastable_shapes_broadcast(shapes):
    assert len(shapes) == 3
    np.broadcast_shapes(*shapes)


@given(S.matmul_shapes())
def test_matmul_shapes_are_valid(pair):
    a, b = pair
    np.matmul(np.ones(a), np.ones(b))


@given(st.integers(0, 4).flatmap(lambda n: st.tuples(st.just(n), S.axes(n))))
def test_axes_are_valid_dims(n_dim):
    ndim, dim = n_dim
    np.ones((2,) * ndim).sum(axis=dim)


@given(S.arrays(away_from=(0.0, 1.0), margin=0.2, max_side=3))
def test_values_stay_away_from_kinks(a):
    assert a.dtype == np.float64 and np.all(np.isfinite(a)) and np.all(np.abs(a) <= 3.2)
    assert np.all(np.abs(a) >= 0.2) and np.all(np.abs(a - 1.0) >= 0.2)


@given(S.elements(away_from=(0.0, 0.25), margin=0.2))
def test_close_kinks_are_all_avoided(x):
    assert abs(x) >= 0.2 and abs(x - 0.25) >= 0.2


@given(S.arrays(positive=True), S.arrays(dtype="int64", min_value=-5, max_value=5), S.arrays(dtype="bool"))
def test_domains_and_dtypes(pos, ints, bools):
    assert np.all(pos >= 0.1)
    assert ints.dtype == np.int64 and np.all(np.abs(ints) <= 5)
    assert bools.dtype == np.bool_


@given(S.arrays(distinct=True, min_dims=1))
def test_distinct_values_have_no_ties(a):
    v = np.sort(a.reshape(-1))
    assert np.all(np.diff(v) > 1e-4)


@given(S.arrays(noncontiguous=True, shape=S.shapes(min_dims=1)))
def test_noncontiguous_arrays_are_views(a):
    if a.size > 1:
        assert not a.flags.c_contiguous


@given(S.tensors(dtype="float32", noncontiguous=True, shape=(3, 2), requires_grad=True))
def test_tensors_keep_dtype_and_layout(t):
    assert isinstance(t, tg.Tensor) and t.dtype == np.float32 and t.shape == (3, 2)
    assert t.requires_grad and not t.array.flags.c_contiguous


@given(S.tensors(elements=st.sampled_from([1.0, 2.0]), shape=(4,)))
def test_custom_elements(t):
    assert set(t.tolist()) <= {1.0, 2.0}


@given(S.scalars(away_from=(0.0,), margin=0.5))
def test_scalars_are_python_floats(s):
    assert isinstance(s, float) and abs(s) >= 0.5


def test_ci_profile():
    before, registered = settings.default, settings.get_profile(S.PROFILE)
    try:
        prof = S.load_ci_profile()
        assert settings.default.deadline is None and settings.default.max_examples == prof.max_examples
        assert prof.max_examples <= 50
        from hypothesis import HealthCheck
        assert HealthCheck.too_slow in prof.suppress_health_check
        assert S.load_ci_profile(max_examples=7).max_examples == 7
    finally:
        settings.register_profile(S.PROFILE, registered)
        settings.register_profile("_restore", before)
        settings.load_profile("_restore")


def test_testing_package_imports_without_hypothesis():
    code = ("import sys; sys.modules['hypothesis'] = None\n"
            "import tinygrad_zh as tg, tinygrad_zh.testing as T\n"
            "assert T.gradcheck(lambda a: a * a, [tg.tensor([1.0, 2.0])])\n"
            "try:\n    T.tensors\nexcept ImportError:\n    print('ok')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=str(__import__("pathlib").Path(__file__).resolve().parents[1]))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
