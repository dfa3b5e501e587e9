"""When the training nodes of a run ran, and in which processes (their records' ``timing``)."""


def overlap(a: dict, b: dict) -> float:
    """Seconds during which two training spans overlap (<= 0: they did not)."""
    return min(a["finished_at"], b["finished_at"]) - max(a["started_at"], b["started_at"])


def overlap_in_two_processes(first: list[dict], second: list[dict]) -> bool:
    """Whether a span of ``first`` overlaps a span of ``second`` run by another process.

    The tests pass both models' spans as both: which model's nodes meet which is
    the pool's order, and under spawn, with nodes of a tenth of a second, CI saw
    the two models' nodes alternate without meeting while nodes ran two at a time.
    """
    return any(a["pid"] != b["pid"] and overlap(a, b) > 0 for a in first for b in second)


def most_at_once(spans: list[dict]) -> int:
    """The most spans running at the same instant (1: one after the other)."""
    return max(
        sum(o["started_at"] <= s["started_at"] < o["finished_at"] for o in spans) for s in spans
    )
