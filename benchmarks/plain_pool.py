"""The training-dominated workload with no framework, on one process pool: the baseline
of ``make bench``'s "heavy" rows.

The same work as ``kedro run --runner=ParallelRunner --params
dataset=synthetic,synthetic.n_samples=20000,random_forest.n_estimators=110,xgboost.n_estimators=420``:
the same synthetic rows (``make_classification`` with the project's parameters),
stratified split and shared folds; every (model, fold) fit and both final fits
go to ONE joblib process pool (loky) sized to the cores, each fit with the
threads the project's ``n_jobs: auto`` gives it (the cores shared by the fits
running at once: 1 when the pool has a worker per core). Each final fit's task
also predicts the held-out rows and measures the permutation importance of each
column on them, as the project's ``explain_model`` does (on every held-out row:
the project samples at most ``IMPORTANCE_ROWS``), unless ``--no-importance``: the
same models fitted and scored, nothing explained, the yardstick of issue 32's
first goal (a user who wants scores should not pay for importance). The
longest tasks (the final fits) are queued first, so that no core waits at the
end for one long task; the folds fill in around them. Then the scores, the
paired comparison of the two models, one JSON record.

    python benchmarks/plain_pool.py <out.json> [--rows 20000 --trees 110 --rounds 420]
        [--no-importance]
"""

import argparse
import json

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import ClassifierMixin
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.inspection import permutation_importance
from sklearn.model_selection import StratifiedKFold, train_test_split
from xgboost import XGBClassifier

from parallel_trees.resources import available_cores, threads_per_model
from parallel_trees.stats import corrected_resampled_ttest, mcnemar_exact

SEED, FOLDS, TEST_SIZE, REPEATS = 21, 5, 0.2, 5
# conf/base/parameters.yml's synthetic section, but for n_samples.
FEATURES, INFORMATIVE, CLASSES = 20, 10, 3
MODELS = ("random_forest", "xgboost")


def make(name: str, trees: int, rounds: int, threads: int) -> ClassifierMixin:
    """The project's model ``name`` with its default parameters (conf/base/parameters.yml)."""
    if name == "random_forest":
        return RandomForestClassifier(n_estimators=trees, random_state=SEED, n_jobs=threads)
    return XGBClassifier(
        n_estimators=rounds,
        eval_metric="mlogloss",
        tree_method="hist",
        random_state=SEED,
        n_jobs=threads,
    )


def score_fold(
    model: ClassifierMixin,
    x: np.ndarray,
    y: np.ndarray,
    fit_rows: np.ndarray,
    score_rows: np.ndarray,
) -> float:
    """Accuracy on one fold's validation rows of ``model`` fitted on its training rows."""
    return float(model.fit(x[fit_rows], y[fit_rows]).score(x[score_rows], y[score_rows]))


def fit_and_explain(
    model: ClassifierMixin,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    explain: bool,
) -> dict:
    """``model`` fitted on all training rows: its held-out predictions, and its column
    importance when ``explain``."""
    model.fit(x_train, y_train)
    if not explain:
        return {"predictions": model.predict(x_test), "importance": None}
    importance = permutation_importance(
        model, x_test, y_test, n_repeats=REPEATS, random_state=SEED, n_jobs=1
    )
    return {
        "predictions": model.predict(x_test),
        "importance": importance.importances_mean.tolist(),
    }


def main(out: str, rows: int, trees: int, rounds: int, explain: bool) -> None:
    x, y = make_classification(
        n_samples=rows,
        n_features=FEATURES,
        n_informative=INFORMATIVE,
        n_classes=CLASSES,
        n_redundant=0,
        n_clusters_per_class=1,
        random_state=SEED,
    )
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=TEST_SIZE, stratify=y, random_state=SEED
    )
    folds = list(StratifiedKFold(FOLDS, shuffle=True, random_state=SEED).split(x_train, y_train))
    cores = available_cores()
    fits = len(MODELS) * (FOLDS + 1)
    threads = threads_per_model(cores, min(fits, cores))  # n_jobs: auto, a fit per core
    finals = [
        delayed(fit_and_explain)(
            make(name, trees, rounds, threads), x_train, y_train, x_test, y_test, explain
        )
        for name in MODELS
    ]
    scores = [
        delayed(score_fold)(make(name, trees, rounds, threads), x_train, y_train, *fold)
        for name in MODELS
        for fold in folds
    ]
    results = Parallel(n_jobs=cores, backend="loky")(finals + scores)
    final, cv = dict(zip(MODELS, results[: len(MODELS)], strict=True)), results[len(MODELS) :]
    record, correct = {}, {}
    for i, name in enumerate(MODELS):
        fold_scores = np.array(cv[i * FOLDS : (i + 1) * FOLDS])
        correct[name] = final[name]["predictions"] == y_test
        record[name] = {
            "cv_scores": fold_scores.tolist(),
            "cv_mean": float(fold_scores.mean()),
            "cv_std": float(fold_scores.std()),
            "test_accuracy": float(correct[name].mean()),
            "importance": final[name]["importance"],
        }
    n_train = np.mean([len(t) for t, _ in folds])
    n_valid = np.mean([len(v) for _, v in folds])
    comparison = {
        "cv": corrected_resampled_ttest(
            record["random_forest"]["cv_scores"], record["xgboost"]["cv_scores"], n_train, n_valid
        ).as_dict(),
        "held_out": mcnemar_exact(correct["random_forest"], correct["xgboost"]).as_dict(),
    }
    record = {"models": record, "comparison": comparison, "pool": cores, "threads": threads}
    with open(out, "w") as file:
        json.dump(record, file, indent=2)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--trees", type=int, default=110)
    parser.add_argument("--rounds", type=int, default=420)
    parser.add_argument(
        "--no-importance",
        dest="explain",
        action="store_false",
        help="fit and score the models only: no permutation importance",
    )
    args = parser.parse_args()
    main(args.out, args.rows, args.trees, args.rounds, args.explain)
