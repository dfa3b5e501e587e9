"""The CPU seconds of ``explain_model`` per model, capped (``IMPORTANCE_ROWS``) against
uncapped (every held-out row, as before the cap), and against scikit-learn's
``permutation_importance`` on the same capped sample (one prediction per shuffle, as
before the project batched them), side by side: the calls interleaved, RUNS times each,
medians; and the final fit's CPU seconds, for scale.

Two workloads: ``make bench``'s "heavy" one (20,000 rows of the synthetic table, 110
trees, 420 rounds: 4,000 held-out rows) and 1e6 rows with bench.py's scale models (10
trees of depth 12, 10 rounds: 200,000 held-out rows). One thread per model, as under
ParallelRunner on two cores.

    python benchmarks/importance_cost.py [--runs 3] [--quick]
"""

import argparse
import statistics
import time

import pandas as pd
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.inspection import permutation_importance
from sklearn.model_selection import train_test_split
from xgboost import XGBClassifier

from parallel_trees.metrics import scorer
from parallel_trees.pipelines.training.nodes import (
    IMPORTANCE_REPEATS,
    IMPORTANCE_ROWS,
    Judge,
    explain_model,
    importance_sample,
    permutation_record,
)
from parallel_trees.preprocessing import make_model

SEED = 21
YARDSTICK = {"task": "classification", "metric": "accuracy", "classes": 3, "positive": None}


def workload(name: str, rows: int, trees: int, rounds: int, depth: int | None, runs: int) -> None:
    x, y = make_classification(
        n_samples=rows,
        n_features=20,
        n_informative=10,
        n_classes=3,
        n_redundant=0,
        n_clusters_per_class=1,
        random_state=SEED,
    )
    x, y = pd.DataFrame(x, columns=[f"x{i}" for i in range(20)]), pd.Series(y)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.2, stratify=y, random_state=SEED
    )
    roles = {"numeric": list(x.columns), "categorical": [], "many_levels": [], "excluded": {}}
    estimators = {
        "random_forest": RandomForestClassifier(
            n_estimators=trees, max_depth=depth, n_jobs=1, random_state=SEED
        ),
        "xgboost": XGBClassifier(
            n_estimators=rounds, tree_method="hist", n_jobs=1, random_state=SEED
        ),
    }
    print(f"\n{name}: {len(x_test):,} held-out rows, cap {IMPORTANCE_ROWS:,}, {runs} runs each")
    print(
        "| model | final fit CPU s | uncapped CPU s | capped CPU s | capped / uncapped "
        "| capped, a prediction per shuffle CPU s | batched / a prediction per shuffle |"
    )
    print("|---|---|---|---|---|---|---|")
    columns, judge = list(x.columns), Judge(YARDSTICK)
    sample = importance_sample(y_test, IMPORTANCE_ROWS, SEED, stratify=True)
    x_sample, y_sample = (
        (x_test, y_test) if sample is None else (x_test.iloc[sample], y_test.iloc[sample])
    )
    score = scorer(judge.metric, judge.classes, judge.positive)
    for model_name, estimator in estimators.items():
        started = time.process_time()
        model = make_model(estimator, roles, SEED).fit(x_train, y_train)
        fit_cpu = time.process_time() - started
        before, after, unbatched = [], [], []
        for _ in range(runs):  # interleaved
            started = time.process_time()
            permutation_record(model, x_test, y_test, columns, judge, SEED, cap=len(x_test))
            before.append(time.process_time() - started)
            started = time.process_time()
            explain_model(model, x_test, y_test, x_train, y_train, roles, SEED, YARDSTICK)
            after.append(time.process_time() - started)
            started = time.process_time()
            permutation_importance(
                model,
                x_sample,
                y_sample,
                scoring=score,
                n_repeats=IMPORTANCE_REPEATS,
                random_state=SEED,
            )
            unbatched.append(time.process_time() - started)
        b, a, u = (statistics.median(t) for t in (before, after, unbatched))
        print(
            f"| {model_name} | {fit_cpu:.1f} | {b:.2f} | {a:.2f} | {a / b:.3f} | {u:.2f} "
            f"| {a / u:.2f} |",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small tables, a smoke test")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    workload("heavy", 20_000 // scale, 110, 420, None, args.runs)
    workload("1e6 rows", 1_000_000 // scale, 10, 10, 12, args.runs)


if __name__ == "__main__":
    main()
