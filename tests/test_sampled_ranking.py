"""recsys_course.metrics.sampled_ranking: hand cases, a brute-force reference, bad inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from recsys_course.metrics import sampled_ranking


class FixedScores:
    """A 'model' whose score(users) returns rows of a fixed matrix."""

    def __init__(self, scores):
        self.scores = np.asarray(scores, dtype=float)
        self.n_users, self.n_items = self.scores.shape

    def score(self, users):
        return self.scores[np.asarray(users)]


def brute(scores, users, targets, negatives, k):
    hits, gains = [], []
    for u, t, neg in zip(users, targets, negatives):
        # candidates best first; a tie between a negative and the target puts the negative first
        candidates = [(scores[u, i], 1, i) for i in neg] + [(scores[u, t], 0, t)]
        candidates.sort(key=lambda c: (-c[0], -c[1]))
        rank = [c[2] for c in candidates].index(t)
        hits.append(rank < k)
        gains.append(1 / math.log2(rank + 2) if rank < k else 0.0)
    return float(np.mean(hits)), float(np.mean(gains))


def test_hand_computed():
    scores = np.array([
        [0.9, 0.1, 0.5, 0.7, 0.0],  # target 0 beats all 3 negatives: rank 0
        [0.2, 0.8, 0.5, 0.7, 0.0],  # target 0 below negatives 1, 2, 3: rank 3
        [0.5, 0.5, 0.5, 0.1, 0.0],  # target 2 ties negatives 0 and 1: rank 2 (ties count against)
    ])
    model = FixedScores(scores)
    negatives = [[1, 2, 3], [1, 2, 3], [0, 1, 3]]
    out = sampled_ranking(model, [0, 1, 2], [0, 0, 2], negatives, k=3)
    assert out["hit_rate"] == pytest.approx(2 / 3)
    assert out["ndcg"] == pytest.approx((1.0 + 0.0 + 1 / math.log2(4)) / 3)
    out = sampled_ranking(model, [0, 1, 2], [0, 0, 2], negatives, k=1)
    assert out == {"hit_rate": pytest.approx(1 / 3), "ndcg": pytest.approx(1 / 3)}
    # a model that scores everything equal is never lucky: rank = number of negatives
    flat = FixedScores(np.ones((3, 5)))
    assert sampled_ranking(flat, [0, 1, 2], [0, 0, 2], negatives, k=3) == {"hit_rate": 0.0, "ndcg": 0.0}
    assert sampled_ranking(flat, [0, 1, 2], [0, 0, 2], negatives, k=4)["hit_rate"] == 1.0


@pytest.mark.parametrize("seed", range(20))
def test_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    n_users, n_items, n_neg = 15, 30, int(rng.integers(1, 12))
    scores = rng.integers(0, 6, size=(n_users, n_items)).astype(float)  # many ties
    users = rng.integers(0, n_users, size=25)
    targets = rng.integers(0, n_items, size=25)
    negatives = np.array([rng.choice(np.setdiff1d(np.arange(n_items), [t]), n_neg, replace=False) for t in targets])
    k = int(rng.integers(1, 15))
    expected = brute(scores, users, targets, negatives, k)
    got = sampled_ranking(FixedScores(scores), users, targets, negatives, k=k, chunk_size=int(rng.integers(1, 30)))
    assert got["hit_rate"] == pytest.approx(expected[0], abs=1e-12)
    assert got["ndcg"] == pytest.approx(expected[1], abs=1e-12)


def test_bad_inputs():
    model = FixedScores(np.arange(20.0).reshape(4, 5))
    good = dict(users=[0, 1], targets=[0, 1], negatives=[[2, 3], [3, 4]])
    with pytest.raises(TypeError, match="model must have a score"):
        sampled_ranking(object(), **good)
    with pytest.raises(ValueError, match="k must be an integer >= 1"):
        sampled_ranking(model, **good, k=0)
    with pytest.raises(TypeError, match="users must be a 1-d array of integer"):
        sampled_ranking(model, [0.5, 1.0], good["targets"], good["negatives"])
    with pytest.raises(ValueError, match="users must hold user indices in \\[0, 3\\], got 4"):
        sampled_ranking(model, [0, 4], good["targets"], good["negatives"])
    with pytest.raises(ValueError, match="users must hold at least one"):
        sampled_ranking(model, [], [], np.zeros((0, 2), dtype=int))
    with pytest.raises(ValueError, match="targets must give one item per user"):
        sampled_ranking(model, [0, 1], [0], good["negatives"])
    with pytest.raises(ValueError, match="targets must hold item indices in \\[0, 4\\], got 5"):
        sampled_ranking(model, [0, 1], [0, 5], good["negatives"])
    with pytest.raises(TypeError, match="negatives must be a 2-d"):
        sampled_ranking(model, [0, 1], [0, 1], [2, 3])
    with pytest.raises(ValueError, match="negatives must have one row per user"):
        sampled_ranking(model, [0, 1], [0, 1], [[2, 3]])
    with pytest.raises(ValueError, match="must not contain the row's target item: row 1"):
        sampled_ranking(model, [0, 1], [0, 1], [[2, 3], [1, 4]])
    with pytest.raises(ValueError, match="must not repeat an item within a row: row 0"):
        sampled_ranking(model, [0, 1], [0, 1], [[2, 2], [3, 4]])
    with pytest.raises(ValueError, match="negatives must hold item indices >= 0"):
        sampled_ranking(model, [0, 1], [0, 1], [[2, -1], [3, 4]])
    nan_model = FixedScores(np.full((4, 5), np.nan))
    with pytest.raises(ValueError, match="NaN"):
        sampled_ranking(nan_model, **good)
