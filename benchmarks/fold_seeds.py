"""How much the CV verdict moves with the fold seed, with one repeat of k-fold CV and with ten.

For each table, the split into training and held-out rows is fixed (random_state 21);
only the seed of the folds changes. For each seed, both models are cross-validated on
the same folds with the project's own nodes, and compared by the project's own test
(the corrected resampled t-test, over all folds of all repeats). It prints, per table
and number of repeats, the spread of the p-value over the seeds, and how many seeds
give a significant difference at 0.05 (raw, before Holm's correction):

    .venv/bin/python benchmarks/fold_seeds.py [--seeds 8]
"""

import argparse
import logging
import statistics
import time

from parallel_trees.pipelines.data_preparation.nodes import (
    choose_yardstick,
    infer_column_roles,
    load_dataset,
    make_cv_splits,
    split_data,
)
from parallel_trees.pipelines.training.nodes import evaluate_folds
from parallel_trees.stats import corrected_resampled_ttest

TABLES = ["iris", "breast_cancer"]
SECTIONS = {
    "random_forest": {"n_estimators": 10, "n_jobs": 1},
    "xgboost": {"n_estimators": 10, "eval_metric": "mlogloss", "tree_method": "hist", "n_jobs": 1},
}
CONTEXT = {"runner": "SequentialRunner", "cores": 1, "fits_at_once": 1, "threads_per_model": 1}


def p_value(table: str, seed: int, repeats: int) -> float:
    """The two models' CV comparison on ``table`` with folds seeded ``seed``."""
    features, target, classes, source = load_dataset(table, {}, 21, "target", None)
    x_train, x_test, y_train, _ = split_data(features, target, 0.2, 21)
    roles = infer_column_roles(x_train, x_test, {}, source)
    yardstick = choose_yardstick("auto", None, classes, y_train)
    folds = make_cv_splits(y_train, classes, 5, True, seed, cv_repeats=repeats)
    scores = [
        [
            f["score"]
            for f in evaluate_folds(
                x_train, y_train, folds, yardstick, roles, section, {"trials": 0, "inner_folds": 3},
                21, CONTEXT, model, part=0, parts=1,
            )["folds"]
        ]
        for model, section in SECTIONS.items()
    ]  # fmt: skip
    n_train = statistics.mean(len(train) for train, _ in folds)
    n_valid = statistics.mean(len(valid) for _, valid in folds)
    rows = [len(valid) for _, valid in folds]
    return corrected_resampled_ttest(*scores, n_train, n_valid, rows=rows).p_value


def main() -> None:
    logging.getLogger("parallel_trees").setLevel(logging.WARNING)  # not a line per split
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8, help="fold seeds per table (default 8)")
    seeds = parser.parse_args().seeds
    print(f"| table | repeats | p-value over {seeds} fold seeds: min, median, max | "
          "significant at 0.05 | seconds |")  # fmt: skip
    print("|---|---|---|---|---|")
    for table in TABLES:
        for repeats in (1, 10):
            started = time.perf_counter()
            found = sorted(p_value(table, seed, repeats) for seed in range(seeds))
            significant = sum(p < 0.05 for p in found)  # noqa: PLR2004
            print(
                f"| {table} | {repeats} | {found[0]:.2g}, {statistics.median(found):.2g}, "
                f"{found[-1]:.2g} | {significant} of {seeds} | "
                f"{time.perf_counter() - started:.0f} |"
            )


if __name__ == "__main__":
    main()
