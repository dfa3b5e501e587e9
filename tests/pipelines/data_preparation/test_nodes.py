import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import StratifiedKFold

from parallel_trees.pipelines.data_preparation.nodes import (
    load_dataset,
    make_cv_splits,
    split_data,
)

SYNTHETIC = {"n_samples": 200, "n_features": 6, "n_informative": 3, "n_classes": 4}


class TestLoadDataset:
    @pytest.mark.parametrize(
        ("name", "rows", "columns", "classes"),
        [("iris", 150, 4, 3), ("wine", 178, 13, 3), ("breast_cancer", 569, 30, 2)],
    )
    def test_built_in_datasets(self, name, rows, columns, classes):
        features, target = load_dataset(name, SYNTHETIC, 21)
        assert features.shape == (rows, columns)
        assert target.name == "target"
        assert target.nunique() == classes
        assert len(target) == rows

    def test_synthetic_is_sized_by_its_parameters_and_seeded(self):
        features, target = load_dataset("synthetic", SYNTHETIC, 21)
        assert features.shape == (200, 6)
        assert sorted(target.unique()) == [0, 1, 2, 3]
        again, _ = load_dataset("synthetic", SYNTHETIC, 21)
        other, _ = load_dataset("synthetic", SYNTHETIC, 22)
        pd.testing.assert_frame_equal(features, again)
        assert not features.equals(other)

    def test_unknown_dataset_names_the_allowed_ones(self):
        with pytest.raises(ValueError, match="mnist.*iris, wine, breast_cancer, synthetic"):
            load_dataset("mnist", SYNTHETIC, 21)


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
        with pytest.raises(ValueError, match=r"test_size = 0.01 holds out 2 of 150 rows.* 0.02"):
            split_data(*iris, test_size=0.01, random_state=21)

    def test_inputs_are_not_modified(self, iris):
        features, target = iris
        before = features.copy()
        split_data(features, target, 0.3, 1)
        pd.testing.assert_frame_equal(features, before)


class TestMakeCvSplits:
    def test_folds_partition_the_training_rows_stratified(self, iris_split):
        y_train = iris_split[2]
        splits = make_cv_splits(y_train, cv_folds=5, cv_shuffle=True, random_state=21)
        assert len(splits) == 5
        validation = np.concatenate([v for _, v in splits])
        assert sorted(validation) == list(range(len(y_train)))
        for train, valid in splits:
            assert set(train).isdisjoint(valid)
            assert y_train.iloc[valid].value_counts().to_dict() == {0: 8, 1: 8, 2: 8}

    def test_same_seed_same_folds(self, iris_split):
        y_train = iris_split[2]
        first = make_cv_splits(y_train, 5, True, 21)
        again = make_cv_splits(y_train, 5, True, 21)
        other = make_cv_splits(y_train, 5, True, 3)
        assert all((a[1] == b[1]).all() for a, b in zip(first, again, strict=True))
        assert any((a[1] != b[1]).any() for a, b in zip(first, other, strict=True))

    def test_more_folds_than_rows_of_a_class_is_refused_with_the_limit(self, iris_split):
        with pytest.raises(
            ValueError, match="cv_folds = 41 .* smallest class; set cv_folds to at most 40"
        ):
            make_cv_splits(iris_split[2], cv_folds=41, cv_shuffle=True, random_state=21)

    def test_unshuffled_folds_are_those_of_cross_val_score_cv_k(self, iris):
        _, target = iris
        splits = make_cv_splits(target, 5, False, 21)
        expected = StratifiedKFold(5).split(np.zeros((150, 1)), target)
        for (_, valid), (_, want) in zip(splits, expected, strict=True):
            assert list(valid) == list(want)
