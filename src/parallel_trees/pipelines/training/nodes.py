"""Train one model: score it on the shared outer folds (tuned inside each, when tuning is
on), fit it on all training rows, predict the held-out rows, and measure what it learned
from each column; and the baseline every model must beat, on the same folds and rows."""

import logging
import os
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.pipeline import Pipeline
from sklearn.utils import resample

from parallel_trees.errors import TrainingError
from parallel_trees.metrics import (
    Metric,
    Outcome,
    chosen,
    outcome_of,
    panel,
    predictions_of,
)
from parallel_trees.models import MODELS, NOT_ARGUMENTS, SEARCH
from parallel_trees.preprocessing import make_model, used_columns
from parallel_trees.tasks import REGRESSION
from parallel_trees.tuning import PROGRESS_EVERY, parse_space, search

logger = logging.getLogger(__name__)

IMPORTANCE_REPEATS = 5  # shuffles of each column
# Rows permutation importance is measured on, at most: a seeded sample, stratified by class,
# of the held-out rows (benchmarks/importance_cap.py measured the cap against its cost).
IMPORTANCE_ROWS = 2_000
# Rows predicted at once when measuring it: the shuffles of as many columns as fit.
PREDICTED_ROWS = 100_000
# The baseline's name beside the models': it guesses the most frequent class of its rows
# (the mean of a regression's).
BASELINE = "baseline"
PROBABILITY = "probability_"  # a held-out prediction's column of each class's probability


@dataclass(frozen=True)
class LeftOut:
    """What a model's training nodes give when it has no estimator for the run's task (a
    classifier-only model in a regression): why, in place of a fitted model."""

    reason: str


def left_out(model_name: str, yardstick: dict[str, Any]) -> str | None:
    """Why ``model_name`` sits this run out (no estimator for its task); ``None`` if it
    does not."""
    spec, task = MODELS[model_name], yardstick["task"]
    if task in spec.tasks():
        return None
    return f"{spec.display_name} ({model_name}) has no {task} estimator (its ModelSpec's regressor)"


class Judge:
    """The run's yardstick (``choose_yardstick``) as the training nodes use it: the metric,
    and every model's outcome on some rows, from one prediction of them."""

    def __init__(self, yardstick: dict[str, Any]):
        self.task = yardstick["task"]
        self.metric: Metric = chosen(yardstick["metric"], self.task)
        self.classes = yardstick["classes"]
        positive = yardstick["positive"]
        self.positive = 1 if positive is None else positive

    def outcome(self, model: BaseEstimator, x: pd.DataFrame, y: pd.Series) -> Outcome:
        return outcome_of(model, x, y, self.classes, self.positive)

    def score(self, model: BaseEstimator, x: pd.DataFrame, y: pd.Series) -> float | None:
        """``model``'s score on ``x``, ``y`` by the run's metric."""
        return self.metric.score(self.outcome(model, x, y))


class _Model:
    """How to build one model of this run: its section of the parameters, made into a
    scikit-learn ``Pipeline`` (preprocessing, then the estimator) for a setting of its
    search space, and searched when the run tunes."""

    def __init__(
        self,
        model_name: str,
        hyperparameters: dict[str, Any],
        tuning: dict[str, Any],
        feature_roles: dict[str, Any],
        random_state: int,
        run_context: dict[str, Any],
        judge: Judge,
    ):
        self.name, self.spec, self.judge = model_name, MODELS[model_name], judge
        self.hyperparameters, self.roles, self.seed = hyperparameters, feature_roles, random_state
        self.estimator = self.spec.estimator_for(judge.task)
        threads = run_context["threads_per_model"]  # what n_jobs: auto becomes
        self.arguments = self.spec.arguments(hyperparameters, random_state, threads, judge.task)
        self._check_arguments()
        self.space = parse_space(hyperparameters.get(SEARCH, {}))
        self.trials = tuning["trials"] if self.space else 0
        self.inner_folds = tuning["inner_folds"]
        self.progress_every = tuning.get("progress_every", PROGRESS_EVERY)

    def _check_arguments(self) -> None:
        """Refuse an argument of the section, or its search space, that this run's estimator
        does not take: one for the other task's estimator (a classifier's ``class_weight`` in
        a regression) belongs in that task's subsection."""
        accepted = set(self.estimator().get_params())
        shared = [k for k in self.hyperparameters if k not in NOT_ARGUMENTS]
        searched = list(self.hyperparameters.get(SEARCH, {}) or {})
        wrong = [k for k in shared if k not in accepted]
        wrong += [f"{SEARCH}.{k}" for k in searched if k not in accepted]
        if wrong:
            where = "; ".join(f"{self.name}.{key}" for key in wrong)
            other = "classification" if self.judge.task == REGRESSION else "regression"
            raise TrainingError(
                f"{self.spec.display_name} ({self.name}): {self.estimator.__name__}, this "
                f"{self.judge.task} run's estimator, does not take {where}. Move it under "
                f"{self.name}.{other} (arguments of the {other} estimator only), or remove it.",
                settings=[f"{self.name}.{key}" for key in wrong],
            )

    def make(self, setting: dict[str, Any] | None = None) -> Pipeline:
        """The unfitted model, its section's arguments overridden by ``setting``."""
        estimator = self.estimator(**{**self.arguments, **(setting or {})})
        return make_model(estimator, self.roles, self.seed)

    def fit(self, setting: dict[str, Any] | None, x: pd.DataFrame, y: pd.Series) -> Pipeline:
        """The model fitted on ``x``, ``y``; a parameter it rejects is named (``TrainingError``)."""
        try:
            return self.make(setting).fit(x, y)
        except (ValueError, TypeError) as error:  # sklearn's and XGBoost's parameter errors
            raise _training_error(
                self.name, {**self.hyperparameters, **(setting or {})}, error
            ) from error

    def tune(self, x: pd.DataFrame, y: pd.Series, seed: int, label: str) -> dict[str, Any] | None:
        """The search's record (``tuning.search``) on ``x``, ``y``; ``None`` when not tuning."""
        if not self.trials:
            return None
        logger.debug("Tuning %s: %d trials, %d-fold inner CV", label, self.trials, self.inner_folds)
        try:
            return search(
                self.make,
                x,
                y,
                self.space,
                self.trials,
                self.inner_folds,
                seed,
                label,
                self.judge.score,
                self.judge.metric,
                self.progress_every,
            )
        except (ValueError, TypeError) as error:
            raise _training_error(self.name, self.hyperparameters, error) from error


def _outcome_on(
    judge: Judge, model: BaseEstimator, x: pd.DataFrame, y: pd.Series, rows: np.ndarray
) -> Outcome:
    """``model``'s outcome on ``rows`` of ``x``, ``y``: copied now, not held through a fit."""
    return judge.outcome(model, x.iloc[rows], y.iloc[rows])


def _span(node: str, started_at: float, cpu_started: float) -> dict[str, Any]:
    """When and where a training node ran, and the CPU time its process spent in it."""
    return {
        "node": node,
        "pid": os.getpid(),
        "started_at": started_at,
        "finished_at": time.time(),
        "cpu_seconds": time.process_time() - cpu_started,
    }


def share_name(part: int, parts: int) -> str:
    """The name of the node that scores share ``part`` (from 0) of the outer folds, of
    ``parts``: folds ``part``, ``part + parts``... (none, when there are fewer folds)."""
    return f"cross_validate_{part + 1}_of_{parts}"


def evaluate_folds(  # noqa: PLR0913 - a node's inputs, each a dataset or parameter
    x_train: pd.DataFrame,
    y_train: pd.Series,
    cv_splits: list[tuple[np.ndarray, np.ndarray]],
    yardstick: dict[str, Any],
    feature_roles: dict[str, Any],
    hyperparameters: dict[str, Any],
    tuning: dict[str, Any],
    random_state: int,
    run_context: dict[str, Any],
    model_name: str,
    *,
    part: int,
    parts: int,
) -> dict[str, Any]:
    """Score the model on its share of the shared outer folds: folds ``part``, ``part + parts``...

    On each outer fold, the model is fitted on the fold's training rows and scored on
    its validation rows, as it is (its section's arguments); when the run tunes, its
    search space is also searched on the fold's training rows alone (inner CV, by the
    run's metric), and the best setting, refitted on them, is scored on the validation
    rows. The validation rows never take part in the search: that is what keeps the
    outer score honest. The model predicts each fold's validation rows once, and every
    metric of the panel is computed from that prediction.

    Args:
        x_train: Training features, as in the table.
        y_train: Training labels.
        cv_splits: The outer folds every model shares.
        yardstick: The run's metric and classes (``choose_yardstick``).
        feature_roles: Each column's role (``infer_column_roles``).
        hyperparameters: The model's section of the parameters (its ``search`` space included).
        tuning: ``trials`` (0: no search) and ``inner_folds``.
        random_state: Seed of the estimator; fold ``k``'s search is seeded ``random_state + 1 + k``.
        run_context: The run's context; ``n_jobs: auto`` becomes its ``threads_per_model``.
        model_name: The model's key in ``MODELS`` (its branch's namespace).
        part: Which share of the folds this node scores (from 0).
        parts: How many nodes share the folds.

    Returns:
        ``folds``: one record per outer fold (``fold``; ``score``, by the run's metric,
        the outer score compared between models; ``scores``, the panel of every metric;
        ``untuned_score``; and when tuned ``best_params``, ``best_inner_score``,
        ``trials``, ``importance``), and ``timing``: the node's span.
    """
    started_at, cpu_started = time.time(), time.process_time()
    if reason := left_out(model_name, yardstick):
        span = _span(share_name(part, parts), started_at, cpu_started)
        return {"folds": [], "timing": span, "left_out": reason}
    judge = Judge(yardstick)
    model = _Model(
        model_name, hyperparameters, tuning, feature_roles, random_state, run_context, judge
    )
    records = []
    for k in range(part, len(cv_splits), parts):
        fit_rows, score_rows = cv_splits[k]
        x_fit, y_fit = x_train.iloc[fit_rows], y_train.iloc[fit_rows]
        scores = panel(
            _outcome_on(judge, model.fit(None, x_fit, y_fit), x_train, y_train, score_rows)
        )
        untuned = scores[judge.metric.name]
        record: dict[str, Any] = {"fold": k, "score": untuned, "untuned_score": untuned}
        label = f"{model.spec.display_name}, outer fold {k + 1}/{len(cv_splits)}"
        found = model.tune(x_fit, y_fit, random_state + 1 + k, label)
        if found:
            tuned = model.fit(found["best_params"], x_fit, y_fit)
            scores = panel(_outcome_on(judge, tuned, x_train, y_train, score_rows))
            record["score"] = scores[judge.metric.name]
            record |= {
                "best_params": found["best_params"],
                "best_inner_score": found["best_score"],
                "trials": found["trials"],
                "importance": found["importance"],
            }
            logger.info(
                "Tuned %s: best inner %s %.3f; outer %.3f (untuned %.3f)",
                label,
                judge.metric.title,
                found["best_score"],
                record["score"],
                untuned,
            )
        records.append(record | {"scores": scores})
    return {
        "folds": records,
        "timing": _span(share_name(part, parts), started_at, cpu_started),
    }


def fit_model(  # noqa: PLR0913 - a node's inputs, each a dataset or parameter
    x_train: pd.DataFrame,
    y_train: pd.Series,
    yardstick: dict[str, Any],
    feature_roles: dict[str, Any],
    hyperparameters: dict[str, Any],
    tuning: dict[str, Any],
    random_state: int,
    run_context: dict[str, Any],
    model_name: str,
) -> tuple[Pipeline, dict[str, Any]]:
    """Fit the model on all training rows: with its section's arguments, or, when the run
    tunes, with the best setting of a last search on all training rows.

    Args:
        x_train: Training features, as in the table.
        y_train: Training labels.
        yardstick: The run's metric and classes (the search's objective).
        feature_roles: Each column's role (``infer_column_roles``).
        hyperparameters: The model's section of the parameters.
        tuning: ``trials`` (0: no search) and ``inner_folds``.
        random_state: Seed of the estimator and of the search.
        run_context: The run's context; ``n_jobs: auto`` becomes its ``threads_per_model``.
        model_name: The model's key in ``MODELS``.

    Returns:
        The fitted model (a scikit-learn ``Pipeline`` that takes raw rows), and the
        fit's record: ``estimator`` (its class's name), ``hyperparameters`` (the
        arguments it was built with), the search's record when tuned (``search``), and
        ``timing``: the node's span. A model with no estimator for the run's task gives
        ``LeftOut`` and a record saying why (``left_out``).
    """
    started_at, cpu_started = time.time(), time.process_time()
    if reason := left_out(model_name, yardstick):
        logger.info("Left out of this run: %s", reason)
        span = _span("fit_model", started_at, cpu_started)
        record = {"estimator": None, "hyperparameters": {}, "search": None, "timing": span}
        return LeftOut(reason), record | {"left_out": reason}
    model = _Model(
        model_name, hyperparameters, tuning, feature_roles, random_state, run_context,
        Judge(yardstick),
    )  # fmt: skip
    found = model.tune(
        x_train, y_train, random_state, f"{model.spec.display_name}, all training rows"
    )
    setting = found["best_params"] if found else {}
    fitted = model.fit(setting, x_train, y_train)
    fit: dict[str, Any] = {
        "estimator": model.estimator.__name__,
        "hyperparameters": {**model.arguments, **setting},
        "search": found,
        "timing": _span("fit_model", started_at, cpu_started),
    }
    return fitted, fit


def record_training(model_name: str, fit: dict[str, Any], *parts: dict[str, Any]) -> dict[str, Any]:
    """The model's training record: its outer-fold scores in fold order, its fit, its nodes' spans.

    Args:
        model_name: The model's key in ``MODELS``.
        fit: ``fit_model``'s record.
        *parts: Each ``evaluate_folds`` node's record.

    Returns:
        ``display_name``, ``estimator``, ``hyperparameters`` (of the saved model),
        ``cv_scores`` (the outer score of each fold: tuned when the run tunes),
        ``untuned_cv_scores`` (when tuned: the same folds, with the section's
        arguments), ``folds`` (each fold's record), ``search`` (the last search,
        on all training rows), and ``timing``: a span per training node.
    """
    spec = MODELS[model_name]
    folds = sorted((f for part in parts for f in part["folds"]), key=lambda f: f["fold"])
    tuned = fit["search"] is not None
    training = {
        **({"left_out": fit["left_out"]} if fit.get("left_out") else {}),
        "display_name": spec.display_name,
        "estimator": fit["estimator"],
        "hyperparameters": fit["hyperparameters"],
        "cv_scores": [f["score"] for f in folds],
        "untuned_cv_scores": [f["untuned_score"] for f in folds] if tuned else None,
        "folds": folds,
        "search": fit["search"],
        "timing": [part["timing"] for part in parts] + [fit["timing"]],
    }
    if fit.get("left_out"):
        return training
    work = sum(span["cpu_seconds"] for span in training["timing"])
    logger.info(
        "Trained %s: %d-fold CV%s and a fit on all training rows, %.1f s of CPU in %d nodes",
        spec.display_name,
        len(folds),
        " with a search in each fold" if tuned else "",
        work,
        len(training["timing"]),
    )
    return training


def _training_error(model: str, hyperparameters: dict[str, Any], error: Exception) -> TrainingError:
    message = str(error).strip().splitlines()[0].rstrip(".")
    # sklearn names the function that checked the parameter, not the estimator.
    message = message.replace("of cross_val_score", f"of {MODELS[model].estimator.__name__}")
    named = [key for key in hyperparameters if key in message]
    hint = (
        "Change " + "; ".join(f"{model}.{key} = {hyperparameters[key]!r}" for key in named) + "."
        if named
        else f"Check the {model} section of the parameters."
    )
    return TrainingError(
        f"{MODELS[model].display_name} ({model}) could not be trained: {message}. {hint}",
        settings=[f"{model}.{key}" for key in named],
    )


def export_model(model: Pipeline, model_name: str) -> dict[str, Any]:
    """The fitted estimator in its library's portable format (``MODELS[model_name].export``).

    Only the estimator: it takes the preprocessed columns (``model[:-1]``'s output), not raw rows.

    Args:
        model: The fitted model.
        model_name: The model's key in ``MODELS``.

    Returns:
        A JSON-able document that loads without pickle (of a ``LeftOut`` model, why).
    """
    if isinstance(model, LeftOut):
        return {"left_out": model.reason}
    export = MODELS[model_name].export
    if export is None:  # the template makes this node only for a model with an export
        raise ValueError(f"{model_name} has no portable export")
    return export(model[-1])


def predict_test_rows(
    model: BaseEstimator, x_test: pd.DataFrame, yardstick: dict[str, Any]
) -> pd.DataFrame:
    """The model's prediction of each held-out row: its class, and each class's probability;
    of a regression, its number.

    Args:
        model: The fitted model.
        x_test: Held-out features (may have no rows: ``test_size: 0``).
        yardstick: The run's classes.

    Returns:
        Indexed as ``x_test``: ``prediction``, the predicted class code (or number), then
        ``probability_<code>`` for each class (none when the model gives no probabilities).
    """
    if isinstance(model, LeftOut):
        return pd.DataFrame(index=x_test.index[:0])  # no "prediction": nothing to join
    if not len(x_test):
        empty = np.array([], dtype=float if yardstick["task"] == REGRESSION else int)
        return held_out_frame(empty, None, x_test.index)
    return held_out_frame(*predictions_of(model, x_test, yardstick["classes"]), x_test.index)


def held_out_frame(
    predicted: np.ndarray, probabilities: np.ndarray | None, index: pd.Index
) -> pd.DataFrame:
    """Predictions as a table of the held-out rows (``predict_test_rows``)."""
    table = pd.DataFrame({"prediction": predicted}, index=index)
    if probabilities is not None:
        for code in range(probabilities.shape[1]):
            table[f"{PROBABILITY}{code}"] = probabilities[:, code]
    return table


def explain_model(
    model: BaseEstimator,
    x_test: pd.DataFrame,
    y_test: pd.Series,
    x_train: pd.DataFrame,
    y_train: pd.Series,
    feature_roles: dict[str, Any],
    random_state: int,
    yardstick: dict[str, Any],
) -> dict[str, Any]:
    """How much worse the model scores, by the run's metric, when each column is shuffled.

    Permutation importance by the table's own columns: shuffling a categorical
    column shuffles all of its one-hot parts at once. Measured on the held-out
    rows, or on the training rows when none are held out (``test_size: 0``); on
    at most ``IMPORTANCE_ROWS`` of them (``importance_sample``).

    Args:
        model: The fitted model.
        x_test: Held-out features.
        y_test: Held-out labels.
        x_train: Training features.
        y_train: Training labels.
        feature_roles: Each column's role: the model's columns are measured.
        random_state: Seed of the sample and of the shuffles.
        yardstick: The run's metric.

    Returns:
        ``rows``: ``held-out`` or ``training``; ``out_of``: how many, ``measured_on``: how
        many of them were measured, ``sample``: how they were chosen (``permutation_record``);
        ``repeats``: shuffles per column; ``metric``: the metric's name;
        ``columns``: by column name, the mean and std over ``IMPORTANCE_REPEATS``
        shuffles of how much worse the metric got (positive: the model needs the column).
    """
    held_out = len(x_test) > 0
    judge = Judge(yardstick)
    if isinstance(model, LeftOut):
        return {"rows": None, "metric": judge.metric.name, "columns": {}, "left_out": model.reason}
    features, labels = (x_test, y_test) if held_out else (x_train, y_train)
    return {
        "rows": "held-out" if held_out else "training",
        "out_of": len(features),
        **permutation_record(
            model, features, labels, used_columns(feature_roles), judge, random_state
        ),
    }


def importance_sample(
    labels: pd.Series, cap: int, random_state: int, stratify: bool
) -> np.ndarray | None:
    """The positions of at most ``cap`` of the rows, in table order: a sample seeded by
    ``random_state``, stratified by class when ``stratify`` (each class keeps its share);
    None when there are no more rows than ``cap`` (all of them)."""
    if len(labels) <= cap:
        return None
    drawn = resample(
        np.arange(len(labels)),
        replace=False,
        n_samples=cap,
        random_state=random_state,
        stratify=labels.to_numpy() if stratify else None,
    )
    return np.sort(drawn)


def permutation_record(  # noqa: PLR0913 - the measured model, its rows, and how to measure
    model: BaseEstimator,
    features: pd.DataFrame,
    labels: pd.Series,
    columns: list[str],
    judge: Judge,
    random_state: int,
    cap: int = IMPORTANCE_ROWS,
) -> dict[str, Any]:
    """Permutation importance of ``columns`` on at most ``cap`` of the rows
    (``importance_sample``): the baseline and every shuffle score the same rows.

    Returns:
        ``measured_on`` (rows), ``sample`` (``all``, ``stratified`` by class, or ``random``:
        a regression's), ``repeats``, ``metric`` and ``columns`` (``explain_model``).
    """
    stratify = judge.task != REGRESSION
    sample = importance_sample(labels, cap, random_state, stratify)
    if sample is not None:
        features, labels = features.iloc[sample], labels.iloc[sample]
    importances = permutation_importances(
        model, features[columns], labels, judge, IMPORTANCE_REPEATS, random_state
    )
    return {
        "measured_on": len(features),
        "sample": "all" if sample is None else "stratified" if stratify else "random",
        "repeats": IMPORTANCE_REPEATS,
        "metric": judge.metric.name,
        "columns": {
            column: {"mean": float(mean), "std": float(std)}
            for column, mean, std in zip(
                columns, importances.mean(axis=1), importances.std(axis=1), strict=True
            )
        },
    }


def permutation_importances(  # noqa: PLR0913 - the measured model, its rows, and how to measure
    model: BaseEstimator,
    features: pd.DataFrame,
    labels: pd.Series,
    judge: Judge,
    repeats: int,
    random_state: int,
) -> np.ndarray:
    """scikit-learn's ``permutation_importance`` of each column of ``features``, value for
    value (the same shuffles, from the same seed), but predicted in few large batches:
    a forest pays a fixed cost per tree at each prediction, about half its work when
    each of a hundred shuffles is predicted on its own 2,000 rows.

    Returns:
        By column and repeat: the run's metric on the rows (oriented: greater is better),
        minus the same with that column shuffled.
    """
    rows = len(features)
    orders = _shuffled_orders(rows, repeats, random_state)
    truth = labels.to_numpy()
    baseline = _oriented_scores(model, features, truth, judge, 1)[0]
    per_batch = max(1, PREDICTED_ROWS // (rows * repeats))  # columns shuffled per prediction
    every_repeat = np.tile(np.arange(rows), repeats)
    scores = []
    for start in range(0, features.shape[1], per_batch):
        batch = []
        for column in features.columns[start : start + per_batch]:
            shuffled = features.take(every_repeat).reset_index(drop=True)
            shuffled[column] = features[column].take(orders.ravel()).to_numpy()
            batch.append(shuffled)
        scored = _oriented_scores(
            model, pd.concat(batch, ignore_index=True), truth, judge, len(batch) * repeats
        )
        scores.append(scored.reshape(len(batch), repeats))
    return baseline - np.concatenate(scores) if scores else np.empty((0, repeats))


def _shuffled_orders(rows: int, repeats: int, random_state: int) -> np.ndarray:
    """Each repeat's order of the rows for a shuffled column, as scikit-learn's
    ``permutation_importance`` draws them: one seed for every column, and each repeat
    shuffles the column the previous one left."""
    generator = np.random.RandomState(  # noqa: NPY002 - scikit-learn's, for the same shuffles
        np.random.RandomState(random_state).randint(np.iinfo(np.int32).max + 1)  # noqa: NPY002
    )
    shuffle, order, orders = np.arange(rows), np.arange(rows), []
    for _ in range(repeats):
        generator.shuffle(shuffle)
        order = order[shuffle]
        orders.append(order)
    return np.array(orders)


def _oriented_scores(
    model: BaseEstimator, x: pd.DataFrame, truth: np.ndarray, judge: Judge, blocks: int
) -> np.ndarray:
    """The run's metric (greater is better; nan where it is undefined) on each of the
    ``blocks`` consecutive blocks of ``x``'s rows, whose classes are ``truth`` each, from
    one prediction of them all."""
    outcome = judge.outcome(model, x, np.tile(truth, blocks))
    rows = len(truth)
    return np.array(
        [
            judge.metric.oriented_score(outcome.take(np.arange(block * rows, (block + 1) * rows)))
            for block in range(blocks)
        ]
    )


def evaluate_baseline(
    x_train: pd.DataFrame,
    y_train: pd.Series,
    x_test: pd.DataFrame,
    cv_splits: list[tuple[np.ndarray, np.ndarray]],
    yardstick: dict[str, Any],
    classes: list,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """The baseline every model must beat: always the most frequent class of its training
    rows, with the classes' shares as its probabilities (scikit-learn's
    ``DummyClassifier(strategy="prior")``), or of a regression always their mean
    (``DummyRegressor(strategy="mean")``), on the same folds and held-out rows.

    Args:
        x_train: Training features (the baseline reads none of them).
        y_train: Training labels.
        x_test: Held-out features.
        cv_splits: The outer folds every model shares.
        yardstick: The run's metric and classes.
        classes: The class names, by code (for its name).

    Returns:
        Its training record, as ``record_training``'s (``baseline``: true), and its
        held-out predictions, as ``predict_test_rows``'.
    """
    started_at, cpu_started = time.time(), time.process_time()
    judge = Judge(yardstick)
    regression = judge.task == REGRESSION
    dummy, strategy = (DummyRegressor, "mean") if regression else (DummyClassifier, "prior")
    folds = []
    for k, (fit_rows, score_rows) in enumerate(cv_splits):
        fitted = dummy(strategy=strategy).fit(x_train.iloc[fit_rows], y_train.iloc[fit_rows])
        scores = panel(_outcome_on(judge, fitted, x_train, y_train, score_rows))
        score = scores[judge.metric.name]
        folds.append({"fold": k, "score": score, "untuned_score": score, "scores": scores})
    model = dummy(strategy=strategy).fit(x_train, y_train)
    guess = model.predict(x_train.iloc[:1])[0] if len(x_train) else None
    record = {
        "display_name": "Baseline",
        "estimator": dummy.__name__,
        "baseline": True,
        "guess": None if guess is None else float(guess) if regression else classes[int(guess)],
        "hyperparameters": {"strategy": strategy},
        "cv_scores": [f["score"] for f in folds],
        "untuned_cv_scores": None,
        "folds": folds,
        "search": None,
        "timing": [_span("evaluate_baseline", started_at, cpu_started)],
    }
    return record, predict_test_rows(model, x_test, yardstick)
