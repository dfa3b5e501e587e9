"""Paired tests of two classifiers scored on the same data.

- On the CV folds: the corrected resampled t-test of Nadeau and Bengio (2003).
  Fold scores of k-fold CV are not independent (any two training parts share
  most of their rows), so the plain paired t-test's variance is far too small.
  Their correction scales the variance of the per-fold differences by
  ``1/k + n_valid/n_train`` instead of ``1/k``.
- On the held-out rows: McNemar's exact test on the rows where exactly one of
  the two models is right (a two-sided binomial test of those rows at 1/2).
"""

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class PairedTest:
    """Difference ``a - b`` of two models' accuracy, with a 95% CI and a p-value.

    ``ci_low``, ``ci_high`` and ``p_value`` are ``None`` where the data cannot
    tell (a single fold).
    """

    difference: float
    ci_low: float | None
    ci_high: float | None
    p_value: float | None

    def as_dict(self) -> dict[str, float | None]:
        return asdict(self)


def corrected_resampled_ttest(
    scores_a: Sequence[float],
    scores_b: Sequence[float],
    n_train: float,
    n_valid: float,
    confidence: float = 0.95,
) -> PairedTest:
    """Nadeau and Bengio's corrected resampled t-test on paired per-fold scores.

    Args:
        scores_a: Model a's score on each fold.
        scores_b: Model b's score on the same folds, in the same order.
        n_train: Rows a model was trained on in one fold (the mean over folds).
        n_valid: Rows it was scored on in one fold (the mean over folds).
        confidence: Level of the confidence interval.

    Returns:
        The mean per-fold difference ``a - b``, its confidence interval and the
        two-sided p-value, from Student's t with ``k - 1`` degrees of freedom.
    """
    a, b = np.asarray(scores_a, dtype=float), np.asarray(scores_b, dtype=float)
    if a.ndim != 1 or a.shape != b.shape:
        raise ValueError("scores_a and scores_b must be flat and of the same length")
    differences = a - b
    k = len(differences)
    mean = float(differences.mean())
    if k < 2:  # noqa: PLR2004 - a variance needs two folds
        return PairedTest(mean, None, None, None)
    # The correction: 1/k (independent folds) + n_valid/n_train (their overlap).
    standard_error = np.sqrt((1 / k + n_valid / n_train) * differences.var(ddof=1))
    if standard_error == 0:
        # Every fold gave the same difference: no spread to test against. Zero
        # difference is no evidence at all; any other is the t-test's limit.
        return PairedTest(mean, mean, mean, 1.0 if mean == 0 else 0.0)
    t = stats.t(df=k - 1)
    margin = float(t.ppf((1 + confidence) / 2) * standard_error)
    p_value = float(2 * t.sf(abs(mean) / standard_error))
    return PairedTest(mean, mean - margin, mean + margin, p_value)


@dataclass(frozen=True)
class McNemar:
    """McNemar's exact test of two models on the same held-out rows."""

    only_a_right: int
    only_b_right: int
    difference: float  # accuracy of a - accuracy of b
    p_value: float | None  # None when there are no rows

    def as_dict(self) -> dict[str, float | int | None]:
        return asdict(self)


def mcnemar_exact(correct_a: Sequence[bool], correct_b: Sequence[bool]) -> McNemar:
    """McNemar's exact test on two models' per-row correctness.

    Args:
        correct_a: For each held-out row, whether model a predicted it right.
        correct_b: The same for model b, row for row.

    Returns:
        The two discordant counts, the accuracy difference ``a - b`` and the
        exact two-sided p-value (1.0 when the models never disagree).
    """
    a = np.asarray(correct_a, dtype=bool)
    b = np.asarray(correct_b, dtype=bool)
    if a.shape != b.shape:
        raise ValueError("correct_a and correct_b must have one entry per row each")
    only_a, only_b = int((a & ~b).sum()), int((b & ~a).sum())
    if a.size == 0:
        return McNemar(0, 0, 0.0, None)
    discordant = only_a + only_b
    p_value = 1.0 if discordant == 0 else float(stats.binomtest(only_a, discordant).pvalue)
    return McNemar(only_a, only_b, (only_a - only_b) / a.size, p_value)
