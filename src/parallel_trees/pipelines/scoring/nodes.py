"""The joins: every model's predictions, scores and paired tests, and the run's record."""

from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from parallel_trees.stats import corrected_resampled_ttest, mcnemar_exact


def collect_predictions(y_test: pd.Series, classes: list, **predictions: pd.Series) -> pd.DataFrame:
    """Put every model's held-out predictions beside the true labels, by class name.

    Args:
        y_test: Held-out class codes.
        classes: The class names, by code.
        **predictions: Each model's ``predict_test_rows`` predictions, by model name.

    Returns:
        A table indexed by the held-out rows' original index: first the true
        labels, named as ``y_test`` (the user's label column, or ``target``),
        then one column per model, all holding class names.
    """
    names = np.asarray(classes, dtype=object)
    columns = {y_test.name: y_test, **predictions}
    table = pd.DataFrame(
        {key: names[codes.to_numpy(dtype=int)] for key, codes in columns.items()},
        index=y_test.index,
    )
    table.index.name = "row"
    return table


def true_labels(test_predictions: pd.DataFrame) -> pd.Series:
    """The true labels of ``collect_predictions``'s table: its first column."""
    return test_predictions.iloc[:, 0]


def score_models(test_predictions: pd.DataFrame, **trainings: dict[str, Any]) -> dict[str, Any]:
    """Each model's accuracy: CV mean and std over the shared folds, and on the held-out rows.

    Args:
        test_predictions: ``collect_predictions``'s table.
        **trainings: Each model's training record (``record_training``), by model name.

    Returns:
        By model name: ``display_name``, ``cv_scores``, ``cv_mean``, ``cv_std``
        (population std, as the tutorial) and ``test_accuracy`` (``None``
        when no rows were held out).
    """
    scores = {}
    for name, training in trainings.items():
        folds = np.asarray(training["cv_scores"])
        right = test_predictions[name] == true_labels(test_predictions)
        scores[name] = {
            "display_name": training["display_name"],
            "cv_scores": training["cv_scores"],
            "cv_mean": float(folds.mean()),
            "cv_std": float(folds.std()),
            "test_accuracy": float(right.mean()) if len(right) else None,
        }
    return scores


def p_value_text(value: float | None) -> str:
    """A p-value as a verdict quotes it: two significant digits below 0.01."""
    return "n/a" if value is None else f"{value:.2g}" if value < 0.01 else f"{value:.2f}"  # noqa: PLR2004


def _finding(p_value: float | None, better: str, significance_level: float) -> tuple[bool, str]:
    if p_value is None:
        return False, "cannot be tested"
    if p_value < significance_level:
        return True, f"{better} is significantly better"
    return False, "no significant difference"


def compare_models(
    scores: dict[str, Any],
    test_predictions: pd.DataFrame,
    cv_splits: list[tuple[np.ndarray, np.ndarray]],
    significance_level: float,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Test every pair of models for a real difference, and rank them.

    The models are ranked by CV mean (then test accuracy, then name). Each pair
    (higher-ranked first) gets Nadeau and Bengio's corrected resampled t-test on
    its per-fold scores and, when rows were held out, McNemar's exact test on
    which rows each model got right.

    Args:
        scores: ``score_models``'s scores, by model name.
        test_predictions: ``collect_predictions``'s table (labels, then a column per model).
        cv_splits: The folds every model was scored on (their sizes enter the test).
        significance_level: p-value below which a difference counts as real.

    Returns:
        The comparison (the significance level, the tests used, and one record
        per pair with a plain verdict) and the ranking (models best first, each
        marked ``best``, ``indistinguishable`` from the best, or ``worse``).
    """
    ranked = sorted(
        scores,
        key=lambda m: (-scores[m]["cv_mean"], -(scores[m]["test_accuracy"] or 0), m),
    )
    n_train = float(np.mean([len(train) for train, _ in cv_splits]))
    n_valid = float(np.mean([len(valid) for _, valid in cv_splits]))
    labels = true_labels(test_predictions)
    correct = test_predictions.drop(columns=labels.name).eq(labels, axis=0)
    pairs = []
    for a, b in combinations(ranked, 2):
        name_a, name_b = scores[a]["display_name"], scores[b]["display_name"]
        cv = corrected_resampled_ttest(
            scores[a]["cv_scores"], scores[b]["cv_scores"], n_train, n_valid
        ).as_dict()
        cv["significant"], finding = _finding(cv["p_value"], name_a, significance_level)
        interval = (
            f", 95% CI [{cv['ci_low']:+.2f}, {cv['ci_high']:+.2f}]"
            if cv["ci_low"] is not None
            else ""
        )
        cv["verdict"] = (
            f"{name_a} vs {name_b}: {cv['difference']:+.3f} CV accuracy{interval}, "
            f"p = {p_value_text(cv['p_value'])}: {finding}"
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
                f"McNemar p = {p_value_text(held_out['p_value'])}: {finding}"
            )
        pairs.append({"models": [a, b], "cv": cv, "held_out": held_out})
    best = ranked[0]
    vs_best = {pair["models"][1]: pair["cv"] for pair in pairs if pair["models"][0] == best}
    ranking = [
        {
            "rank": rank,
            "model": m,
            "display_name": scores[m]["display_name"],
            "cv_mean": scores[m]["cv_mean"],
            "test_accuracy": scores[m]["test_accuracy"],
            "p_value_vs_best": vs_best[m]["p_value"] if m in vs_best else None,
            "versus_best": "best"
            if m == best
            else "worse"
            if vs_best[m]["significant"]
            else "indistinguishable",
        }
        for rank, m in enumerate(ranked, start=1)
    ]
    comparison = {
        "significance_level": significance_level,
        "cv_test": "Nadeau-Bengio corrected resampled t-test on the per-fold scores",
        "held_out_test": "McNemar's exact test on the held-out rows",
        "pairs": pairs,
    }
    return comparison, ranking


def compare_untuned(
    cv_splits: list[tuple[np.ndarray, np.ndarray]],
    significance_level: float,
    comparison: dict[str, Any],
    ranking: list[dict[str, Any]],
    **trainings: dict[str, Any],
) -> dict[str, Any]:
    """The verdict the models would have got untuned, and whether tuning changed it.

    The same paired test as ``compare_models``, on each model's untuned outer-fold
    scores (its tuned ones when it was not tuned: it has no search space); CV only,
    since only the tuned models predicted the held-out rows.

    Args:
        cv_splits: The outer folds every model was scored on.
        significance_level: p-value below which a difference counts as real.
        comparison: ``compare_models``'s paired tests of the tuned models.
        ranking: ``compare_models``'s ranking of the tuned models.
        **trainings: Each model's training record, by model name.

    Returns:
        Nothing (``{}``: Kedro saves no ``None``) when no model was tuned;
        otherwise the untuned ``pairs`` and ``ranking`` (as ``compare_models``'s),
        ``changed`` (whether any pair's verdict differs: which model, if any, is
        significantly better) and ``verdict``, one plain sentence saying so.
    """
    if all(t["untuned_cv_scores"] is None for t in trainings.values()):
        return {}
    untuned = {
        name: {**t, "cv_scores": t["untuned_cv_scores"] or t["cv_scores"]}
        for name, t in trainings.items()
    }
    no_rows = pd.DataFrame(columns=["label", *untuned])  # no held-out predictions
    before, untuned_ranking = compare_models(
        score_models(no_rows, **untuned), no_rows, cv_splits, significance_level
    )
    names = {name: t["display_name"] for name, t in trainings.items()}
    after = {frozenset(pair["models"]): pair for pair in comparison["pairs"]}
    changes = []
    for pair in before["pairs"]:
        tuned = after[frozenset(pair["models"])]
        if _winner(tuned) != _winner(pair):
            changes.append(f"untuned, {_outcome(pair, names)}; tuned, {_outcome(tuned, names)}")
    return {
        "pairs": before["pairs"],
        "ranking": untuned_ranking,
        "changed": bool(changes),
        "verdict": f"Tuning changed the verdict: {'; '.join(changes)}."
        if changes
        else "Tuning did not change the verdict"
        + _new_first(untuned_ranking, ranking, names)
        + ".",
    }


def _new_first(
    untuned: list[dict[str, Any]], tuned: list[dict[str, Any]], names: dict[str, str]
) -> str:
    """Which model ranks first now, when tuning changed it without changing the verdict.

    Then the two are within the noise: had either been significantly better, the
    verdict of their pair would have changed.
    """
    before, after = untuned[0]["model"], tuned[0]["model"]
    if before == after:
        return ""
    return f" (first untuned: {names[before]}; tuned: {names[after]}; within the noise)"


def _winner(pair: dict[str, Any]) -> str | None:
    """The pair's significantly better model on CV, if any (the first: it ranks higher)."""
    return pair["models"][0] if pair["cv"]["significant"] else None


def _outcome(pair: dict[str, Any], names: dict[str, str]) -> str:
    a, b = (names[m] for m in pair["models"])
    p_value = p_value_text(pair["cv"]["p_value"])
    if _winner(pair):
        return f"{a} was significantly better than {b} (p = {p_value})"
    return f"no significant difference between {a} and {b} (p = {p_value})"


def build_metrics(
    y_train: pd.Series,
    y_test: pd.Series,
    classes: list,
    data_source: dict[str, str],
    feature_roles: dict[str, Any],
    dataset: str,
    synthetic: dict[str, int],
    random_state: int,
    cv_folds: int,
    cv_shuffle: bool,
    test_size: float,
    tuning: dict[str, Any],
    scores: dict[str, Any],
    comparison: dict[str, Any],
    ranking: list[dict[str, Any]],
    untuned_comparison: dict[str, Any],
    **trainings: dict[str, Any],
) -> dict[str, Any]:
    """The run's record, ``metrics.json``: settings, each model's record, the verdicts.

    Args:
        y_train: Training labels (counted).
        y_test: Held-out labels (counted).
        classes: The class names.
        data_source: The CSV file read (``path``, ``sha256``), empty for a
            built-in dataset.
        feature_roles: Each column's role.
        dataset: Name of the dataset.
        synthetic: Size of the synthetic dataset (recorded when it is used).
        random_state: The run's seed.
        cv_folds: Number of CV folds.
        cv_shuffle: Whether rows were shuffled before folding.
        test_size: Fraction of rows held out.
        tuning: ``trials`` per search (0: no tuning) and ``inner_folds``.
        scores: ``score_models``'s scores, by model name.
        comparison: ``compare_models``'s paired tests.
        ranking: ``compare_models``'s ranking.
        untuned_comparison: ``compare_untuned``'s record (empty when not tuned).
        **trainings: Each model's training record, by model name.

    Returns:
        ``run`` (settings, sizes, the file read and its columns), ``models`` (each model's training
        record and scores), ``comparison`` (with the untuned verdict as
        ``comparison.untuned``, null when not tuned) and ``ranking``.
    """
    run = {
        "dataset": dataset,
        "data_file": data_source or None,
        "synthetic": synthetic if dataset == "synthetic" else None,
        "rows": len(y_train) + len(y_test),
        "train_rows": len(y_train),
        "test_rows": len(y_test),
        "classes": classes,
        "target_column": y_train.name,
        "feature_roles": feature_roles,
        "random_state": random_state,
        "cv_folds": cv_folds,
        "cv_shuffle": cv_shuffle,
        "test_size": test_size,
        "tuning": tuning,
    }
    models = {name: {**training, **scores[name]} for name, training in trainings.items()}
    return {
        "run": run,
        "models": models,
        "comparison": {**comparison, "untuned": untuned_comparison or None},
        "ranking": ranking,
    }
