"""recsys_course.spark: Spark's implicit ALS behind the course's model contract.

Argument checks run without Spark. The tests marked ``spark`` start a local Spark
(Java 17, pyspark from the ``spark`` extra) and share one session per module.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recsys_course.models import FactorModelBase
from recsys_course.spark import SparkALSModel, fit_als_spark, spark_reg_param, spark_session


def _small_counts(seed: int = 0, n_users: int = 40, n_items: int = 30) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    dense = (rng.random((n_users, n_items)) < 0.2) * rng.integers(1, 6, (n_users, n_items))
    dense[3] = 0          # a user with no interactions
    dense[:, 7] = 0       # an item nobody touched
    dense[0, :3] = [1, 4, 2]
    return sp.csr_matrix(dense.astype(np.float64))


# ------------------------------------------------------------------ no Spark needed
@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        (dict(counts=np.ones(3)), TypeError, "counts"),
        (dict(counts=sp.csr_matrix((3, 3))), ValueError, "counts"),
        (dict(counts=sp.csr_matrix(np.array([[1.0, -1.0]]))), ValueError, "counts"),
        (dict(counts=sp.csr_matrix(np.array([[1.0, np.nan]]))), ValueError, "counts"),
        (dict(factors=0), ValueError, "factors"),
        (dict(factors=2.5), TypeError, "factors"),
        (dict(regularization=-1.0), ValueError, "regularization"),
        (dict(regularization=float("nan")), ValueError, "regularization"),
        (dict(alpha=-0.5), ValueError, "alpha"),
        (dict(alpha="40"), TypeError, "alpha"),
        (dict(iterations=0), ValueError, "iterations"),
        (dict(random_state=-3), ValueError, "random_state"),
        (dict(random_state="seed"), TypeError, "random_state"),
        (dict(master=""), TypeError, "master"),
        (dict(master=2), TypeError, "master"),
        (dict(regularization_mode="per_row"), ValueError, "regularization_mode"),
        (dict(spark="not a session"), TypeError, "spark"),
        (dict(num_blocks=0), ValueError, "num_blocks"),
        (dict(progress="yes"), TypeError, "progress"),
    ],
)
def test_bad_arguments_are_named_before_spark_starts(kwargs, error, words):
    args = dict(counts=_small_counts(), factors=4, regularization=0.1, alpha=1.0, iterations=2, random_state=0)
    args.update(kwargs)
    with pytest.raises(error, match=words):
        fit_als_spark(**args)


def test_reg_param_matches_total_penalty_weight():
    counts = _small_counts()
    n_users, n_items = counts.shape
    lam = 3.0
    reg = spark_reg_param(counts, lam)
    rows_u = np.diff(counts.indptr)
    rows_i = np.diff(counts.tocsc().indptr)
    # Spark's penalty weights: reg * n_u per user and reg * n_i per item; ours: lambda per row.
    assert np.isclose(reg * (rows_u.sum() + rows_i.sum()), lam * (n_users + n_items))
    assert spark_reg_param(counts, lam, "spark") == lam
    assert spark_reg_param(counts, 0.0) == 0.0
    with pytest.raises(ValueError, match="regularization_mode"):
        spark_reg_param(counts, lam, "exact")


def test_spark_session_rejects_bad_arguments():
    with pytest.raises(TypeError, match="master"):
        with spark_session(master=None):
            pass
    with pytest.raises(ValueError, match="shuffle_partitions"):
        with spark_session(shuffle_partitions=0):
            pass


# ------------------------------------------------------------------ with Spark
def _solve_users(counts, item_factors, alpha, reg_param):
    """Spark's implicit user update for fixed item factors, in float64 numpy."""
    Y = item_factors.astype(np.float64)
    f = Y.shape[1]
    YtY = Y.T @ Y
    out = np.zeros((counts.shape[0], f))
    for u in range(counts.shape[0]):
        lo, hi = counts.indptr[u], counts.indptr[u + 1]
        if lo == hi:
            continue
        items, r = counts.indices[lo:hi], counts.data[lo:hi]
        c = 1.0 + alpha * r
        Yu = Y[items]
        A = YtY + (Yu.T * (c - 1.0)) @ Yu + reg_param * (hi - lo) * np.eye(f)
        out[u] = np.linalg.solve(A, Yu.T @ c)
    return out


@pytest.fixture(scope="module")
def spark_available():
    """Skip on a machine without pyspark or Java; under CI (env CI set) fail instead."""
    import importlib.util
    import os
    import shutil

    missing = []
    if importlib.util.find_spec("pyspark") is None:
        missing.append("pyspark (pip install 'recsys-course[spark]')")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        missing.append("Java 17 (`make java`)")
    if missing:
        reason = "Spark tests need " + " and ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(reason + " -- and CI is set, so they must run", pytrace=False)
        pytest.skip(reason)


@pytest.mark.spark
def test_fit_starts_and_stops_its_own_session(spark_available):
    pyspark_sql = pytest.importorskip("pyspark.sql")
    assert pyspark_sql.SparkSession.getActiveSession() is None
    model = fit_als_spark(_small_counts(), factors=3, regularization=0.1, alpha=1.0, iterations=2, random_state=0,
                          progress=True)
    assert pyspark_sql.SparkSession.getActiveSession() is None
    assert model.user_factors.shape == (40, 3)
    assert model.master == "local[2]"


@pytest.fixture(scope="module")
def spark(spark_available):
    with spark_session("local[2]") as session:
        yield session


@pytest.mark.spark
def test_user_factors_solve_sparks_objective(spark):
    """Spark updates users last: each x_u must be the exact solve given the final y_i.

    This pins the index mapping, alpha (c = 1 + alpha r) and the converted regParam.
    """
    counts = _small_counts(1)
    model = fit_als_spark(counts, factors=4, regularization=2.0, alpha=3.0, iterations=4,
                          random_state=5, spark=spark)
    assert isinstance(model, SparkALSModel) and isinstance(model, FactorModelBase)
    assert np.isclose(model.reg_param, spark_reg_param(counts, 2.0))
    expected = _solve_users(counts, model.item_factors, 3.0, model.reg_param)
    scale = np.abs(expected).max()
    assert np.abs(model.user_factors - expected).max() < 1e-4 * scale
    # and a wrong alpha or a plain lambda would not fit
    assert np.abs(model.user_factors - _solve_users(counts, model.item_factors, 1.0, model.reg_param)).max() > 1e-2 * scale
    assert np.abs(model.user_factors - _solve_users(counts, model.item_factors, 3.0, 2.0)).max() > 1e-2 * scale


@pytest.mark.spark
def test_spark_mode_passes_reg_param_verbatim(spark):
    counts = _small_counts(2)
    model = fit_als_spark(counts, factors=3, regularization=0.7, alpha=2.0, iterations=3,
                          random_state=1, spark=spark, regularization_mode="spark")
    assert model.reg_param == 0.7
    expected = _solve_users(counts, model.item_factors, 2.0, 0.7)
    assert np.abs(model.user_factors - expected).max() < 1e-4 * np.abs(expected).max()


@pytest.mark.spark
def test_model_follows_the_course_contract(spark):
    from recsys_course.metrics import evaluate

    counts = _small_counts(3)
    model = fit_als_spark(counts, factors=4, regularization=0.5, alpha=2.0, iterations=3,
                          random_state=0, spark=spark)
    assert model.user_factors.shape == (40, 4) and model.item_factors.shape == (30, 4)
    # rows and columns Spark never saw get zero factors, not garbage
    assert not model.user_factors[3].any() and not model.item_factors[7].any()
    assert model.user_factors[[0, 1, 2]].any() and np.isfinite(model.user_factors).all()
    items, scores = model.recommend(0, k=5)
    assert len(items) == 5 and not set(items) & {0, 1, 2}
    assert np.all(np.diff(scores) <= 0)
    batch_items, _ = model.recommend_batch([0, 3], k=5)
    assert np.array_equal(batch_items[0], items)
    similar, _ = model.similar_items(0, k=3)
    assert 0 not in similar and len(similar) == 3
    metrics = evaluate(model, counts, _small_counts(4), k=5, metrics=("ndcg", "auc"))
    assert 0.0 <= metrics["ndcg"] <= 1.0 and 0.0 <= metrics["auc"] <= 1.0
    with pytest.raises(TypeError, match="fit_als_spark"):
        model.fit(counts)
    with pytest.raises(ValueError, match="user"):
        model.recommend(40)
    assert "reg_param" in repr(model)


@pytest.mark.spark
def test_same_seed_same_factors_other_seed_other_factors(spark):
    counts = _small_counts(5)
    a = fit_als_spark(counts, factors=3, regularization=0.2, alpha=1.0, iterations=3, random_state=11, spark=spark)
    b = fit_als_spark(counts, factors=3, regularization=0.2, alpha=1.0, iterations=3, random_state=11, spark=spark)
    c = fit_als_spark(counts, factors=3, regularization=0.2, alpha=1.0, iterations=3, random_state=12, spark=spark)
    # Spark sums partial results in arrival order: equal up to float rounding, not bit for bit
    np.testing.assert_allclose(a.user_factors, b.user_factors, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(a.item_factors, b.item_factors, rtol=1e-4, atol=1e-5)
    assert np.abs(a.item_factors - c.item_factors).max() > 1e-3


@pytest.mark.spark
def test_master_must_match_a_running_session(spark):
    with pytest.raises(ValueError, match="master"):
        fit_als_spark(_small_counts(), factors=2, iterations=1, master="local[1]")
    # the same master reuses the running session and leaves it running
    model = fit_als_spark(_small_counts(), factors=2, iterations=1, master="local[2]")
    assert model.user_factors.shape == (40, 2)
    assert not spark.sparkContext._jsc.sc().isStopped()


# ------------------------------------------------------------------ helpers, no Spark
class _Fixed(FactorModelBase):
    def __init__(self, X, Y, train):
        self._remember_training(train)
        self.user_factors, self.item_factors = X, Y
        self._fitted = True


def test_agreement_of_identical_scaled_and_unrelated_models():
    from recsys_course.spark import agreement

    rng = np.random.default_rng(0)
    train = _small_counts()
    X, Y = rng.normal(size=(40, 3)), rng.normal(size=(30, 3))
    a = _Fixed(X, Y, train)
    same = agreement(a, _Fixed(X * 3.0, Y, train), k=5)
    assert same["overlap"] == 1.0 and np.isclose(same["rank_correlation"], 1.0)
    flipped = agreement(a, _Fixed(-X, Y, train), k=5)
    assert np.isclose(flipped["rank_correlation"], -1.0) and flipped["overlap"] < 0.5
    # by hand for one user: overlap is the shared share of the two top-5 sets
    other = _Fixed(rng.normal(size=(40, 3)), rng.normal(size=(30, 3)), train)
    result = agreement(a, other, k=5, users=[0])
    top_a = set(a.recommend(0, k=5)[0].tolist())
    top_b = set(other.recommend(0, k=5)[0].tolist())
    assert result["overlap"] == len(top_a & top_b) / 5
    with pytest.raises(ValueError, match="layout"):
        agreement(a, _Fixed(X[:10], Y, train[:10]), k=5)
    with pytest.raises(TypeError, match="model_b"):
        agreement(a, "spark", k=5)
    with pytest.raises(ValueError, match="k"):
        agreement(a, a, k=0)


def test_scale_estimate_grows_as_it_should():
    from recsys_course.spark import scale_estimate

    small = scale_estimate(1000, 2000, 100_000, factors=32)
    assert small["factor_bytes"] == 3000 * 32 * 4
    assert small["score_all_bytes"] == 1000 * 2000 * 4
    big = scale_estimate(100_000, 20_000, 10_000_000, factors=32)
    assert 90 < big["matrix_bytes"] / small["matrix_bytes"] < 110
    more_factors = scale_estimate(1000, 2000, 100_000, factors=64)
    assert 3.9 < more_factors["flops_per_iteration"] / small["flops_per_iteration"] < 8.1
    with pytest.raises(ValueError, match="nnz"):
        scale_estimate(10, 10, 101)
    with pytest.raises(TypeError, match="factors"):
        scale_estimate(10, 10, 5, factors=2.0)
