"""The same implicit-feedback model on Apache Spark, for data beyond one machine.

``fit_als_spark(counts, ...)`` hands a users x items matrix of counts to
``pyspark.ml.recommendation.ALS(implicitPrefs=True)`` and returns a
:class:`SparkALSModel`: the factors Spark learned, wrapped in the course's
model contract, so ``recommend``, ``recommend_batch``, ``similar_items`` and
``recsys_course.metrics.evaluate`` work exactly as for ``ImplicitALS``.

Two differences between Spark's objective and ours
---------------------------------------------------
Both minimise ``sum_ui c_ui (p_ui - x_u . y_i)^2`` plus a penalty on the factors,
with ``p_ui = 1 if r_ui > 0`` and ``c_ui = 1 + alpha * r_ui``: alpha means the same
thing and is passed through unchanged.

The penalty differs. Ours (Hu, Koren and Volinsky 2008) is
``lambda * (sum_u |x_u|^2 + sum_i |y_i|^2)``. Spark follows ALS-WR (Zhou et al.
2008) and weights each row by its number of interactions:
``regParam * (sum_u n_u |x_u|^2 + sum_i n_i |y_i|^2)``. Since ``n_u`` differs from
user to user, no single ``regParam`` reproduces our lambda exactly. The default,
``regularization_mode="match_total"``, picks the ``regParam`` that gives the same
*total* penalty weight over all users and items:

    regParam = lambda * (n_users + n_items) / (2 * nnz)

that is, lambda divided by the mean number of interactions per row (users and
items together). Heavy users are then penalised more than in our model and light
users less. ``regularization_mode="spark"`` passes ``regularization`` to Spark as
``regParam`` untouched, for readers who want Spark's own scale. The value used is
kept on the model as ``reg_param``.

Spark only learns factors for users and items that occur in the data; a row of
``counts`` with no interactions gets zero factors (it scores 0 for every item).

Requires the ``spark`` extra (``pip install 'recsys-course[spark]'``) and Java 17.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
import warnings
from typing import Any, Iterator

import numpy as np

from ._validation import (
    check_bool,
    check_choice,
    check_csr_counts,
    check_float,
    check_int,
    check_random_state,
    describe,
)
from .models._base import FactorModelBase

__all__ = [
    "SparkALSModel",
    "agreement",
    "fit_als_spark",
    "spark_reg_param",
    "spark_log_path",
    "spark_session",
    "scale_estimate",
]

_REGULARIZATION_MODES = ("match_total", "spark")

# Spark logs through log4j2 on the JVM's stderr, which Jupyter shows in the
# notebook. Only errors get through with this configuration.
_LOG4J2_PROPERTIES = """\
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex
"""


def _log4j2_file() -> str:
    """Write the quiet log4j2 configuration once per user and return its path."""
    path = os.path.join(tempfile.gettempdir(), f"recsys_course_log4j2_{os.getuid()}.properties")
    current = None
    if os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            current = handle.read()
    if current != _LOG4J2_PROPERTIES:
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".properties")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(_LOG4J2_PROPERTIES)
        os.replace(tmp, path)
    return path


def spark_log_path() -> str:
    """Where the Spark JVM started by :func:`spark_session` writes its own output."""
    return os.path.join(tempfile.gettempdir(), f"recsys_course_spark_{os.getuid()}.log")


def _launch_quiet_gateway(conf):
    from pyspark.java_gateway import launch_gateway

    log = open(spark_log_path(), "ab")  # kept open for the JVM's lifetime
    return launch_gateway(conf, popen_kwargs={"stdout": log, "stderr": log})


@contextlib.contextmanager
def _quiet_python_warnings():
    """Hide pyspark's one-off notice that it does not fully support pandas 3 (pandas is unused here)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
        yield


def _import_pyspark():
    try:
        import pyspark  # noqa: F401
        from pyspark.sql import SparkSession
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            "recsys_course.spark needs pyspark: install the spark extra with "
            "pip install 'recsys-course[spark]' (and Java 17)"
        ) from err
    return SparkSession


def _check_master(master: Any) -> str:
    if not isinstance(master, str) or not master.strip():
        raise TypeError(
            "master must be a Spark master URL string such as 'local[2]', "
            f"'spark://host:7077', 'yarn' or 'k8s://https://host:443', got {describe(master)}"
        )
    return master.strip()


#: stack size of the Spark JVM's threads (see spark_session)
JVM_THREAD_STACK = "32m"


@contextlib.contextmanager
def spark_session(
    master: str = "local[2]",
    *,
    app_name: str = "recsys-course",
    driver_memory: str = "1g",
    shuffle_partitions: int = 4,
) -> Iterator[Any]:
    """A quiet SparkSession for the course; stopped when the ``with`` block ends.

    Spark's console progress bar, web UI and log messages below ERROR are turned off
    so notebook output stays clean. ``master`` is any Spark master URL: ``local[N]``
    runs N worker threads on this machine; ``spark://host:7077``, ``yarn`` or
    ``k8s://...`` submit to a cluster (then the data must reach the executors, and
    Python and this package must be installed on them).

    If a session is already running it is reused and left running; its master must
    then equal ``master``.
    """
    master = _check_master(master)
    if not isinstance(app_name, str) or not app_name:
        raise TypeError(f"app_name must be a non-empty string, got {describe(app_name)}")
    if not isinstance(driver_memory, str) or not driver_memory:
        raise TypeError(f"driver_memory must be a size string such as '1g', got {describe(driver_memory)}")
    shuffle_partitions = check_int(shuffle_partitions, "shuffle_partitions", minimum=1)
    SparkSession = _import_pyspark()

    active = SparkSession.getActiveSession()
    if active is not None:
        running = active.sparkContext.master
        if running != master:
            raise ValueError(
                f"master must match the SparkSession already running ({running!r}), got {master!r}; "
                "stop that session first or pass the same master"
            )
        yield active
        return

    # Python workers (if any) must run this interpreter, not whatever 'python3' is on PATH.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    from pyspark import SparkConf, SparkContext

    # -Xss: ALS's lineage grows with every iteration, and serialising a task walks it recursively;
    # at the JVM's default 1 MB thread stack, 15 iterations sometimes overflowed it
    # ("Task serialization failed: java.lang.StackOverflowError", once in a CI run of notebook 07)
    java_options = f"-Dlog4j2.configurationFile=file:{_log4j2_file()} -Xss{JVM_THREAD_STACK}"
    conf = (
        SparkConf()
        .setMaster(master)
        .setAppName(app_name)
        .set("spark.driver.memory", driver_memory)
        .set("spark.driver.extraJavaOptions", java_options)
        .set("spark.executor.extraJavaOptions", java_options)
        .set("spark.ui.enabled", "false")
        .set("spark.ui.showConsoleProgress", "false")
        .set("spark.sql.shuffle.partitions", str(shuffle_partitions))
    )
    if master.startswith("local"):
        conf = conf.set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1")
    try:
        with _quiet_python_warnings():
            if SparkContext._gateway is None:
                # The JVM writes start-up notes (incubator modules, native BLAS not found)
                # straight to its stderr, which Jupyter would show under the cell: send
                # them to a log file instead. Later sessions reuse this JVM.
                SparkContext._gateway = _launch_quiet_gateway(conf)
                SparkContext._jvm = SparkContext._gateway.jvm
            context = SparkContext(conf=conf)
            spark = SparkSession(context)
    except Exception as err:  # pragma: no cover - depends on the machine
        raise RuntimeError(
            f"could not start Spark with master {master!r}: {err}. Spark needs Java 17 "
            f"(java -version; `make java` installs it on Debian/Ubuntu); JVM log: {spark_log_path()}"
        ) from err
    spark.sparkContext.setLogLevel("ERROR")
    try:
        yield spark
    finally:
        spark.stop()


def spark_reg_param(counts: Any, regularization: float, regularization_mode: str = "match_total") -> float:
    """Spark's ``regParam`` standing in for our plain ``lambda`` on ``counts``.

    ``"match_total"``: ``lambda * (n_users + n_items) / (2 * nnz)``, the same total
    penalty weight as ours (see the module docstring); ``"spark"``: ``lambda`` itself.
    """
    counts = check_csr_counts(counts, "counts")
    regularization = check_float(regularization, "regularization", minimum=0.0)
    regularization_mode = check_choice(regularization_mode, "regularization_mode", _REGULARIZATION_MODES)
    if regularization_mode == "spark":
        return regularization
    n_users, n_items = counts.shape
    return regularization * (n_users + n_items) / (2.0 * counts.nnz)


class SparkALSModel(FactorModelBase):
    """Factors learned by Spark's implicit ALS, behind the course's model contract.

    Made by :func:`fit_als_spark`; ``fit`` is not available (Spark does the fitting).

    Attributes: ``user_factors`` (n_users, factors), ``item_factors`` (n_items,
    factors), float32 as Spark stores them; ``reg_param`` (Spark's regParam used),
    ``params`` (every argument of the fit), ``fit_seconds`` (Spark's training time,
    session start-up and data transfer excluded), ``master``.
    """

    def __init__(self, user_factors, item_factors, train, *, params: dict, reg_param: float,
                 fit_seconds: float, master: str):
        self._remember_training(train)
        self.user_factors = user_factors
        self.item_factors = item_factors
        self.params = dict(params)
        self.reg_param = float(reg_param)
        self.fit_seconds = float(fit_seconds)
        self.master = master
        self._fitted = True

    def fit(self, counts):
        raise TypeError("SparkALSModel is fitted by recsys_course.spark.fit_als_spark(counts, ...), not by .fit")

    def __repr__(self) -> str:
        p = self.params
        return (
            f"SparkALSModel(factors={p['factors']}, regularization={p['regularization']}, "
            f"alpha={p['alpha']}, iterations={p['iterations']}, reg_param={self.reg_param:.4g}, "
            f"master={self.master!r})"
        )


def _factor_matrix(dataframe, size: int, factors: int) -> np.ndarray:
    """Spark's (id, features) factor table as a dense (size, factors) array; absent ids -> 0."""
    out = np.zeros((size, factors), dtype=np.float32)
    rows = dataframe.select("id", "features").collect()
    if rows:
        ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
        out[ids] = np.asarray([row[1] for row in rows], dtype=np.float32)
    return out


def fit_als_spark(
    counts: Any,
    factors: int = 64,
    regularization: float = 0.1,
    alpha: float = 1.0,
    iterations: int = 15,
    random_state: Any = 0,
    master: str = "local[2]",
    *,
    regularization_mode: str = "match_total",
    spark: Any = None,
    num_blocks: int | None = None,
    progress: bool = False,
) -> SparkALSModel:
    """Fit implicit ALS with Apache Spark and return a :class:`SparkALSModel`.

    Parameters mirror ``ImplicitALS``: ``counts`` (users x items scipy sparse matrix of
    raw counts, the same input as ``ImplicitALS.fit``), ``factors``, ``regularization``
    (our lambda, converted per ``regularization_mode``, see the module docstring),
    ``alpha`` (confidence ``c = 1 + alpha * r``, the same in both), ``iterations``,
    ``random_state`` (None, an int or a Generator; it becomes Spark's seed).

    ``master`` is the Spark master URL (``local[2]``: two threads here). Pass
    ``spark=`` an open session (from :func:`spark_session`) to reuse it across fits;
    otherwise a session is started and stopped around this call. ``num_blocks``
    sets Spark's user and item block counts (default: the session's default
    parallelism); more blocks spread a big matrix over more executors. ``progress``
    shows a tqdm bar over the stages (start Spark, send the data, fit, collect factors).
    """
    counts = check_csr_counts(counts, "counts")
    factors = check_int(factors, "factors", minimum=1)
    regularization = check_float(regularization, "regularization", minimum=0.0)
    alpha = check_float(alpha, "alpha", minimum=0.0)
    iterations = check_int(iterations, "iterations", minimum=1)
    rng = check_random_state(random_state)
    master = _check_master(master)
    regularization_mode = check_choice(regularization_mode, "regularization_mode", _REGULARIZATION_MODES)
    if num_blocks is not None:
        num_blocks = check_int(num_blocks, "num_blocks", minimum=1)
    n_users, n_items = counts.shape
    limit = np.iinfo(np.int32).max
    if n_users > limit or n_items > limit:
        raise ValueError(
            f"counts must have fewer than {limit} rows and columns for Spark's integer ids, "
            f"got shape {counts.shape}"
        )
    progress = check_bool(progress, "progress")
    if spark is not None and not hasattr(spark, "createDataFrame"):
        raise TypeError(f"spark must be a pyspark SparkSession or None, got {describe(spark)}")
    seed = int(rng.integers(0, 2**31 - 1))
    reg_param = spark_reg_param(counts, regularization, regularization_mode)
    params = dict(factors=factors, regularization=regularization, alpha=alpha, iterations=iterations,
                  random_state=random_state if isinstance(random_state, int) else None,
                  seed=seed, regularization_mode=regularization_mode)

    bar = _stage_bar(progress)
    session = contextlib.nullcontext(spark) if spark is not None else spark_session(master)
    try:
        with session as active, _quiet_python_warnings():
            if spark is not None:
                master = active.sparkContext.master
            bar.step("sending data")
            user_factors, item_factors, seconds = _fit_in_session(
                active, counts, factors, reg_param, alpha, iterations, seed, num_blocks, bar
            )
    finally:
        bar.close()
    return SparkALSModel(user_factors, item_factors, counts, params=params, reg_param=reg_param,
                         fit_seconds=seconds, master=master)


class _Stages:
    """A tqdm bar over named stages, or nothing when progress is off."""

    def __init__(self, enabled: bool, total: int):
        self._bar = None
        if enabled:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, desc="Spark ALS: starting Spark", unit="stage")

    def step(self, name: str) -> None:
        if self._bar is not None:
            self._bar.update(1)
            self._bar.set_description(f"Spark ALS: {name}")

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _stage_bar(enabled: bool) -> _Stages:
    return _Stages(enabled, total=4)


def _fit_in_session(spark, counts, factors, reg_param, alpha, iterations, seed, num_blocks, bar=None):
    from pyspark.ml.recommendation import ALS
    from pyspark.sql.types import FloatType, IntegerType, StructField, StructType

    n_users, n_items = counts.shape
    coo = counts.tocoo()
    schema = StructType([
        StructField("user", IntegerType(), False),
        StructField("item", IntegerType(), False),
        StructField("rating", FloatType(), False),
    ])
    parallelism = spark.sparkContext.defaultParallelism
    blocks = num_blocks if num_blocks is not None else max(1, parallelism)
    # Plain tuples, no pandas: Spark unpickles them in the JVM.
    triples = list(zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist()))
    rdd = spark.sparkContext.parallelize(triples, numSlices=max(1, parallelism))
    frame = spark.createDataFrame(rdd, schema=schema)
    als = ALS(
        rank=factors,
        maxIter=iterations,
        regParam=reg_param,
        alpha=alpha,
        implicitPrefs=True,
        nonnegative=False,
        userCol="user",
        itemCol="item",
        ratingCol="rating",
        numUserBlocks=blocks,
        numItemBlocks=blocks,
        seed=seed,
    )
    if bar is not None:
        bar.step(f"fitting {iterations} iterations")
    start = time.perf_counter()
    fitted = als.fit(frame)
    if bar is not None:
        bar.step("collecting factors")
    user_factors = _factor_matrix(fitted.userFactors, n_users, factors)
    item_factors = _factor_matrix(fitted.itemFactors, n_items, factors)
    seconds = time.perf_counter() - start
    if bar is not None:
        bar.step("done")
    return user_factors, item_factors, seconds


def agreement(model_a: Any, model_b: Any, k: int = 10, users: Any = None) -> dict:
    """How alike two fitted models' recommendations are, user by user.

    Returns ``overlap`` (mean share of the top-k lists both give, filter_seen on, 1.0 =
    identical sets), ``rank_correlation`` (mean over users of the Pearson correlation of
    the two models' score rows; 1.0 = the same ordering up to scale and shift) and
    ``per_user_overlap`` (array). Both models must share one users x items layout.
    """
    for name, model in (("model_a", model_a), ("model_b", model_b)):
        if not hasattr(model, "recommend_batch") or not hasattr(model, "score"):
            raise TypeError(f"{name} must be a fitted recommender of the course, got {describe(model)}")
    shape_a = (getattr(model_a, "n_users", None), getattr(model_a, "n_items", None))
    shape_b = (getattr(model_b, "n_users", None), getattr(model_b, "n_items", None))
    if shape_a != shape_b:
        raise ValueError(f"model_b must share model_a's users x items layout {shape_a}, got {shape_b}")
    k = check_int(k, "k", minimum=1)
    rows = np.arange(shape_a[0]) if users is None else model_a._check_users(users)
    if rows.size == 0:
        raise ValueError("users must hold at least one user index")
    items_a, _ = model_a.recommend_batch(rows, k=k)
    items_b, _ = model_b.recommend_batch(rows, k=k)
    overlap = np.empty(rows.size)
    for r in range(rows.size):
        a = set(items_a[r][items_a[r] >= 0].tolist())
        b = set(items_b[r][items_b[r] >= 0].tolist())
        overlap[r] = len(a & b) / max(len(a), len(b), 1)
    correlations = []
    for start in range(0, rows.size, 1024):
        chunk = rows[start:start + 1024]
        sa = np.asarray(model_a.score(chunk), dtype=np.float64)
        sb = np.asarray(model_b.score(chunk), dtype=np.float64)
        sa = sa - sa.mean(axis=1, keepdims=True)
        sb = sb - sb.mean(axis=1, keepdims=True)
        norm = np.linalg.norm(sa, axis=1) * np.linalg.norm(sb, axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = np.where(norm > 0, np.sum(sa * sb, axis=1) / np.where(norm > 0, norm, 1.0), np.nan)
        correlations.append(corr)
    corr = np.concatenate(correlations)
    return {
        "overlap": float(overlap.mean()),
        "rank_correlation": float(np.nanmean(corr)) if np.isfinite(corr).any() else float("nan"),
        "per_user_overlap": overlap,
    }


def scale_estimate(n_users: int, n_items: int, nnz: int, factors: int = 64) -> dict:
    """Rough memory and arithmetic of one implicit-ALS fit, to judge when one machine stops.

    ``matrix_bytes``: the interactions in CSR twice (users x items and its transpose;
    float32 value + int32 index per entry); ``factor_bytes``: float32 user and item factors;
    ``flops_per_iteration``: per sweep, about 2 f^2 per stored entry (forming Y_u' C_u Y_u)
    plus f^3 / 3 per row (a Cholesky solve) on both sides; ``score_all_bytes``: a dense
    users x items float32 score matrix, what recommending for everyone at once would need.
    """
    n_users = check_int(n_users, "n_users", minimum=1)
    n_items = check_int(n_items, "n_items", minimum=1)
    nnz = check_int(nnz, "nnz", minimum=1)
    factors = check_int(factors, "factors", minimum=1)
    if nnz > n_users * n_items:
        raise ValueError(f"nnz must be at most n_users * n_items = {n_users * n_items:,}, got {nnz:,}")
    return {
        "matrix_bytes": 2 * (nnz * 8 + (n_users + n_items + 2) * 4),
        "factor_bytes": (n_users + n_items) * factors * 4,
        "flops_per_iteration": float(2 * (2 * nnz * factors**2) + (n_users + n_items) * factors**3 / 3),
        "score_all_bytes": n_users * n_items * 4,
    }
