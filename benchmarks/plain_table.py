"""A user's table with categorical columns, with no framework: the table baseline of ``make bench``.

The same fits as ``kedro run --runner=ParallelRunner --params dataset=csv,...``
on that file on 2 cores, in one plain process: read the CSV, drop unlabelled
rows, stratified split, shared folds, then for each model, one after the
other, the same scikit-learn Pipeline (the project's ``make_model``:
ColumnTransformer + estimator) with the same threads per fit (``n_jobs: auto``
under ParallelRunner on 2 cores: 1), cross-validated, fitted, scored on the
held-out rows, and its permutation importance on them. (All cores per fit
instead is the oversubscription trap of ../shared/KEDRO_NOTES.md on a shared
machine: measured 23 s against 7 s with one thread, on 5,000 rows.)

    python benchmarks/plain_table.py <table.csv> <label column> <out.json>
"""

import json
import os
import sys

import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.inspection import permutation_importance
from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split
from xgboost import XGBClassifier

from parallel_trees.pipelines.data_preparation.nodes import infer_column_roles
from parallel_trees.preprocessing import make_model, used_columns

SEED, FOLDS, TREES = 21, 5, 10


def main(path: str, label: str, out: str) -> None:
    table = pd.read_csv(path)
    table = table[table[label].notna()]
    codes, classes = pd.factorize(table[label], sort=True)
    x, y = table.drop(columns=label), pd.Series(codes, index=table.index)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.2, stratify=y, random_state=SEED
    )
    # From the training rows, as the project's node does.
    roles = infer_column_roles(x_train, x_test, {}, {}, list(classes))
    folds = list(StratifiedKFold(FOLDS, shuffle=True, random_state=SEED).split(x_train, y_train))
    threads = max(1, len(os.sched_getaffinity(0)) // 2)  # n_jobs auto, two models at once
    estimators = {
        "random_forest": RandomForestClassifier(
            n_estimators=TREES, random_state=SEED, n_jobs=threads
        ),
        "xgboost": XGBClassifier(
            n_estimators=TREES, eval_metric="mlogloss", random_state=SEED, n_jobs=threads
        ),
    }
    record = {}
    for name, estimator in estimators.items():
        model = make_model(estimator, roles, SEED)
        scores = cross_val_score(model, x_train, y_train, cv=folds, n_jobs=1)
        model.fit(x_train, y_train)
        importance = permutation_importance(
            model, x_test[used_columns(roles)], y_test, n_repeats=5, random_state=SEED
        )
        record[name] = {
            "cv_scores": scores.tolist(),
            "test_accuracy": float((model.predict(x_test) == y_test).mean()),
            "importance": importance.importances_mean.tolist(),
        }
    with open(out, "w") as file:
        json.dump(record, file, indent=2)


if __name__ == "__main__":
    main(*sys.argv[1:4])
