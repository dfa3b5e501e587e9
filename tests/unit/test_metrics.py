"""The yardsticks: each metric is scikit-learn's, on one prediction, in its direction."""

import numpy as np
import pytest
from sklearn import metrics as sk
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

from parallel_trees.metrics import (
    METRICS,
    PRINTED,
    Outcome,
    chosen,
    names,
    outcome_of,
    panel,
    per_class,
    predictions_of,
    scorer,
)

TRUTH = np.array([0, 0, 0, 1, 1, 1, 1, 0])
PREDICTED = np.array([0, 1, 0, 1, 1, 0, 1, 0])
PROBABILITIES = np.array(
    [
        [0.9, 0.1],
        [0.4, 0.6],
        [0.8, 0.2],
        [0.3, 0.7],
        [0.1, 0.9],
        [0.55, 0.45],
        [0.2, 0.8],
        [0.7, 0.3],
    ]
)
BINARY = Outcome(TRUTH, PREDICTED, PROBABILITIES, classes=2, positive=1)


class TestEachMetricIsScikitLearns:
    @pytest.mark.parametrize(
        ("name", "expected"),
        [
            ("accuracy", sk.accuracy_score(TRUTH, PREDICTED)),
            ("balanced_accuracy", sk.balanced_accuracy_score(TRUTH, PREDICTED)),
            ("roc_auc", sk.roc_auc_score(TRUTH, PROBABILITIES[:, 1])),
            ("log_loss", sk.log_loss(TRUTH, PROBABILITIES)),
            ("f1", sk.f1_score(TRUTH, PREDICTED)),
            ("precision", sk.precision_score(TRUTH, PREDICTED)),
            ("recall", sk.recall_score(TRUTH, PREDICTED)),
            ("cohen_kappa", sk.cohen_kappa_score(TRUTH, PREDICTED)),
            ("matthews_corrcoef", sk.matthews_corrcoef(TRUTH, PREDICTED)),
        ],
    )
    def test_on_two_classes(self, name, expected):
        assert METRICS[name].score(BINARY) == pytest.approx(expected)

    def test_the_positive_class_decides_f1_not_roc_auc(self):
        flipped = Outcome(TRUTH, PREDICTED, PROBABILITIES, classes=2, positive=0)
        assert METRICS["f1"].score(flipped) == pytest.approx(
            sk.f1_score(TRUTH, PREDICTED, pos_label=0)
        )
        assert METRICS["roc_auc"].score(flipped) == pytest.approx(METRICS["roc_auc"].score(BINARY))

    def test_more_classes_average_f1_over_them_and_roc_auc_weighted_one_vs_rest(self):
        truth = np.array([0, 1, 2, 2, 1, 0, 2, 1, 0])
        predicted = np.array([0, 2, 2, 2, 1, 0, 1, 1, 0])
        probabilities = np.eye(3)[predicted] * 0.7 + 0.1
        outcome = Outcome(truth, predicted, probabilities, classes=3)
        assert METRICS["f1"].score(outcome) == pytest.approx(
            sk.f1_score(truth, predicted, average="macro")
        )
        assert METRICS["roc_auc"].score(outcome) == pytest.approx(
            sk.roc_auc_score(truth, probabilities, multi_class="ovr", average="weighted")
        )

    def test_every_metric_knows_its_direction(self):
        losses = [m for m in METRICS if not METRICS[m].greater_is_better]
        assert losses == ["log_loss", "rmse", "mae", "mape"]
        loss = METRICS["log_loss"]
        assert loss.better(0.2, 0.3) and not loss.better(0.3, 0.2)
        assert loss.oriented(0.2) > loss.oriented(0.3)
        assert loss.direction == "lower is better"
        assert METRICS["accuracy"].better(0.9, 0.8)

    def test_auto_is_accuracy(self):
        assert chosen("auto") is METRICS["accuracy"]
        assert chosen("roc_auc") is METRICS["roc_auc"]

    def test_the_printed_panel_is_of_known_metrics(self):
        assert set(PRINTED["classification"]) <= set(names("classification"))
        assert set(PRINTED["regression"]) <= set(names("regression"))


class TestUndefined:
    def test_roc_auc_of_rows_of_one_class_is_none_and_silent(self, recwarn):
        one = Outcome(np.zeros(4, dtype=int), np.zeros(4, dtype=int), np.full((4, 2), 0.5), 2)
        assert METRICS["roc_auc"].score(one) is None
        assert not recwarn.list

    def test_a_metric_of_probabilities_without_them_is_none(self):
        bare = Outcome(TRUTH, PREDICTED, None, classes=2)
        assert METRICS["log_loss"].score(bare) is None
        assert METRICS["accuracy"].score(bare) == pytest.approx(0.75)

    def test_no_rows_no_score(self):
        empty = Outcome(np.array([], dtype=int), np.array([], dtype=int), np.zeros((0, 2)), 2)
        assert all(value is None for value in panel(empty).values())


class TestOutcomeOf:
    def test_one_prediction_the_most_probable_class_as_predict_gives_it(self):
        x = np.array([[0.0], [1.0], [2.0], [3.0]])
        y = np.array([0, 0, 1, 1])
        model = LogisticRegression().fit(x, y)
        outcome = outcome_of(model, x, y, classes=2, positive=1)
        assert outcome.predicted.tolist() == model.predict(x).tolist()
        np.testing.assert_allclose(outcome.probabilities, model.predict_proba(x))

    def test_a_class_the_model_never_saw_gets_a_column_of_zeros(self):
        x = np.zeros((4, 1))
        model = DummyClassifier(strategy="prior").fit(x, [0, 2, 2, 2])  # no class 1
        predicted, probabilities = predictions_of(model, x, classes=3)
        assert predicted.tolist() == [2] * 4
        np.testing.assert_allclose(probabilities[0], [0.25, 0.0, 0.75])

    def test_a_model_without_probabilities_is_scored_on_its_classes(self):
        x = np.array([[0.0], [1.0], [2.0], [3.0]])
        model = LinearSVC().fit(x, [0, 0, 1, 1])
        outcome = outcome_of(model, x, [0, 0, 1, 1], classes=2, positive=1)
        assert outcome.probabilities is None
        assert METRICS["accuracy"].score(outcome) == 1.0


def test_per_class_precision_recall_and_rows():
    assert per_class(BINARY) == [
        {"precision": pytest.approx(0.75), "recall": 0.75, "support": 4},
        {"precision": pytest.approx(0.75), "recall": 0.75, "support": 4},
    ]


def test_a_scorer_is_greater_is_better_a_loss_negated():
    x = np.array([[0.0], [1.0], [2.0], [3.0]])
    y = np.array([0, 0, 1, 1])
    model = LogisticRegression().fit(x, y)
    loss = sk.log_loss(y, model.predict_proba(x))
    assert scorer(METRICS["log_loss"], 2, 1)(model, x, y) == pytest.approx(-loss)
    assert scorer(METRICS["accuracy"], 2, 1)(model, x, y) == 1.0


class TestRegression:
    TRUE = np.array([3.0, 5.0, 2.5, 7.0])
    PREDICTED = np.array([2.5, 5.0, 4.0, 8.0])

    def test_the_panel_of_numbers_is_scikit_learns_regression_metrics(self):
        from sklearn import metrics as sk  # noqa: PLC0415

        scores = panel(Outcome(self.TRUE, self.PREDICTED, None, 0))
        assert scores == {
            "rmse": pytest.approx(sk.root_mean_squared_error(self.TRUE, self.PREDICTED)),
            "mae": pytest.approx(sk.mean_absolute_error(self.TRUE, self.PREDICTED)),
            "r2": pytest.approx(sk.r2_score(self.TRUE, self.PREDICTED)),
            "mape": pytest.approx(sk.mean_absolute_percentage_error(self.TRUE, self.PREDICTED)),
        }
        assert per_class(Outcome(self.TRUE, self.PREDICTED, None, 0)) == []

    def test_auto_is_rmse_lower_is_better(self):
        assert chosen("auto", "regression") is METRICS["rmse"]
        assert METRICS["rmse"].better(1.0, 2.0) and METRICS["r2"].better(0.9, 0.5)
        assert names("regression") == ["rmse", "mae", "r2", "mape"]

    def test_a_regressor_predicts_numbers_in_one_thread_the_same_as_in_many(self):
        from sklearn.ensemble import RandomForestRegressor  # noqa: PLC0415

        rng = np.random.default_rng(0)
        x, y = rng.normal(size=(200, 4)), rng.normal(size=200)
        forest = RandomForestRegressor(n_estimators=30, n_jobs=2, random_state=0).fit(x, y)
        predicted, probabilities = predictions_of(forest, x, 0)
        assert probabilities is None and predicted.dtype == float
        assert forest.n_jobs == 2  # given back
        np.testing.assert_allclose(predicted, forest.predict(x))
