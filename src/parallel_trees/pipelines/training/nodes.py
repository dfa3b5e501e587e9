"""Train one model: score it on the shared outer folds (tuned inside each, when tuning is
on), fit it on all training rows, predict the held-out rows, and measure what it learned
from each column."""

import logging
import os
import time
from typing import Any

import numpy as np
import pandas as pd
from sklearn.inspection import permutation_importance
from sklearn.pipeline import Pipeline

from parallel_trees.errors import TrainingError
from parallel_trees.models import MODELS, SEARCH
from parallel_trees.preprocessing import make_model, used_columns
from parallel_trees.tuning import PROGRESS_EVERY, accuracy, parse_space, search

logger = logging.getLogger(__name__)

IMPORTANCE_REPEATS = 5  # shuffles of each column


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
    ):
        self.name, self.spec = model_name, MODELS[model_name]
        self.hyperparameters, self.roles, self.seed = hyperparameters, feature_roles, random_state
        threads = run_context["threads_per_model"]  # what n_jobs: auto becomes
        self.arguments = self.spec.arguments(hyperparameters, random_state, threads)
        self.space = parse_space(hyperparameters.get(SEARCH, {}))
        self.trials = tuning["trials"] if self.space else 0
        self.inner_folds = tuning["inner_folds"]
        self.progress_every = tuning.get("progress_every", PROGRESS_EVERY)

    def make(self, setting: dict[str, Any] | None = None) -> Pipeline:
        """The unfitted model, its section's arguments overridden by ``setting``."""
        estimator = self.spec.estimator(**{**self.arguments, **(setting or {})})
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
                self.progress_every,
            )
        except (ValueError, TypeError) as error:
            raise _training_error(self.name, self.hyperparameters, error) from error


def _accuracy_on(model: Pipeline, x: pd.DataFrame, y: pd.Series, rows: np.ndarray) -> float:
    """``model``'s accuracy on ``rows`` of ``x``, ``y``: copied now, not held through a fit."""
    return accuracy(model, x.iloc[rows], y.iloc[rows])


def _span(node: str, started_at: float, cpu_started: float) -> dict[str, Any]:
    """When and where a training node ran, and the CPU time its process spent in it."""
    return {
        "node": node,
        "pid": os.getpid(),
        "started_at": started_at,
        "finished_at": time.time(),
        "cpu_seconds": time.process_time() - cpu_started,
    }


def evaluate_folds(  # noqa: PLR0913 - a node's inputs, each a dataset or parameter
    x_train: pd.DataFrame,
    y_train: pd.Series,
    cv_splits: list[tuple[np.ndarray, np.ndarray]],
    feature_roles: dict[str, Any],
    hyperparameters: dict[str, Any],
    tuning: dict[str, Any],
    random_state: int,
    run_context: dict[str, Any],
    model_name: str,
    part: int,
    parts: int,
) -> dict[str, Any]:
    """Score the model on its share of the shared outer folds: folds ``part``, ``part + parts``...

    On each outer fold, the model is fitted on the fold's training rows and scored on
    its validation rows, as it is (its section's arguments); when the run tunes, its
    search space is also searched on the fold's training rows alone (inner CV), and the
    best setting, refitted on them, is scored on the validation rows. The validation
    rows never take part in the search: that is what keeps the outer score honest.

    Args:
        x_train: Training features, as in the table.
        y_train: Training labels.
        cv_splits: The outer folds every model shares.
        feature_roles: Each column's role (``infer_column_roles``).
        hyperparameters: The model's section of the parameters (its ``search`` space included).
        tuning: ``trials`` (0: no search) and ``inner_folds``.
        random_state: Seed of the estimator; fold ``k``'s search is seeded ``random_state + 1 + k``.
        run_context: The run's context; ``n_jobs: auto`` becomes its ``threads_per_model``.
        model_name: The model's key in ``MODELS`` (its branch's namespace).
        part: Which share of the folds this node scores (from 0).
        parts: How many nodes share the folds.

    Returns:
        ``folds``: one record per outer fold (``fold``; ``score``, the outer score
        compared between models; ``untuned_score``; and when tuned ``best_params``,
        ``best_inner_score``, ``trials``, ``importance``), and ``timing``: the node's span.
    """
    started_at, cpu_started = time.time(), time.process_time()
    model = _Model(model_name, hyperparameters, tuning, feature_roles, random_state, run_context)
    records = []
    for k in range(part, len(cv_splits), parts):
        fit_rows, score_rows = cv_splits[k]
        x_fit, y_fit = x_train.iloc[fit_rows], y_train.iloc[fit_rows]
        untuned = _accuracy_on(model.fit(None, x_fit, y_fit), x_train, y_train, score_rows)
        record: dict[str, Any] = {"fold": k, "score": untuned, "untuned_score": untuned}
        label = f"{model.spec.display_name}, outer fold {k + 1}/{len(cv_splits)}"
        found = model.tune(x_fit, y_fit, random_state + 1 + k, label)
        if found:
            tuned = model.fit(found["best_params"], x_fit, y_fit)
            record["score"] = _accuracy_on(tuned, x_train, y_train, score_rows)
            record |= {
                "best_params": found["best_params"],
                "best_inner_score": found["best_score"],
                "trials": found["trials"],
                "importance": found["importance"],
            }
            logger.info(
                "Tuned %s: best inner accuracy %.3f; outer accuracy %.3f (untuned %.3f)",
                label,
                found["best_score"],
                record["score"],
                untuned,
            )
        records.append(record)
    return {
        "folds": records,
        "timing": _span(f"evaluate_folds_{part + 1}", started_at, cpu_started),
    }


def fit_model(  # noqa: PLR0913 - a node's inputs, each a dataset or parameter
    x_train: pd.DataFrame,
    y_train: pd.Series,
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
        feature_roles: Each column's role (``infer_column_roles``).
        hyperparameters: The model's section of the parameters.
        tuning: ``trials`` (0: no search) and ``inner_folds``.
        random_state: Seed of the estimator and of the search.
        run_context: The run's context; ``n_jobs: auto`` becomes its ``threads_per_model``.
        model_name: The model's key in ``MODELS``.

    Returns:
        The fitted model (a scikit-learn ``Pipeline`` that takes raw rows), and the
        fit's record: ``hyperparameters`` (the arguments it was built with), the
        search's record when tuned (``search``), and ``timing``: the node's span.
    """
    started_at, cpu_started = time.time(), time.process_time()
    model = _Model(model_name, hyperparameters, tuning, feature_roles, random_state, run_context)
    found = model.tune(
        x_train, y_train, random_state, f"{model.spec.display_name}, all training rows"
    )
    setting = found["best_params"] if found else {}
    fitted = model.fit(setting, x_train, y_train)
    fit = {
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
        "display_name": spec.display_name,
        "estimator": spec.estimator.__name__,
        "hyperparameters": fit["hyperparameters"],
        "cv_scores": [f["score"] for f in folds],
        "untuned_cv_scores": [f["untuned_score"] for f in folds] if tuned else None,
        "folds": folds,
        "search": fit["search"],
        "timing": [part["timing"] for part in parts] + [fit["timing"]],
    }
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

    Only the estimator: it takes the preprocessed columns (``model[0]``'s output), not raw rows.

    Args:
        model: The fitted model.
        model_name: The model's key in ``MODELS``.

    Returns:
        A JSON-able document that loads without pickle.
    """
    return MODELS[model_name].export(model[-1])


def predict_test_rows(model: Pipeline, x_test: pd.DataFrame) -> pd.Series:
    """The model's prediction for each held-out row.

    Args:
        model: The fitted model.
        x_test: Held-out features (may have no rows: ``test_size: 0``).

    Returns:
        The predicted class codes, indexed as ``x_test``.
    """
    predicted = model.predict(x_test) if len(x_test) else np.array([], dtype=int)
    return pd.Series(predicted, index=x_test.index, name="prediction", dtype=int)


def explain_model(
    model: Pipeline,
    x_test: pd.DataFrame,
    y_test: pd.Series,
    x_train: pd.DataFrame,
    y_train: pd.Series,
    feature_roles: dict[str, Any],
    random_state: int,
) -> dict[str, Any]:
    """How much the model's accuracy drops when each column of the table is shuffled.

    Permutation importance by the table's own columns: shuffling a categorical
    column shuffles all of its one-hot parts at once. Measured on the held-out
    rows, or on the training rows when none are held out (``test_size: 0``).

    Args:
        model: The fitted model.
        x_test: Held-out features.
        y_test: Held-out labels.
        x_train: Training features.
        y_train: Training labels.
        feature_roles: Each column's role: the model's columns are measured.
        random_state: Seed of the shuffles.

    Returns:
        ``rows``: ``held-out`` or ``training``; ``columns``: by column name,
        the mean and std of the accuracy drop over ``IMPORTANCE_REPEATS`` shuffles.
    """
    held_out = len(x_test) > 0
    features, labels = (x_test, y_test) if held_out else (x_train, y_train)
    columns = used_columns(feature_roles)
    result = permutation_importance(
        model,
        features[columns],
        labels,
        scoring="accuracy",
        n_repeats=IMPORTANCE_REPEATS,
        random_state=random_state,
        n_jobs=1,  # as for CV: no process pool inside a worker
    )
    return {
        "rows": "held-out" if held_out else "training",
        "columns": {
            column: {"mean": float(mean), "std": float(std)}
            for column, mean, std in zip(
                columns, result.importances_mean, result.importances_std, strict=True
            )
        },
    }
