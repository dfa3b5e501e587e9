"""How permutation importance moves with the number of rows it is measured on, against
the CPU time it costs: the measurement behind ``IMPORTANCE_ROWS`` (the cap of
``explain_model``, parallel_trees.pipelines.training.nodes).

On each table, each model is fitted once on the training part; its importance on ALL
the held-out rows (seed 21, as a run) is the reference. Then, for each cap, the
importance on a capped sample (the project's ``permutation_record``: seeded, stratified
by class) with SEEDS seeds, and, as the floor no cap can beat, on all rows again with
other seeds (``all``). Per cap, averaged over models and seeds:

- ``MAD``: the mean absolute change of a column's importance against the reference,
  as a percentage of the largest reference importance;
- ``spread``: the std over seeds of a column's importance, as the same percentage;
- ``rho``: the Spearman correlation of the columns' ranking with the reference's;
- ``top 5``: how often the five most important columns are the reference's five;
- ``std``: the recorded std over repeats (what the chart draws), as the same percentage;
- ``CPU s``: the CPU seconds of one model's importance (median), and its ratio to
  the importance on all rows.

    python benchmarks/importance_cap.py [--quick]
"""

import argparse
import statistics
import time

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split
from xgboost import XGBClassifier

from parallel_trees.pipelines.training.nodes import Judge, permutation_record
from parallel_trees.preprocessing import make_model

SEED, TEST_SIZE, SEEDS, TOP = 21, 0.2, 5, 5
CAPS = (250, 500, 1_000, 2_000, 5_000, 10_000, 20_000)


def table(rows: int, classes: int, weights: list[float] | None) -> tuple[pd.DataFrame, pd.Series]:
    """``make_classification`` as the project's synthetic dataset (20 columns, 10 informative)."""
    x, y = make_classification(
        n_samples=rows,
        n_features=20,
        n_informative=10,
        n_classes=classes,
        n_redundant=0,
        n_clusters_per_class=1,
        weights=weights,
        random_state=SEED,
    )
    return pd.DataFrame(x, columns=[f"x{i}" for i in range(20)]), pd.Series(y, name="target")


def models(trees: int, rounds: int, depth: int | None) -> dict:
    return {
        "random_forest": RandomForestClassifier(
            n_estimators=trees, max_depth=depth, n_jobs=1, random_state=SEED
        ),
        "xgboost": XGBClassifier(
            n_estimators=rounds, tree_method="hist", n_jobs=1, random_state=SEED
        ),
    }


def measure(model, x, y, columns, judge, seed, cap) -> tuple[np.ndarray, float, float]:
    """Importances, their mean recorded std, and the CPU seconds they took."""
    cpu = time.process_time()
    record = permutation_record(model, x, y, columns, judge, seed, cap=cap)
    cpu = time.process_time() - cpu
    means = np.array([record["columns"][c]["mean"] for c in columns])
    stds = np.array([record["columns"][c]["std"] for c in columns])
    return means, float(stds.mean()), cpu


def bench(name: str, rows: int, classes: int, weights, metric: str, shape: tuple) -> None:
    x, y = table(rows, classes, weights)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=TEST_SIZE, stratify=y, random_state=SEED
    )
    columns = list(x.columns)
    roles = {"numeric": columns, "categorical": [], "many_levels": [], "excluded": {}}
    yardstick = {"task": "classification", "metric": metric, "classes": classes, "positive": None}
    judge = Judge(yardstick)
    found: dict[str, dict[str, list]] = {}
    for model_name, estimator in models(*shape).items():
        model = make_model(estimator, roles, SEED).fit(x_train, y_train)
        reference, _, all_cpu = measure(model, x_test, y_test, columns, judge, SEED, len(x_test))
        top = np.abs(reference).max()
        ref_top = set(np.argsort(-reference)[:TOP])
        for cap in [c for c in CAPS if c < len(x_test)] + ["all"]:
            runs = []
            for k in range(SEEDS if cap != "all" else SEEDS - 2):
                size = len(x_test) if cap == "all" else cap
                imp, std, cpu = measure(model, x_test, y_test, columns, judge, SEED + 1 + k, size)
                runs.append((imp, std, cpu))
            stack = np.array([r[0] for r in runs])
            row = found.setdefault(str(cap), {k: [] for k in ("mad", "sd", "rho", "top", "std")})
            row.setdefault("cpu", []).extend(r[2] for r in runs)
            row.setdefault("ratio", []).extend(r[2] / all_cpu for r in runs)
            row["mad"].append(100 * np.abs(stack - reference).mean() / top)
            row["sd"].append(100 * stack.std(axis=0, ddof=1).mean() / top)
            row["rho"].append(np.mean([spearmanr(r, reference).statistic for r in stack]))
            row["top"].append(np.mean([set(np.argsort(-r)[:TOP]) == ref_top for r in stack]))
            row["std"].append(100 * np.mean([r[1] for r in runs]) / top)
        print(f"  {model_name}: all {len(x_test):,} rows {all_cpu:.2f} CPU s", flush=True)
    print(f"\n{name}: {len(x_test):,} held-out rows, metric {metric}, models {shape}")
    print("| cap | MAD % | spread % | rho | top 5 | std % | CPU s | x all |")
    print("|---|---|---|---|---|---|---|---|")
    for cap, row in found.items():
        print(
            f"| {cap} | {np.mean(row['mad']):.1f} | {np.mean(row['sd']):.1f} "
            f"| {np.mean(row['rho']):.3f} | {np.mean(row['top']):.0%} "
            f"| {np.mean(row['std']):.1f} | {statistics.median(row['cpu']):.2f} "
            f"| {statistics.median(row['ratio']):.2f} |",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small tables, a smoke test")
    quick = parser.parse_args().quick
    scale = 10 if quick else 1
    bench("heavy (20,000 rows, 3 classes)", 20_000 // scale, 3, None, "accuracy", (110, 420, None))
    bench(
        "imbalanced (50,000 rows, 2 classes 90/10)",
        50_000 // scale,
        2,
        [0.9, 0.1],
        "roc_auc",
        (50, 100, None),
    )
    bench(
        "1e6 rows, 3 classes (bench.py's scale models)",
        1_000_000 // scale,
        3,
        None,
        "accuracy",
        (10, 10, 12),
    )


if __name__ == "__main__":
    main()
