import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import KFold, RepeatedKFold, RepeatedStratifiedKFold, StratifiedKFold

from parallel_trees.tasks import MAX_CLASS_CODES, folds, infer_task


class TestInferTask:
    @pytest.mark.parametrize(
        ("values", "task", "why"),
        [
            ([0, 1, 2] * 10, "classification", "holds 3 distinct whole numbers: class codes"),
            (
                [i % MAX_CLASS_CODES for i in range(40)],
                "classification",
                "holds 20 distinct whole numbers: class codes",
            ),
            (
                [i % (MAX_CLASS_CODES + 1) for i in range(42)],
                "regression",
                "holds 21 distinct whole numbers, more than 20",
            ),
            ([7.4, 12.0, 9.0], "regression", "holds numbers that are not whole (e.g. 7.4)"),
            ([1.0, 2.0, 1.0], "classification", "holds 2 distinct whole numbers: class codes"),
            (["Front", "Rear"], "classification", "holds text or true/false values"),
            ([True, False], "classification", "holds text or true/false values"),
        ],
    )
    def test_auto_decides_by_the_values(self, values, task, why):
        assert infer_task(pd.Series(values), "auto") == (task, why)

    @pytest.mark.parametrize("task", ["classification", "regression"])
    def test_a_task_set_wins(self, task):
        assert infer_task(pd.Series([0.5, 1.5]), task) == (task, "set by task")


class TestFolds:
    @pytest.mark.parametrize(
        ("task", "repeats", "expected"),
        [
            ("classification", 1, StratifiedKFold(5, shuffle=True, random_state=3)),
            ("regression", 1, KFold(5, shuffle=True, random_state=3)),
            ("classification", 2, RepeatedStratifiedKFold(n_splits=5, n_repeats=2, random_state=3)),
            ("regression", 2, RepeatedKFold(n_splits=5, n_repeats=2, random_state=3)),
        ],
    )
    def test_each_task_gets_its_splitter_seeded(self, task, repeats, expected):
        y = np.arange(60) % 3
        got = list(folds(task, 5, True, 3, repeats).split(np.zeros((60, 1)), y))
        want = list(expected.split(np.zeros((60, 1)), y))
        assert len(got) == 5 * repeats
        for (fit, valid), (fit_k, valid_k) in zip(got, want, strict=True):
            np.testing.assert_array_equal(fit, fit_k)
            np.testing.assert_array_equal(valid, valid_k)

    def test_unshuffled_folds_are_contiguous_and_unseeded(self):
        splitter = folds("regression", 4, False, 21)
        assert splitter.random_state is None
        assert [v.tolist() for _, v in splitter.split(np.zeros((8, 1)))] == [
            [0, 1],
            [2, 3],
            [4, 5],
            [6, 7],
        ]
