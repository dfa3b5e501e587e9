"""The default iris run's work with no framework: the baseline of ``make bench``.

The same steps as ``kedro run --runner=ParallelRunner`` with the default
parameters (load, stratified split, shared folds, cross-validate and fit both
models, score them on the held-out rows, compare them, write the record, print
the scores), with the models trained side by side as the project trains them:
two processes, forked once the data is split, one model each, each model with
its share of the cores (``n_jobs: auto``). Nothing runs OpenMP in the parent
before the fork (KEDRO_NOTES: XGBoost deadlocks in a forked child otherwise).

    python benchmarks/plain.py <out.json>
"""

import json
import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
from sklearn.base import ClassifierMixin
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split
from xgboost import XGBClassifier

from parallel_trees.resources import available_cores, threads_per_model
from parallel_trees.stats import corrected_resampled_ttest, mcnemar_exact

SEED, FOLDS, TREES = 21, 5, 10
MODELS = {"random_forest": "Random Forest", "xgboost": "XGBoost"}


def make(name: str, threads: int) -> ClassifierMixin:
    """The project's model ``name`` with its default parameters (conf/base/parameters.yml)."""
    if name == "random_forest":
        return RandomForestClassifier(n_estimators=TREES, random_state=SEED, n_jobs=threads)
    return XGBClassifier(
        n_estimators=TREES,
        eval_metric="mlogloss",
        tree_method="hist",
        random_state=SEED,
        n_jobs=threads,
    )


def train(
    name: str,
    threads: int,
    data: tuple[pd.DataFrame, pd.DataFrame, pd.Series, pd.Series],
    folds: list,
) -> tuple[dict, np.ndarray]:
    """One model, in its own process: CV scores, the final fit, its held-out predictions."""
    x_train, x_test, y_train, y_test = data
    started = time.time()
    model = make(name, threads)
    scores = cross_val_score(model, x_train, y_train, cv=folds, n_jobs=1)
    model.fit(x_train, y_train)
    correct = model.predict(x_test) == y_test.to_numpy()
    record = {
        "cv_scores": scores.tolist(),
        "cv_mean": float(scores.mean()),
        "cv_std": float(scores.std()),
        "test_accuracy": float(correct.mean()),
        "training": {"started_at": started, "finished_at": time.time()},
    }
    return record, correct


def main(out: str) -> None:
    x, y = load_iris(return_X_y=True, as_frame=True)
    data = train_test_split(x, y, test_size=0.2, stratify=y, random_state=SEED)
    x_train, _, y_train, _ = data
    folds = list(StratifiedKFold(FOLDS, shuffle=True, random_state=SEED).split(x_train, y_train))
    threads = threads_per_model(available_cores(), len(MODELS))
    fork = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(len(MODELS), mp_context=fork) as pool:
        futures = {name: pool.submit(train, name, threads, data, folds) for name in MODELS}
        trained = {name: future.result() for name, future in futures.items()}
    record = {name: result[0] for name, result in trained.items()}
    n_train = np.mean([len(t) for t, _ in folds])
    n_valid = np.mean([len(v) for _, v in folds])
    comparison = {
        "cv": corrected_resampled_ttest(
            record["random_forest"]["cv_scores"], record["xgboost"]["cv_scores"], n_train, n_valid
        ).as_dict(),
        "held_out": mcnemar_exact(trained["random_forest"][1], trained["xgboost"][1]).as_dict(),
    }
    with open(out, "w") as file:
        json.dump({"models": record, "comparison": comparison}, file, indent=2)
    for name, display in MODELS.items():  # as the project's run prints them
        scores = record[name]
        print(f"{display} Model Accuracy: {scores['cv_mean']:.3f} ± {scores['cv_std']:.3f}")
        print(f"{display} held-out accuracy: {scores['test_accuracy']:.3f}")


if __name__ == "__main__":
    main(sys.argv[1])
