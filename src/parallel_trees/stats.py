"""Paired tests of two models scored on the same data, and the family they belong to.

- On the CV folds: the corrected resampled t-test of Nadeau and Bengio (2003), which
  Bouckaert and Frank (2004) apply as is to repeated k-fold CV (J = k x repeats
  folds). Fold scores are not independent (any two training parts share most of
  their rows), so the variance of the per-fold differences is scaled by
  ``1/J + n_valid/n_train`` instead of ``1/J``. When the differences do not vary (a
  fold resolves one row: on every fold the same number of rows), that variance is no
  evidence of certainty: the sign test over the folds, exact, is used instead.
- On the held-out rows: McNemar's exact test for accuracy; for any other metric, a
  seeded paired bootstrap of the rows (its standard error, and the normal test on it).
- Holm's step-down correction over the family of tests a run's verdicts rest on.
"""

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

T_TEST = "corrected resampled t-test"
SIGN_TEST = "sign test over the folds"
MCNEMAR = "McNemar's exact test"
BOOTSTRAP = "paired bootstrap of the held-out rows"
RESAMPLES = 200  # of the paired bootstrap: enough for its standard error
BOOTSTRAP_ROWS = 5000  # at most: beyond, a seeded sample of the held-out rows is resampled


@dataclass(frozen=True)
class PairedTest:
    """Difference ``a - b`` of two models' scores, its interval at ``confidence`` and a
    two-sided p-value, by ``test``.

    ``ci_low``, ``ci_high`` are ``None`` where the test gives no interval (the sign
    test), and ``p_value`` too where the data cannot tell (a single fold, no rows).
    """

    difference: float
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    test: str
    confidence: float

    def as_dict(self) -> dict[str, float | str | None]:
        return asdict(self)


def _in_rows(differences: np.ndarray, rows: Sequence[int] | None) -> np.ndarray:
    """Per-fold differences as a fold can resolve them: a number of rows each, when the
    metric is a share of ``rows`` (each fold's); as they are otherwise."""
    if rows is None:
        return differences
    return np.round(differences * np.asarray(rows, dtype=float))


def corrected_resampled_ttest(
    scores_a: Sequence[float],
    scores_b: Sequence[float],
    n_train: float,
    n_valid: float,
    confidence: float = 0.95,
    rows: Sequence[int] | None = None,
) -> PairedTest:
    """Nadeau and Bengio's corrected resampled t-test on paired per-fold scores.

    Args:
        scores_a: Model a's score on each fold.
        scores_b: Model b's score on the same folds, in the same order.
        n_train: Rows a model was trained on in one fold (the mean over folds).
        n_valid: Rows it was scored on in one fold (the mean over folds).
        confidence: Level of the interval: ``1 - significance_level``.
        rows: The validation rows of each fold, when the score is a share of them
            (accuracy and the like): a fold resolves one row, no less.

    Returns:
        The mean per-fold difference ``a - b``, its interval and the two-sided p-value,
        from Student's t with ``J - 1`` degrees of freedom; the sign test's p-value,
        and no interval, when the differences (in rows) are the same on every fold.
    """
    a, b = np.asarray(scores_a, dtype=float), np.asarray(scores_b, dtype=float)
    if a.ndim != 1 or a.shape != b.shape:
        raise ValueError("scores_a and scores_b must be flat and of the same length")
    if rows is not None and len(rows) != len(a):
        raise ValueError("rows must give each fold's validation rows")
    differences = a - b
    folds = len(differences)
    mean = float(differences.mean())
    if folds < 2:  # noqa: PLR2004 - a variance needs two folds
        return PairedTest(mean, None, None, None, T_TEST, confidence)
    resolved = _in_rows(differences, rows)
    if np.ptp(resolved) <= 1e-12 * max(1.0, float(np.abs(resolved).max())):
        return PairedTest(mean, None, None, sign_test(differences), SIGN_TEST, confidence)
    # The correction: 1/J (independent folds) + n_valid/n_train (their overlap).
    standard_error = np.sqrt((1 / folds + n_valid / n_train) * differences.var(ddof=1))
    t = stats.t(df=folds - 1)
    margin = float(t.ppf((1 + confidence) / 2) * standard_error)
    p_value = float(2 * t.sf(abs(mean) / standard_error))
    return PairedTest(mean, mean - margin, mean + margin, p_value, T_TEST, confidence)


def sign_test(differences: Sequence[float]) -> float:
    """The exact two-sided sign test of paired differences (ties left out): 1 when none
    differs. Its smallest p-value on ``n`` differences is ``2 / 2**n``."""
    d = np.asarray(differences, dtype=float)
    ahead, behind = int((d > 0).sum()), int((d < 0).sum())
    if ahead + behind == 0:
        return 1.0
    return float(stats.binomtest(ahead, ahead + behind).pvalue)


def smallest_p(n: int) -> float:
    """The smallest two-sided p-value an exact sign test (or McNemar's) can give on ``n``
    pairs, all one way."""
    return min(1.0, 2 * 0.5**n)


def pairs_needed(significance_level: float) -> int:
    """The fewest pairs, all one way, for which a sign test (or McNemar's) can reject."""
    n = 1
    while smallest_p(n) >= significance_level:
        n += 1
    return n


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


def resampled_rows(rows: int, seed: int, resamples: int = RESAMPLES) -> list[np.ndarray]:
    """The bootstrap's resamples of ``rows`` rows (positions, drawn with replacement), seeded;
    beyond ``BOOTSTRAP_ROWS`` rows, of a seeded sample of them. One set serves every model
    and every comparison of a run: each model is scored once per resample (the scoring
    pipeline's held-out tests), then ``bootstrap_test`` compares two of them."""
    generator = np.random.default_rng(seed)
    pool = np.arange(rows)
    if rows > BOOTSTRAP_ROWS:
        pool = np.sort(generator.choice(pool, BOOTSTRAP_ROWS, replace=False))
    return [generator.choice(pool, len(pool), replace=True) for _ in range(resamples)]


def bootstrap_test(
    a: float | None,
    b: float | None,
    resampled_a: list[float | None],
    resampled_b: list[float | None],
    confidence: float,
) -> PairedTest:
    """The paired bootstrap's test of two models' scores ``a`` and ``b`` on all the rows,
    from their scores on the same resamples (``None``: not computable on that resample).

    The spread of the resampled differences is the standard error of the difference: the
    p-value and the interval are the normal ones around it (Efron and Tibshirani's bootstrap
    standard error), so that a few hundred resamples are enough, and the interval matches
    the test. The p-value is never below ``1 / (resamples + 1)``: no resample could show it.
    No p-value or interval when the differences never vary.
    """
    if a is None or b is None:
        return PairedTest(0.0, None, None, None, BOOTSTRAP, confidence)
    found = [
        x - y
        for x, y in zip(resampled_a, resampled_b, strict=True)
        if x is not None and y is not None
    ]
    difference = a - b
    spread = float(np.std(found, ddof=1)) if len(found) > 1 else 0.0
    if spread == 0:  # the same difference whatever the rows: none, or not testable
        p_value = 1.0 if difference == 0 and found else None
        return PairedTest(difference, None, None, p_value, BOOTSTRAP, confidence)
    normal = stats.norm()
    margin = float(normal.ppf((1 + confidence) / 2) * spread)
    p_value = max(float(2 * normal.sf(abs(difference) / spread)), 1 / (len(found) + 1))
    return PairedTest(
        difference, difference - margin, difference + margin, p_value, BOOTSTRAP, confidence
    )


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm's step-down adjustment of a family of p-values (``None``: not tested, left
    out of the family): the k-th smallest times the number of those not yet passed,
    never below the one before, at most 1."""
    tested = sorted((p, i) for i, p in enumerate(p_values) if p is not None)
    adjusted: list[float | None] = [None] * len(p_values)
    running = 0.0
    for rank, (p, i) in enumerate(tested):
        running = max(running, min(1.0, (len(tested) - rank) * p))
        adjusted[i] = running
    return adjusted
