"""How to keep a high-cardinality column bounded in width: the measurement behind the choice.

A 60,000-row table with a 1,000-level categorical column that carries signal
(each level shifts the class odds), two low-cardinality categorical columns and
three numeric ones; each encoding is cross-validated (3 folds, inside a
Pipeline) with both models of the project. Prints width, accuracy and seconds.

    python benchmarks/encoders.py [--rows 60000]
"""

import argparse
import time

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, TargetEncoder
from xgboost import XGBClassifier


def table(rows: int, levels: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Three classes driven by the numeric columns and by the high-cardinality column."""
    rng = np.random.default_rng(seed)
    level = rng.zipf(1.3, rows) % levels  # a few frequent levels, a long tail
    effect = rng.normal(size=(levels, 3))[level]
    numeric = rng.normal(size=(rows, 3))
    colour = rng.choice(["red", "green", "blue"], rows)
    size = rng.choice(["S", "M", "L", "XL"], rows)
    logits = effect * 1.5 + numeric @ rng.normal(size=(3, 3)) + (colour == "red")[:, None]
    target = (logits + rng.gumbel(size=logits.shape)).argmax(axis=1)
    features = pd.DataFrame(numeric, columns=["x0", "x1", "x2"]).assign(
        code=[f"c{v}" for v in level], colour=colour, size=size
    )
    return features, target


def encoders() -> dict:
    low = ["colour", "size"]
    one_hot = OneHotEncoder(handle_unknown="infrequent_if_exist", sparse_output=False)
    return {
        "one-hot, unbounded": [(one_hot, ["code", *low])],
        "one-hot, max_categories=20": [
            (
                OneHotEncoder(
                    handle_unknown="infrequent_if_exist", max_categories=20, sparse_output=False
                ),
                ["code", *low],
            )
        ],
        "ordinal": [
            (
                OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1),
                ["code", *low],
            )
        ],
        "target (code) + one-hot": [
            (TargetEncoder(cv=KFold(5, shuffle=True, random_state=0)), ["code"]),
            (one_hot, low),
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=60_000)
    parser.add_argument("--levels", type=int, default=1_000)
    args = parser.parse_args()
    x, y = table(args.rows, args.levels)
    print(f"{args.rows} rows, 'code' has {x['code'].nunique()} levels")
    folds = StratifiedKFold(3, shuffle=True, random_state=0)
    models = {
        "random_forest": RandomForestClassifier(n_estimators=50, random_state=0, n_jobs=1),
        "xgboost": XGBClassifier(n_estimators=50, random_state=0, n_jobs=1),
    }
    for name, parts in encoders().items():
        transform = ColumnTransformer(
            [(f"e{i}", enc, cols) for i, (enc, cols) in enumerate(parts)]
            + [("num", "passthrough", ["x0", "x1", "x2"])]
        )
        width = transform.fit(x, y).transform(x.head()).shape[1]
        for model_name, model in models.items():
            started = time.perf_counter()
            scores = cross_val_score(make_pipeline(transform, model), x, y, cv=folds)
            seconds = time.perf_counter() - started
            print(
                f"{name:28} {model_name:14} width {width:5}  accuracy {scores.mean():.3f}"
                f"  {seconds:6.1f} s"
            )


if __name__ == "__main__":
    main()
