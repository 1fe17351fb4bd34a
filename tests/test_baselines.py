"""Popularity and item-kNN baselines: hand-checked scores, filtering and bad input."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recsys_course.models import ItemKNN, NotFittedError, Popularity

COUNTS = sp.csr_matrix(
    np.array(
        [
            [1, 0, 3, 0, 0],
            [0, 2, 1, 0, 0],
            [1, 1, 0, 0, 5],
            [0, 0, 1, 1, 0],
        ],
        dtype=np.float64,
    )
)


def test_popularity_counts_users_or_counts():
    by_users = Popularity().fit(COUNTS)
    np.testing.assert_array_equal(by_users.item_popularity, [2, 2, 3, 1, 1])
    by_counts = Popularity(weighting="counts").fit(COUNTS)
    np.testing.assert_array_equal(by_counts.item_popularity, [2, 3, 5, 1, 5])
    items, scores = by_users.recommend(3, k=5, filter_seen=False)
    # ties go to the lower item index
    assert items.tolist() == [2, 0, 1, 3, 4] and scores.tolist() == [3, 2, 2, 1, 1]


def test_popularity_filters_seen_items():
    model = Popularity().fit(COUNTS)
    items, _ = model.recommend(0, k=5)
    assert items.tolist() == [1, 3, 4]  # 0 and 2 were seen; fewer than k remain
    batch, batch_scores = model.recommend_batch([0, 3], k=4)
    assert batch[0].tolist() == [1, 3, 4, -1] and np.isneginf(batch_scores[0, 3])
    assert batch[1].tolist() == [0, 1, 4, -1]


def test_item_knn_cosine_and_scores():
    model = ItemKNN(neighbors=10).fit(COUNTS)
    B = (COUNTS.toarray() > 0).astype(float)
    norms = np.linalg.norm(B, axis=0)
    S = (B.T @ B) / np.outer(norms, norms)
    np.fill_diagonal(S, 0)
    np.testing.assert_allclose(model.similarity.toarray(), S)
    np.testing.assert_allclose(model.score([0, 1, 2, 3]), B @ S.T)
    items, scores = model.similar_items(2, k=2)
    assert items.tolist() == [3, 0] and scores[0] == pytest.approx(S[2, 3])


def test_item_knn_keeps_only_the_nearest_neighbours():
    rng = np.random.default_rng(0)
    counts = sp.csr_matrix(rng.poisson(0.6, size=(40, 15)).astype(float))
    full = ItemKNN(neighbors=100).fit(counts).similarity.toarray()
    pruned = ItemKNN(neighbors=3).fit(counts).similarity.toarray()
    for i in range(15):
        kept = np.flatnonzero(pruned[i])
        assert kept.size <= 3
        np.testing.assert_allclose(pruned[i, kept], full[i, kept])
        if kept.size:
            dropped = np.setdiff1d(np.flatnonzero(full[i]), kept)
            assert full[i, dropped].max(initial=0) <= pruned[i, kept].min()


def test_item_knn_counts_weighting_differs_from_binary():
    binary = ItemKNN().fit(COUNTS).score([2])
    counted = ItemKNN(binary=False).fit(COUNTS).score([2])
    assert not np.allclose(binary, counted)


@pytest.mark.parametrize("model", [Popularity(), ItemKNN(neighbors=2)])
def test_filter_seen_on_random_data(model):
    rng = np.random.default_rng(1)
    counts = sp.csr_matrix(rng.poisson(0.3, size=(50, 30)).astype(float))
    model.fit(counts)
    items, _ = model.recommend_batch(np.arange(50), k=30)
    for u in range(50):
        assert not set(counts[u].indices.tolist()) & set(items[u][items[u] >= 0].tolist())


def test_bad_input_and_use_before_fit():
    with pytest.raises(ValueError, match="weighting"):
        Popularity(weighting="clicks").fit(COUNTS)
    with pytest.raises(ValueError, match="neighbors"):
        ItemKNN(neighbors=0).fit(COUNTS)
    with pytest.raises(TypeError, match="binary"):
        ItemKNN(binary=1).fit(COUNTS)
    with pytest.raises(ValueError, match="counts"):
        Popularity().fit(-COUNTS)
    with pytest.raises(TypeError, match="counts"):
        ItemKNN().fit([[1, 0], [0, 1]])
    for model in (Popularity(), ItemKNN()):
        with pytest.raises(NotFittedError, match="fit"):
            model.recommend(0)
    with pytest.raises(NotFittedError, match="fit"):
        ItemKNN().similar_items(0)
    fitted = ItemKNN().fit(COUNTS)
    with pytest.raises(ValueError, match="item"):
        fitted.similar_items(5)
    with pytest.raises(ValueError, match="user"):
        fitted.recommend(4)
