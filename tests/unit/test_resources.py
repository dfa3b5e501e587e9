"""The core budget behind ``n_jobs: auto``."""

import os

import pytest

from parallel_trees.resources import available_cores, cgroup_cpu_limit, threads_per_model


def _cgroup_v2(tmp_path, cpu_max):
    (tmp_path / "cpu.max").write_text(cpu_max)
    return tmp_path


def _cgroup_v1(tmp_path, quota, period="100000"):
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text(quota)
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text(period)
    return tmp_path


class TestCgroupCpuLimit:
    @pytest.mark.parametrize(
        ("cpu_max", "cores"),
        [("max 100000\n", None), ("150000 100000\n", 1.5), ("400000 100000\n", 4.0)],
    )
    def test_cgroup_v2(self, tmp_path, cpu_max, cores):
        assert cgroup_cpu_limit(_cgroup_v2(tmp_path, cpu_max)) == cores

    @pytest.mark.parametrize(("quota", "cores"), [("-1", None), ("50000", 0.5), ("300000", 3.0)])
    def test_cgroup_v1(self, tmp_path, quota, cores):
        assert cgroup_cpu_limit(_cgroup_v1(tmp_path, quota)) == cores

    def test_no_cgroup_files_means_no_limit(self, tmp_path):
        assert cgroup_cpu_limit(tmp_path) is None


class TestAvailableCores:
    def test_the_affinity_mask_without_a_quota(self, tmp_path):
        assert available_cores(tmp_path) == len(os.sched_getaffinity(0))

    def test_a_quota_below_the_mask_wins_rounded_down_but_never_zero(self, tmp_path):
        assert available_cores(_cgroup_v2(tmp_path, "150000 100000")) == 1
        assert available_cores(_cgroup_v2(tmp_path, "50000 100000")) == 1

    def test_a_quota_above_the_mask_changes_nothing(self, tmp_path):
        mask = len(os.sched_getaffinity(0))
        assert available_cores(_cgroup_v2(tmp_path, f"{(mask + 8) * 100000} 100000")) == mask


@pytest.mark.parametrize(
    ("cores", "concurrent", "threads"),
    [(2, 2, 1), (2, 1, 2), (2, 3, 1), (8, 2, 4), (8, 3, 2), (1, 2, 1), (4, 0, 4)],
)
def test_threads_per_model_share_the_cores(cores, concurrent, threads):
    assert threads_per_model(cores, concurrent) == threads


def test_alive_tells_a_running_process_from_a_finished_one():
    import os  # noqa: PLC0415

    from parallel_trees.resources import alive  # noqa: PLC0415
    from tests.helpers.processes import dead_pid  # noqa: PLC0415

    assert alive(os.getpid())
    assert not alive(dead_pid())
