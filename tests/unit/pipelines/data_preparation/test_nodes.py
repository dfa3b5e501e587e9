import math
import re
import tracemalloc

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

from parallel_trees.errors import DataError
from parallel_trees.pipelines.data_preparation.nodes import (
    choose_yardstick,
    held_out_limits,
    infer_column_roles,
    load_dataset,
    make_cv_splits,
    split_data,
    take_input_example,
)
from parallel_trees.sources import Table

SYNTHETIC = {"n_samples": 200, "n_features": 6, "n_informative": 3, "n_classes": 4}
CLASSES = ["setosa", "versicolor", "virginica"]
PATH = "data/01_raw/flowers.csv"
# The source of a table read from PATH by the catalog's raw_data; NAME: it in messages.
SOURCE = {
    "entry": "raw_data",
    "type": "parallel_trees.datasets.CSVTableDataset",
    "path": PATH,
    "sha256": "0f1e",
}
NAME = f"raw_data ({PATH})"


def load(dataset, random_state=21, table=None, target_column="target", task="auto"):
    """``load_dataset``'s features, labels and class names."""
    raw = Table(table, SOURCE) if isinstance(table, pd.DataFrame) else table
    return load_dataset(dataset, SYNTHETIC, random_state, target_column, raw, task)[:3]


class TestLoadDataset:
    @pytest.mark.parametrize(
        ("name", "rows", "columns", "classes"),
        [("iris", 150, 4, 3), ("wine", 178, 13, 3), ("breast_cancer", 569, 30, 2)],
    )
    def test_built_in_datasets(self, name, rows, columns, classes):
        features, target, names = load(name)
        assert features.shape == (rows, columns)
        assert target.name == "target"
        assert sorted(target.unique()) == list(range(classes))
        assert len(target) == rows
        assert len(names) == classes and all(isinstance(n, str) for n in names)

    @pytest.mark.parametrize("name", ["iris", "synthetic", "raw_data"])
    def test_float_columns_are_float32_as_the_models_compute(self, name):
        table = _table()
        features, *_ = load(name, table=table, target_column="species")
        floats = features.select_dtypes("floating").dtypes
        assert len(floats) and set(floats) == {np.dtype("float32")}
        if name == "raw_data":  # the other columns as they were
            assert features.dtypes.drop(floats.index).equals(table.dtypes[["width", "flag"]])

    @pytest.mark.parametrize("name", ["iris", "synthetic"])
    def test_float_columns_stay_one_array_that_a_fit_reads_without_a_copy(self, name):
        # Cast column by column, they were separate arrays, copied into one for each fit.
        features, *_ = load(name)
        assert np.shares_memory(features.to_numpy(), features.to_numpy())

    def test_synthetic_is_sized_by_its_parameters_and_seeded(self):
        features, target, names = load("synthetic")
        assert features.shape == (200, 6)
        assert sorted(target.unique()) == names == [0, 1, 2, 3]
        again, *_ = load("synthetic")
        other, *_ = load("synthetic", 22)
        pd.testing.assert_frame_equal(features, again)
        assert not features.equals(other)

    @pytest.mark.parametrize("rows", [200, 70_001])  # 70,001: more than one shuffled block
    def test_synthetic_is_make_classifications_table_bit_for_bit(self, rows):
        size = SYNTHETIC | {"n_samples": rows}
        features, target, *_ = load_dataset("synthetic", size, 5, "target", None)
        expected_x, expected_y = make_classification(
            n_samples=rows,
            n_features=6,
            n_informative=3,
            n_classes=4,
            n_redundant=0,
            n_clusters_per_class=1,
            random_state=5,
        )
        np.testing.assert_array_equal(features.to_numpy(), expected_x.astype(np.float32))
        np.testing.assert_array_equal(target.to_numpy(), expected_y)
        assert list(features.columns) == [f"x{i}" for i in range(6)]

    @pytest.mark.parametrize("task", ["classification", "regression"])
    def test_synthetic_is_made_without_the_generators_shuffled_float64_copies(self, task):
        size = {"n_samples": 200_000, "n_features": 20, "n_informative": 10, "n_classes": 3}
        float64_table = 200_000 * 20 * 8
        tracemalloc.start()
        try:
            load_dataset("synthetic", size | {"noise": 1.0}, 21, "target", None, task)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        # The generator's float64 table and the float32 one (1.8 x); the generator's own
        # shuffle kept the unshuffled table beside two shuffled copies (3.1 x).
        assert peak < 2 * float64_table

    def test_unknown_dataset_names_the_allowed_ones(self):
        with pytest.raises(
            ValueError, match="mnist.*iris, wine, breast_cancer, diabetes, synthetic, raw_data"
        ):
            load("mnist")

    @pytest.mark.parametrize(
        ("size", "message"),
        [
            (
                {"n_samples": 12, "n_features": 4, "n_informative": 3, "n_classes": 6},
                "the synthetic dataset has classes with fewer than 2 rows: 0 (1 row); "
                "cross-validation needs at least 2 rows of every class (cv_folds >= 2). Raise "
                "synthetic.n_samples = 12: it gives each of the 6 classes about 2 rows.",
            ),
            (
                {"n_samples": 10, "n_features": 5, "n_informative": 5, "n_classes": 20},
                "the synthetic dataset has classes with fewer than 2 rows: 0 (1 row), 1 (1 row), "
                "2 (1 row) and 17 more of the 20 classes; cross-validation needs at least 2 rows "
                "of every class (cv_folds >= 2). Raise synthetic.n_samples = 10: it gives each "
                "of the 20 classes about 0.5 rows.",
            ),
        ],
    )
    def test_synthetic_classes_too_small_to_cross_validate_are_refused(self, size, message):
        with pytest.raises(DataError) as error:
            load_dataset("synthetic", size, 21, "target", None)
        assert str(error.value) == message

    def test_built_in_datasets_ignore_the_csv(self):
        features, *_ = load("iris", table=object())
        assert features.shape == (150, 4)

    def test_csv_the_earlier_name_of_raw_data_still_reads_the_table(self):
        old, new = (
            load(name, table=_table(), target_column="species") for name in ("csv", "raw_data")
        )
        for before, now in zip(old, new, strict=True):
            assert before.equals(now) if hasattr(before, "equals") else before == now

    def test_a_table_of_a_database_quotes_its_rows_not_lines(self):
        table = _table().assign(species=["setosa"] * 15 + ["versicolor"] * 14 + ["virginica"])
        source = {"entry": "raw_data", "type": "pandas.SQLTableDataset", "table": "flowers"}
        with pytest.raises(DataError) as error:
            load_dataset("raw_data", SYNTHETIC, 21, "species", Table(table, source))
        assert "target_column 'species' of raw_data (table 'flowers') has classes with fewer " in (
            str(error.value)
        )
        assert "'virginica' (1 row: row 30)" in str(error.value)  # the 30th row read


def _table(rows=30):
    """A small user table: numeric features, string classes."""
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "length": rng.normal(size=rows),
            "width": rng.integers(0, 9, size=rows),
            "flag": rng.integers(0, 2, size=rows).astype(bool),
            "species": [CLASSES[i % 3] for i in range(rows)],
        }
    )


class TestCsv:
    def test_labels_are_encoded_in_sorted_order_and_named(self):
        table = _table()
        features, target, classes = load("raw_data", table=table, target_column="species")
        assert classes == CLASSES
        assert list(features.columns) == ["length", "width", "flag"]
        assert [classes[code] for code in target] == table["species"].tolist()
        assert target.index.equals(table.index)

    def test_integer_labels_keep_their_values_as_names(self):
        table = _table().assign(species=[7, 3, 5] * 10)
        _, target, classes = load("raw_data", table=table, target_column="species")
        assert classes == [3, 5, 7]
        assert target.tolist()[:3] == [2, 0, 1]

    def test_the_table_is_not_modified(self):
        table = _table()
        before = table.copy()
        load("raw_data", table=table, target_column="species")
        pd.testing.assert_frame_equal(table, before)

    def test_the_file_read_is_named_by_its_path_and_hash(self):
        *_, source, _ = load_dataset("raw_data", SYNTHETIC, 21, "species", Table(_table(), SOURCE))
        assert source == SOURCE
        assert load_dataset("iris", SYNTHETIC, 21, "target", None)[3] == {}

    def test_the_labels_keep_the_name_of_their_column(self):
        _, target, _ = load("raw_data", table=_table(), target_column="species")
        assert target.name == "species"

    def test_text_and_missing_values_are_kept_for_the_models(self):
        table = _table().assign(colour=["red", None, "blue"] * 10, width=[None, 1.0, 2.0] * 10)
        features, *_ = load("raw_data", table=table, target_column="species")
        expected = table.drop(columns="species").astype({"length": "float32", "width": "float32"})
        pd.testing.assert_frame_equal(features, expected)

    def test_rows_with_no_label_are_dropped_with_a_note(self, caplog):
        table = _table().assign(species=[*CLASSES * 9, None, "setosa", None])
        features, target, classes = load("raw_data", table=table, target_column="species")
        assert len(features) == len(target) == 28
        assert classes == CLASSES
        assert target.index.tolist() == [*range(27), 28]  # the table's own row numbers
        assert f"Dropped 2 of 30 rows of {NAME}: no label in 'species' (lines 29, 31)" in (
            caplog.text
        )

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            (
                lambda t: t,
                f"target_column = 'specie' is not a column of {NAME}. Did you mean 'species'? "
                "Its columns: length, width, flag, species.",
            ),
            (lambda t: t.iloc[:0], f"{NAME} has a header row but no data rows"),
            (lambda t: t[["species"]], "no feature columns besides 'species'"),
            (
                lambda t: t.assign(species="setosa"),
                "has a single class ('setosa'): a classifier needs rows of at least two classes",
            ),
            (
                lambda t: t.assign(species=None),
                f"target_column 'species' of {NAME} has no label on any row",
            ),
            (
                lambda t: t.assign(species=CLASSES[:2] * 14 + ["virginica", "setosa"]),
                f"target_column 'species' of {NAME} has classes with fewer than 2 rows: "
                "'virginica' (1 row: line 30); cross-validation needs at least 2 rows of every "
                "class (cv_folds >= 2). Add rows of those classes, or drop their rows.",
            ),
        ],
    )
    def test_unusable_tables_are_refused_saying_what_to_change(self, change, message):
        target_column = "specie" if "specie'" in message else "species"
        with pytest.raises(DataError) as error:
            load("raw_data", table=change(_table()), target_column=target_column)
        assert message in str(error.value)


class TestTask:
    MEASURED = [0.5 * i for i in range(28)] + [0.0, 0.5]

    def test_numbers_that_are_not_whole_are_regressed_saying_so(self, caplog):
        caplog.set_level("INFO", logger="parallel_trees")
        table = _table().assign(species=self.MEASURED)
        features, target, classes = load("raw_data", table=table, target_column="species")
        assert classes == []
        assert target.dtype == float and target.tolist() == self.MEASURED
        assert len(features.columns) == 3
        assert (
            "Task: regression (it predicts numbers), since target_column 'species' of "
            f"{NAME} holds numbers that are not whole (e.g. 0.5); set task=classification "
            "to predict classes." in caplog.text
        )

    def test_forced_to_classes_the_same_numbers_are_refused_as_too_few_rows(self, caplog):
        caplog.set_level("INFO", logger="parallel_trees")
        table = _table().assign(species=self.MEASURED)
        with pytest.raises(DataError) as error:
            load("raw_data", table=table, target_column="species", task="classification")
        assert (
            "has classes with fewer than 2 rows: 1.0 (1 row: line 4), 1.5 (1 row: line 5), "
            "2.0 (1 row: line 6) and 23 more of the 28 classes;" in str(error.value)
        )
        assert "Task: classification (it predicts classes), as task=classification sets" in (
            caplog.text
        )

    def test_text_cannot_be_regressed_one_error_naming_the_column(self):
        with pytest.raises(DataError) as error:
            load("raw_data", table=_table(), target_column="species", task="regression")
        assert str(error.value) == (
            f"task = regression, but target_column 'species' of {NAME} holds text such as "
            "'setosa': only numbers can be regressed. Set task to classification (or auto), "
            "or choose a numeric target_column."
        )

    def test_diabetes_is_regressed_and_iris_stays_classes(self):
        features, target, classes = load("diabetes")
        assert (len(features), classes, target.dtype) == (442, [], float)
        assert load("iris")[2] == CLASSES

    def test_synthetic_with_task_regression_is_make_regressions(self):
        size = SYNTHETIC | {"noise": 0.0}
        features, target, classes, _, task = load_dataset(
            "synthetic", size, 21, "target", None, "regression"
        )
        expected_x, expected_y = make_regression(
            n_samples=200, n_features=6, n_informative=3, noise=0.0, random_state=21
        )
        assert (classes, task) == ([], "regression")
        np.testing.assert_array_equal(features.to_numpy(), expected_x.astype(np.float32))
        np.testing.assert_array_equal(target.to_numpy(), expected_y)

    def test_a_regression_is_split_and_folded_without_strata(self):
        target = pd.Series(np.linspace(0, 1, 50))
        features = pd.DataFrame({"x": np.arange(50.0)})
        x_train, x_test, y_train, _ = split_data(features, target, 0.2, 21, "regression")
        assert (len(x_train), len(x_test)) == (40, 10)
        splits = make_cv_splits(y_train, [], 5, True, 21, 1, "regression")
        expected = KFold(5, shuffle=True, random_state=21).split(np.zeros((40, 1)))
        for (fit, valid), (fit_k, valid_k) in zip(splits, expected, strict=True):
            np.testing.assert_array_equal(valid, valid_k)
            np.testing.assert_array_equal(fit, fit_k)

    def test_too_few_training_rows_for_the_folds_of_a_regression_is_refused(self):
        with pytest.raises(DataError) as error:
            make_cv_splits(pd.Series(np.arange(7.0)), [], 5, True, 21, 1, "regression")
        assert str(error.value) == (
            "cv_folds = 5 needs at least 10 training rows (2 in each fold), and there are 7; "
            "set cv_folds to at most 3, lower test_size, or add rows."
        )

    def test_a_classification_metric_for_a_regression_is_refused(self):
        with pytest.raises(DataError) as error:
            choose_yardstick("accuracy", None, [], pd.Series([1.0, 2.0]), "regression")
        assert str(error.value) == (
            "metric = accuracy is a classification metric, and this run's task is regression: "
            "set metric to auto (rmse) or one of rmse, mae, r2, mape, or set task."
        )

    def test_a_regressions_yardstick_is_rmse_and_its_baseline_guesses_the_mean(self):
        yardstick = choose_yardstick("auto", None, [], pd.Series([1.0, 2.0, 6.0]), "regression")
        assert yardstick == {
            "task": "regression",
            "metric": "rmse",
            "chosen": False,
            "greater_is_better": False,
            "classes": 0,
            "positive": None,
            "positive_class": None,
            "majority": None,
            "guess": "the mean (3)",
        }


def _real_table(rows=40):
    """Traits of real tables: text, bool, NaN, an identifier, a constant, an empty column."""
    rng = np.random.default_rng(1)
    return pd.DataFrame(
        {
            "Unnamed: 0": range(1, rows + 1),  # R's row numbers
            "island": rng.choice(["Biscoe", "Dream", None], rows),
            "bill": np.where(rng.random(rows) < 0.2, np.nan, rng.normal(40, 5, rows)),
            "male": rng.choice([True, False], rows),
            "year": [2007] * rows,
            "notes": [np.nan] * rows,
            "flippers": rng.integers(170, 230, rows),
        }
    )


def roles_of(table: pd.DataFrame, overrides: dict, source: dict) -> dict:
    """``infer_column_roles`` of a table whose rows are all training rows."""
    return infer_column_roles(table, table.iloc[:0], overrides, source, [])


class TestInferColumnRoles:
    def test_roles_come_from_the_training_rows_alone(self):
        # The held-out rows take no part: a column constant on the training rows is left
        # out whatever the held-out ones hold, and one that varies there is kept.
        table = _real_table(60)
        train, test = table.iloc[:40].assign(year=2007), table.iloc[40:].assign(year=2008)
        roles = infer_column_roles(train, test, {}, SOURCE, [])
        assert roles["excluded"]["year"] == "the same value on every row (2007)"
        # 15 levels on the training rows, 20 more held out: one-hot (at most 20), not the
        # target encoding that all 35 would call for.
        codes = [f"c{i % 15}" for i in range(40)] + [f"new{i}" for i in range(20)]
        levels = table.assign(code=codes)
        roles = infer_column_roles(levels.iloc[:40], levels.iloc[40:], {}, SOURCE, [])
        assert "code" in roles["categorical"] and roles["many_levels"] == []
        assert roles_of(levels, {}, SOURCE)["many_levels"] == ["code"]

    def test_the_held_out_rows_values_are_checked_too(self):
        table = _real_table().assign(bill=[*np.linspace(30, 50, 39), np.inf])
        with pytest.raises(DataError, match="'bill' in 1 rows"):
            infer_column_roles(table.iloc[:30], table.iloc[30:], {}, SOURCE, [])

    def test_each_column_gets_its_role_and_each_excluded_one_a_log_line(self, caplog):
        caplog.set_level("INFO", logger="parallel_trees")
        roles = roles_of(_real_table(), {}, SOURCE)
        assert roles == {
            "numeric": ["bill", "flippers"],
            "categorical": ["island", "male"],
            "many_levels": [],
            "excluded": {
                "Unnamed: 0": "named like an identifier, with 40 values in 40 training rows; "
                "to use it, set its role in column_roles",
                "year": "the same value on every row (2007)",
                "notes": "empty on every row",
            },
        }
        assert f"Column 'year' of {NAME} is left out: the same value on every row (2007)" in (
            caplog.messages
        )
        assert sum("is left out" in m for m in caplog.messages) == 3

    def test_the_data_line_counts_the_columns_used_and_those_left_out(self, caplog):
        caplog.set_level("INFO", logger="parallel_trees")
        table = _real_table(40)  # 7 feature columns, 3 of them left out
        infer_column_roles(table.iloc[:30], table.iloc[30:], {}, SOURCE, ["a", "b"])
        assert caplog.messages[-1] == (
            "Data: 40 rows, 4 feature columns (3 left out), 2 classes; 30 to train on, 10 held out"
        )
        caplog.clear()
        infer_column_roles(table[["bill", "flippers"]], table.iloc[:0, :2], {}, SOURCE, [])
        assert caplog.messages == [
            "Data: 40 rows, 2 feature columns, a numeric target; 40 to train on, 0 held out"
        ]

    def test_measurements_different_on_every_row_stay_numeric(self, iris):
        roles = roles_of(iris[0], {}, {})
        assert roles["numeric"] == iris[0].columns.tolist()
        assert roles["excluded"] == {}

    def test_a_pandas_category_column_is_categorical(self):
        table = _real_table().astype({"island": "category"})
        assert "island" in roles_of(table, {}, SOURCE)["categorical"]

    def test_the_parameters_set_a_role_over_the_inferred_one(self):
        overrides = {"flippers": "categorical", "island": "excluded", "year": "numeric"}
        roles = roles_of(_real_table(), overrides, SOURCE)
        assert roles["numeric"] == ["bill", "year"]
        assert roles["categorical"] == ["male", "flippers"]
        assert roles["excluded"]["island"] == "set in column_roles"

    def test_many_levels_are_marked_for_target_encoding(self):
        table = _real_table(60).assign(code=[f"c{i % 30}" for i in range(60)])
        assert roles_of(table, {}, SOURCE)["many_levels"] == ["code"]

    def test_values_beyond_float32_are_named_in_every_column_training_and_held_out(self):
        table = _real_table().assign(flippers=[*range(39), 1e39])
        table = table.assign(bill=[np.inf] + [1.0] * 39)
        train, test = table.iloc[:30], table.iloc[30:]
        with pytest.raises(DataError) as error:
            infer_column_roles(train, test, {}, SOURCE, [])
        assert "'bill' in 1 rows (line 2); 'flippers' in 1 rows (line 41)." in str(error.value)

    @pytest.mark.parametrize(
        ("table", "overrides", "message"),
        [
            (
                _real_table(),
                {"islands": "categorical"},
                f"column_roles sets 'islands', not a feature column of {NAME}; its feature "
                "columns: Unnamed: 0, island, bill, male, year, notes, flippers.",
            ),
            (
                _real_table(),
                {"island": "numeric"},
                f"column_roles makes 'island' of {NAME} numeric, but it holds text: 'Dream' "
                "on line 2.",
            ),
            (
                _real_table()[["year", "notes"]],
                {},
                f"{NAME} has no column to learn from: every feature column is left out (year: "
                "the same value on every row (2007); notes: empty on every row).",
            ),
            (  # the models grow their trees on float32
                _real_table().assign(bill=[np.inf, -np.inf] + [1.0] * 38),
                {},
                f"{NAME} has values the models cannot take, infinite or beyond ±3.4e+38 "
                "(float32, which the models compute in): 'bill' in 2 rows (lines 2, 3).",
            ),
        ],
    )
    def test_roles_that_cannot_work_are_refused(self, table, overrides, message):
        with pytest.raises(DataError) as error:
            roles_of(table, overrides, SOURCE)
        assert message in str(error.value)


class TestSplitData:
    def test_split_is_stratified_and_disjoint(self, iris):
        x_train, x_test, y_train, y_test = split_data(*iris, test_size=0.2, random_state=21)
        assert (len(x_train), len(x_test)) == (120, 30)
        assert y_train.value_counts().to_dict() == {0: 40, 1: 40, 2: 40}
        assert y_test.value_counts().to_dict() == {0: 10, 1: 10, 2: 10}
        assert set(x_train.index).isdisjoint(x_test.index)
        assert list(x_train.index) == list(y_train.index)

    def test_split_is_seeded(self, iris):
        first = split_data(*iris, test_size=0.2, random_state=21)[1].index
        again = split_data(*iris, test_size=0.2, random_state=21)[1].index
        other = split_data(*iris, test_size=0.2, random_state=5)[1].index
        assert list(first) == list(again)
        assert list(first) != list(other)

    def test_zero_test_size_keeps_every_row_for_training(self, iris):
        features, target = iris
        x_train, x_test, y_train, y_test = split_data(features, target, 0, 21)
        pd.testing.assert_frame_equal(x_train, features)
        assert len(x_test) == len(y_test) == 0
        assert list(x_test.columns) == list(features.columns)

    def test_test_part_too_small_for_every_class_is_refused(self, iris):
        with pytest.raises(DataError) as error:
            split_data(*iris, test_size=0.01, random_state=21)
        assert str(error.value) == (
            "test_size = 0.01 holds out 2 of 150 rows, fewer than the 3 classes a stratified "
            "split needs; set test_size between 0.02 and 0.96, or to 0 for no held-out part."
        )

    @pytest.mark.parametrize("test_size", [0.99, 0.98, 0.961])
    def test_training_part_too_small_for_cross_validation_is_refused(self, iris, test_size):
        held_out = math.ceil(test_size * 150)
        with pytest.raises(DataError) as error:
            split_data(*iris, test_size=test_size, random_state=21)
        assert str(error.value) == (
            f"test_size = {test_size} holds out {held_out} of 150 rows and leaves "
            f"{150 - held_out} for training, too few to surely keep 2 training rows of every "
            "class, the fewest cross-validation needs (cv_folds >= 2); set test_size between "
            "0.02 and 0.96, or to 0 for no held-out part."
        )

    @pytest.mark.parametrize(
        ("counts", "test_size", "allowed"),
        [
            ([59, 71, 48], 0.97, "set test_size between 0.0168 and 0.966,"),  # 3 to 172 rows
            ([9, 2], 0.5, "set test_size to 0.181,"),  # exactly 2 rows of 11
        ],
    )
    def test_the_test_sizes_said_hold_out_the_rows_that_work(self, counts, test_size, allowed):
        target = pd.Series(np.repeat(np.arange(len(counts)), counts), name="target")
        features = pd.DataFrame({"x": range(len(target))})
        with pytest.raises(DataError) as error:
            split_data(features, target, test_size, random_state=21)
        assert allowed in str(error.value)
        fewest, most = held_out_limits(np.array(counts))
        for said in re.findall(r"[0-9.]+", allowed):
            assert fewest <= math.ceil(float(said) * len(target)) <= most

    def test_a_test_size_beyond_the_range_said_is_refused_only_if_it_fails(self):
        # 2 rows of the small class train only when its share's remainder wins:
        # 80 training rows (shares 1.6, 39.2, 39.2) do, 83 (1.66, 40.67, 40.67) do not.
        target = pd.Series(np.repeat([0, 1, 2], [49, 49, 2]), name="target")
        features = pd.DataFrame({"x": range(100)})
        y_train = split_data(features, target, test_size=0.2, random_state=21)[2]
        assert y_train.value_counts()[2] == 2
        with pytest.raises(DataError, match="set test_size between 0.03 and 0.16, or to 0"):
            split_data(features, target, test_size=0.17, random_state=21)

    def test_largest_test_size_said_keeps_two_training_rows_of_every_class(self, iris):
        y_train = split_data(*iris, test_size=0.96, random_state=21)[2]
        assert y_train.value_counts().to_dict() == {0: 2, 1: 2, 2: 2}

    def test_no_test_size_fits_when_the_classes_are_too_small(self):
        target = pd.Series([0, 0, 1, 1, 2, 2], name="target")
        features = pd.DataFrame({"x": range(6)})
        with pytest.raises(DataError) as error:
            split_data(features, target, test_size=0.5, random_state=21)
        assert str(error.value) == (
            "test_size = 0.5 holds out 3 of 6 rows and leaves 3 for training, too few to "
            "surely keep 2 training rows of every class, the fewest cross-validation needs "
            "(cv_folds >= 2); even a row per class held out (3) leaves too few: set test_size "
            "to 0 for no held-out part, or add rows."
        )

    def test_inputs_are_not_modified(self, iris):
        features, target = iris
        before = features.copy()
        split_data(features, target, 0.3, 1)
        pd.testing.assert_frame_equal(features, before)


def _splits_keep(counts, held_out, seeds=range(8)):
    """The fewest training rows of a class over real stratified splits of ``counts``."""
    target = np.repeat(np.arange(len(counts)), counts)
    return min(
        np.bincount(
            train_test_split(target, test_size=held_out, stratify=target, random_state=seed)[0],
            minlength=len(counts),
        ).min()
        for seed in seeds
    )


class TestHeldOutLimits:
    @pytest.mark.parametrize(
        ("counts", "limits"),
        [
            ([50, 50, 50], (3, 144)),  # iris: 2 rows of each class left
            ([59, 71, 48], (3, 172)),  # wine: 6 rows, 2 each (shares 1.62, 1.99, 2.39)
            ([212, 357], (2, 564)),  # breast_cancer
            ([49, 49, 2], (3, 16)),  # the 2 rows of the small class must both train
            ([2, 2, 2], (3, 2)),  # none fits: the most is below the fewest
        ],
    )
    def test_limits(self, counts, limits):
        assert held_out_limits(np.array(counts)) == limits

    @pytest.mark.parametrize(
        "counts", [[50, 50, 50], [59, 71, 48], [49, 49, 2], [50, 50, 2], [30, 7, 3, 3], [9, 2]]
    )
    def test_every_count_within_the_limits_keeps_two_training_rows_of_every_class(self, counts):
        fewest, most = held_out_limits(np.array(counts))
        for held_out in range(fewest, most + 1):
            assert _splits_keep(counts, held_out) >= 2, held_out

    def test_one_more_row_held_out_may_leave_a_class_short(self):
        counts = [59, 71, 48]
        assert _splits_keep(counts, held_out_limits(np.array(counts))[1] + 1) < 2


def test_the_input_example_is_training_rows_as_the_models_read_them():
    rows = pd.DataFrame(
        {
            "Unnamed: 0": range(6),
            "size": [1.5, np.nan, 3.0, 4.0, 5.0, 6.0],
            "count": [1, 2, 1, 3, 2, 1],
            "visits": [1.0, np.nan, 3.0, 2.0, 2.0, 7.0],  # whole numbers with a blank
            "colour": ["red", None, "blue", "red", "x", "y"],
        },
        index=[10, 11, 12, 13, 14, 15],
    )
    roles = roles_of(rows, {}, {})
    assert list(roles["excluded"]) == ["Unnamed: 0"]
    example = take_input_example(rows, roles)
    # The columns the models read, missing values kept; whole numbers as nullable
    # integers, so that a new row's count may be blank or complete.
    expected = rows.iloc[:5, 1:].astype({"count": "Int64", "visits": "Int64"})
    pd.testing.assert_frame_equal(example, expected)
    assert example["visits"].isna().tolist() == [False, True, False, False, False]
    assert len(take_input_example(rows.iloc[:2], roles)) == 2
    # Float columns as new rows come, though the models train on float32.
    narrow = take_input_example(rows.astype({"size": "float32", "visits": "float32"}), roles)
    pd.testing.assert_frame_equal(narrow, expected)


class TestMakeCvSplits:
    def test_folds_partition_the_training_rows_stratified(self, iris_split):
        y_train = iris_split[2]
        splits = make_cv_splits(y_train, CLASSES, cv_folds=5, cv_shuffle=True, random_state=21)
        assert len(splits) == 5
        validation = np.concatenate([v for _, v in splits])
        assert sorted(validation) == list(range(len(y_train)))
        for train, valid in splits:
            assert set(train).isdisjoint(valid)
            assert y_train.iloc[valid].value_counts().to_dict() == {0: 8, 1: 8, 2: 8}

    def test_positions_are_int32_the_splitters_own(self, iris_split):
        y_train = iris_split[2]
        splits = make_cv_splits(y_train, CLASSES, 5, True, 21)
        expected = StratifiedKFold(5, shuffle=True, random_state=21).split(y_train, y_train)
        for (fit, valid), (fit_k, valid_k) in zip(splits, expected, strict=True):
            assert fit.dtype == valid.dtype == np.int32
            np.testing.assert_array_equal(fit, fit_k)
            np.testing.assert_array_equal(valid, valid_k)

    def test_same_seed_same_folds(self, iris_split):
        y_train = iris_split[2]
        first = make_cv_splits(y_train, CLASSES, 5, True, 21)
        again = make_cv_splits(y_train, CLASSES, 5, True, 21)
        other = make_cv_splits(y_train, CLASSES, 5, True, 3)
        assert all((a[1] == b[1]).all() for a, b in zip(first, again, strict=True))
        assert any((a[1] != b[1]).any() for a, b in zip(first, other, strict=True))

    def test_more_folds_than_rows_of_a_class_is_refused_with_the_limit(self, iris_split):
        y_train = iris_split[2].iloc[:-1]  # one row fewer of the last one's class
        smallest = CLASSES[iris_split[2].iloc[-1]]
        with pytest.raises(
            DataError,
            match=f"cv_folds = 40 .* smallest class, '{smallest}'; set cv_folds to at most 39",
        ):
            make_cv_splits(y_train, CLASSES, cv_folds=40, cv_shuffle=True, random_state=21)

    def test_repeats_are_each_a_stratified_k_fold_of_another_shuffle(self, iris_split):
        y_train = iris_split[2]
        splits = make_cv_splits(y_train, CLASSES, 5, True, 21, cv_repeats=3)
        assert len(splits) == 15
        for repeat in range(3):
            validation = np.concatenate([v for _, v in splits[5 * repeat : 5 * repeat + 5]])
            assert sorted(validation) == list(range(len(y_train)))  # each repeat: a k-fold
        first, second = (splits[5 * r][1] for r in range(2))
        assert sorted(first) != sorted(second)  # another shuffle
        again = make_cv_splits(y_train, CLASSES, 5, True, 21, cv_repeats=3)
        assert all((a[1] == b[1]).all() for a, b in zip(splits, again, strict=True))

    def test_unshuffled_folds_are_those_of_cross_val_score_cv_k(self, iris):
        _, target = iris
        splits = make_cv_splits(target, CLASSES, 5, False, 21)
        expected = StratifiedKFold(5).split(np.zeros((150, 1)), target)
        for (_, valid), (_, want) in zip(splits, expected, strict=True):
            assert list(valid) == list(want)


class TestChooseYardstick:
    def test_auto_is_accuracy_and_not_chosen(self, iris_split):
        yardstick = choose_yardstick("auto", None, CLASSES, iris_split[2])
        assert yardstick == {
            "task": "classification",
            "metric": "accuracy",
            "chosen": False,
            "greater_is_better": True,
            "classes": 3,
            "positive": None,  # more than two classes: averaged over them
            "positive_class": None,
            "majority": "setosa",  # 40 rows each: the first
            "guess": "'setosa'",
        }

    def test_a_chosen_metric_knows_its_direction(self, iris_split):
        yardstick = choose_yardstick("log_loss", None, CLASSES, iris_split[2])
        assert yardstick["metric"] == "log_loss" and yardstick["chosen"]
        assert yardstick["greater_is_better"] is False

    def test_two_classes_the_positive_one_is_the_rarer_by_default(self):
        y = pd.Series([0] * 30 + [1] * 70)
        yardstick = choose_yardstick("f1", None, ["malignant", "benign"], y)
        assert (yardstick["positive"], yardstick["positive_class"]) == (0, "malignant")
        assert yardstick["majority"] == "benign"
        even = choose_yardstick("f1", None, ["a", "b"], pd.Series([0, 1] * 10))
        assert even["positive_class"] == "b"  # as many: the second, scikit-learn's pos_label

    def test_a_positive_class_is_set_by_its_name_even_a_number(self):
        y = pd.Series([0] * 30 + [1] * 70)
        assert choose_yardstick("f1", "benign", ["malignant", "benign"], y)["positive"] == 1
        assert choose_yardstick("f1", 4, [2, 4], y)["positive_class"] == 4

    @pytest.mark.parametrize(
        ("classes", "message"),
        [
            (["malignant", "benign"], "positive_class = 'bening' is not a class of the table; "
             "its classes: 'malignant', 'benign'."),
            (["a", "b", "c"], "positive_class = 'a': the table has 3 classes"),
        ],
    )  # fmt: skip
    def test_a_positive_class_that_cannot_be_is_refused(self, classes, message):
        y = pd.Series(np.arange(30) % len(classes))
        name = "bening" if len(classes) == 2 else "a"
        with pytest.raises(DataError) as error:
            choose_yardstick("f1", name, classes, y)
        assert message in str(error.value)
        assert error.value.settings == ("positive_class",)
