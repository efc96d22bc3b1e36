"""tinygrad_zh.utils.data as a drop-in for torch.utils.data: the same names, DataLoader's signature and
argument checks, the same batches (structure, dtypes, values) as PyTorch for the same dataset, samplers,
random_split's length rule, and num_workers > 0 compared with PyTorch's real worker processes."""
import collections
import inspect
import math
import random
import warnings

import numpy as np
import pytest

import tinygrad_zh as tg
import tinygrad_zh.data as D
import tinygrad_zh.utils.data as U

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore:This DataLoader will create")
TU = torch.utils.data

NAMES = ["Dataset", "IterableDataset", "TensorDataset", "StackDataset", "ConcatDataset", "ChainDataset", "Subset",
         "random_split", "DataLoader", "default_collate", "default_convert", "get_worker_info", "Sampler",
         "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler", "BatchSampler",
         "DistributedSampler"]


def test_names_are_torch_names_and_the_same_objects_as_tg_data():
    import tinygrad_zh.utils as tu
    assert tu.data is U
    for name in NAMES:
        assert hasattr(TU, name), name                      # a real torch.utils.data name
        assert getattr(U, name) is getattr(D, name), name   # re-exported, not a second implementation
    assert sorted(U.__all__) == sorted(set(NAMES) | {"WorkerInfo"})


def _sig(fn):
    return [(q.name, q.kind, q.default) for q in inspect.signature(fn).parameters.values()]


def test_dataloader_signature_is_torchs_plus_keyword_extras():
    ours, ref = _sig(U.DataLoader), _sig(TU.DataLoader)
    assert ours[:len(ref)] == ref
    assert [(n, k) for n, k, _ in ours[len(ref):]] == [("seed", inspect.Parameter.KEYWORD_ONLY),
                                                       ("device", inspect.Parameter.KEYWORD_ONLY)]
    sig_split = _sig(U.random_split)
    assert [n for n, _, _ in sig_split] == ["dataset", "lengths", "generator", "seed"]
    assert sig_split[2][2] is tg.random.default_generator
    for cls in ("RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler", "BatchSampler",
                "SequentialSampler"):
        assert [(n, d) for n, _, d in _sig(getattr(U, cls))] == [(n, d) for n, _, d in _sig(getattr(TU, cls))], cls


# ---------------------------------------------------------------------- same batches as PyTorch
def assert_same(ours, ref, path="batch"):
    """``ours`` has ``ref``'s structure and values; a float64 tensor of torch may be float32 here
    (our dtype rule for data that did not choose a dtype); every other dtype is the same."""
    if isinstance(ref, torch.Tensor):
        assert isinstance(ours, tg.Tensor), f"{path}: {type(ours).__name__}, expected a Tensor"
        assert tuple(ours.shape) == tuple(ref.shape), f"{path}: shape {ours.shape} vs {tuple(ref.shape)}"
        want = ref.numpy().dtype
        got = ours.array.dtype
        assert got == want or (want == np.float64 and got == np.float32), f"{path}: dtype {got} vs {want}"
        np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-6, err_msg=path)
    elif isinstance(ref, dict):
        assert type(ours) is type(ref) and list(ours) == list(ref), f"{path}: {ours!r} vs {ref!r}"
        for k in ref:
            assert_same(ours[k], ref[k], f"{path}[{k!r}]")
    elif isinstance(ref, (list, tuple)):
        assert type(ours).__name__ == type(ref).__name__, f"{path}: {type(ours).__name__} vs {type(ref).__name__}"
        assert len(ours) == len(ref), f"{path}: length {len(ours)} vs {len(ref)}"
        for i, (a, b) in enumerate(zip(ours, ref)):
            assert_same(a, b, f"{path}[{i}]")
    else:
        assert ours == ref and type(ours) is type(ref), f"{path}: {ours!r} vs {ref!r}"


def assert_same_f64(ours, ref, path="batch"):
    """Like assert_same but float64 must stay float64."""
    if isinstance(ref, torch.Tensor):
        assert ours.array.dtype == ref.numpy().dtype, f"{path}: dtype {ours.array.dtype} vs {ref.numpy().dtype}"
    assert_same(ours, ref, path)


Point = collections.namedtuple("Point", ["x", "y"])


class Samples:
    """A plain map-style dataset (no base class): both libraries' DataLoaders accept it."""

    def __init__(self, n, kind):
        self.n, self.kind = n, kind

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        k = self.kind
        if k == "tuple":
            return np.array([i, -i], np.float64), i % 3, {"w": float(i) / 2, "name": f"s{i}"}
        if k == "list":
            return [np.arange(3, dtype=np.int32) + i, np.float32(i) / 4, True if i % 2 else False]
        if k == "dict":
            return {"img": np.full((2, 2), i, np.uint8), "label": i, "meta": (i, str(i))}
        if k == "namedtuple":
            return Point(np.int64(i), np.array([1.5 * i]))
        if k == "scalar":
            return i * 10
        if k == "float":
            return i + 0.5
        if k == "string":
            return f"text-{i}"
        raise AssertionError(k)


KINDS = ["tuple", "list", "dict", "namedtuple", "scalar", "float", "string"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("bs,drop", [(3, False), (3, True), (1, False), (7, False), (20, False)])
def test_generic_dataset_batches_match_torch(kind, bs, drop):
    ds = Samples(7, kind)
    ours = list(U.DataLoader(ds, batch_size=bs, drop_last=drop))
    ref = list(TU.DataLoader(ds, batch_size=bs, drop_last=drop))
    assert len(ours) == len(ref)
    for k, (a, b) in enumerate(zip(ours, ref)):
        assert_same(a, b, f"batch {k}")


@pytest.mark.parametrize("kind", KINDS)
def test_no_auto_batching_batch_size_none_matches_torch(kind):
    ds = Samples(4, kind)
    ours = list(U.DataLoader(ds, batch_size=None))
    ref = list(TU.DataLoader(ds, batch_size=None))
    assert len(ours) == len(ref) == 4
    for k, (a, b) in enumerate(zip(ours, ref)):
        assert_same(a, b, f"sample {k}")


def test_default_collate_and_convert_match_torch():
    cases = [
        [0, 1, 2], [True, False], [1, 2.5], [np.float64(1.5), np.float64(2.0)], [np.int16(3), np.int16(4)],
        [np.bool_(True), np.bool_(False)], ["a", "b"], [b"x", b"y"], [(0, "a"), (1, "b")],
        [[1, 2], [3, 4]], [{"A": 0, "B": 1}, {"A": 100, "B": 100}], [Point(0, 1), Point(2, 3)],
        [np.zeros((2, 3), np.float32), np.ones((2, 3), np.float32)], [np.arange(3), np.arange(3)],
        [collections.OrderedDict(a=1.0, b=2), collections.OrderedDict(a=3.0, b=4)],
    ]
    for batch in cases:
        assert_same(U.default_collate(batch), TU.default_collate(batch), f"default_collate({batch!r})")
    for data in [0, "s", np.array([0, 1]), np.float64(2.5), Point(np.array(0), np.array(1)), (np.zeros(2), 1),
                 [np.array([0, 1]), np.array([2, 3])], {"a": np.ones(2, np.int8), "b": "x"}]:
        assert_same(U.default_convert(data), TU.default_convert(data), f"default_convert({data!r})")


def test_tensors_keep_their_dtype_when_collated():
    """Tensors made float64 on purpose stay float64 (torch: the same); our float32 rule is for data
    that did not choose a dtype."""
    x = np.linspace(0, 1, 12).reshape(6, 2)
    ours = U.default_collate([tg.tensor(r, dtype=tg.float64) for r in x])
    ref = TU.default_collate([torch.tensor(r) for r in x])
    assert_same_f64(ours, ref)
    ds = U.TensorDataset(tg.tensor(x, dtype=tg.float64), tg.arange(6))
    tds = TU.TensorDataset(torch.tensor(x), torch.arange(6))
    for a, b in zip(U.DataLoader(ds, batch_size=4), TU.DataLoader(tds, batch_size=4)):
        assert_same_f64(a, b)
    # a Python float batch: float32 here, float64 in torch (documented difference)
    assert U.default_collate([0.5, 1.5]).dtype == np.float32 and TU.default_collate([0.5, 1.5]).dtype == torch.float64


def test_default_collate_errors_like_torch():
    for batch, exc in [([np.zeros(2), np.zeros(3)], RuntimeError), ([[1, 2], [3]], RuntimeError),
                       ([None, None], TypeError), ([np.array(["a"]), np.array(["b"])], TypeError),
                       ([object(), object()], TypeError)]:
        with pytest.raises(exc):
            TU.default_collate(batch)
        with pytest.raises(exc, match="default_collate"):
            U.default_collate(batch)


@pytest.mark.parametrize("n,bs,drop", [(10, 3, False), (10, 3, True), (12, 4, False), (12, 4, True), (5, 8, False),
                                       (5, 8, True), (1, 1, False)])
def test_tensor_dataset_len_and_batches_match_torch(n, bs, drop):
    x = np.arange(n * 2, dtype=np.float32).reshape(n, 2)
    y = np.arange(n, dtype=np.int64) * 7
    ours = U.DataLoader(U.TensorDataset(x, y), batch_size=bs, drop_last=drop)
    ref = TU.DataLoader(TU.TensorDataset(torch.tensor(x), torch.tensor(y)), bs, drop_last=drop)
    assert len(ours) == len(ref) and len(ours.dataset) == len(ref.dataset) == n
    for _ in range(2):                                       # iterating twice gives the same epoch
        got, want = list(ours), list(ref)
        assert len(got) == len(want) == len(ours)
        for a, b in zip(got, want):
            assert_same(a, b)


def test_user_collate_fn_receives_what_torch_gives_it():
    ds = Samples(5, "tuple")
    seen_ours, seen_ref = [], []

    def collate(store):
        def fn(samples):
            store.append(samples)
            return len(samples)
        return fn
    assert list(U.DataLoader(ds, batch_size=2, collate_fn=collate(seen_ours))) == [2, 2, 1]
    assert list(TU.DataLoader(ds, batch_size=2, collate_fn=collate(seen_ref))) == [2, 2, 1]
    assert type(seen_ours[0]) is type(seen_ref[0]) is list
    for a, b in zip(seen_ours, seen_ref):
        for sa, sb in zip(a, b):
            np.testing.assert_array_equal(sa[0], sb[0])
            assert sa[1:] == sb[1:]
    # a TensorDataset with a collate_fn gets tuples of Tensors, one per sample
    got = []
    list(U.DataLoader(U.TensorDataset(np.arange(4), np.arange(4) * 2), batch_size=3, collate_fn=got.append))
    assert [len(b) for b in got] == [3, 1] and isinstance(got[0][0], tuple) and got[0][2][1].item() == 4


def test_sampler_batch_sampler_and_lists_like_torch():
    data = list(range(100, 110))                           # a Python list is a dataset too
    for kw in [dict(sampler=[3, 1, 4, 1, 5], batch_size=2), dict(batch_sampler=[[0, 1, 2], [9], [5, 5]]),
               dict(sampler=U.SequentialSampler(data), batch_size=4, drop_last=True),
               dict(batch_sampler=U.BatchSampler(U.SequentialSampler(data), 3, False)),
               dict(sampler=iter_sampler(), batch_size=3)]:
        rkw = dict(kw)
        if isinstance(kw.get("sampler"), U.SequentialSampler):
            rkw["sampler"] = TU.SequentialSampler(data)
        if isinstance(kw.get("batch_sampler"), U.BatchSampler):
            rkw["batch_sampler"] = TU.BatchSampler(TU.SequentialSampler(data), 3, False)
        if isinstance(kw.get("sampler"), IterSampler):
            rkw["sampler"] = iter_sampler()
        ours, ref = list(U.DataLoader(data, **kw)), list(TU.DataLoader(data, **rkw))
        assert len(ours) == len(ref)
        for a, b in zip(ours, ref):
            assert_same(a, b)
    assert list(U.BatchSampler(U.SequentialSampler(range(10)), 3, False)) == \
        list(TU.BatchSampler(TU.SequentialSampler(range(10)), 3, False)) == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    assert list(U.BatchSampler(range(10), 3, True)) == list(TU.BatchSampler(range(10), 3, True))
    assert len(U.BatchSampler(range(10), 4, True)) == len(TU.BatchSampler(range(10), 4, True)) == 2


class IterSampler:
    """A sampler with no __len__ (any iterable works as a sampler in PyTorch)."""

    def __iter__(self):
        return iter([9, 8, 7, 0, 1])


def iter_sampler():
    return IterSampler()


def test_setting_frozen_attributes_after_init_raises_like_torch():
    ours, ref = U.DataLoader(list(range(4))), TU.DataLoader(list(range(4)))
    for attr in ("batch_size", "sampler", "drop_last", "dataset", "batch_sampler", "persistent_workers"):
        with pytest.raises(ValueError):
            setattr(ref, attr, None)
        with pytest.raises(ValueError, match=f"{attr} attribute should not be set"):
            setattr(ours, attr, None)
    ours.num_workers = 0                                   # others may change, as in torch


# ---------------------------------------------------------------------- argument validation
class TorchIter(TU.IterableDataset):
    def __iter__(self):
        return iter(range(3))


class OurIter(U.IterableDataset):
    def __iter__(self):
        return iter(range(3))


BAD = [
    dict(num_workers=-1), dict(timeout=-1), dict(prefetch_factor=2), dict(persistent_workers=True),
    dict(num_workers=1, prefetch_factor=-1), dict(sampler=[0, 1], shuffle=True),
    dict(batch_sampler=[[0]], batch_size=2), dict(batch_sampler=[[0]], shuffle=True),
    dict(batch_sampler=[[0]], sampler=[0]), dict(batch_sampler=[[0]], drop_last=True),
    dict(batch_size=None, drop_last=True), dict(batch_size=0), dict(batch_size=-3),
    dict(multiprocessing_context="fork"), dict(num_workers=1, multiprocessing_context="nonsense"),
    dict(num_workers=1, multiprocessing_context=3), dict(drop_last="yes"),
    dict(iterable=True, shuffle=True), dict(iterable=True, sampler=[0]), dict(iterable=True, batch_sampler=[[0]]),
]


@pytest.mark.parametrize("kw", BAD, ids=[",".join(f"{k}={v}" for k, v in kw.items()) for kw in BAD])
def test_bad_arguments_rejected_like_torch(kw):
    kw = dict(kw)
    iterable = kw.pop("iterable", False)
    ds_ours, ds_ref = (OurIter(), TorchIter()) if iterable else (list(range(5)), list(range(5)))
    with pytest.raises(Exception) as ref_err:
        TU.DataLoader(ds_ref, **kw)
    with pytest.raises(type(ref_err.value)) as err:
        U.DataLoader(ds_ours, **kw)
    assert "DataLoader" in str(err.value) and len(str(err.value)) > 30       # names the op, says why


def test_bad_arguments_of_ours():
    with pytest.raises(TypeError, match="num_workers must be an int"):
        U.DataLoader([1, 2], num_workers=1.5)
    with pytest.raises(TypeError, match="generator"):
        U.DataLoader([1, 2], shuffle=True, generator=np.random.default_rng(0))
    with pytest.raises(ValueError, match="either generator= or seed="):
        U.DataLoader([1, 2], shuffle=True, generator=tg.Generator(), seed=1)
    with pytest.raises(TypeError, match="worker_init_fn must be callable"):
        U.DataLoader([1, 2], num_workers=1, worker_init_fn=3)
    with pytest.raises(TypeError, match="needs __getitem__"):
        U.DataLoader(object())
    with pytest.raises(ValueError, match="timeout=5 needs num_workers > 0"):
        iter(U.DataLoader([1, 2], timeout=5))              # torch: fails at iter() too
    with pytest.raises(Exception):
        iter(TU.DataLoader([1, 2], timeout=5))


def test_accepted_options_change_nothing():
    ds = U.TensorDataset(np.arange(10.0), np.arange(10))
    plain = list(U.DataLoader(ds, batch_size=4))
    for kw in [dict(pin_memory=True), dict(pin_memory=True, pin_memory_device="cuda"),
               dict(num_workers=2, prefetch_factor=4, timeout=3, in_order=False),
               dict(num_workers=1, multiprocessing_context="spawn", persistent_workers=True)]:
        got = list(U.DataLoader(ds, batch_size=4, **kw))
        assert len(got) == len(plain)
        for a, b in zip(got, plain):
            np.testing.assert_array_equal(a[0].numpy(), b[0].numpy())
            np.testing.assert_array_equal(a[1].numpy(), b[1].numpy())


# ---------------------------------------------------------------------- shuffling and generators
def _order(loader):
    return np.concatenate([b[1].numpy() for b in loader])


def test_generator_controls_shuffling():
    ds = U.TensorDataset(np.zeros((50, 1)), np.arange(50))
    a = U.DataLoader(ds, batch_size=8, shuffle=True, generator=tg.Generator().manual_seed(3))
    b = U.DataLoader(ds, batch_size=8, shuffle=True, generator=tg.Generator().manual_seed(3))
    c = U.DataLoader(ds, batch_size=8, shuffle=True, generator=tg.Generator().manual_seed(4))
    tg.manual_seed(0)
    before = tg.random.get_rng_state()
    a1, a2, b1, b2, c1 = _order(a), _order(a), _order(b), _order(b), _order(c)
    assert tg.random.get_rng_state() == before              # the library generator is not consumed
    np.testing.assert_array_equal(a1, b1)
    np.testing.assert_array_equal(a2, b2)
    assert not np.array_equal(a1, a2) and not np.array_equal(a1, c1)
    assert sorted(a1.tolist()) == list(range(50))
    assert isinstance(a.sampler, U.RandomSampler) and a.sampler.generator is a.generator
    assert isinstance(U.DataLoader(ds).sampler, U.SequentialSampler)
    # without generator: the library generator (tg.manual_seed) decides
    d = U.DataLoader(ds, batch_size=8, shuffle=True)
    tg.manual_seed(11)
    d1 = _order(d)
    tg.manual_seed(11)
    np.testing.assert_array_equal(_order(d), d1)


def test_random_sampler_rules():
    g = tg.Generator().manual_seed(0)
    s = U.RandomSampler(range(5), num_samples=12, generator=g)
    out = list(s)
    assert len(out) == len(s) == 12
    assert sorted(out[:5]) == sorted(out[5:10]) == list(range(5)) and len(set(out[10:])) == 2
    r = U.RandomSampler(range(3), replacement=True, num_samples=50, generator=g)
    out = list(r)
    assert len(out) == 50 and set(out) == {0, 1, 2}
    for bad, exc in [(dict(replacement=1), TypeError), (dict(num_samples=0), ValueError),
                     (dict(num_samples=2.5), ValueError)]:
        with pytest.raises(exc):
            TU.RandomSampler(range(3), **bad)
        with pytest.raises(exc, match="RandomSampler"):
            U.RandomSampler(range(3), **bad)
    sub = U.SubsetRandomSampler([10, 20, 30, 40], generator=g)
    assert sorted(sub) == [10, 20, 30, 40] and len(sub) == 4
    w = U.WeightedRandomSampler([0.0, 1.0, 3.0, 0.0], 400, generator=g)
    draws = np.array(list(w))
    assert len(draws) == 400 and set(draws.tolist()) == {1, 2} and 0.6 < (draws == 2).mean() < 0.9
    assert sorted(U.WeightedRandomSampler([1, 1, 5], 3, replacement=False, generator=g)) == [0, 1, 2]
    for args, kw in [(([1.0, 2.0], 0), {}), (([1.0, 2.0], 2), dict(replacement=None)), (([[1.0], [2.0]], 2), {})]:
        with pytest.raises(ValueError):
            TU.WeightedRandomSampler(*args, **kw)
        with pytest.raises(ValueError, match="WeightedRandomSampler"):
            U.WeightedRandomSampler(*args, **kw)
    with pytest.raises(ValueError, match="without replacement"):
        U.WeightedRandomSampler([1.0, 0.0], 2, replacement=False)


@pytest.mark.parametrize("n,lengths", [(10, [0.8, 0.2]), (11, [0.5, 0.5]), (7, [0.3, 0.3, 0.4]), (10, [3, 7]),
                                       (5, [0.1, 0.1, 0.1, 0.7]), (3, [1 / 3] * 3), (10, [0.25, 0.25, 0.25, 0.25]),
                                       (4, [1, 0, 3]), (5, [1.0, 0.0])])
def test_random_split_lengths_like_torch(n, lengths):
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        ref = TU.random_split(range(n), lengths, generator=torch.Generator().manual_seed(0))
        ours = U.random_split(list(range(n)), lengths, generator=tg.Generator().manual_seed(0))
    assert [len(s) for s in ours] == [len(s) for s in ref]
    got = sorted(int(i) for s in ours for i in s.indices)
    assert got == list(range(n))                              # disjoint, covers everything
    assert all(isinstance(s, U.Subset) for s in ours)


def test_random_split_generator_errors_and_warning():
    ds = U.TensorDataset(np.arange(20))
    a = U.random_split(ds, [15, 5], generator=tg.Generator().manual_seed(1))
    b = U.random_split(ds, [15, 5], generator=tg.Generator().manual_seed(1))
    c = U.random_split(ds, [15, 5], generator=tg.Generator().manual_seed(2))
    np.testing.assert_array_equal(a[0].indices, b[0].indices)
    assert not np.array_equal(a[0].indices, c[0].indices)
    assert a[1][0][0].item() == int(a[1].indices[0])
    for lengths in ([3, 4], [0.5, 0.6], [-1, 21], [0.5, "x"]):
        exc = TypeError if "x" in lengths else ValueError
        with pytest.raises(exc, match="random_split"):
            U.random_split(ds, lengths)
    with pytest.warns(UserWarning, match="length of split at index 1 is 0"):
        U.random_split(U.TensorDataset(np.arange(3)), [0.9, 0.1])


# ---------------------------------------------------------------------- datasets
def test_datasets_like_torch():
    a, b = list(range(3)), list(range(10, 15))
    assert_same_idx = lambda x, y: [x[i] for i in range(len(x))] == [y[i] for i in range(len(y))]  # noqa: E731
    assert assert_same_idx(U.ConcatDataset([a, b]), TU.ConcatDataset([a, b]))
    assert U.ConcatDataset([a, b]).cumulative_sizes == TU.ConcatDataset([a, b]).cumulative_sizes == [3, 8]
    st, tst = U.StackDataset(a, a), TU.StackDataset(a, a)
    assert st[1] == tst[1] == (1, 1) and len(st) == len(tst)
    assert U.StackDataset(x=a, y=a)[2] == TU.StackDataset(x=a, y=a)[2] == {"x": 2, "y": 2}
    with pytest.raises(ValueError, match="size mismatch"):
        U.StackDataset(a, b)
    sub, tsub = U.Subset(b, [4, 0, 2]), TU.Subset(b, [4, 0, 2])
    assert [sub[i] for i in range(3)] == [tsub[i] for i in range(3)] == [14, 10, 12]
    assert len(sub) == len(tsub) == 3
    chain = OurIter() + OurIter()
    assert isinstance(chain, U.ChainDataset) and list(chain) == list(TorchIter() + TorchIter())
    with pytest.raises(TypeError, match="IterableDataset"):
        U.ConcatDataset([OurIter()])
    with pytest.raises(TypeError):
        len(U.Dataset())
    x = np.arange(12).reshape(6, 2)
    ds, tds = U.TensorDataset(x, np.arange(6)), TU.TensorDataset(torch.tensor(x), torch.arange(6))
    for idx in (2, -1, slice(1, 4), [0, 5, 5]):
        assert_same(list(ds[idx]), list(tds[idx]))


# ---------------------------------------------------------------------- IterableDataset and workers
def make_stream(base, worker_info, lengths=None):
    """A stream of 0..n-1; with ``lengths`` worker w yields ``lengths[w]`` numbers of its own (w*100+i),
    so the workers' streams end at different times."""

    class Stream(base):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            info = worker_info()
            if info is None or lengths is None:
                return iter(range(self.n))
            return iter(range(info.id * 100, info.id * 100 + lengths[info.id]))

        def __len__(self):
            return self.n
    return Stream


def make_sharded(base, worker_info):
    """PyTorch's documented sharding recipe: each worker takes a contiguous part of [start, end)."""

    class Sharded(base):
        def __init__(self, start, end):
            self.start, self.end = start, end

        def __iter__(self):
            info = worker_info()
            if info is None:
                return iter(range(self.start, self.end))
            per = int(math.ceil((self.end - self.start) / float(info.num_workers)))
            lo = self.start + info.id * per
            return iter(range(lo, min(lo + per, self.end)))
    return Sharded


def _both(make, *args, **kw):
    ours = make(U.IterableDataset, U.get_worker_info, **kw)(*args)
    ref = make(TU.IterableDataset, TU.get_worker_info, **kw)(*args)
    return ours, ref


def _batches_equal(ours_loader, ref_loader):
    ours, ref = list(ours_loader), list(ref_loader)
    assert len(ours) == len(ref), (ours, ref)
    for a, b in zip(ours, ref):
        assert_same(a, b)
    return ours


@pytest.mark.parametrize("workers", [0, 2, 3])
@pytest.mark.parametrize("bs,drop", [(4, False), (4, True), (None, False), (1, False)])
def test_iterable_dataset_matches_torch_real_workers(workers, bs, drop):
    ours, ref = _both(make_sharded, 3, 20)
    got = _batches_equal(U.DataLoader(ours, batch_size=bs, drop_last=drop, num_workers=workers),
                         TU.DataLoader(ref, batch_size=bs, drop_last=drop, num_workers=workers))
    assert got                                               # not vacuous
    # without sharding every worker yields the whole stream, interleaved batch by batch (as in torch)
    ours, ref = _both(make_stream, 6)
    _batches_equal(U.DataLoader(ours, batch_size=bs, drop_last=drop, num_workers=workers),
                   TU.DataLoader(ref, batch_size=bs, drop_last=drop, num_workers=workers))


def test_iterable_workers_ending_at_different_times_match_torch():
    ours, ref = _both(make_stream, 0, lengths=[1, 9, 4])
    for bs in (2, 3, None):
        got = _batches_equal(U.DataLoader(ours, batch_size=bs, num_workers=3),
                             TU.DataLoader(ref, batch_size=bs, num_workers=3))
        assert len(got) > 3


def test_iterable_len():
    ours, ref = _both(make_stream, 10)
    for bs, drop in [(3, False), (3, True), (None, False)]:
        assert len(U.DataLoader(ours, batch_size=bs, drop_last=drop)) == \
            len(TU.DataLoader(ref, batch_size=bs, drop_last=drop))
    with pytest.raises(TypeError):
        len(U.DataLoader(make_sharded(U.IterableDataset, U.get_worker_info)(0, 4)))


class WhoFetched:
    """Each sample records the worker that fetched it; works with both libraries' DataLoaders."""

    def __init__(self, n, worker_info, initial_seed):
        self.n, self.worker_info, self.initial_seed = n, worker_info, initial_seed

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        info = self.worker_info()
        if info is None:
            return i, -1
        assert self.initial_seed() == info.seed             # torch.initial_seed() is the worker's seed
        return i, info.id


@pytest.mark.parametrize("workers", [1, 2, 3])
@pytest.mark.parametrize("bs", [2, 5])
def test_map_dataset_worker_schedule_matches_torch(workers, bs):
    ours = WhoFetched(13, U.get_worker_info, tg.initial_seed)
    ref = WhoFetched(13, TU.get_worker_info, torch.initial_seed)
    got = _batches_equal(U.DataLoader(ours, batch_size=bs, num_workers=workers),
                         TU.DataLoader(ref, batch_size=bs, num_workers=workers))
    assert [int(b[1][0]) for b in got] == [k % workers for k in range(len(got))]
    assert U.get_worker_info() is None                      # back in the main "process"


def _seed_loader(lib, worker_info, **kw):
    class Seeds:
        def __len__(self):
            return 4

        def __getitem__(self, i):
            info = worker_info()
            return info.seed - info.id                       # the epoch's base seed
    return lib.DataLoader(Seeds(), batch_size=2, num_workers=2, **kw)


@pytest.mark.parametrize("persistent", [False, True])
def test_worker_seeds_per_epoch_like_torch(persistent):
    """One base seed per epoch (a new one each epoch unless persistent_workers), seed = base + id."""
    for lib, wi, gen in ((U, U.get_worker_info, tg.Generator().manual_seed(5)),
                         (TU, TU.get_worker_info, torch.Generator().manual_seed(5))):
        loader = _seed_loader(lib, wi, persistent_workers=persistent, generator=gen)
        e1 = [int(v) for b in loader for v in b]
        e2 = [int(v) for b in loader for v in b]
        assert len(set(e1)) == 1 and len(set(e2)) == 1, lib  # every worker has the same base seed
        assert (e1 == e2) == persistent, lib
    a = _seed_loader(U, U.get_worker_info, generator=tg.Generator().manual_seed(9))
    b = _seed_loader(U, U.get_worker_info, generator=tg.Generator().manual_seed(9))
    assert [int(v) for x in a for v in x] == [int(v) for x in b for v in x]     # reproducible


class RandomAugment:
    """__getitem__ draws random numbers from the library generator, NumPy and Python's random."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return np.array([i, tg.rand(1).item(), np.random.rand(), random.random()])


def test_workers_random_streams_are_their_own_and_reproducible():
    def epoch(workers, seed):
        loader = U.DataLoader(RandomAugment(8), batch_size=2, num_workers=workers,
                              generator=tg.Generator().manual_seed(seed))
        return np.concatenate([b.numpy() for b in loader])
    tg.manual_seed(1)
    np.random.seed(1)
    random.seed(1)
    states = (tg.random.get_rng_state(), np.random.get_state()[1].copy(), random.getstate())
    a = epoch(2, 0)
    assert tg.random.get_rng_state() == states[0]           # the caller's streams are untouched
    np.testing.assert_array_equal(np.random.get_state()[1], states[1])
    assert random.getstate() == states[2]
    b = epoch(2, 0)
    np.testing.assert_array_equal(a, b)                      # same generator seed: same augmentation
    c = epoch(2, 1)
    assert not np.array_equal(a[:, 1:], c[:, 1:])
    # worker 0 fetches batches 0 and 2, worker 1 batches 1 and 3: within a worker the streams go on,
    # and the two workers (different seeds) draw different numbers
    assert len({round(v, 12) for v in a[:, 1]}) == 8


def test_worker_init_fn_called_per_worker_and_persistent():
    calls = []

    def init(wid):
        info = U.get_worker_info()
        calls.append((wid, info.id, info.num_workers, info.dataset is ds))
        assert tg.initial_seed() == info.seed

    ds = U.TensorDataset(np.arange(6))
    loader = U.DataLoader(ds, batch_size=2, num_workers=3, worker_init_fn=init)
    list(loader)
    list(loader)
    assert calls == [(0, 0, 3, True), (1, 1, 3, True), (2, 2, 3, True)] * 2
    calls.clear()
    loader = U.DataLoader(ds, batch_size=2, num_workers=2, worker_init_fn=init, persistent_workers=True)
    list(loader)
    list(loader)
    assert calls == [(0, 0, 2, True), (1, 1, 2, True)]
    with pytest.raises(RuntimeError, match="Cannot assign"):
        U.WorkerInfo(id=0, num_workers=1, seed=1, dataset=None).id = 3


def test_pytorch_examples_mnist_loader_settings():
    """pytorch/examples mnist/main.py: DataLoader(dataset, batch_size=64, num_workers=1, pin_memory=True,
    shuffle=True), and a test loader without shuffle."""
    x = np.random.default_rng(0).integers(0, 255, (100, 1, 28, 28)).astype(np.float32)
    y = np.arange(100) % 10
    ds = U.TensorDataset(x, y)
    train = U.DataLoader(ds, **{"batch_size": 64, "num_workers": 1, "pin_memory": True, "shuffle": True})
    test = U.DataLoader(ds, **{"batch_size": 1000, "num_workers": 1, "pin_memory": True})
    assert len(train) == 2 and len(train.dataset) == 100 and len(test) == 1
    seen = np.concatenate([yb.numpy() for _, yb in train])
    assert sorted(seen.tolist()) == sorted(y.tolist())
    for xb, yb in train:
        assert xb.shape[1:] == (1, 28, 28) and xb.dtype == np.float32 and yb.dtype == np.int64
    (xb, yb), = list(test)
    np.testing.assert_array_equal(xb.numpy(), x)
