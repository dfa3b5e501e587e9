"""The joins: every model's predictions and scores, the paired tests that say whether a
difference is real, the ranking, and the run's record."""

from typing import Any

import numpy as np
import pandas as pd

from parallel_trees.metrics import Metric, Outcome, chosen, panel, per_class
from parallel_trees.parameters import dataset_name
from parallel_trees.pipelines.training.nodes import BASELINE, PROBABILITY
from parallel_trees.stats import (
    MCNEMAR,
    SIGN_TEST,
    bootstrap_test,
    holm,
    mcnemar_exact,
    pairs_needed,
    resampled_rows,
    smallest_p,
)
from parallel_trees.stats import corrected_resampled_ttest as cv_test

# The precision scores and means are printed at: equal there, models share a rank.
DIGITS = 3


def collect_predictions(
    y_test: pd.Series, classes: list, **predictions: pd.DataFrame
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Put every model's held-out predictions beside the true labels, by class name (or
    the numbers of a regression).

    Args:
        y_test: Held-out class codes (numbers, of a regression).
        classes: The class names, by code (none, of a regression).
        **predictions: Each model's ``predict_test_rows`` table (the baseline's too),
            by model name.

    Returns:
        ``test_predictions``: a table indexed by the held-out rows' original index, first
        the true labels, named as ``y_test`` (the user's label column, or ``target``),
        then one column per model (not the baseline), all holding class names; and
        ``held_out``: the true codes and every model's table, for the scores and tests.
    """
    # A model left out of the run (no estimator for its task) predicted nothing.
    predictions = {model: table for model, table in predictions.items() if "prediction" in table}
    columns = {y_test.name: y_test} | {
        model: table["prediction"] for model, table in predictions.items() if model != BASELINE
    }
    if classes:
        names = np.asarray(classes, dtype=object)
        columns = {key: names[codes.to_numpy(dtype=int)] for key, codes in columns.items()}
    table = pd.DataFrame(columns, index=y_test.index)
    table.index.name = "row"
    truth = y_test.to_numpy(dtype=int if classes else float)
    return table, {"truth": truth, "models": predictions}


def held_out_outcome(held_out: dict[str, Any], model: str, yardstick: dict[str, Any]) -> Outcome:
    """``model``'s outcome on the held-out rows, as ``collect_predictions`` gathered it."""
    table = held_out["models"][model]
    columns = [f"{PROBABILITY}{code}" for code in range(yardstick["classes"])]
    probabilities = table[columns].to_numpy() if set(columns) <= set(table.columns) else None
    positive = yardstick["positive"]
    return Outcome(
        held_out["truth"],
        table["prediction"].to_numpy(dtype=int if yardstick["classes"] else float),
        probabilities,
        yardstick["classes"],
        1 if positive is None else positive,
    )


def _mean(values: list[float | None]) -> float | None:
    """The mean; ``None`` when there is no value, or one is missing."""
    known = [v for v in values if v is not None]
    return float(np.mean(known)) if values and len(known) == len(values) else None


def score_models(
    held_out: dict[str, Any], yardstick: dict[str, Any], classes: list, **trainings: dict[str, Any]
) -> dict[str, Any]:
    """Each model's scores: by the run's metric, its CV mean and spread over the shared folds
    and its held-out score; and the panel of every metric, on the folds and held out.

    Args:
        held_out: ``collect_predictions``' true codes and predictions.
        yardstick: The run's metric and classes.
        classes: The class names, by code.
        **trainings: Each model's training record (``record_training``; the baseline's
            ``evaluate_baseline``), by model name.

    Returns:
        By model name (the baseline last): ``display_name``, ``baseline``, ``cv_scores``,
        ``cv_mean``, ``cv_std`` (population std over the folds, as the tutorial),
        ``test_score`` (``None`` when no rows were held out), ``cv_panel`` and
        ``test_panel`` (every metric: the mean over the folds, and held out) and
        ``per_class`` (held out: each class's precision, recall and support).
    """
    metric = chosen(yardstick["metric"], yardstick["task"])
    scores = {}
    judged = {name: t for name, t in trainings.items() if not t.get("left_out")}
    for name, training in sorted(judged.items(), key=lambda item: item[0] == BASELINE):
        folds = np.asarray(training["cv_scores"], dtype=float)
        panels = [fold["scores"] for fold in training["folds"]]
        rows = len(held_out["truth"]) > 0
        outcome = held_out_outcome(held_out, name, yardstick) if rows else None
        test_panel = panel(outcome) if outcome is not None else {}
        scores[name] = {
            "display_name": training["display_name"],
            "baseline": bool(training.get("baseline")),
            "cv_scores": training["cv_scores"],
            "cv_mean": float(folds.mean()),
            "cv_std": float(folds.std()),
            "test_score": test_panel.get(metric.name),
            "cv_panel": {m: _mean([p[m] for p in panels]) for m in panels[0]} if panels else {},
            "test_panel": test_panel,
            "per_class": [
                {"class": classes[code], **counts} for code, counts in enumerate(per_class(outcome))
            ]
            if outcome is not None
            else [],
        }
    return scores


def p_value_text(value: float | None) -> str:
    """A p-value as a verdict quotes it: two significant digits below 0.01."""
    return "n/a" if value is None else f"{value:.2g}" if value < 0.01 else f"{value:.2f}"  # noqa: PLR2004


def tie_tolerance(metric: Metric, cv_splits: list[tuple[np.ndarray, np.ndarray]]) -> float:
    """How far apart two CV means may be and still be tied: one row of one fold, for a
    metric that is a share of rows (of the order of what one row changes in a mean over
    the folds); float noise otherwise."""
    if not metric.counts_rows or not cv_splits:
        return 1e-9
    return 1 / (len(cv_splits) * float(np.mean([len(valid) for _, valid in cv_splits])))


def _tied(a: float, b: float, tolerance: float) -> bool:
    """Equal within ``tolerance``, or at the printed precision."""
    return abs(a - b) <= tolerance * (1 + 1e-9) or f"{a:.{DIGITS}f}" == f"{b:.{DIGITS}f}"


def rank(scores: dict[str, Any], metric: Metric, tolerance: float) -> list[tuple[int, bool, str]]:
    """The models, best first by CV mean (in the metric's direction): ``(rank, tied, model)``.

    Models whose means are tied (``_tied``, each with the one before) share a rank;
    within a rank they keep their order in ``scores``, the registry's, the baseline last.
    The held-out rows play no part.
    """
    order = sorted(scores, key=lambda m: -metric.oriented(scores[m]["cv_mean"]))
    ranked: list[list[Any]] = []
    place = 0
    for position, model in enumerate(order):
        previous = order[position - 1] if position else None
        same = previous is not None and _tied(
            scores[model]["cv_mean"], scores[previous]["cv_mean"], tolerance
        )
        place = place if same else position + 1
        ranked.append([place, same, model])
        if same:
            ranked[-2][1] = True
    registry = list(scores)
    ranked.sort(key=lambda r: (r[0], registry.index(r[2])))
    return [tuple(r) for r in ranked]


class _HeldOut:
    """The held-out comparisons of a run: McNemar's exact test for accuracy (which rows each
    model got right), a paired bootstrap for any other metric, on one set of resamples of
    the held-out rows (``resampled_rows``), each model scored once per resample."""

    def __init__(
        self,
        held_out: dict[str, Any],
        yardstick: dict[str, Any],
        metric: Metric,
        confidence: float,
        seed: int,
    ):
        self.held_out, self.yardstick, self.metric = held_out, yardstick, metric
        self.confidence, self.seed = confidence, seed
        self._resampled: dict[str, list[float | None]] = {}

    def _outcome(self, model: str) -> Outcome:
        return held_out_outcome(self.held_out, model, self.yardstick)

    def _on_resamples(self, model: str) -> list[float | None]:
        if model not in self._resampled:
            outcome = self._outcome(model)
            resamples = resampled_rows(len(outcome.truth), self.seed)
            self._resampled[model] = [self.metric.score(outcome.take(r)) for r in resamples]
        return self._resampled[model]

    def test(self, a: str, b: str) -> dict[str, Any] | None:
        """``a`` against ``b`` on the held-out rows; ``None`` when none were held out."""
        if not len(self.held_out["truth"]):
            return None
        one, other = self._outcome(a), self._outcome(b)
        if self.metric.name == "accuracy":
            test = mcnemar_exact(one.predicted == one.truth, other.predicted == other.truth)
            return test.as_dict() | {"test": MCNEMAR, "confidence": self.confidence}
        return bootstrap_test(
            self.metric.score(one),
            self.metric.score(other),
            self._on_resamples(a),
            self._on_resamples(b),
            self.confidence,
        ).as_dict()


def compare_models(
    scores: dict[str, Any],
    held_out: dict[str, Any],
    yardstick: dict[str, Any],
    cv_splits: list[tuple[np.ndarray, np.ndarray]],
    significance_level: float,
    random_state: int,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Rank the models, choose the best, and test whether each difference that a verdict
    states is real.

    The models are ranked by CV mean in the metric's direction; models tied within one
    row of one fold share a rank. The best (the model ``predict`` uses and MLflow
    tags) is the first of the top rank in the registry's order: the held-out rows never
    decide it. Each model is compared with the best and with the baseline: on the folds
    by Nadeau and Bengio's corrected t-test (the sign test when the differences do not
    vary), held out by McNemar's exact test (accuracy) or a paired bootstrap. Every p-value
    of those comparisons is one family, adjusted by Holm's method; a difference is called
    significant when its adjusted p-value is below ``significance_level``.

    Args:
        scores: ``score_models``'s scores (the baseline's last), by model name.
        held_out: ``collect_predictions``' true codes and predictions.
        yardstick: The run's metric and classes.
        cv_splits: The folds every model was scored on (their sizes enter the tests).
        significance_level: The adjusted p-value below which a difference counts as real;
            the intervals are at ``1 - significance_level``.
        random_state: Seeds the bootstrap.

    Returns:
        The comparison (the metric, the level, the tests and the family, the chosen
        ``best``, and one record per comparison with its verdicts) and the ranking
        (best first; each model's rank, whether it is tied, and how it stands against the
        best and the baseline).
    """
    metric = chosen(yardstick["metric"], yardstick["task"])
    confidence = 1 - significance_level
    ranked = rank(scores, metric, tie_tolerance(metric, cv_splits))
    models = [m for m in scores if not scores[m]["baseline"]]
    best = next(m for _, _, m in ranked if m in models)
    n_train = float(np.mean([len(train) for train, _ in cv_splits]))
    n_valid = float(np.mean([len(valid) for _, valid in cv_splits]))
    rows = [len(valid) for _, valid in cv_splits] if metric.counts_rows else None
    comparisons = [(best, m, "best") for m in models if m != best]
    comparisons += [(m, BASELINE, "baseline") for m in models if BASELINE in scores]
    records: list[dict[str, Any]] = []
    held_out_tests = _HeldOut(held_out, yardstick, metric, confidence, random_state)
    for a, b, against in comparisons:
        cv = cv_test(
            scores[a]["cv_scores"], scores[b]["cv_scores"], n_train, n_valid, confidence, rows
        ).as_dict()
        test = held_out_tests.test(a, b)
        records.append({"models": [a, b], "against": against, "cv": cv, "held_out": test})
    tests = [t for r in records for t in (r["cv"], r["held_out"]) if t is not None]
    for test, adjusted in zip(tests, holm([t["p_value"] for t in tests]), strict=True):
        test["p_adjusted"] = adjusted
        test["significant"] = adjusted is not None and adjusted < significance_level
    for record in records:
        _word(record, scores, metric, yardstick, significance_level, len(cv_splits))
    ranking = _ranking(ranked, records, scores, best, metric)
    comparison = {
        "metric": metric.name,
        "greater_is_better": metric.greater_is_better,
        "significance_level": significance_level,
        "confidence": confidence,
        "cv_test": "Nadeau-Bengio corrected resampled t-test on the per-fold scores "
        "(the sign test over the folds when their differences do not vary)",
        "held_out_test": MCNEMAR
        if metric.name == "accuracy"
        else "paired bootstrap of the held-out rows",
        "family": f"Holm's correction over the {len(tests)} tests of this comparison "
        "(each model against the best and against the baseline, on the folds and held out)",
        "best": best,
        "comparisons": records,
    }
    return comparison, ranking


def _word(
    record: dict[str, Any],
    scores: dict[str, Any],
    metric: Metric,
    yardstick: dict[str, Any],
    significance_level: float,
    folds: int,
) -> None:
    """Put a plain verdict on each of ``record``'s tests."""
    a, b = record["models"]
    name_a, name_b = (scores[m]["display_name"] for m in (a, b))
    cv, held_out = record["cv"], record["held_out"]
    ahead = metric.oriented(cv["difference"]) > 0
    if record["against"] == "best":
        finding = (
            f"{name_b} is {'significantly' if cv['significant'] else 'not significantly'} "
            "worse than the best"
        )
        if cv["significant"] and not ahead:  # cannot happen at the top, kept honest
            finding = f"{name_b} is significantly better than the best"
    else:
        guess = f"always guessing {yardstick['guess']}"
        if cv["significant"] and ahead:
            finding = f"{name_a} is significantly better than {guess}"
        elif cv["significant"]:
            finding = f"{name_a} is no better than {guess}: significantly worse"
        else:
            finding = f"{name_a} is no better than {guess}"
        name_b = "the baseline"
    cv["verdict"] = (
        f"{name_a} vs {name_b}: {cv['difference']:+.{DIGITS}f} CV {metric.title}"
        + _interval(cv)
        + f", p = {p_value_text(cv['p_value'])} (Holm: {p_value_text(cv['p_adjusted'])}): "
        + finding
        + _fold_power(cv, folds, significance_level)
    )
    if held_out is not None:
        held_out["verdict"] = _held_out_verdict(
            held_out, metric, name_a, name_b, significance_level
        )


def _interval(test: dict[str, Any]) -> str:
    if test["ci_low"] is None:
        return ""
    level = (
        f"{test['confidence']:.0%}"
        if test["confidence"] * 100 % 1 == 0
        else (f"{test['confidence']:.1%}")
    )
    return f", {level} interval [{test['ci_low']:+.2f}, {test['ci_high']:+.2f}]"


def _fold_power(cv: dict[str, Any], folds: int, significance_level: float) -> str:
    """What the sign test over ``folds`` folds could never show, when it was used."""
    if cv["test"] != SIGN_TEST:
        return ""
    said = " (every fold differs alike: the sign test over the folds"
    if smallest_p(folds) >= significance_level:
        needed = pairs_needed(significance_level)
        return (
            f"{said} cannot go below p = {smallest_p(folds):.2g} with {folds} folds; "
            f"{needed} or more are needed: raise cv_folds or cv_repeats)"
        )
    return said + ")"


def _held_out_verdict(
    test: dict[str, Any], metric: Metric, name_a: str, name_b: str, significance_level: float
) -> str:
    p = f"p = {p_value_text(test['p_value'])} (Holm: {p_value_text(test['p_adjusted'])})"
    better = name_a if metric.oriented(test["difference"]) > 0 else name_b
    finding = (
        f"{better} is significantly better"
        if test["significant"]
        else ("no significant difference")
    )
    if test["test"] == MCNEMAR:
        discordant = test["only_a_right"] + test["only_b_right"]
        power = ""
        if smallest_p(discordant) >= significance_level:
            power = (
                f" (only {discordant} rows differ: at least "
                f"{pairs_needed(significance_level)}, all one way, are needed to show one)"
            )
        return (
            f"held out: {test['difference']:+.{DIGITS}f} {metric.title}; rows right only by "
            f"{name_a}: {test['only_a_right']}, only by {name_b}: {test['only_b_right']}; "
            f"McNemar {p}: {finding}{power}"
        )
    return (
        f"held out: {test['difference']:+.{DIGITS}f} {metric.title}{_interval(test)}; "
        f"paired bootstrap {p}: {finding}"
    )


def _ranking(
    ranked: list[tuple[int, bool, str]],
    records: list[dict[str, Any]],
    scores: dict[str, Any],
    best: str,
    metric: Metric,
) -> list[dict[str, Any]]:
    versus = {(r["against"], r["models"][1] if r["against"] == "best" else r["models"][0]): r
              for r in records}  # fmt: skip
    ranking = []
    for place, tied, model in ranked:
        against_best = versus.get(("best", model))
        against_baseline = versus.get(("baseline", model))
        if model == best:
            standing = "best"
        elif scores[model]["baseline"]:
            standing = "baseline"
        elif against_best is not None and against_best["cv"]["significant"]:
            standing = "worse"
        else:
            standing = "not significantly worse"
        ranking.append(
            {
                "rank": place,
                "tied": tied,
                "model": model,
                "display_name": scores[model]["display_name"],
                "baseline": scores[model]["baseline"],
                "cv_mean": scores[model]["cv_mean"],
                "test_score": scores[model]["test_score"],
                "versus_best": standing,
                "p_value_vs_best": against_best["cv"]["p_value"] if against_best else None,
                "p_adjusted_vs_best": against_best["cv"]["p_adjusted"] if against_best else None,
                "beats_baseline": _winner(against_baseline, metric) == model
                if against_baseline
                else None,
            }
        )
    return ranking


def _winner(record: dict[str, Any], metric: Metric) -> str | None:
    """The model of ``record`` that is significantly better on the folds, if either is."""
    if not record["cv"]["significant"]:
        return None
    a, b = record["models"]
    return a if metric.oriented(record["cv"]["difference"]) > 0 else b


def compare_untuned(
    yardstick: dict[str, Any],
    cv_splits: list[tuple[np.ndarray, np.ndarray]],
    significance_level: float,
    random_state: int,
    comparison: dict[str, Any],
    **trainings: dict[str, Any],
) -> dict[str, Any]:
    """The verdict the models would have got untuned, and whether tuning changed it.

    The same tests as ``compare_models``', a family of their own, on each model's untuned
    outer-fold scores (its tuned ones when it was not tuned: it has no search space); CV
    only, since only the tuned models predicted the held-out rows.

    Args:
        yardstick: The run's metric and classes.
        cv_splits: The outer folds every model was scored on.
        significance_level: The adjusted p-value below which a difference counts as real.
        random_state: As ``compare_models``'.
        comparison: ``compare_models``'s comparison of the tuned models.
        **trainings: Each model's training record (the baseline's too), by model name.

    Returns:
        Nothing (``{}``: Kedro saves no ``None``) when no model was tuned; otherwise the
        untuned ``comparisons`` and ``ranking`` (as ``compare_models``'s), ``changed``
        (whether any comparison made in both changed its winner: which model, if any, is
        significantly better) and ``verdict``, one plain sentence saying so.
    """
    if all(t["untuned_cv_scores"] is None for t in trainings.values()):
        return {}
    untuned = {
        name: {**t, "cv_scores": t["untuned_cv_scores"] or t["cv_scores"]}
        for name, t in trainings.items()
    }
    nothing = {"truth": np.array([], dtype=int), "models": {}}  # no held-out predictions
    before, ranking = compare_models(
        score_models(nothing, yardstick, [], **untuned),
        nothing,
        yardstick,
        cv_splits,
        significance_level,
        random_state,
    )
    metric = chosen(yardstick["metric"], yardstick["task"])
    names = {name: t["display_name"] for name, t in trainings.items()}
    names[BASELINE] = "the baseline"
    after = {frozenset(r["models"]): r for r in comparison["comparisons"]}
    changes = []
    for record in before["comparisons"]:
        tuned = after.get(frozenset(record["models"]))
        if tuned is not None and _winner(tuned, metric) != _winner(record, metric):
            was, now = _outcome(record, names, metric), _outcome(tuned, names, metric)
            changes.append(f"untuned, {was}; tuned, {now}")
    first = (
        ""
        if before["best"] == comparison["best"]
        else (
            f" (first untuned: {names[before['best']]}; tuned: {names[comparison['best']]}; "
            "within the noise)"
        )
    )
    return {
        "comparisons": before["comparisons"],
        "ranking": ranking,
        "best": before["best"],
        "changed": bool(changes),
        "verdict": f"Tuning changed the verdict: {'; '.join(changes)}."
        if changes
        else f"Tuning did not change the verdict{first}.",
    }


def _outcome(record: dict[str, Any], names: dict[str, str], metric: Metric) -> str:
    a, b = (names[m] for m in record["models"])
    p_value = p_value_text(record["cv"]["p_adjusted"])
    winner = _winner(record, metric)
    if winner:
        loser = b if names[winner] == a else a
        return f"{names[winner]} was significantly better than {loser} (Holm p = {p_value})"
    return f"no significant difference between {a} and {b} (Holm p = {p_value})"


def build_metrics(
    y_train: pd.Series,
    y_test: pd.Series,
    classes: list,
    data_source: dict[str, str],
    feature_roles: dict[str, Any],
    yardstick: dict[str, Any],
    dataset: str,
    synthetic: dict[str, int],
    random_state: int,
    cv_folds: int,
    cv_repeats: int,
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
        data_source: The user's table's source (``sources.describe``: its catalog
            entry, type, path, table or query, and its content's ``sha256``), empty
            for a built-in dataset.
        feature_roles: Each column's role.
        yardstick: The run's metric and classes (``choose_yardstick``).
        dataset: Name of the dataset.
        synthetic: Size of the synthetic dataset (recorded when it is used).
        random_state: The run's seed.
        cv_folds: Number of CV folds.
        cv_repeats: How many times k-fold CV was run.
        cv_shuffle: Whether rows were shuffled before folding.
        test_size: Fraction of rows held out.
        tuning: ``trials`` per search (0: no tuning) and ``inner_folds``.
        scores: ``score_models``'s scores, by model name (the baseline's last).
        comparison: ``compare_models``'s tests.
        ranking: ``compare_models``'s ranking.
        untuned_comparison: ``compare_untuned``'s record (empty when not tuned).
        **trainings: Each model's training record (the baseline's too), by model name.

    Returns:
        ``run`` (settings, sizes, the table read and its columns, the yardstick),
        ``models`` (each model's training record and scores), ``baseline`` (its record
        and scores), ``comparison`` (with the untuned verdict as ``comparison.untuned``,
        null when not tuned), ``ranking`` and ``best`` (the model ``predict`` uses).
    """
    run = {
        "dataset": dataset_name(dataset),
        "data_source": data_source or None,
        "synthetic": synthetic if dataset == "synthetic" else None,
        "rows": len(y_train) + len(y_test),
        "train_rows": len(y_train),
        "test_rows": len(y_test),
        "classes": classes,
        "target_column": y_train.name,
        "feature_roles": feature_roles,
        "yardstick": yardstick,
        "random_state": random_state,
        "cv_folds": cv_folds,
        "cv_repeats": cv_repeats,
        "cv_shuffle": cv_shuffle,
        "test_size": test_size,
        "tuning": tuning,
        # Models that sat the run out (no estimator for its task), and why.
        "left_out": {name: t["left_out"] for name, t in trainings.items() if t.get("left_out")},
    }
    records = {
        name: {**training, **scores[name]} for name, training in trainings.items() if name in scores
    }
    return {
        "run": run,
        "models": {name: r for name, r in records.items() if name != BASELINE},
        "baseline": records.get(BASELINE),
        "comparison": {**comparison, "untuned": untuned_comparison or None},
        "ranking": ranking,
        "best": comparison["best"],
    }
