"""The join: gather every model's scores into one record and report them."""

import logging
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from parallel_trees.stats import corrected_resampled_ttest, mcnemar_exact

logger = logging.getLogger(__name__)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def collect_predictions(y_test: pd.Series, classes: list, **predictions: pd.Series) -> pd.DataFrame:
    """Put every model's held-out predictions beside the true labels, by class name.

    Args:
        y_test: Held-out class codes.
        classes: The class names, by code.
        **predictions: Each model's ``evaluate_model`` predictions, by namespace.

    Returns:
        A table indexed by the held-out rows' original index, with the column
        ``target`` and one column per model, holding class names.
    """
    names = np.asarray(classes, dtype=object)
    columns = {"target": y_test, **predictions}
    table = pd.DataFrame(
        {key: names[codes.to_numpy(dtype=int)] for key, codes in columns.items()},
        index=y_test.index,
    )
    table.index.name = "row"
    return table


def _p(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2g}" if value < 0.01 else f"{value:.2f}"  # noqa: PLR2004


_STANDING = {
    "indistinguishable": "indistinguishable from the best",
    "worse": "significantly worse than the best",
}


def _finding(p_value: float | None, better: str, significance_level: float) -> tuple[bool, str]:
    if p_value is None:
        return False, "cannot be tested"
    if p_value < significance_level:
        return True, f"{better} is significantly better"
    return False, "no significant difference"


def compare_models(
    test_predictions: pd.DataFrame,
    cv_splits: list[tuple[np.ndarray, np.ndarray]],
    significance_level: float,
    **model_metrics: dict[str, Any],
) -> dict[str, Any]:
    """Test every pair of models for a real difference, and rank them.

    The models are ranked by CV mean (then test accuracy, then name). Each pair
    (higher-ranked first) gets Nadeau and Bengio's corrected resampled t-test on
    its per-fold scores and, when rows were held out, McNemar's exact test on
    which rows each model got right.

    Args:
        test_predictions: ``collect_predictions``'s table (``target`` + a column per model).
        cv_splits: The folds every model was scored on (their sizes enter the test).
        significance_level: p-value below which a difference counts as real.
        **model_metrics: Each model's ``evaluate_model`` record, by namespace.

    Returns:
        ``comparison`` (the significance level and one record per pair, with a
        plain verdict) and ``ranking`` (models best first, each marked ``best``,
        ``indistinguishable`` from the best, or ``worse``).
    """
    ranked = sorted(
        model_metrics,
        key=lambda m: (-model_metrics[m]["cv_mean"], -(model_metrics[m]["test_accuracy"] or 0), m),
    )
    n_train = float(np.mean([len(train) for train, _ in cv_splits]))
    n_valid = float(np.mean([len(valid) for _, valid in cv_splits]))
    correct = test_predictions.drop(columns="target").eq(test_predictions["target"], axis=0)
    pairs = []
    for a, b in combinations(ranked, 2):
        name_a, name_b = model_metrics[a]["display_name"], model_metrics[b]["display_name"]
        cv = corrected_resampled_ttest(
            model_metrics[a]["cv_scores"], model_metrics[b]["cv_scores"], n_train, n_valid
        ).as_dict()
        cv["significant"], finding = _finding(cv["p_value"], name_a, significance_level)
        interval = (
            f", 95% CI [{cv['ci_low']:+.2f}, {cv['ci_high']:+.2f}]"
            if cv["ci_low"] is not None
            else ""
        )
        cv["verdict"] = (
            f"{name_a} vs {name_b}: {cv['difference']:+.3f} CV accuracy{interval}, "
            f"p = {_p(cv['p_value'])}: {finding}"
        )
        held_out = None
        if len(test_predictions):
            held_out = mcnemar_exact(correct[a], correct[b]).as_dict()
            better = name_a if held_out["difference"] > 0 else name_b
            held_out["significant"], finding = _finding(
                held_out["p_value"], better, significance_level
            )
            held_out["verdict"] = (
                f"held out: {held_out['difference']:+.3f} test accuracy; "
                f"rows right only by {name_a}: {held_out['only_a_right']}, "
                f"only by {name_b}: {held_out['only_b_right']}; "
                f"McNemar p = {_p(held_out['p_value'])}: {finding}"
            )
        pairs.append({"models": [a, b], "cv": cv, "held_out": held_out})
    best = ranked[0]
    vs_best = {pair["models"][1]: pair["cv"] for pair in pairs if pair["models"][0] == best}
    ranking = [
        {
            "rank": rank,
            "model": m,
            "display_name": model_metrics[m]["display_name"],
            "cv_mean": model_metrics[m]["cv_mean"],
            "test_accuracy": model_metrics[m]["test_accuracy"],
            "p_value_vs_best": vs_best[m]["p_value"] if m in vs_best else None,
            "versus_best": "best"
            if m == best
            else "worse"
            if vs_best[m]["significant"]
            else "indistinguishable",
        }
        for rank, m in enumerate(ranked, start=1)
    ]
    return {
        "comparison": {
            "significance_level": significance_level,
            "cv_test": "Nadeau-Bengio corrected resampled t-test on the per-fold scores",
            "held_out_test": "McNemar's exact test on the held-out rows",
            "pairs": pairs,
        },
        "ranking": ranking,
    }


def summarize_models(
    y_train: pd.Series,
    y_test: pd.Series,
    classes: list,
    dataset: str,
    synthetic: dict[str, int],
    random_state: int,
    cv_folds: int,
    cv_shuffle: bool,
    test_size: float,
    comparison: dict[str, Any],
    **model_metrics: dict[str, Any],
) -> dict[str, Any]:
    """Collect the run's settings, each model's metrics and their comparison; log them.

    Args:
        y_train: Training labels (counted).
        y_test: Held-out labels (counted).
        classes: The class names.
        dataset: Name of the dataset.
        synthetic: Size of the synthetic dataset (recorded when it is used).
        random_state: The run's seed.
        cv_folds: Number of CV folds.
        cv_shuffle: Whether rows were shuffled before folding.
        test_size: Fraction of rows held out.
        comparison: ``compare_models``'s pairwise tests and ranking.
        **model_metrics: Each model's ``evaluate_model`` record, by namespace.

    Returns:
        The content of ``metrics.json``: ``run`` settings, ``models``, then
        ``comparison`` and ``ranking``.
    """
    summary = {
        "run": {
            "dataset": dataset,
            "synthetic": synthetic if dataset == "synthetic" else None,
            "rows": len(y_train) + len(y_test),
            "train_rows": len(y_train),
            "test_rows": len(y_test),
            "classes": classes,
            "random_state": random_state,
            "cv_folds": cv_folds,
            "cv_shuffle": cv_shuffle,
            "test_size": test_size,
        },
        "models": model_metrics,
        **comparison,
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
    tests = comparison["comparison"]
    for pair in tests["pairs"]:
        held_out = pair["held_out"]
        logger.info("%s%s", pair["cv"]["verdict"], f"\n  {held_out['verdict']}" if held_out else "")
    ranking = summary["ranking"]
    width = max(len(r["display_name"]) for r in ranking)
    logger.info(
        "Ranking by CV accuracy (significance level %s):\n%s",
        tests["significance_level"],
        "\n".join(
            f"{r['rank']}. {r['display_name']:<{width}}  {r['cv_mean']:.3f}  "
            + (
                "best"
                if r["versus_best"] == "best"
                else f"{_STANDING[r['versus_best']]} (p = {_p(r['p_value_vs_best'])})"
            )
            for r in ranking
        ),
    )
    return summary
