"""BPR: the SGD step against a numpy reference, sampling, reproducibility, learning, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recsys_course.data import simulate, train_test_split
from recsys_course.metrics import evaluate
from recsys_course.models import BPR, sample_negatives, sampled_negative_truth
from recsys_course.models._bpr_kernels import bpr_epoch, bpr_epoch_portable, build_bitset, draw_triples
from recsys_course.models.bpr import _popularity_cdf, _structure


def small_counts(seed=0, n_users=30, n_items=20, density=0.25):
    rng = np.random.default_rng(seed)
    dense = (rng.random((n_users, n_items)) < density) * rng.integers(1, 4, (n_users, n_items))
    dense[:, 0] = np.maximum(dense[:, 0], 1)  # nobody is empty
    return sp.csr_matrix(dense.astype(float))


@pytest.fixture(scope="module")
def sim_split():
    sim = simulate(n_users=300, n_items=120, random_state=0)
    train, test = train_test_split(sim.counts, test_fraction=0.2, random_state=0)
    return sim, train, test


# -------------------------------------------------------- the update, exactly
@pytest.mark.parametrize("kernel", [bpr_epoch, bpr_epoch_portable], ids=["fast", "portable"])
@pytest.mark.parametrize("use_bias", [True, False])
@pytest.mark.parametrize("sampler", ["uniform", "popularity"])
def test_epoch_matches_numpy_reference(use_bias, sampler, kernel):
    counts = small_counts(1)
    user_of, indptr, indices = _structure(counts)
    n_users, n_items = counts.shape
    rng = np.random.default_rng(3)
    X = rng.normal(0, 0.3, (n_users, 5))
    Y = rng.normal(0, 0.3, (n_items, 5))
    b = rng.normal(0, 0.1, n_items) if use_bias else np.zeros(n_items)
    cdf = _popularity_cdf(counts, sampler, 0.75)
    seed = np.uint64(123456789)
    n_samples, lr, reg = 40, 0.1, 0.02
    users, pos, neg = draw_triples(user_of, indptr, indices, n_items, n_samples, cdf, True, 50, seed)
    Xr, Yr, br = X.copy(), Y.copy(), b.copy()
    losses = []
    for u, i, j in zip(users, pos, neg):
        assert j >= 0 and counts[u, j] == 0
        z = Xr[u] @ (Yr[i] - Yr[j]) + br[i] - br[j]
        losses.append(np.log1p(np.exp(-z)))
        g = 1 / (1 + np.exp(z))
        x = Xr[u].copy()
        Xr[u] += lr * (g * (Yr[i] - Yr[j]) - reg * x)
        yi = Yr[i].copy()
        Yr[i] += lr * (g * x - reg * yi)
        Yr[j] += lr * (-g * x - reg * Yr[j])
        if use_bias:
            br[i] += lr * (g - reg * br[i])
            br[j] += lr * (-g - reg * br[j])
    stats = np.zeros((1, 6))
    bits = build_bitset(indptr, indices, n_items)
    kernel(X, Y, b, use_bias, user_of, indptr, indices, bits, n_items, n_samples, 1, lr, reg,
           cdf, True, 50, 1, np.array([seed]), stats)
    np.testing.assert_allclose(X, Xr, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(Y, Yr, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(b, br, rtol=1e-9, atol=1e-12)
    assert stats[0, 2] == n_samples and stats[0, 4] == n_samples
    assert stats[0, 0] / stats[0, 4] == pytest.approx(np.mean(losses))


def test_bitset_matches_the_matrix():
    counts = small_counts(2, n_users=7, n_items=130)
    _, indptr, indices = _structure(counts)
    bits = build_bitset(indptr, indices, 130)
    words = 3
    dense = counts.toarray() > 0
    for u in range(7):
        for item in range(130):
            word = int(bits[u * words + item // 64])
            assert bool((word >> (item % 64)) & 1) == dense[u, item]


# ---------------------------------------------------------------- sampling
def test_verified_negatives_are_never_training_items():
    counts = small_counts(4, density=0.6)
    for sampler in ("uniform", "popularity"):
        users, pos, neg = sample_negatives(counts, 5000, sampler=sampler, random_state=0)
        dense = counts.toarray() > 0
        assert np.all(dense[users, pos])
        found = neg >= 0
        assert found.all()
        assert not dense[users[found], neg[found]].any()


def test_unverified_negatives_include_positives_at_the_expected_rate():
    counts = small_counts(4, density=0.6)
    users, _, neg = sample_negatives(counts, 20000, verify_negatives=False, random_state=1)
    dense = counts.toarray() > 0
    false_negative = dense[users, neg].mean()
    # a uniform item is a positive of the sampled user with probability |I_u| / n_items,
    # averaged over users in proportion to how often they are sampled (their |I_u|)
    sizes = dense.sum(axis=1)
    expected = (sizes * sizes / dense.shape[1]).sum() / sizes.sum()
    assert false_negative == pytest.approx(expected, abs=0.02)


def test_uniform_and_popularity_frequencies():
    counts = sp.csr_matrix(np.array([[1, 0, 0, 0]] + [[0, 1, 1, 1]] * 3 + [[0, 0, 0, 1]] * 6, dtype=float))
    # user 0 is the only one drawing negatives among 1, 2, 3 without rejections
    pop = np.bincount(counts.indices, minlength=4).astype(float)
    _, _, neg = sample_negatives(counts, 60000, sampler="popularity", popularity_exponent=1.0,
                                 verify_negatives=False, random_state=0)
    freq = np.bincount(neg, minlength=4) / neg.size
    np.testing.assert_allclose(freq, pop / pop.sum(), atol=0.01)
    _, _, neg = sample_negatives(counts, 60000, sampler="popularity", popularity_exponent=0.5,
                                 verify_negatives=False, random_state=0)
    freq = np.bincount(neg, minlength=4) / neg.size
    np.testing.assert_allclose(freq, np.sqrt(pop) / np.sqrt(pop).sum(), atol=0.01)
    _, _, neg = sample_negatives(counts, 60000, verify_negatives=False, random_state=0)
    np.testing.assert_allclose(np.bincount(neg, minlength=4) / neg.size, 0.25, atol=0.01)


def test_user_with_every_item_gets_no_negative():
    counts = sp.csr_matrix(np.array([[1, 1, 1], [1, 0, 0]], dtype=float))
    users, _, neg = sample_negatives(counts, 2000, max_draws=40, random_state=0)
    assert np.all(neg[users == 0] == -1)
    assert np.all(neg[users == 1] >= 1)
    model = BPR(factors=2, epochs=2, random_state=0, num_threads=1, max_draws=5).fit(counts)
    assert sum(model.history["missed"]) > 0


def test_sampling_is_reproducible():
    counts = small_counts(5)
    a = sample_negatives(counts, 300, sampler="popularity", random_state=7)
    b = sample_negatives(counts, 300, sampler="popularity", random_state=7)
    c = sample_negatives(counts, 300, sampler="popularity", random_state=8)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c))


# --------------------------------------------------------- the model contract
@pytest.mark.parametrize("schedule", ["strata", "hogwild"])
def test_single_thread_fits_are_bit_for_bit_equal(sim_split, schedule):
    _, train, test = sim_split
    kwargs = dict(factors=8, epochs=3, random_state=11, num_threads=1, schedule=schedule)
    a = BPR(**kwargs).fit(train, validation=test)
    b = BPR(**kwargs).fit(train, validation=test)
    assert np.array_equal(a.user_factors, b.user_factors)
    assert np.array_equal(a.item_factors, b.item_factors)
    assert np.array_equal(a.item_biases, b.item_biases)
    assert a.history["loss"] == b.history["loss"]
    assert a.history["validation_auc"] == b.history["validation_auc"]
    portable = [BPR(**kwargs, fast_math=False).fit(train).item_factors for _ in range(2)]
    assert np.array_equal(portable[0], portable[1])
    c = BPR(**{**kwargs, "random_state": 12}).fit(train)
    assert not np.array_equal(a.item_factors, c.item_factors)
    # an estimator can be fitted again: same parameters, same seed, same model
    a.fit(train, validation=test)
    assert np.array_equal(a.item_factors, b.item_factors)


@pytest.mark.parametrize("schedule", ["strata", "hogwild"])
def test_learns_on_simulated_data(sim_split, schedule):
    _, train, test = sim_split
    model = BPR(factors=16, epochs=40, learning_rate=0.05, random_state=0, num_threads=1,
                schedule=schedule)
    model.fit(train, validation=test)
    history = model.history
    assert len(history["loss"]) == 40
    assert history["loss"][-1] < history["loss"][0] < np.log(2) + 0.01
    assert history["validation_auc"][-1] > 0.75
    assert history["train_order"][-1] > history["train_order"][0]
    result = evaluate(model, train, test, k=10, metrics=["auc", "ndcg"])
    assert result["auc"] > 0.75
    assert model.samples_per_second > 0
    assert sum(history["samples"]) == 40 * train.nnz
    # the method gives the same estimate as the last epoch's record, up to sampling
    held_out = model.validation_auc(test, n_pairs=20_000, random_state=1)
    assert held_out == pytest.approx(history["validation_auc"][-1], abs=0.02)
    assert held_out == model.validation_auc(test, n_pairs=20_000, random_state=1)


@pytest.mark.parametrize("schedule", ["strata", "hogwild"])
def test_parallel_fit_learns_too(sim_split, schedule):
    _, train, test = sim_split
    model = BPR(factors=16, epochs=40, random_state=0, num_threads=2, schedule=schedule)
    model.fit(train, validation=test)
    assert model.history["validation_auc"][-1] > 0.75
    # hogwild's streams split one epoch's samples between them (rounded up); strata's blocks
    # take one step per stored pair, minus negatives that could not be drawn
    samples = model.history["samples"][0] + model.history["missed"][0]
    assert train.nnz <= samples <= train.nnz + (1 if schedule == "hogwild" else 0)


def test_scores_include_the_item_bias_and_recommend_skips_seen(sim_split):
    _, train, _ = sim_split
    model = BPR(factors=4, epochs=2, random_state=0, num_threads=1).fit(train)
    users = np.array([0, 5])
    expected = model.user_factors[users] @ model.item_factors.T + model.item_biases
    np.testing.assert_allclose(model.score(users), expected, rtol=1e-6)
    items, scores = model.recommend(0, k=10)
    assert not set(items) & set(train[0].indices)
    assert np.all(np.diff(scores) <= 0)
    similar, _ = model.similar_items(3, k=5)
    assert 3 not in similar and similar.size == 5
    no_bias = BPR(factors=4, epochs=2, random_state=0, item_bias=False, num_threads=1).fit(train)
    assert np.all(no_bias.item_biases == 0)
    as64 = BPR(factors=4, epochs=2, random_state=0, num_threads=1, dtype=np.float64).fit(train)
    assert as64.item_factors.dtype == np.float64


def test_several_negatives_per_positive(sim_split):
    _, train, _ = sim_split
    model = BPR(factors=4, epochs=1, negatives=3, random_state=0, num_threads=1).fit(train)
    assert model.history["samples"][0] == 3 * train.nnz


def test_early_stopping_keeps_the_best_epoch(sim_split):
    _, train, test = sim_split
    kwargs = dict(factors=8, learning_rate=0.3, regularization=0.0, random_state=2, num_threads=1)
    stopped = BPR(epochs=60, early_stopping=3, **kwargs).fit(train, validation=test)
    auc = stopped.history["validation_auc"]
    assert stopped.best_epoch == int(np.argmax(auc)) + 1
    assert len(auc) <= 60
    if len(auc) < 60:
        assert len(auc) == stopped.best_epoch + 3
    # the kept factors are those of the best epoch: retrain exactly that many epochs
    again = BPR(epochs=stopped.best_epoch, **kwargs).fit(train, validation=test)
    assert np.array_equal(again.item_factors, stopped.item_factors)


def test_progress_bar_runs(sim_split, capsys):
    _, train, _ = sim_split
    model = BPR(factors=2, epochs=2, progress=True, random_state=0, num_threads=1).fit(train)
    err = capsys.readouterr().err
    assert "BPR" in err and "2/2" in err  # the bar was drawn and reached its last epoch
    quiet = BPR(factors=2, epochs=2, progress=False, random_state=0, num_threads=1).fit(train)
    assert capsys.readouterr().err == ""
    assert np.array_equal(model.item_factors, quiet.item_factors)  # the bar changes nothing else


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        (dict(factors=0), ValueError, "factors"),
        (dict(factors=2.0), TypeError, "factors"),
        (dict(learning_rate=0.0), ValueError, "learning_rate"),
        (dict(learning_rate=float("nan")), ValueError, "learning_rate"),
        (dict(regularization=-1.0), ValueError, "regularization"),
        (dict(epochs=0), ValueError, "epochs"),
        (dict(sampler="hard"), ValueError, "sampler"),
        (dict(popularity_exponent=-0.5), ValueError, "popularity_exponent"),
        (dict(negatives=0), ValueError, "negatives"),
        (dict(verify_negatives="yes"), TypeError, "verify_negatives"),
        (dict(max_draws=0), ValueError, "max_draws"),
        (dict(item_bias=1), TypeError, "item_bias"),
        (dict(early_stopping=0), ValueError, "early_stopping"),
        (dict(num_threads=-1), ValueError, "num_threads"),
        (dict(random_state="seed"), TypeError, "random_state"),
        (dict(dtype=np.int32), TypeError, "dtype"),  # a bad dtype is a TypeError in every model
        (dict(dtype="nonsense"), TypeError, "dtype"),  # numpy cannot read it: once trained in float64
        (dict(progress=None), TypeError, "progress"),
        (dict(fast_math=0), TypeError, "fast_math"),
    ],
)
def test_bad_parameters_are_named(kwargs, error, words):
    with pytest.raises(error, match=words):
        BPR(**kwargs).fit(small_counts())


def test_bad_data_is_rejected():
    with pytest.raises(ValueError, match="counts"):
        BPR().fit(sp.csr_matrix((5, 4)))
    with pytest.raises(ValueError, match="counts"):
        BPR().fit(-small_counts())
    with pytest.raises(TypeError, match="counts"):
        BPR().fit([[1, 0], [0, 1]])
    with pytest.raises(ValueError, match="no negative"):
        BPR().fit(sp.csr_matrix(np.ones((3, 2))))
    with pytest.raises(ValueError, match="validation"):
        BPR(epochs=1).fit(small_counts(), validation=small_counts(n_users=5))
    with pytest.raises(ValueError, match="early_stopping needs validation"):
        BPR(early_stopping=2).fit(small_counts())
    with pytest.raises(ValueError, match="not fitted"):
        BPR().recommend(0)
    with pytest.raises(ValueError, match="n_samples"):
        sample_negatives(small_counts(), 0)
    model = BPR(factors=2, epochs=1, random_state=0, num_threads=1).fit(small_counts())
    with pytest.raises(ValueError, match="user"):
        model.recommend(999)
    with pytest.raises(ValueError, match="validation"):
        model.validation_auc(small_counts(n_users=5))
    # a failed refit leaves the fitted model as it was
    before = model.item_factors.copy()
    with pytest.raises(ValueError, match="counts"):
        model.fit(sp.csr_matrix((30, 20)))
    assert np.array_equal(model.item_factors, before) and model.recommend(0)[0].size > 0


def test_sampled_negative_truth_counts_against_known_truth():
    counts = small_counts(6, density=0.5)
    dense = counts.toarray() > 0
    nobody = np.zeros_like(dense)
    everybody = np.ones_like(dense)
    verified = sampled_negative_truth(counts, nobody, nobody, n_samples=3000, random_state=0)
    assert verified["liked"] == 0.0 and verified["training_positive"] == 0.0
    assert verified["liked_unseen"] == 0.0
    all_liked = sampled_negative_truth(counts, everybody, nobody, n_samples=3000, random_state=0)
    assert all_liked["liked"] == 1.0 and all_liked["liked_unseen"] == 1.0
    # "liked" = the training matrix itself: unverified draws hit it as often as they hit positives
    raw = sampled_negative_truth(counts, dense, n_samples=3000, verify_negatives=False, random_state=0)
    assert raw["liked"] == pytest.approx(raw["training_positive"]) and raw["liked"] > 0.2
    assert np.isnan(raw["liked_unseen"])
    uniform = sampled_negative_truth(counts, nobody, n_samples=3000, random_state=0)
    popular = sampled_negative_truth(counts, nobody, n_samples=3000, sampler="popularity", random_state=0)
    assert popular["mean_popularity"] > uniform["mean_popularity"]
    with pytest.raises(ValueError, match="true_preference"):
        sampled_negative_truth(counts, nobody[:3])
    with pytest.raises(TypeError, match="exposure"):
        sampled_negative_truth(counts, nobody, exposure=nobody.astype(int))
