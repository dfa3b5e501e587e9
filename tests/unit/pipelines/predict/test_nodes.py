import numpy as np
import pandas as pd
import pytest

from parallel_trees.datasets import TrainedModel
from parallel_trees.errors import DataError
from parallel_trees.pipelines.data_preparation.nodes import infer_column_roles
from parallel_trees.pipelines.predict.nodes import predict_new_rows
from parallel_trees.pipelines.training.nodes import fit_model
from parallel_trees.sources import Table

UNTUNED = {"trials": 0, "inner_folds": 3}
CONTEXT = {"runner": "SequentialRunner", "cores": 1, "fits_at_once": 1, "threads_per_model": 1}
CLASSES = ["Adelie", "Gentoo"]
PATH = "new.csv"
SOURCE = {"entry": "new_rows", "type": "parallel_trees.datasets.CSVTableDataset", "path": PATH}
NAME = f"new_rows ({PATH})"  # the rows' source, in messages
VERSION = "2026-01-01T10.00.00.000Z"
TRAINED_ON = {"entry": "raw_data", "type": "pandas.ParquetDataset", "path": "penguins.parquet"}
# Every message about the new rows' columns names the model, its run and its table.
MODEL = (
    f"The model is Random Forest (random_forest) of the training run {VERSION}, trained on "
    "raw_data (penguins.parquet)"
)


def _rows(n=60, seed=0):
    rng = np.random.default_rng(seed)
    island = rng.choice(["Biscoe", "Dream"], n)
    bill = np.where(island == "Biscoe", 45.0, 38.0) + rng.normal(size=n)
    return pd.DataFrame({"island": island, "bill": bill, "species": np.where(bill > 41.5, 1, 0)})


@pytest.fixture(scope="module")
def trained():
    table = _rows()
    features, target = table.drop(columns="species"), table["species"]
    roles = infer_column_roles(features, features.iloc[:0], {}, {}, [])
    section = {"n_estimators": 10, "n_jobs": 1}
    yardstick = {"task": "classification", "metric": "accuracy", "classes": 2, "positive": 1}
    model, _ = fit_model(
        features, target, yardstick, roles, section, UNTUNED, 0, CONTEXT, "random_forest"
    )
    run = {"classes": CLASSES, "target_column": "species", "feature_roles": roles}
    run |= {"dataset": "raw_data", "data_source": TRAINED_ON}
    return TrainedModel(model, "random_forest", "Random Forest", VERSION, run)


class TestPredict:
    def test_each_row_gets_its_class_name_and_every_class_probability(self, trained, caplog):
        caplog.set_level("INFO", logger="parallel_trees")
        new = _rows(5, seed=1).drop(columns="species").assign(note="extra")
        predicted, record = predict_new_rows(Table(new, SOURCE), trained)
        assert predicted.columns.tolist() == [
            "island",
            "bill",
            "note",
            "prediction",
            "probability_Adelie",
            "probability_Gentoo",
        ]
        pd.testing.assert_frame_equal(predicted[new.columns], new)
        codes = trained.model.predict(new[["bill", "island"]])
        assert predicted["prediction"].tolist() == [CLASSES[c] for c in codes]
        np.testing.assert_allclose(predicted.filter(like="probability_").sum(axis=1), 1)
        assert "Ignored the columns the model does not read: note" in caplog.messages
        assert (
            f"Predicted 5 rows of {NAME} with Random Forest (random_forest) of the training run "
            f"{VERSION}, trained on raw_data (penguins.parquet)" in caplog.messages
        )
        assert record == {
            "training_run": VERSION,
            "model": "random_forest",
            "display_name": "Random Forest",
            "trained_on": TRAINED_ON,
            "new_rows": SOURCE,
            "rows": 5,
            "unseen": {},
        }

    def test_unseen_values_are_predicted_and_counted_by_column(self, trained, caplog):
        caplog.set_level("INFO", logger="parallel_trees")
        islands = ["Torgersen", None, "Biscoe", "Torgersen", "Atlantis", "Mu", "Oz", "Zed"]
        new = pd.DataFrame({"island": islands, "bill": [np.nan, *np.linspace(38, 46, 7)]})
        predicted, record = predict_new_rows(Table(new, SOURCE), trained)
        assert len(predicted) == 8 and predicted["prediction"].notna().all()
        line = (
            f"Column 'island' of {NAME}: 5 values unseen in training, in 6 rows: "
            "'Torgersen', 'Atlantis', 'Mu' and 2 more"
        )
        assert line in caplog.messages
        assert record["unseen"] == {
            "island": {
                "values": 5,
                "rows": 6,
                "examples": ["Torgersen", "Atlantis", "Mu"],
                "line": line,
            }
        }
        one = pd.DataFrame({"island": ["Dream", "Oz"], "bill": [40.0, 41.0]})
        assert predict_new_rows(Table(one, SOURCE), trained)[1]["unseen"]["island"]["line"] == (
            f"Column 'island' of {NAME}: 1 value unseen in training, in 1 row: 'Oz'"
        )

    def test_the_record_names_a_built_in_dataset_the_model_was_trained_on(self, trained):
        run = {**trained.run, "dataset": "iris", "data_source": {}}
        iris = TrainedModel(trained.model, "random_forest", "Random Forest", VERSION, run)
        new = _rows(2, seed=1).drop(columns="species")
        assert predict_new_rows(Table(new, SOURCE), iris)[1]["trained_on"] == {"dataset": "iris"}

    @pytest.mark.parametrize(
        ("rows", "message"),
        [
            (
                _rows(3).drop(columns="bill"),
                f"{NAME} lacks the column 'bill', which the model reads. It needs: bill, "
                f"island. {MODEL}; --params run=<version> predicts with another training run.",
            ),
            (
                _rows(3).astype({"bill": object}).assign(bill=["39.5", "n/a", "40"]),
                f"{NAME}: column 'bill' was numeric in training, but line 3 holds 'n/a'. Fix "
                f"that value, or leave it empty. {MODEL}.",
            ),
            (_rows(3).iloc[:0], f"{NAME} has a header row but no data rows: nothing to predict."),
        ],
    )
    def test_rows_the_model_cannot_read_are_refused(self, trained, rows, message):
        with pytest.raises(DataError) as error:
            predict_new_rows(Table(rows, SOURCE), trained)
        assert message in str(error.value)


def test_a_regressor_writes_a_number_per_row_and_no_probabilities():
    table = _rows()
    features, target = table.drop(columns="species"), table["bill"] * 2.0
    features = features.drop(columns="bill").assign(bill=table["bill"])
    roles = infer_column_roles(features, features.iloc[:0], {}, {}, [])
    yardstick = {"task": "regression", "metric": "rmse", "classes": 0, "positive": None}
    section = {"n_estimators": 10, "n_jobs": 1}
    model, _ = fit_model(
        features, target, yardstick, roles, section, UNTUNED, 0, CONTEXT, "random_forest"
    )
    run = {"classes": [], "target_column": "mass", "feature_roles": roles, "dataset": "raw_data"}
    regressor = TrainedModel(model, "random_forest", "Random Forest", VERSION, run)
    new = _rows(5, seed=1).drop(columns="species")
    predicted, _ = predict_new_rows(Table(new, SOURCE), regressor)
    assert predicted.columns.tolist() == ["island", "bill", "prediction"]
    assert predicted["prediction"].tolist() == pytest.approx(model.predict(new).tolist())


def test_numbers_held_as_text_in_a_numeric_column_are_not_refused(trained):
    """The check once indexed the first text value without asking if there was one."""
    new = _rows(3, seed=2).drop(columns="species")
    new["bill"] = new["bill"].map(str).astype(object)
    predicted, _ = predict_new_rows(Table(new, SOURCE), trained)
    assert len(predicted) == 3
