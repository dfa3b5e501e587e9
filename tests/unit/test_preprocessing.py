"""Each model's preprocessing: NaN by estimator tags, unseen levels, no leakage, bounded width."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_validate
from xgboost import XGBClassifier

from parallel_trees.pipelines.data_preparation.nodes import infer_column_roles, split_data
from parallel_trees.pipelines.training.nodes import fit_model
from parallel_trees.preprocessing import (
    accepts_missing,
    identifier_name,
    inferred_role,
    make_model,
)

UNTUNED = {"trials": 0, "inner_folds": 3}
CONTEXT = {"runner": "SequentialRunner", "cores": 1, "fits_at_once": 1, "threads_per_model": 1}
FOREST = {"n_estimators": 10, "n_jobs": 1}


def _table(rows=120, seed=0):
    rng = np.random.default_rng(seed)
    colour = rng.choice(["red", "green", "blue"], rows)
    width = np.where(rng.random(rows) < 0.1, np.nan, rng.normal(size=rows))
    features = pd.DataFrame({"width": width, "colour": colour})
    target = pd.Series((colour == "red").astype(int), name="label")
    return features, target


ROLES = {"numeric": ["width"], "categorical": ["colour"], "many_levels": [], "excluded": {}}


class TestMissingValues:
    def test_the_estimator_tags_say_who_takes_nan(self):
        assert accepts_missing(RandomForestClassifier())
        assert accepts_missing(XGBClassifier())
        assert not accepts_missing(LogisticRegression())

    @pytest.mark.parametrize("estimator", [RandomForestClassifier(), XGBClassifier()])
    def test_a_model_that_takes_nan_gets_it_as_it_is(self, estimator):
        features, target = _table()
        model = make_model(estimator, ROLES, 0).fit(features, target)
        assert model[0].transformers[0][1] == "passthrough"
        columns = model[:-1].transform(features)  # what the estimator gets
        assert np.isnan(columns[:, 0]).sum() == features["width"].isna().sum()

    def test_a_model_that_does_not_take_nan_gets_an_imputer(self):
        features, target = _table()
        model = make_model(LogisticRegression(), ROLES, 0).fit(features, target)
        assert isinstance(model[0].named_transformers_["numeric"], SimpleImputer)
        assert not np.isnan(model[:-1].transform(features)).any()


class TestWhatTheEstimatorGets:
    def test_columns_of_one_dtype_are_read_without_a_copy(self):
        rng = np.random.default_rng(0)
        features = pd.DataFrame(rng.normal(size=(50, 3)).astype(np.float32), columns=list("abc"))
        roles = {"numeric": ["c", "a"], "categorical": [], "many_levels": []}
        model = make_model(XGBClassifier(n_estimators=2), roles, 0).fit(features, np.arange(50) % 2)
        columns = model[:-1].transform(features)
        np.testing.assert_array_equal(columns, features[["c", "a"]].to_numpy())
        assert np.shares_memory(columns, features.to_numpy())

    @pytest.mark.parametrize("many_levels", [[], ["colour"]])
    def test_the_columns_are_the_transformers_array_output_without_names(self, many_levels):
        features, target = _table()
        features["count"] = np.arange(len(features)) % 7  # int64, beside float64 and levels
        roles = {**ROLES, "numeric": ["width", "count"], "many_levels": many_levels}
        model = make_model(RandomForestClassifier(random_state=0), roles, 0).fit(features, target)
        as_arrays = clone(model[0]).set_output(transform="default").fit(features, target)
        expected = as_arrays.transform(features)
        assert expected.dtype == np.float64  # float32 levels, float64 and int64 numbers
        np.testing.assert_array_equal(model[:-1].transform(features), expected)
        assert not hasattr(model[-1], "feature_names_in_")

    def test_xgboost_trains_on_names_it_would_refuse(self):
        # XGBoost refuses feature names with [, ] or <: a table's, or a one-hot level's.
        features, target = _table()
        features = features.rename(columns={"width": "width[cm]"})
        features["age"] = np.where(np.arange(len(features)) % 2, "<18", "18+")
        roles = {**ROLES, "numeric": ["width[cm]"], "categorical": ["colour", "age"]}
        model = make_model(XGBClassifier(n_estimators=2), roles, 0).fit(features, target)
        assert model.predict(features).shape == (len(features),)


class TestCategories:
    @pytest.mark.parametrize("roles", [ROLES, {**ROLES, "many_levels": ["colour"]}])
    def test_a_level_never_seen_in_training_does_not_fail_a_prediction(self, roles):
        features, target = _table()
        model = make_model(RandomForestClassifier(random_state=0), roles, 0).fit(features, target)
        new = pd.DataFrame({"width": [0.1, np.nan], "colour": ["purple", None]})
        assert model.predict(new).shape == (2,)

    def test_a_regressions_whole_number_target_is_encoded_as_a_number_not_as_classes(self):
        from sklearn.ensemble import RandomForestRegressor  # noqa: PLC0415

        features, _ = _table()
        hours = pd.Series(np.arange(len(features)) % 40, name="hours")  # 40 whole numbers
        roles = {**ROLES, "many_levels": ["colour"]}
        model = make_model(RandomForestRegressor(random_state=0), roles, 0).fit(features, hours)
        encoder = model[0].named_transformers_["many_levels"]
        assert encoder.target_type_ == "continuous"
        assert model[0].transform(features).shape == (len(features), 2)  # width, one encoding

    def test_a_level_only_in_one_folds_validation_rows_is_unknown_to_that_folds_model(self):
        features, target = _table()
        folds = list(StratifiedKFold(3, shuffle=True, random_state=0).split(features, target))
        rows = features.index[folds[1][1][:2]]  # two validation rows of fold 1
        features.loc[rows, "colour"] = "violet"
        model = make_model(RandomForestClassifier(random_state=0), ROLES, 0)
        fitted = cross_validate(model, features, target, cv=folds, return_estimator=True)
        known = [
            set(m[0].named_transformers_["categorical"].categories_[0]) for m in fitted["estimator"]
        ]
        assert ["violet" in levels for levels in known] == [True, False, True]

    def test_a_level_only_in_the_held_out_rows_is_unknown_to_the_final_model(self):
        features, target = _table()
        x_train, x_test, y_train, y_test = split_data(features, target, 0.25, 0)
        features.loc[x_test.index[:3], "colour"] = "violet"
        x_train, x_test = features.loc[x_train.index], features.loc[x_test.index]
        yardstick = {"task": "classification", "metric": "accuracy", "classes": 2, "positive": 1}
        model, _ = fit_model(
            x_train, y_train, yardstick, ROLES, FOREST, UNTUNED, 0, CONTEXT, "random_forest"
        )
        assert "violet" not in model[0].named_transformers_["categorical"].categories_[0]
        assert len(model.predict(x_test)) == len(x_test)


def test_sixty_thousand_rows_with_a_thousand_levels_stay_narrow():
    rows = 60_000
    rng = np.random.default_rng(0)
    code = rng.integers(0, 1_000, rows)
    features = pd.DataFrame(
        {
            "x": rng.normal(size=rows),
            "code": [f"c{v}" for v in code],
            "size": rng.choice(["S", "M", "L"], rows),
        }
    )
    target = pd.Series((code % 3 + (features["x"] > 1)) % 3, name="label")
    roles = infer_column_roles(features, features.iloc[:0], {}, {}, [])
    assert roles["many_levels"] == ["code"]
    model = make_model(XGBClassifier(n_estimators=5, n_jobs=1), roles, 0).fit(features, target)
    # x, one column per size level, and one per class for the 1,000 levels of code.
    assert model[0].transform(features.head()).shape == (5, 1 + 3 + 3)
    assert (model.predict(features.head(1_000)) == target.head(1_000)).mean() > 0.5


@pytest.mark.parametrize(
    ("name", "values", "role"),
    [
        ("x", [1.5, 2.5, 3.5], "numeric"),  # measurements, different on every row
        ("income", [30_100, 52_000, 41_250], "numeric"),  # so are whole numbers
        ("year", [2007, 2008, 2009], "numeric"),
        ("colour", ["a", "b", "a"], "categorical"),
        ("tagged", [True, False, True], "categorical"),
        ("notes", [np.nan, np.nan, np.nan], "excluded"),
        ("site", ["x", "x", "x"], "excluded"),
        # Named like identifiers, with at least half their values different.
        ("ID", [1000025, 1002945, 1015425, 1016277, 1017023, 1017023], "excluded"),
        ("Unnamed: 0", [1, 2, 3], "excluded"),  # R's row numbers
        ("PatientID", ["p1", "p2", "p3", "p4"], "excluded"),
        ("visit_id", [1.0, 2.0, np.nan, 4.0], "excluded"),  # whole numbers with a blank
        # ... with fewer, or not whole numbers: a code, a repeated subject, a measurement.
        ("StoreID", [1, 2, 3, 4, 5] * 4, "numeric"),
        ("subject_id", ["s1", "s1", "s1", "s2", "s2", "s2"], "categorical"),
        ("humid", [0.31, 0.42, 0.55], "numeric"),
        ("acid", [1, 2, 3], "numeric"),  # an English word, not an identifier
        # Text with a different value on (nearly) every row: names, free text.
        ("name", ["Ann", "Bob", "Cy"], "excluded"),
        ("comment", [f"c{i}" for i in range(9)] + ["c0"], "excluded"),  # 9 of 10
        ("island", [f"c{i}" for i in range(8)] + ["c0", "c1"], "categorical"),  # 8 of 10
    ],
)
def test_inferred_role(name, values, role):
    assert inferred_role(pd.Series(values, name=name))[0] == role


def test_an_identifier_says_why_and_how_to_keep_it():
    biopsy_id = pd.Series([1000025, 1002945, 1015425, 1016277, 1017023, 1017023], name="ID")
    assert inferred_role(biopsy_id) == (
        "excluded",
        "named like an identifier, with 5 values in 6 training rows; to use it, set its "
        "role in column_roles",
    )
    names = pd.Series([*(f"name {i}" for i in range(9)), None], name="name")  # 9 in 10 rows
    assert inferred_role(names)[1] == (
        "text with a different value on nearly every row (an identifier, a name, free "
        "text); to use it, set its role in column_roles"
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        *[(n, True) for n in ("id", "PatientID", "USUBJID", "SCH_ID", "Unnamed: 0", "pid")],
        *[(n, True) for n in ("rownames", "row", "case", "key", "idx")],
        *[(n, False) for n in ("paid", "idle", "provide", "width", "humid", "ideology")],
        *[(n, False) for n in ("valid_from", "Species", "x", 0)],
    ],
)
def test_a_name_says_identifier_by_its_words(name, expected):
    assert identifier_name(name) is expected


@pytest.mark.parametrize(
    ("values", "position"),
    [
        ([1.5, None, 2.0], None),
        (["1.5", "2", None], None),  # numbers as text: numbers all the same
        (["1.5", "n/a", "oops"], 1),
    ],
)
def test_first_text_finds_the_first_value_that_is_no_number(values, position):
    from parallel_trees.preprocessing import first_text  # noqa: PLC0415

    assert first_text(pd.Series(values, dtype=object)) == position
