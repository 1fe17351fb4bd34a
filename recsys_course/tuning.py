"""Choosing hyperparameters on a validation split, and comparing tuned models honestly.

Three rules of the course live here, so no notebook has to remember them:

* a setting is chosen by its score on **validation** (the model fitted on train, train items
  excluded from the ranking): ``grid_search`` never sees the test split;
* the chosen setting is refitted on train + validation and the **test** split is scored
  **once** per model and split: ``compare`` does this for every contender;
* every contender gets the **same tuning budget** (the same number of settings tried);
  a contender without hyperparameters (a grid of one setting) is the only exception.

``compare`` repeats everything on several splits (one per seed) and reports the mean and
the spread, so that a difference can be judged against the noise of the split.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
from ._validation import check_bool, check_choice, check_csr_counts, check_int, describe
from .data.split import ThreeWaySplit, train_validation_test_split
from .metrics import METRICS, check_metric_names, evaluate

__all__ = ["Comparison", "GridSearchResult", "compare", "expand_grid", "grid_search", "repeated_splits"]


# --------------------------------------------------------------------------- grids
def expand_grid(grid: Any, name: str = "grid") -> list[dict[str, Any]]:
    """The settings of ``grid``: a dict name -> values (Cartesian product, in the order given)
    or a sequence of dicts (taken as they are). At least one setting; names are strings."""
    if isinstance(grid, Mapping):
        keys = list(grid)
        values = []
        for key in keys:
            if not isinstance(key, str) or not key.isidentifier():
                raise TypeError(f"{name} keys must be parameter names (strings), got {key!r}")
            options = grid[key]
            if isinstance(options, (str, bytes)) or not isinstance(options, Iterable):
                raise TypeError(
                    f"{name}[{key!r}] must be a list of values to try, got {describe(options)}"
                )
            options = list(options)
            if not options:
                raise ValueError(f"{name}[{key!r}] must hold at least one value, got an empty list")
            values.append(options)
        settings = [dict(zip(keys, combo)) for combo in itertools.product(*values)]
    elif isinstance(grid, Sequence) and not isinstance(grid, (str, bytes)):
        settings = []
        for index, setting in enumerate(grid):
            if not isinstance(setting, Mapping):
                raise TypeError(f"{name}[{index}] must be a dict of parameter values, got {describe(setting)}")
            for key in setting:
                if not isinstance(key, str) or not key.isidentifier():
                    raise TypeError(f"{name}[{index}] keys must be parameter names (strings), got {key!r}")
            settings.append(dict(setting))
    else:
        raise TypeError(
            f"{name} must be a dict of name -> list of values, or a list of dicts, got {describe(grid)}"
        )
    if not settings:
        raise ValueError(f"{name} must hold at least one setting, got none")
    return settings


def _format_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _format_params(params: Mapping[str, Any]) -> str:
    return ", ".join(f"{key}={_format_value(value)}" for key, value in params.items()) or "(none)"


def _check_metric_names(metric: Any, metrics: Any) -> tuple[str, tuple[str, ...]]:
    metric = check_choice(metric, "metric", METRICS)
    metrics = (metric,) if metrics is None else check_metric_names(metrics)
    if metric not in metrics:
        metrics = (metric,) + metrics
    return metric, metrics


def _higher_is_better(metric: str) -> bool:
    return metric != "percentile_rank"


def _make(make_model: Callable, params: dict[str, Any], where: str):
    try:
        model = make_model(**params)
    except (TypeError, ValueError) as error:
        raise type(error)(f"make_model({_format_params(params)}) failed for {where}: {error}") from error
    if not hasattr(model, "fit") or not callable(model.fit):
        raise TypeError(f"make_model must return an unfitted model with a fit method, got {describe(model)}")
    return model


def _progress_bar(total: int, enabled: bool, description: str):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=description, leave=False)


# --------------------------------------------------------------------- grid search
def _scored(scorer: Callable, model: Any, metric: str, params: dict[str, Any]) -> dict[str, float]:
    """``scorer(model)`` checked: a dict of finite-or-NaN numbers that names ``metric``."""
    result = scorer(model)
    if not isinstance(result, Mapping) or not result:
        raise TypeError(f"scorer must return a non-empty dict of metric name -> number, got {describe(result)}")
    out = {}
    for name, value in result.items():
        if not isinstance(name, str) or isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
            raise TypeError(f"scorer must return metric names (strings) with numbers, got {name!r}: {describe(value)}")
        out[name] = float(value)
    if metric not in out:
        raise ValueError(f"metric must be one of the scorer's metrics {list(out)}, got {metric!r} "
                         f"(setting {_format_params(params)})")
    return out



@dataclass
class GridSearchResult:
    """Every setting of a grid scored on validation, and the best one.

    ``rows``: one dict per setting, its parameters then its validation metrics, in grid order.
    ``best_params`` / ``best_score`` / ``best_index``: the best setting by ``metric`` (ties go to
    the first in grid order). ``best_model``: that setting fitted on train (not refitted).
    """

    metric: str
    k: int
    rows: list[dict[str, Any]]
    param_names: list[str]
    best_index: int
    best_model: Any = field(repr=False, default=None)

    @property
    def n_settings(self) -> int:
        return len(self.rows)

    @property
    def best_params(self) -> dict[str, Any]:
        return {name: self.rows[self.best_index][name] for name in self.param_names}

    @property
    def best_score(self) -> float:
        return float(self.rows[self.best_index][self.metric])

    def scores(self, metric: str | None = None) -> np.ndarray:
        """Validation scores of every setting for ``metric`` (default: the selection metric)."""
        metric = self.metric if metric is None else metric
        if metric not in self.rows[0]:
            raise ValueError(f"metric must be one of the scored metrics {self._metric_names()}, got {metric!r}")
        return np.array([row[metric] for row in self.rows], dtype=float)

    def _metric_names(self) -> list[str]:
        return [key for key in self.rows[0] if key not in self.param_names]

    def pivot(self, row: str, column: str, metric: str | None = None):
        """``(row_values, column_values, table)`` of validation scores for a heatmap.

        Where the grid has other parameters too, each cell holds the best score over them
        (the value a search would pick for that pair). Cells the grid never tried are NaN.
        """
        metric = self.metric if metric is None else metric
        for name, label in ((row, "row"), (column, "column")):
            if name not in self.param_names:
                raise ValueError(f"{label} must be one of the grid's parameters {self.param_names}, got {name!r}")
        if row == column:
            raise ValueError(f"row and column must be two different parameters, got {row!r} twice")
        scores = self.scores(metric)
        row_values = list(dict.fromkeys(r[row] for r in self.rows))
        column_values = list(dict.fromkeys(r[column] for r in self.rows))
        table = np.full((len(row_values), len(column_values)), np.nan)
        better = np.fmax if _higher_is_better(metric) else np.fmin
        for r, score in zip(self.rows, scores):
            i, j = row_values.index(r[row]), column_values.index(r[column])
            table[i, j] = better(table[i, j], score)
        return row_values, column_values, table

    def table(self, digits: int = 4) -> str:
        """The whole grid as aligned text, the best setting marked with ``*``."""
        metrics = self._metric_names()
        header = self.param_names + [f"{m}@{self.k}" if m not in ("auc", "percentile_rank", "coverage")
                                     else m for m in metrics]
        lines = []
        for index, r in enumerate(self.rows):
            cells = [_format_value(r[name]) for name in self.param_names]
            cells += [f"{r[m]:.{digits}f}" for m in metrics]
            lines.append(cells + ["*" if index == self.best_index else ""])
        widths = [max(len(h), *(len(line[j]) for line in lines)) for j, h in enumerate(header)]
        out = ["  ".join(h.rjust(w) for h, w in zip(header, widths))]
        out += ["  ".join(c.rjust(w) for c, w in zip(line, widths)) + ("  *" if line[-1] else "")
                for line in lines]
        return "\n".join(out)

    def __repr__(self) -> str:
        return (
            f"GridSearchResult: {self.n_settings} settings scored on validation by {self.metric}@{self.k}; "
            f"best {_format_params(self.best_params)} ({self.metric} {self.best_score:.4f})\n"
            + self.table()
        )


def grid_search(
    make_model: Callable[..., Any],
    grid: Any,
    train: Any,
    validation: Any,
    metric: str = "ndcg",
    k: int = 10,
    metrics: Any = None,
    progress: bool = False,
    scorer: Callable[[Any], Mapping[str, float]] | None = None,
) -> GridSearchResult:
    """Fit ``make_model(**setting)`` on ``train`` for every setting of ``grid`` and score it on
    ``validation`` (train items excluded from the ranking); pick the best by ``metric``.

    ``metrics`` adds more validation metrics to the table (names from ``recsys_course.metrics.METRICS``);
    ``percentile_rank`` is the one where lower is better. There is deliberately no test argument:
    the test split is scored by ``compare`` (or by you) once, after the choice.

    ``scorer``: for a validation protocol of your own (e.g. sampled negatives,
    ``recsys_course.metrics.sampled_ranking``), a callable ``scorer(fitted_model) -> {name: value}``
    used instead of ``evaluate(model, train, validation)``; every value it returns goes into the
    table, ``metric`` must be one of its names (higher is better, except ``percentile_rank``) and
    ``metrics`` must be None. ``validation`` is then only checked for its shape.
    """
    if not callable(make_model):
        raise TypeError(f"make_model must be a callable returning an unfitted model, got {describe(make_model)}")
    settings = expand_grid(grid)
    train = check_csr_counts(train, "train")
    validation = check_csr_counts(validation, "validation")
    if train.shape != validation.shape:
        raise ValueError(
            f"train and validation must have the same users x items shape, got {train.shape} and {validation.shape}"
        )
    if scorer is None:
        metric, metrics = _check_metric_names(metric, metrics)
    elif not callable(scorer):
        raise TypeError(f"scorer must be None or a callable scorer(model) -> dict of metrics, got {describe(scorer)}")
    elif metrics is not None:
        raise ValueError(f"metrics must be None when a scorer is given (the scorer names the metrics), got {metrics!r}")
    elif not isinstance(metric, str):
        raise TypeError(f"metric must be the name of one of the scorer's metrics, got {describe(metric)}")
    k = check_int(k, "k", minimum=1)
    progress = check_bool(progress, "progress")
    names = list(dict.fromkeys(key for setting in settings for key in setting))
    rows: list[dict[str, Any]] = []
    best_index, best_value, best_model = -1, None, None
    bar = _progress_bar(len(settings), progress, "grid search")
    try:
        for index, params in enumerate(settings):
            model = _make(make_model, params, "the grid search").fit(train)
            if scorer is None:
                result = evaluate(model, train, validation, k=k, metrics=metrics)
            else:
                result = _scored(scorer, model, metric, params)
                metrics = tuple(result)
            row = {name: params.get(name) for name in names}
            row.update({name: float(result[name]) for name in metrics})
            rows.append(row)
            value = row[metric]
            if math.isnan(value):
                raise ValueError(f"validation {metric} is NaN for setting {_format_params(params)}")
            improved = best_value is None or (value > best_value if _higher_is_better(metric) else value < best_value)
            if improved:
                best_index, best_value, best_model = index, value, model
            if bar is not None:
                bar.update()
    finally:
        if bar is not None:
            bar.close()
    return GridSearchResult(metric, min(k, train.shape[1]), rows, names, best_index, best_model)


# ------------------------------------------------------------------------ splits
def repeated_splits(
    counts: Any,
    n_seeds: int = 5,
    validation_fraction: float = 0.1,
    test_fraction: float = 0.2,
    seed: int = 0,
    min_interactions: int = 3,
) -> list[ThreeWaySplit]:
    """``n_seeds`` train/validation/test splits drawn with ``random_state`` seed, seed + 1, ..."""
    n_seeds = check_int(n_seeds, "n_seeds", minimum=1)
    seed = check_int(seed, "seed", minimum=0)
    counts = check_csr_counts(counts, "counts")
    return [
        train_validation_test_split(counts, validation_fraction, test_fraction, random_state=seed + i,
                                    min_interactions=min_interactions)
        for i in range(n_seeds)
    ]


# ---------------------------------------------------------------------- compare
@dataclass
class Comparison:
    """Tuned contenders scored on test once per split.

    ``per_seed``: one dict per (split, contender): ``contender``, ``seed`` (split index),
    ``params`` (chosen on validation), ``validation`` (its validation score), ``n_settings``
    and one entry per test metric.
    """

    metric: str
    k: int
    test_metrics: tuple[str, ...]
    contenders: list[str]
    per_seed: list[dict[str, Any]]
    grids: dict[str, GridSearchResult] = field(repr=False, default_factory=dict)

    @property
    def n_seeds(self) -> int:
        return len({row["seed"] for row in self.per_seed})

    def _check_contender(self, name: Any, argument: str = "contender") -> str:
        if name not in self.contenders:
            raise ValueError(f"{argument} must be one of {self.contenders}, got {name!r}")
        return name

    def _check_metric(self, metric: Any) -> str:
        if metric not in self.test_metrics:
            raise ValueError(f"metric must be one of the test metrics {list(self.test_metrics)}, got {metric!r}")
        return metric

    def values(self, contender: str, metric: str | None = None) -> np.ndarray:
        """Test scores of ``contender`` per split, in split order."""
        contender = self._check_contender(contender)
        metric = self._check_metric(self.metric if metric is None else metric)
        return np.array([row[metric] for row in self.per_seed if row["contender"] == contender])

    def grid(self, contender: str, seed: int = 0) -> GridSearchResult:
        """The validation grid of ``contender`` on split ``seed`` (for a heatmap or a table)."""
        contender = self._check_contender(contender)
        key = f"{contender}/{seed}"
        if key not in self.grids:
            raise ValueError(f"seed must be a split index in [0, {self.n_seeds - 1}], got {seed!r}")
        return self.grids[key]

    def chosen(self, contender: str) -> list[dict[str, Any]]:
        """The setting chosen on validation for each split."""
        contender = self._check_contender(contender)
        return [row["params"] for row in self.per_seed if row["contender"] == contender]

    def summary(self) -> dict[str, dict[str, tuple[float, float]]]:
        """``{contender: {metric: (mean, std)}}`` over splits (std with ddof=1; 0 for one split)."""
        out = {}
        for name in self.contenders:
            out[name] = {}
            for metric in self.test_metrics:
                values = self.values(name, metric)
                std = float(values.std(ddof=1)) if values.size > 1 else 0.0
                out[name][metric] = (float(values.mean()), std)
        return out

    def difference(self, a: str, b: str, metric: str | None = None) -> tuple[float, float, int, int]:
        """Paired difference ``a - b`` on test over the same splits: ``(mean, std, wins, n)``.

        ``wins`` counts the splits where ``a`` is better than ``b`` (lower is better for
        ``percentile_rank``). Say "a is better" only when a wins on (nearly) every split and
        the mean difference is larger than its spread.
        """
        a = self._check_contender(a, "a")
        b = self._check_contender(b, "b")
        metric = self._check_metric(self.metric if metric is None else metric)
        diff = self.values(a, metric) - self.values(b, metric)
        wins = int((diff > 0).sum() if _higher_is_better(metric) else (diff < 0).sum())
        std = float(diff.std(ddof=1)) if diff.size > 1 else 0.0
        return float(diff.mean()), std, wins, int(diff.size)

    def table(self, digits: int = 3) -> str:
        """``mean ± std`` of every test metric per contender, with the tuning budget."""
        summary = self.summary()
        header = ["contender", "settings tried"] + [
            f"test {m}@{self.k}" if m not in ("auc", "percentile_rank", "coverage") else f"test {m}"
            for m in self.test_metrics]
        lines = []
        for name in self.contenders:
            budget = {row["n_settings"] for row in self.per_seed if row["contender"] == name}
            cells = [name, "/".join(str(b) for b in sorted(budget))]
            cells += [f"{summary[name][m][0]:.{digits}f} ± {summary[name][m][1]:.{digits}f}" for m in self.test_metrics]
            lines.append(cells)
        widths = [max(len(h), *(len(line[j]) for line in lines)) for j, h in enumerate(header)]
        out = ["  ".join(h.ljust(w) if j == 0 else h.rjust(w) for j, (h, w) in enumerate(zip(header, widths)))]
        out += ["  ".join(c.ljust(w) if j == 0 else c.rjust(w) for j, (c, w) in enumerate(zip(line, widths)))
                for line in lines]
        return "\n".join(out)

    def __repr__(self) -> str:
        return (
            f"Comparison over {self.n_seeds} splits: settings chosen on validation by {self.metric}@{self.k}, "
            f"test scored once per split (mean ± std over splits)\n" + self.table()
        )


def _check_contenders(contenders: Any) -> dict[str, tuple[Callable, list[dict[str, Any]]]]:
    if not isinstance(contenders, Mapping) or not contenders:
        raise TypeError(
            f"contenders must be a non-empty dict name -> (make_model, grid), got {describe(contenders)}"
        )
    checked = {}
    for name, entry in contenders.items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"contenders keys must be non-empty names (strings), got {name!r}")
        if not isinstance(entry, tuple) or len(entry) != 2:
            raise TypeError(f"contenders[{name!r}] must be a pair (make_model, grid), got {describe(entry)}")
        make_model, grid = entry
        if not callable(make_model):
            raise TypeError(f"contenders[{name!r}][0] must be a callable returning an unfitted model, "
                            f"got {describe(make_model)}")
        checked[name] = (make_model, expand_grid(grid, f"contenders[{name!r}] grid"))
    budgets = {name: len(grid) for name, (_, grid) in checked.items() if len(grid) > 1}
    if len(set(budgets.values())) > 1:
        listing = ", ".join(f"{name}: {size}" for name, size in budgets.items())
        raise ValueError(
            "every contender with hyperparameters must get the same tuning budget (number of settings), "
            f"got {listing}"
        )
    return checked


def compare(
    contenders: Any,
    splits: Any,
    metric: str = "ndcg",
    k: int = 10,
    test_metrics: Any = ("ndcg",),
    seed_param: str | None = None,
    progress: bool = False,
) -> Comparison:
    """Tune every contender on each split's validation part, refit the chosen setting on
    train + validation, and score it on that split's test part once.

    ``contenders``: dict name -> ``(make_model, grid)``; grids with more than one setting must
    all have the same size (the same tuning budget). ``splits``: a sequence of
    ``ThreeWaySplit`` (see ``repeated_splits``). ``seed_param``: if given, ``make_model`` also
    receives ``{seed_param: split index}``, so the model's own randomness varies with the split.
    """
    checked = _check_contenders(contenders)
    if isinstance(splits, ThreeWaySplit):
        splits = [splits]
    if not isinstance(splits, Sequence) or not splits:
        raise TypeError(f"splits must be a non-empty list of ThreeWaySplit, got {describe(splits)}")
    for index, split in enumerate(splits):
        if not isinstance(split, ThreeWaySplit):
            raise TypeError(
                f"splits[{index}] must be a ThreeWaySplit (from train_validation_test_split or repeated_splits), "
                f"got {describe(split)}"
            )
    metric, _ = _check_metric_names(metric, None)
    _, test_metrics = _check_metric_names(metric, test_metrics)
    k = check_int(k, "k", minimum=1)
    if seed_param is not None and (not isinstance(seed_param, str) or not seed_param.isidentifier()):
        raise TypeError(f"seed_param must be None or a parameter name, got {describe(seed_param)}")
    progress = check_bool(progress, "progress")
    per_seed: list[dict[str, Any]] = []
    grids: dict[str, GridSearchResult] = {}
    total = sum(len(grid) + 1 for _, grid in checked.values()) * len(splits)
    bar = _progress_bar(total, progress, "compare")
    try:
        for seed, split in enumerate(splits):
            refit_on = split.train_and_validation
            for name, (make_model, grid) in checked.items():
                if seed_param is not None:
                    factory = (lambda make, s: (lambda **p: make(**p, **{seed_param: s})))(make_model, seed)
                else:
                    factory = make_model
                search = grid_search(factory, grid, split.train, split.validation, metric=metric, k=k)
                if bar is not None:
                    bar.update(len(grid))
                model = _make(factory, search.best_params, f"the refit of {name!r}").fit(refit_on)
                result = evaluate(model, refit_on, split.test, k=k, metrics=test_metrics)
                if bar is not None:
                    bar.update()
                row = {"contender": name, "seed": seed, "params": search.best_params,
                       "validation": search.best_score, "n_settings": search.n_settings}
                row.update({m: float(result[m]) for m in test_metrics})
                per_seed.append(row)
                grids[f"{name}/{seed}"] = search
    finally:
        if bar is not None:
            bar.close()
    return Comparison(metric, min(k, splits[0].train.shape[1]), tuple(test_metrics), list(checked), per_seed, grids)
