"""The default iris run's work with no framework: the baseline of ``make bench``.

The same steps as ``kedro run`` with the default parameters (load, stratified
split, shared folds, cross-validate and fit both models, score them on the
held-out rows, compare them, write the record), in one plain process.
"""

import json
import os
import sys
import time

import numpy as np
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split
from xgboost import XGBClassifier

from parallel_trees.stats import corrected_resampled_ttest, mcnemar_exact

SEED, FOLDS, TREES = 21, 5, 10


def main(out: str) -> None:
    x, y = load_iris(return_X_y=True, as_frame=True)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.2, stratify=y, random_state=SEED
    )
    folds = list(StratifiedKFold(FOLDS, shuffle=True, random_state=SEED).split(x_train, y_train))
    threads = len(os.sched_getaffinity(0))
    models = {
        "random_forest": RandomForestClassifier(
            n_estimators=TREES, random_state=SEED, n_jobs=threads
        ),
        "xgboost": XGBClassifier(
            n_estimators=TREES, eval_metric="mlogloss", random_state=SEED, n_jobs=threads
        ),
    }
    record, correct = {}, {}
    for name, model in models.items():
        started = time.time()
        scores = cross_val_score(model, x_train, y_train, cv=folds, n_jobs=1)
        model.fit(x_train, y_train)
        predictions = model.predict(x_test)
        correct[name] = predictions == y_test.to_numpy()
        record[name] = {
            "cv_scores": scores.tolist(),
            "cv_mean": float(scores.mean()),
            "cv_std": float(scores.std()),
            "test_accuracy": float(correct[name].mean()),
            "training": {"started_at": started, "finished_at": time.time()},
        }
    n_train = np.mean([len(t) for t, _ in folds])
    n_valid = np.mean([len(v) for _, v in folds])
    comparison = {
        "cv": corrected_resampled_ttest(
            record["random_forest"]["cv_scores"], record["xgboost"]["cv_scores"], n_train, n_valid
        ).as_dict(),
        "held_out": mcnemar_exact(correct["random_forest"], correct["xgboost"]).as_dict(),
    }
    with open(out, "w") as file:
        json.dump({"models": record, "comparison": comparison}, file, indent=2)


if __name__ == "__main__":
    main(sys.argv[1])
