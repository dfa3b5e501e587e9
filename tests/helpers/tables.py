"""Tables a user might bring: iris as a CSV would hold it, and a survey with text and gaps."""

import numpy as np
import pandas as pd
from sklearn.datasets import load_iris

# The runtime parameters of a run on penguins.csv in the project's folder.
PENGUINS = "csv_path=penguins.csv,dataset=raw_data,target_column=species"
IRIS_COLUMNS = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]
# The default run's yardstick on iris (choose_yardstick's): accuracy, three classes.
IRIS_YARDSTICK = {
    "task": "classification",
    "metric": "accuracy",
    "chosen": False,
    "greater_is_better": True,
    "classes": 3,
    "positive": None,
    "positive_class": None,
    "majority": "setosa",
    "guess": "'setosa'",
}


def iris_table() -> pd.DataFrame:
    """Iris as a user's CSV would hold it: named feature columns, string classes."""
    bunch = load_iris(as_frame=True)
    return bunch.data.assign(species=bunch.target_names[bunch.target])


def penguins(rows: int = 150, seed: int = 3) -> pd.DataFrame:
    """A table like the penguin survey: text, NaN, R's row numbers, a constant, unlabelled rows.

    Written with ``to_csv(path, index_label="")``, as R writes its row numbers.
    """
    rng = np.random.default_rng(seed)
    species = rng.choice(["Adelie", "Chinstrap", "Gentoo"], rows)
    island = np.where(
        species == "Gentoo",
        "Biscoe",
        np.where(species == "Chinstrap", "Dream", rng.choice(["Torgersen", "Dream"], rows)),
    ).astype(object)
    centre = np.select([species == "Adelie", species == "Chinstrap"], [38.8, 48.8], 47.5)
    table = pd.DataFrame(
        {
            "species": species,
            "island": island,
            "bill_length_mm": np.round(centre + rng.normal(0, 2.5, rows), 1),
            "flipper_length_mm": np.round(
                np.where(species == "Gentoo", 217, 192) + rng.normal(0, 6, rows)
            ).astype(int),
            "sex": rng.choice(["male", "female"], rows).astype(object),
            "tagged": rng.choice([True, False], rows),
            "year": 2008,
        }
    )
    table.loc[rng.choice(rows, 6, replace=False), "bill_length_mm"] = np.nan
    table.loc[rng.choice(rows, 9, replace=False), "sex"] = None
    table.loc[[10, 77], "species"] = None
    table.index += 1  # R writes its row numbers, from 1, under an empty header
    return table
