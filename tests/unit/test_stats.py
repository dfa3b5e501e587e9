"""The paired tests against values worked out by hand (and scipy where it is independent)."""

import numpy as np
import pytest
from scipy import stats

from parallel_trees.stats import corrected_resampled_ttest, mcnemar_exact


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
        assert result.as_dict() == {"difference": 0, "ci_low": 0, "ci_high": 0, "p_value": 1.0}

    def test_the_same_nonzero_difference_on_every_fold_is_the_limit_p_0(self):
        result = corrected_resampled_ttest([0.9, 0.95, 1.0], [0.8, 0.85, 0.9], 80, 20)
        assert result.difference == pytest.approx(0.1)
        assert result.p_value == 0.0
        assert result.ci_low == result.ci_high == result.difference

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
