"""The paired tests against values worked out by hand (and scipy where it is independent)."""

import numpy as np
import pytest
from scipy import stats

from parallel_trees.stats import (
    BOOTSTRAP,
    RESAMPLES,
    SIGN_TEST,
    T_TEST,
    bootstrap_test,
    corrected_resampled_ttest,
    holm,
    mcnemar_exact,
    pairs_needed,
    resampled_rows,
    sign_test,
    smallest_p,
)


class TestCorrectedResampledTTest:
    def test_three_folds_by_hand(self):
        # d = [0.1, 0, 0.05]: mean 0.05, sample variance 0.0025; corrected by
        # 1/3 + 20/80, standard error sqrt(0.0025 * 7/12) = 0.0381881.
        # t = 1.309307 on 2 degrees of freedom, where Student's t has the closed
        # form sf(t) = (1 - t / sqrt(t^2 + 2)) / 2, and t_0.975 = 4.302653.
        result = corrected_resampled_ttest([0.9, 0.8, 0.85], [0.8, 0.8, 0.8], 80, 20)
        t = 0.05 / np.sqrt(0.0025 * (1 / 3 + 20 / 80))
        assert result.difference == pytest.approx(0.05)
        assert result.p_value == pytest.approx(1 - t / np.sqrt(t**2 + 2))
        assert result.p_value == pytest.approx(0.320634, abs=1e-6)
        assert result.ci_low == pytest.approx(0.05 - 4.302653 * 0.0381881, abs=1e-6)
        assert result.ci_high == pytest.approx(0.05 + 4.302653 * 0.0381881, abs=1e-6)

    def test_without_the_overlap_term_it_is_the_plain_paired_t_test(self):
        a, b = [0.97, 0.92, 1.0, 0.96, 0.94], [0.93, 0.92, 0.96, 0.9, 0.95]
        plain = stats.ttest_rel(a, b)
        assert corrected_resampled_ttest(a, b, 1, 0).p_value == pytest.approx(plain.pvalue)

    def test_the_correction_makes_the_test_more_cautious(self):
        a, b = [0.97, 0.92, 1.0, 0.96, 0.94], [0.93, 0.92, 0.96, 0.9, 0.95]
        plain = corrected_resampled_ttest(a, b, 1, 0)
        corrected = corrected_resampled_ttest(a, b, 96, 24)  # 5 folds: 24/96 = 1/4 more
        assert corrected.p_value > plain.p_value
        assert corrected.ci_high - corrected.ci_low > plain.ci_high - plain.ci_low

    def test_identical_scores_are_no_evidence(self):
        result = corrected_resampled_ttest([0.9, 0.95, 1.0], [0.9, 0.95, 1.0], 80, 20)
        assert result.as_dict() == {
            "difference": 0,
            "ci_low": None,  # never an interval of no width
            "ci_high": None,
            "p_value": 1.0,
            "test": SIGN_TEST,
            "confidence": 0.95,
        }

    def test_the_same_difference_on_every_fold_falls_back_to_the_sign_test(self):
        # One row better on each of 5 folds of 24 rows: the t-test's variance is zero (or
        # float noise), its p 5.5e-60. Five folds all one way: 2 / 2**5 = 0.0625 at best.
        a = [21 / 24, 22 / 24, 20 / 24, 23 / 24, 21 / 24]
        b = [20 / 24, 21 / 24, 19 / 24, 22 / 24, 20 / 24]
        result = corrected_resampled_ttest(a, b, 96, 24, rows=[24] * 5)
        assert result.test == SIGN_TEST
        assert result.p_value == pytest.approx(0.0625)
        assert (result.ci_low, result.ci_high) == (None, None)
        assert result.difference == pytest.approx(1 / 24)

    def test_one_row_on_folds_of_24_and_23_rows_is_the_same_difference(self):
        # 1/24 and 1/23 differ as floats (the t-test gave p = 3.6e-7): both are one row.
        a = [22 / 24, 21 / 23, 22 / 24, 21 / 23, 22 / 24]
        b = [21 / 24, 20 / 23, 21 / 24, 20 / 23, 21 / 24]
        result = corrected_resampled_ttest(a, b, 94.4, 23.6, rows=[24, 23, 24, 23, 24])
        assert result.test == SIGN_TEST and result.p_value == pytest.approx(0.0625)
        plain = corrected_resampled_ttest(a, b, 94.4, 23.6)  # as a continuous score
        assert plain.test == T_TEST and plain.p_value < 1e-5

    def test_differences_of_one_and_two_rows_keep_the_t_test(self):
        a = [22 / 24, 21 / 24, 23 / 24, 21 / 24, 22 / 24]
        b = [21 / 24, 20 / 24, 21 / 24, 20 / 24, 21 / 24]  # rows: 1, 1, 2, 1, 1
        result = corrected_resampled_ttest(a, b, 96, 24, rows=[24] * 5)
        assert result.test == T_TEST
        d = np.array([1, 1, 2, 1, 1]) / 24
        t = d.mean() / np.sqrt((1 / 5 + 24 / 96) * d.var(ddof=1))
        assert result.p_value == pytest.approx(2 * stats.t(4).sf(t))

    def test_the_interval_is_at_one_minus_the_significance_level(self):
        # d = [0.1, 0, 0.05], as above: standard error 0.0381881; at 99%, t_0.995 on 2
        # degrees of freedom is 9.924843.
        result = corrected_resampled_ttest([0.9, 0.8, 0.85], [0.8, 0.8, 0.8], 80, 20, 0.99)
        assert result.confidence == 0.99
        assert result.ci_low == pytest.approx(0.05 - 9.924843 * 0.0381881, abs=1e-6)
        assert result.ci_high == pytest.approx(0.05 + 9.924843 * 0.0381881, abs=1e-6)
        assert result.p_value == pytest.approx(0.320634, abs=1e-6)  # the same test

    def test_repeated_cv_is_the_same_test_over_every_fold_of_every_repeat(self):
        # Bouckaert and Frank: J = k x r folds, the correction 1/J + n_valid/n_train.
        rng = np.random.default_rng(0)
        a, b = rng.uniform(0.8, 1, 50), rng.uniform(0.8, 1, 50)
        d = a - b
        result = corrected_resampled_ttest(a, b, 96, 24)
        t = d.mean() / np.sqrt((1 / 50 + 24 / 96) * d.var(ddof=1))
        assert result.p_value == pytest.approx(2 * stats.t(49).sf(abs(t)))

    def test_a_single_fold_cannot_be_tested(self):
        result = corrected_resampled_ttest([0.9], [0.8], 80, 20)
        assert result.difference == pytest.approx(0.1)
        assert (result.ci_low, result.ci_high, result.p_value) == (None, None, None)

    def test_unpaired_scores_are_refused(self):
        with pytest.raises(ValueError, match="same length"):
            corrected_resampled_ttest([0.9, 0.8], [0.8, 0.8, 0.7], 80, 20)


def _rows(both: int, only_a: int, only_b: int, neither: int) -> tuple[list[bool], list[bool]]:
    """Per-row correctness of two models from a 2x2 contingency table."""
    a = [True] * both + [True] * only_a + [False] * only_b + [False] * neither
    b = [True] * both + [False] * only_a + [True] * only_b + [False] * neither
    return a, b


class TestMcNemarExact:
    @pytest.mark.parametrize(
        ("only_a", "only_b", "p_value"),
        [
            (0, 5, 2 / 2**5),  # all 5 discordant rows one way: 2 * 0.5^5
            (2, 8, 2 * (1 + 10 + 45) / 2**10),  # 2 * P(X <= 2), X ~ Bin(10, 1/2)
            (10, 0, 2 / 2**10),
            (1, 0, 1.0),  # one row proves nothing
            (3, 3, 1.0),
        ],
    )
    def test_known_exact_p_values(self, only_a, only_b, p_value):
        result = mcnemar_exact(*_rows(20, only_a, only_b, 4))
        assert result.p_value == pytest.approx(p_value)
        assert (result.only_a_right, result.only_b_right) == (only_a, only_b)
        assert result.difference == pytest.approx((only_a - only_b) / (24 + only_a + only_b))

    def test_models_that_never_disagree(self):
        result = mcnemar_exact(*_rows(25, 0, 0, 5))
        assert (result.p_value, result.difference) == (1.0, 0.0)

    def test_no_rows(self):
        assert mcnemar_exact([], []).p_value is None

    def test_rows_must_pair_up(self):
        with pytest.raises(ValueError, match="one entry per row"):
            mcnemar_exact([True, False], [True])


class TestSignTest:
    @pytest.mark.parametrize(
        ("differences", "p_value"),
        [
            ([0.1] * 5, 2 / 2**5),
            ([0.1] * 4 + [-0.1], 2 * 6 / 2**5),  # P(X <= 1), X ~ Bin(5, 1/2), twice
            ([0.1, 0, 0, 0.2], 2 / 2**2),  # ties left out
            ([0, 0, 0], 1.0),
        ],
    )
    def test_known_exact_p_values(self, differences, p_value):
        assert sign_test(differences) == pytest.approx(p_value)

    def test_the_fewest_pairs_that_can_reject(self):
        assert smallest_p(5) == 0.0625 and smallest_p(6) == 0.03125
        assert pairs_needed(0.05) == 6
        assert pairs_needed(0.01) == 8  # 2 / 2**8 = 0.0078


class TestHolm:
    def test_three_comparisons_by_hand(self):
        # Sorted 0.01, 0.02, 0.04: times 3, 2, 1 -> 0.03, 0.04, 0.04 (never below the last).
        assert holm([0.04, 0.01, 0.02]) == pytest.approx([0.04, 0.03, 0.04])

    def test_four_comparisons_by_hand(self):
        # 0.005 x 4 = 0.02; 0.011 x 3 = 0.033; 0.02 x 2 = 0.04; 0.6 x 1 = 0.6.
        assert holm([0.6, 0.02, 0.005, 0.011]) == pytest.approx([0.6, 0.04, 0.02, 0.033])

    def test_two_challengers_at_0033_against_the_best_are_not_worse(self):
        # Three models: each challenger is called worse at 0.05 raw, neither adjusted.
        assert holm([0.033, 0.033]) == pytest.approx([0.066, 0.066])
        # With a third test in the family (0.5): 0.033 x 3, then never below it.
        assert holm([0.033, 0.033, 0.5]) == pytest.approx([0.099, 0.099, 0.5])

    def test_capped_at_one_and_untested_left_out(self):
        # 0.8 x 2 = 1.6, capped at 1; 0.9 x 1 = 0.9, raised to the 1 before it.
        assert holm([0.9, None, 0.8]) == pytest.approx([1.0, None, 1.0])
        assert holm([]) == []


def paired_bootstrap(score, rows: int, confidence: float, seed: int, resamples: int = RESAMPLES):
    """Two models' paired bootstrap as the scoring pipeline makes it: ``score`` (positions of
    rows -> both models' scores) on all the rows and on each of ``resampled_rows``, then
    ``bootstrap_test``."""
    a, b = score(np.arange(rows)) if rows else (None, None)
    pairs = [score(r) for r in resampled_rows(rows, seed, resamples)] if a is not None else []
    return bootstrap_test(a, b, [x for x, _ in pairs], [y for _, y in pairs], confidence)


class TestPairedBootstrap:
    @staticmethod
    def means(a: np.ndarray, b: np.ndarray):
        return lambda rows: (float(a[rows].mean()), float(b[rows].mean()))

    def test_the_same_scores_on_every_row_are_no_difference(self):
        a = np.arange(20.0)
        result = paired_bootstrap(self.means(a, a), 20, 0.95, seed=1)
        assert (result.difference, result.p_value, result.test) == (0.0, 1.0, BOOTSTRAP)
        assert result.ci_low is None  # never an interval of no width

    def test_the_standard_error_is_the_spread_of_the_resampled_differences(self):
        rng = np.random.default_rng(0)
        a = rng.normal(1.0, 1.0, 200)
        b = a - 0.05 + rng.normal(0, 0.5, 200)
        result = paired_bootstrap(self.means(a, b), 200, 0.95, seed=3)
        d = a - b
        assert result.difference == pytest.approx(d.mean())
        # The bootstrap's standard error is close to the mean's own, sd / sqrt(n).
        se = (result.ci_high - result.ci_low) / (2 * 1.959964)
        assert se == pytest.approx(d.std(ddof=1) / np.sqrt(200), rel=0.15)
        assert result.p_value == pytest.approx(2 * stats.norm.sf(d.mean() / se), rel=1e-6)

    def test_a_clear_difference_is_found_at_the_smallest_p_the_resamples_can_show(self):
        rng = np.random.default_rng(0)
        a = rng.normal(1.0, 1.0, 200)
        b = a - 0.5 + rng.normal(0, 0.1, 200)
        result = paired_bootstrap(self.means(a, b), 200, 0.95, seed=3, resamples=200)
        assert 0.4 < result.ci_low < result.difference < result.ci_high
        # The normal tail says about 1e-300; 200 resamples cannot show below 1/201.
        assert result.p_value == 1 / 201

    def test_the_same_seed_the_same_test_and_the_level_sets_the_interval(self):
        rng = np.random.default_rng(5)
        a, b = rng.normal(0, 1, 50), rng.normal(0, 1, 50)
        first, again = (paired_bootstrap(self.means(a, b), 50, 0.9, seed=7) for _ in range(2))
        assert first == again and first.confidence == 0.9
        wide = paired_bootstrap(self.means(a, b), 50, 0.99, seed=7)
        assert wide.ci_high - wide.ci_low > first.ci_high - first.ci_low
        assert wide.p_value == first.p_value  # the same test

    def test_rows_where_the_metric_cannot_be_computed_are_left_out(self):
        def never(rows):
            return None, None

        assert paired_bootstrap(never, 10, 0.95, seed=1).p_value is None
