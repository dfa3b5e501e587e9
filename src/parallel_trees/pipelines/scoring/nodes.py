"""The join: gather every model's scores into one record and report them."""

import logging
from typing import Any

import pandas as pd

logger = logging.getLogger(__name__)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def collect_predictions(y_test: pd.Series, **predictions: pd.Series) -> pd.DataFrame:
    """Put every model's held-out predictions beside the true labels, one row per row.

    Args:
        y_test: Held-out labels.
        **predictions: Each model's ``evaluate_model`` predictions, by namespace.

    Returns:
        A table indexed by the held-out rows' original index, with the column
        ``target`` and one column per model.
    """
    table = pd.DataFrame({"target": y_test, **predictions}, index=y_test.index)
    table.index.name = "row"
    return table


def summarize_models(
    y_train: pd.Series,
    y_test: pd.Series,
    dataset: str,
    synthetic: dict[str, int],
    random_state: int,
    cv_folds: int,
    cv_shuffle: bool,
    test_size: float,
    **model_metrics: dict[str, Any],
) -> dict[str, Any]:
    """Collect the run's settings and each model's metrics, and log them.

    Args:
        y_train: Training labels (counted).
        y_test: Held-out labels (counted).
        dataset: Name of the dataset.
        synthetic: Size of the synthetic dataset (recorded when it is used).
        random_state: The run's seed.
        cv_folds: Number of CV folds.
        cv_shuffle: Whether rows were shuffled before folding.
        test_size: Fraction of rows held out.
        **model_metrics: Each model's ``evaluate_model`` record, by namespace.

    Returns:
        The content of ``metrics.json``: ``run`` settings and ``models``.
    """
    summary = {
        "run": {
            "dataset": dataset,
            "synthetic": synthetic if dataset == "synthetic" else None,
            "rows": len(y_train) + len(y_test),
            "train_rows": len(y_train),
            "test_rows": len(y_test),
            "random_state": random_state,
            "cv_folds": cv_folds,
            "cv_shuffle": cv_shuffle,
            "test_size": test_size,
        },
        "models": model_metrics,
    }
    rows = [("model", "CV accuracy (mean ± std)", "test accuracy")] + [
        (m["display_name"], f"{_fmt(m['cv_mean'])} ± {_fmt(m['cv_std'])}", _fmt(m["test_accuracy"]))
        for m in model_metrics.values()
    ]
    name_width, cv_width = (max(len(row[i]) for row in rows) for i in (0, 1))
    logger.info(
        "Accuracy on %s (%d-fold CV on %d training rows; %d held-out rows):\n%s",
        dataset,
        cv_folds,
        len(y_train),
        len(y_test),
        "\n".join(f"{n:<{name_width}}  {cv:<{cv_width}}  {t}" for n, cv, t in rows),
    )
    for m in model_metrics.values():
        # The tutorial's line, without its misleading '%': accuracy is a fraction.
        logger.info(
            "%s Model Accuracy: %s ± %s",
            m["display_name"],
            round(m["cv_mean"], 3),
            round(m["cv_std"], 3),
        )
    return summary
