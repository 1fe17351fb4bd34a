"""The contract every recommender keeps (issue 12, structure point 6), checked model by model.

In the style of implicit's shared recommender tests: one list of models, one set of checks.
A new model joins the course by being added to ``MODELS`` and passing every test here.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import scipy.sparse as sp

from recsys_course.models import BPR, ExplicitALS, ImplicitALS, ItemKNN, NotFittedError, Popularity

MODELS = {
    "Popularity": lambda: Popularity(),
    "ItemKNN": lambda: ItemKNN(neighbors=5),
    "ImplicitALS": lambda: ImplicitALS(factors=4, iterations=3, random_state=0, num_threads=1, progress=False),
    "BPR": lambda: BPR(factors=4, epochs=3, random_state=0, num_threads=1, progress=False),
    "ExplicitALS": lambda: ExplicitALS(factors=3, iterations=3, random_state=0, num_threads=1, progress=False),
}
FACTOR_MODELS = ("ImplicitALS", "BPR", "ExplicitALS")


@pytest.fixture(scope="module")
def counts() -> sp.csr_matrix:
    """30 users x 20 items; every user and item has a count; user 0 has seen all but 3 items."""
    rng = np.random.default_rng(12)
    dense = rng.integers(1, 6, size=(30, 20)) * (rng.random((30, 20)) < 0.3)
    dense[np.arange(30), np.arange(30) % 20] += 1
    dense[0, 3:] = 2
    return sp.csr_matrix(dense.astype(np.float64))


@pytest.fixture(scope="module", params=list(MODELS))
def fitted(request, counts):
    model = MODELS[request.param]()
    assert model.fit(counts) is model  # fit returns the model
    return request.param, model


def test_recommend_agrees_with_recommend_batch(fitted, counts):
    name, model = fitted
    users = [0, 5, 17, 29]
    for filter_seen in (True, False):
        items, scores = model.recommend_batch(users, k=6, filter_seen=filter_seen)
        assert items.shape == scores.shape == (len(users), 6)
        for row, user in enumerate(users):
            one_items, one_scores = model.recommend(user, k=6, filter_seen=filter_seen)
            keep = items[row] >= 0
            np.testing.assert_array_equal(one_items, items[row][keep], err_msg=name)
            # float32 models: one user goes through a matrix-vector product, a batch through a
            # matrix-matrix one, so the scores agree to float32 precision, not bit for bit
            np.testing.assert_allclose(one_scores, scores[row][keep], rtol=1e-5, atol=1e-7, err_msg=name)


def test_recommendations_are_the_best_scores_in_order(fitted):
    name, model = fitted
    users = np.arange(model.n_users)
    items, best = model.recommend_batch(users, k=5, filter_seen=False)
    full = model.score(users)
    assert full.shape == (model.n_users, model.n_items)
    np.testing.assert_allclose(best, np.take_along_axis(full, items, axis=1), err_msg=name)
    assert np.all(np.diff(best, axis=1) <= 1e-12), name  # best first
    fifth = np.sort(full, axis=1)[:, -5]
    np.testing.assert_allclose(best[:, -1], fifth, err_msg=name)  # nothing better was left out


def test_filter_seen_leaves_out_training_items(fitted, counts):
    name, model = fitted
    for user in range(model.n_users):
        items, _ = model.recommend(user, k=20, filter_seen=True)
        seen = set(counts[user].indices)
        assert not seen & set(items.tolist()), (name, user)
        assert len(items) == model.n_items - len(seen)  # every unseen item, no padding
    padded, padded_scores = model.recommend_batch([0], k=10, filter_seen=True)
    assert list(padded[0][3:]) == [-1] * 7 and np.all(np.isneginf(padded_scores[0][3:]))  # user 0: 3 left


def test_k_larger_than_the_catalogue_is_cut(fitted):
    _, model = fitted
    items, _ = model.recommend_batch([1, 2], k=500, filter_seen=False)
    assert items.shape == (2, model.n_items)
    assert sorted(items[0].tolist()) == list(range(model.n_items))


def test_pickle_round_trip_keeps_every_answer(fitted):
    name, model = fitted
    again = pickle.loads(pickle.dumps(model))
    users = np.arange(model.n_users)
    np.testing.assert_array_equal(again.score(users), model.score(users), err_msg=name)
    for a, b in zip(again.recommend_batch(users, k=4), model.recommend_batch(users, k=4)):
        np.testing.assert_array_equal(a, b, err_msg=name)


def test_same_random_state_same_model(fitted, counts):
    name, model = fitted
    twin = MODELS[name]().fit(counts)
    users = np.arange(model.n_users)
    np.testing.assert_array_equal(twin.score(users), model.score(users), err_msg=name)


def test_similar_items_leave_the_item_out(fitted):
    name, model = fitted
    if name == "Popularity":
        with pytest.raises(TypeError, match="similar_items"):
            model.similar_items(0)
        return
    items, scores = model.similar_items(4, k=5)
    assert 4 not in items.tolist() and len(items) == 5, name
    assert np.all(np.diff(scores) <= 1e-12), name


@pytest.mark.parametrize("name", list(MODELS))
def test_not_fitted_is_a_clear_error(name):
    model = MODELS[name]()
    for use in (lambda: model.recommend(0), lambda: model.recommend_batch([0]), lambda: model.score([0])):
        with pytest.raises(NotFittedError, match="not fitted yet"):
            use()
    assert issubclass(NotFittedError, ValueError)


@pytest.mark.parametrize("call, error, words", [
    (lambda m: m.recommend(0, k=0), ValueError, "k must be an integer >= 1"),
    (lambda m: m.recommend(0, k=2.5), TypeError, "k must be an integer"),
    (lambda m: m.recommend(30), ValueError, "user"),
    (lambda m: m.recommend(-1), ValueError, "user"),
    (lambda m: m.recommend("0"), TypeError, "user"),
    (lambda m: m.recommend(0, filter_seen="yes"), TypeError, "filter_seen"),
    (lambda m: m.recommend_batch([0.5, 1.0]), TypeError, "integer user indices"),
    (lambda m: m.recommend_batch([[0, 1]]), ValueError, "1-d"),
    (lambda m: m.recommend_batch([0, 30]), ValueError, "known user indices"),
    (lambda m: m.score([-3]), ValueError, "known user indices"),
])
def test_bad_arguments_name_themselves(fitted, call, error, words):
    _, model = fitted
    with pytest.raises(error, match=words):
        call(model)


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize("bad, error, words", [
    (lambda c: sp.csr_matrix(-c.toarray()), ValueError, ">= 0"),
    (lambda c: sp.csr_matrix(np.where(c.toarray() > 0, np.nan, 0.0)), ValueError, "finite"),
    (lambda c: sp.csr_matrix(c.shape), ValueError, "at least one positive count"),
    (lambda c: "counts", TypeError, "counts"),
])
def test_bad_training_data_is_refused(name, counts, bad, error, words):
    with pytest.raises(error, match=words):
        MODELS[name]().fit(bad(counts))


@pytest.mark.parametrize("name, params, error, words", [
    ("Popularity", dict(weighting="votes"), ValueError, "weighting"),
    ("ItemKNN", dict(neighbors=0), ValueError, "neighbors"),
    ("ItemKNN", dict(binary="no"), TypeError, "binary"),
    ("ImplicitALS", dict(factors=0), ValueError, "factors"),
    ("ImplicitALS", dict(alpha=-1.0), ValueError, "alpha"),
    ("ImplicitALS", dict(iterations=1.5), TypeError, "iterations"),
    ("BPR", dict(learning_rate=0.0), ValueError, "learning_rate"),
    ("BPR", dict(epochs=0), ValueError, "epochs"),
    ("ExplicitALS", dict(regularization=-0.1), ValueError, "regularization"),
    ("ExplicitALS", dict(factors="4"), TypeError, "factors"),
])
def test_bad_parameters_fail_at_fit_naming_the_parameter(counts, name, params, error, words):
    model = MODELS[name]()
    for key, value in params.items():
        setattr(model, key, value)
    with pytest.raises(error, match=words):
        model.fit(counts)
