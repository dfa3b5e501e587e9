"""Train one model: cross-validate on the shared folds, fit, predict the held-out rows,
and measure what it learned from each column."""

import logging
import os
import time
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.inspection import permutation_importance
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import Pipeline

from parallel_trees.errors import TrainingError
from parallel_trees.models import MODELS
from parallel_trees.preprocessing import make_model, used_columns

logger = logging.getLogger(__name__)

IMPORTANCE_REPEATS = 5  # shuffles of each column


def train_model(
    x_train: pd.DataFrame,
    y_train: pd.Series,
    cv_splits: list[tuple[np.ndarray, np.ndarray]],
    feature_roles: dict[str, Any],
    hyperparameters: dict[str, Any],
    random_state: int,
    run_context: dict[str, Any],
    model_name: str,
) -> tuple[Pipeline, dict[str, Any]]:
    """Cross-validate a model on the shared folds, then fit it on all training rows.

    The model is its preprocessing and its estimator (``preprocessing.make_model``),
    fitted together: inside each fold on that fold's training rows only.

    Args:
        x_train: Training features, as in the table.
        y_train: Training labels.
        cv_splits: The folds every model shares.
        feature_roles: Each column's role (``infer_column_roles``).
        hyperparameters: The model's section of the parameters.
        random_state: Seed of the estimator (unless the section sets one).
        run_context: The run's context; ``n_jobs: auto`` becomes its
            ``threads_per_model``.
        model_name: The model's key in ``MODELS`` (its branch's namespace).

    Returns:
        The fitted model (a scikit-learn ``Pipeline`` that takes raw rows),
        and its training record: its names, the arguments it was built
        with, its CV score on each fold, and when and in which process it
        trained.

    Raises:
        TrainingError: If the estimator rejects its parameters (or the data);
            the message names the model and the parameter.
    """
    started_at = time.time()
    spec = MODELS[model_name]
    arguments = spec.arguments(hyperparameters, random_state, run_context["threads_per_model"])
    estimator = make_model(spec.estimator(**arguments), feature_roles, random_state)
    logger.info(
        "Training %s: %d-fold CV, then a fit on all training rows",
        spec.display_name,
        len(cv_splits),
    )
    try:
        # n_jobs=1: a process pool nested in a ParallelRunner worker (joblib's
        # loky) keeps the run waiting at shutdown for loky's 300 s idle timeout;
        # the parallelism here is across models, one node per model.
        # error_score="raise": a fold that fails stops the run with the
        # estimator's own message, instead of a NaN score averaged into the result.
        scores = cross_val_score(
            estimator, x_train, y_train, cv=cv_splits, n_jobs=1, error_score="raise"
        )
        model = clone(estimator).fit(x_train, y_train)
    except (ValueError, TypeError) as error:  # sklearn's and XGBoost's parameter errors
        raise _training_error(model_name, hyperparameters, error) from error
    logger.info("Trained %s in %.1f s", spec.display_name, time.time() - started_at)
    training = {
        "display_name": spec.display_name,
        "estimator": spec.estimator.__name__,
        "hyperparameters": arguments,
        "cv_scores": scores.tolist(),
        "timing": {"pid": os.getpid(), "started_at": started_at, "finished_at": time.time()},
    }
    return model, training


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
