"""How many threads each model may use: the cores this process may run on,
shared by the training nodes that run at the same time; and whether a process lives.

Models running side by side that each use every core oversubscribe the CPU:
XGBoost's OpenMP threads then spin-wait for each other and a 0.1 s fit can
take seconds (measured in ../shared/KEDRO_NOTES.md). ``n_jobs: auto`` gives
each model ``cores // concurrent training nodes`` threads instead.
"""

import math
import os
from pathlib import Path

CGROUP = Path("/sys/fs/cgroup")


def cgroup_cpu_limit(root: Path = CGROUP) -> float | None:
    """The CPU quota of this process's cgroup, in cores; ``None`` when unlimited.

    Reads cgroup v2's ``cpu.max`` ("<quota> <period>" or "max <period>"), else
    cgroup v1's ``cpu/cpu.cfs_quota_us`` and ``cpu/cpu.cfs_period_us``.
    """
    v2 = root / "cpu.max"
    try:
        if v2.is_file():
            quota, period = v2.read_text().split()[:2]
        else:
            quota = (root / "cpu" / "cpu.cfs_quota_us").read_text().strip()
            period = (root / "cpu" / "cpu.cfs_period_us").read_text().strip()
    except (OSError, ValueError):
        return None
    if quota in {"max", "-1"}:
        return None
    return int(quota) / int(period)


def available_cores(root: Path = CGROUP) -> int:
    """The CPUs this process may use: its affinity mask, capped by a cgroup quota."""
    if hasattr(os, "sched_getaffinity"):
        cores = len(os.sched_getaffinity(0))
    else:  # macOS, Windows
        cores = os.cpu_count() or 1
    limit = cgroup_cpu_limit(root)
    return max(1, min(cores, math.floor(limit))) if limit else cores


def threads_per_model(cores: int, concurrent: int) -> int:
    """``max(1, cores // concurrent)``: each of ``concurrent`` models' share of the cores."""
    return max(1, cores // max(1, concurrent))


def alive(pid: int) -> bool:
    """Whether process ``pid`` of this machine is running (or a zombie not yet waited for)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True
