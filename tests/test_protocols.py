"""recsys_course.protocols: leave-last-out by time (He et al. 2017) and later orders out (HKV)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recsys_course.data import DATASETS, Dataset, Interactions
from recsys_course.protocols import later_orders_out, leave_last_out


def make_dataset(users, items, times=None, n_items=None, time_key="timestamps"):
    users = np.asarray(users)
    items = np.asarray(items)
    n_users = int(users.max()) + 1
    n_items = int(items.max()) + 1 if n_items is None else n_items
    interactions = Interactions(users, items, user_ids=np.arange(n_users), item_ids=np.arange(n_items))
    extra = {"event_users": users, "event_items": items}
    if times is not None:
        extra[time_key] = np.asarray(times, dtype=float)
    return Dataset("toy", interactions, np.arange(n_items).astype(object), "toy", DATASETS["movielens-100k"],
                   extra=extra)


def brute_leave_last_out(users, items, times, n_users, n_items):
    """Each user's items by (latest time, item index); last = test, one before = validation."""
    out = {}
    for u in range(n_users):
        latest = {}
        for uu, i, t in zip(users, items, times):
            if uu == u:
                latest[i] = max(latest.get(i, -np.inf), t)
        ordered = sorted(latest, key=lambda i: (latest[i], i))
        out[u] = ordered
    return out


# ------------------------------------------------------------------- hand cases
def test_hand_case_with_tied_timestamps_and_a_small_user():
    # user 0: item 0 at t=1, items 1 and 3 tie at t=3 (lower index first), item 2 last at t=5
    # user 1: two items only -> skipped, kept whole in both training matrices
    ds = make_dataset([0, 0, 0, 0, 1, 1], [2, 0, 1, 3, 0, 4], [5, 1, 3, 3, 2, 9], n_items=6)
    split = leave_last_out(ds, negatives=2, random_state=0)
    assert split.users.tolist() == [0]
    assert split.skipped_users.tolist() == [1]
    assert split.test_items.tolist() == [2]
    assert split.validation_items.tolist() == [3]
    assert split.train.toarray().tolist() == [[1, 1, 0, 1, 0, 0], [1, 0, 0, 0, 1, 0]]
    assert split.validation_train.toarray().tolist() == [[1, 1, 0, 0, 0, 0], [1, 0, 0, 0, 1, 0]]
    # user 0 never rated items 4 and 5: with 2 negatives both must be drawn, once each
    assert sorted(split.test_negatives[0].tolist()) == [4, 5]
    assert sorted(split.validation_negatives[0].tolist()) == [4, 5]
    assert split.test.toarray()[0].tolist() == [0, 0, 1, 0, 0, 0]
    assert split.validation.nnz == 1 and split.validation[0, 3] == 1


def test_an_item_rated_twice_counts_at_its_latest_time():
    # item 0 first at t=1 and again at t=10: it is the last item, not in train at all
    ds = make_dataset([0, 0, 0, 0], [0, 1, 2, 0], [1, 2, 3, 10], n_items=8)
    split = leave_last_out(ds, negatives=3)
    assert split.test_items.tolist() == [0]
    assert split.validation_items.tolist() == [2]
    assert split.train.toarray()[0].tolist() == [0, 1, 1, 0, 0, 0, 0, 0]
    assert set(split.test_negatives[0]) <= {3, 4, 5, 6, 7}


# ---------------------------------------------------------------- brute force
@pytest.mark.parametrize("seed", range(5))
def test_agrees_with_a_brute_force_split(seed):
    rng = np.random.default_rng(seed)
    n_users, n_items, n_events = 12, 40, 150
    users = rng.integers(0, n_users, n_events)
    items = rng.integers(0, n_items, n_events)
    times = rng.integers(0, 20, n_events).astype(float)  # many ties on purpose
    users[:n_users] = np.arange(n_users)  # every user present
    items[:n_items] = np.arange(n_items) if n_items <= n_events else items[:n_items]
    ds = make_dataset(users, items, times, n_items=n_items)
    split = leave_last_out(ds, negatives=5, random_state=seed)
    expected = brute_leave_last_out(users, items, times, n_users, n_items)
    evaluated = [u for u in range(n_users) if len(expected[u]) >= 3]
    assert split.users.tolist() == evaluated
    assert split.skipped_users.tolist() == [u for u in range(n_users) if len(expected[u]) < 3]
    train = split.train.toarray()
    vtrain = split.validation_train.toarray()
    for row, u in enumerate(split.users):
        order = expected[u]
        assert split.test_items[row] == order[-1]
        assert split.validation_items[row] == order[-2]
        assert sorted(np.flatnonzero(train[u]).tolist()) == sorted(order[:-1])
        assert sorted(np.flatnonzero(vtrain[u]).tolist()) == sorted(order[:-2])
        for negatives in (split.test_negatives[row], split.validation_negatives[row]):
            assert len(set(negatives.tolist())) == negatives.size == 5
            assert not set(negatives.tolist()) & set(order)
    for u in split.skipped_users:
        assert sorted(np.flatnonzero(train[u]).tolist()) == sorted(expected[u])
        assert sorted(np.flatnonzero(vtrain[u]).tolist()) == sorted(expected[u])
    assert set(np.unique(split.train.data)) <= {1.0}


def test_negatives_are_seeded_and_cover_the_unrated_items():
    rng = np.random.default_rng(0)
    users = np.repeat(np.arange(30), 6)
    items = np.concatenate([rng.choice(50, 6, replace=False) for _ in range(30)])
    times = np.tile(np.arange(6.0), 30)
    ds = make_dataset(users, items, times, n_items=50)
    a = leave_last_out(ds, negatives=10, random_state=3)
    b = leave_last_out(ds, negatives=10, random_state=3)
    c = leave_last_out(ds, negatives=10, random_state=4)
    np.testing.assert_array_equal(a.test_negatives, b.test_negatives)
    np.testing.assert_array_equal(a.validation_negatives, b.validation_negatives)
    assert not np.array_equal(a.test_negatives, c.test_negatives)
    np.testing.assert_array_equal(a.train.toarray(), c.train.toarray())  # the seed moves negatives only
    # uniform over the unrated items: across many draws every unrated item shows up
    many = leave_last_out(ds, negatives=40, random_state=0)
    rated = set(items[users == 0].tolist())
    assert set(many.test_negatives[0].tolist()) | set(many.validation_negatives[0].tolist()) == set(range(50)) - rated


# ----------------------------------------------------------------- bad inputs
def test_bad_inputs_are_named():
    ds = make_dataset([0, 0, 0, 1, 1, 1], [0, 1, 2, 0, 1, 3], [1, 2, 3, 1, 2, 3], n_items=6)
    with pytest.raises(ValueError, match="negatives must be at most.*negatives=4.*only 3 unrated"):
        leave_last_out(ds, negatives=4)
    with pytest.raises(ValueError, match="negatives must be an integer >= 1"):
        leave_last_out(ds, negatives=0)
    with pytest.raises(TypeError, match="negatives must be an integer"):
        leave_last_out(ds, negatives=2.5)
    with pytest.raises(TypeError, match="random_state"):
        leave_last_out(ds, negatives=2, random_state="seed")
    with pytest.raises(TypeError, match="dataset must be a recsys_course.data.Dataset"):
        leave_last_out(sp.csr_matrix(np.eye(3)))
    no_times = make_dataset([0, 0, 0], [0, 1, 2])
    with pytest.raises(ValueError, match="carries no timestamps"):
        leave_last_out(no_times)
    tiny = make_dataset([0, 0, 1], [0, 1, 1], [1, 2, 3], n_items=5)
    with pytest.raises(ValueError, match="no user with 3 or more"):
        leave_last_out(tiny)
    bad_times = make_dataset([0, 0, 0], [0, 1, 2], [1, np.nan, 2], n_items=5)
    with pytest.raises(ValueError, match="finite"):
        leave_last_out(bad_times)


# -------------------------------------------------------------- later orders
def test_later_orders_out_hand_case():
    # user 0: orders 1, 2, 3, 4, 5 (item 0 in orders 1-4, item 1 in order 1, item 2 in order 5,
    #         item 3 in orders 3 and 5); user 1: two orders only -> skipped, stays whole in train
    users = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1]
    items = [0, 1, 0, 0, 3, 0, 2, 3, 3, 1]
    numbers = [1, 1, 2, 3, 3, 4, 5, 5, 1, 2]
    ds = make_dataset(users, items, numbers, n_items=4, time_key="order_numbers")
    split = later_orders_out(ds)
    assert split.train.toarray().tolist() == [[4, 1, 0, 1], [0, 1, 0, 1]]
    assert split.test.toarray().tolist() == [[0, 0, 1, 1], [0, 0, 0, 0]]
    assert split.validation_train.toarray().tolist() == [[3, 1, 0, 1], [0, 1, 0, 1]]
    assert split.validation.toarray().tolist() == [[1, 0, 0, 0], [0, 0, 0, 0]]
    assert split.skipped_users.tolist() == [1]
    two = later_orders_out(ds, orders=2)  # 5 orders: 2 test, 2 validation, 1 train
    assert two.test.toarray()[0].tolist() == [1, 0, 1, 1]
    assert two.validation.toarray()[0].tolist() == [2, 0, 0, 1]
    assert two.validation_train.toarray()[0].tolist() == [1, 1, 0, 0]
    three = later_orders_out(ds, orders=3)  # 5 < 7 orders: nobody is split
    assert three.skipped_users.tolist() == [0, 1] and three.test.nnz == 0
    with pytest.raises(ValueError, match="orders must be an integer >= 1"):
        later_orders_out(ds, orders=0)
    with pytest.raises(TypeError, match="orders must be an integer"):
        later_orders_out(ds, orders="1")
    with pytest.raises(ValueError, match="carries no order_numbers"):
        later_orders_out(make_dataset(users, items, numbers, n_items=4))


# ------------------------------------------------------------------ real data
@pytest.mark.data
def test_movielens_events_line_up_with_the_matrix():
    from recsys_course.data import load_movielens_100k

    ml = load_movielens_100k()
    e = ml.extra
    assert e["event_users"].size == e["event_items"].size == e["timestamps"].size == ml.counts.nnz
    # each event's cell holds that event's rating (MovieLens has one rating per pair)
    np.testing.assert_array_equal(np.asarray(ml.counts[e["event_users"], e["event_items"]]).ravel() > 0, True)
    split = leave_last_out(ml, negatives=100, random_state=0)
    assert split.users.size == 943 and split.skipped_users.size == 0
    assert split.train.nnz == ml.counts.nnz - 943
    assert split.validation_train.nnz == ml.counts.nnz - 2 * 943
    # the test item is the user's latest rating (ties: highest item index among the latest)
    for u in (0, 100, 942):
        mine = e["event_users"] == u
        latest = e["timestamps"][mine].max()
        candidates = e["event_items"][mine][e["timestamps"][mine] == latest]
        assert split.test_items[u] == candidates.max()


@pytest.mark.data
def test_instacart_orders_split_sums_back():
    from recsys_course.data import load_instacart

    ic = load_instacart()
    split = later_orders_out(ic)
    assert abs(split.train + split.test - ic.counts).sum() == 0
    assert abs(split.validation_train + split.validation - split.train).sum() == 0
    assert split.test.nnz > 0 and split.skipped_users.size < ic.counts.shape[0]


def test_block_sampler_is_uniform_over_unrated_items():
    # 600 users who rated items 0..9 (one per time step): 100 negatives come from items 10..149
    users = np.repeat(np.arange(600), 10)
    items = np.tile(np.arange(10), 600)
    times = np.tile(np.arange(10.0), 600)
    ds = make_dataset(users, items, times, n_items=150)
    split = leave_last_out(ds, negatives=20, random_state=1)
    drawn = np.concatenate([split.test_negatives.ravel(), split.validation_negatives.ravel()])
    assert drawn.min() >= 10
    counts = np.bincount(drawn, minlength=150)[10:]
    expected = drawn.size / 140  # about 171 per item
    assert counts.min() > 0.7 * expected and counts.max() < 1.3 * expected
    # no repeats within a row, and the two draws are independent
    for negatives in (split.test_negatives, split.validation_negatives):
        assert all(len(set(row)) == 20 for row in negatives.tolist())
    assert not np.array_equal(split.test_negatives, split.validation_negatives)


# ------------------------------------------------ sampled vs full (Krichene & Rendle)
class FixedScores:
    def __init__(self, scores):
        self.scores = np.asarray(scores, dtype=float)
        self.n_users, self.n_items = self.scores.shape

    def score(self, users):
        return self.scores[np.asarray(users)]


def test_full_ranks_against_brute_force():
    from recsys_course.protocols import full_ranks

    rng = np.random.default_rng(0)
    scores = rng.integers(0, 5, size=(8, 12)).astype(float)  # ties on purpose
    train = sp.csr_matrix((rng.random((8, 12)) < 0.3).astype(float))
    users = np.array([0, 1, 2, 3, 4, 5, 6, 7, 0])
    items = np.array([1, 2, 3, 4, 5, 6, 7, 8, 9])
    got = full_ranks(FixedScores(scores), train, users, items, chunk_size=3)
    dense = train.toarray()
    for j, (u, t) in enumerate(zip(users, items)):
        others = [i for i in range(12) if i != t and dense[u, i] == 0]
        assert got[j] == sum(scores[u, i] >= scores[u, t] for i in others)
    with pytest.raises(ValueError, match="users and items must be non-empty and of one length"):
        full_ranks(FixedScores(scores), train, [0, 1], [1])
    with pytest.raises(ValueError, match="items must hold indices in \\[0, 11\\]"):
        full_ranks(FixedScores(scores), train, [0], [12])
    with pytest.raises(TypeError, match="model must have a score"):
        full_ranks(None, train, [0], [1])


def test_sampled_hit_probability_matches_simulation_and_edges():
    from recsys_course.protocols import sampled_hit_probability

    # edges: fewer than k items above -> always a hit; all others above -> never (negatives >= k)
    assert sampled_hit_probability(np.array([0, 9]), 500, negatives=100, k=10).tolist() == [1.0, 1.0]
    assert sampled_hit_probability(np.array([499]), 500, negatives=100, k=10)[0] == 0.0
    # simulation: draw 100 of the 999 others, count those above the target
    rng = np.random.default_rng(1)
    for rank in (20, 90, 200):
        above = np.arange(999) < rank
        hits = np.mean([above[rng.choice(999, 100, replace=False)].sum() < 10 for _ in range(4000)])
        assert abs(hits - sampled_hit_probability(np.array([rank]), 1000)[0]) < 0.03
    with pytest.raises(ValueError, match="full_rank must hold counts >= 0"):
        sampled_hit_probability(np.array([-1]), 1000)
    with pytest.raises(ValueError, match="n_candidates must exceed negatives"):
        sampled_hit_probability(np.array([1]), 50, negatives=100)
    with pytest.raises(TypeError, match="full_rank must hold integers"):
        sampled_hit_probability(np.array([1.5]), 1000)


def test_compare_leave_last_out_tunes_on_validation_and_scores_every_seed():
    from recsys_course.models import ImplicitALS, Popularity
    from recsys_course.protocols import LEAVE_LAST_OUT_METRICS, compare_leave_last_out

    rng = np.random.default_rng(2)
    n_users, n_items = 60, 40
    users = np.repeat(np.arange(n_users), 12)
    items = np.concatenate([rng.choice(n_items, 12, replace=False, p=np.linspace(2, 1, n_items) / np.linspace(2, 1, n_items).sum())
                            for _ in range(n_users)])
    times = np.tile(np.arange(12.0), n_users)
    ds = make_dataset(users, items, times, n_items=n_items)
    calls = []

    def make_als(**params):
        calls.append(params)
        return ImplicitALS(iterations=3, progress=False, dtype=np.float64, **params)

    contenders = {
        "popularity": (lambda random_state: Popularity(), [{}]),
        "als": (make_als, {"factors": [2, 4], "regularization": [0.1]}),
    }
    result = compare_leave_last_out(contenders, ds, seeds=(3, 5), negatives=10, k=5)
    assert result.test_metrics == LEAVE_LAST_OUT_METRICS
    assert [len(result.splits), result.n_seeds, result.repeat] == [2, 2, "seed"]
    # two settings tuned with the first seed, then one refit per seed with that seed
    assert [c["random_state"] for c in calls] == [3, 3, 3, 5]
    grid = result.grid("als", 0)
    assert grid.n_settings == 2 and set(LEAVE_LAST_OUT_METRICS) <= set(grid.rows[0])
    best = result.chosen("als")[0]
    assert best == grid.best_params
    # the test numbers are the sampled metrics of the refitted model on each seed's negatives
    from recsys_course.metrics import sampled_ranking

    split = result.splits[1]
    refit = ImplicitALS(iterations=3, progress=False, dtype=np.float64, random_state=5, **best).fit(split.train)
    expected = sampled_ranking(refit, split.users, split.test_items, split.test_negatives, k=5)
    row = [r for r in result.per_seed if r["contender"] == "als" and r["seed"] == 1][0]
    assert row["ndcg"] == pytest.approx(expected["ndcg"]) and row["hit_rate"] == pytest.approx(expected["hit_rate"])
    with pytest.raises(ValueError, match="same tuning budget"):
        compare_leave_last_out({"a": (make_als, {"factors": [2, 3]}), "b": (make_als, {"factors": [2, 3, 4]})}, ds)
    with pytest.raises(ValueError, match="metric must be 'hit_rate' or 'ndcg'"):
        compare_leave_last_out(contenders, ds, metric="auc")
    with pytest.raises(ValueError, match="no repeats"):
        compare_leave_last_out(contenders, ds, seeds=(1, 1))
