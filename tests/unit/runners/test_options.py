import pytest
from kedro.runner import ParallelRunner, SequentialRunner

from parallel_trees.errors import UserError
from parallel_trees.runners import DaskRunner
from parallel_trees.runners.options import check_runner_options, runner_class


class WideRunner(ParallelRunner):
    """A project's subclass: its own signature is the one checked."""

    def __init__(self, max_workers: int | None = None, is_async: bool = False, label: str = ""):
        super().__init__(max_workers=max_workers, is_async=is_async)


def _refusal(runner, params) -> str:
    with pytest.raises(UserError) as refused:
        check_runner_options(runner, params)
    return refused.value.message


@pytest.mark.parametrize(
    ("runner", "found"),
    [
        (None, SequentialRunner),
        ("ParallelRunner", ParallelRunner),
        ("parallel_trees.runners.DaskRunner", DaskRunner),
        ("tests.unit.runners.test_options.WideRunner", WideRunner),
    ],
)
def test_runners_are_found_as_kedro_finds_them(runner, found):
    assert runner_class(runner) is found


@pytest.mark.parametrize("runner", ["ParalelRunner", "kedro.io.DataCatalog", "no.such.Runner"])
def test_what_is_not_a_runner_is_refused_with_the_runners_known(runner):
    message = _refusal(runner, {})
    assert message.startswith(f"--runner {runner}: no such runner.")
    assert "Allowed: SequentialRunner, ParallelRunner, ThreadRunner," in message


@pytest.mark.parametrize(
    ("runner", "params"),
    [
        (None, {}),
        (None, {"is_async": True}),
        ("ParallelRunner", {"max_workers": 1, "is_async": False}),
        ("parallel_trees.runners.DaskRunner", {"address": "tcp://h:8786", "n_workers": 3}),
        ("tests.unit.runners.test_options.WideRunner", {"label": "x", "max_workers": 2}),
    ],
)
def test_good_options_pass(runner, params):
    check_runner_options(runner, params)


def test_each_bad_key_and_value_gets_a_line():
    message = _refusal("ParallelRunner", {"max_wrkers": 1, "is_async": "yes"})
    assert message.splitlines() == [
        "Invalid --runner-params for ParallelRunner:",
        "  - max_wrkers: unknown argument of ParallelRunner. Did you mean 'max_workers'? "
        "Allowed: max_workers, is_async.",
        "  - is_async = 'yes': Input should be a valid boolean.",
    ]


def test_the_default_runner_is_named_when_no_runner_is_given():
    assert _refusal(None, {"max_workers": 2}).splitlines() == [
        "Invalid --runner-params for SequentialRunner (no --runner given: Kedro's default):",
        "  - max_workers: unknown argument of SequentialRunner. Allowed: is_async.",
    ]


@pytest.mark.parametrize("value", [0, -1, True, 1.5])
def test_a_count_of_workers_is_a_whole_number_of_at_least_one(value):
    assert "  - n_workers = " in _refusal("parallel_trees.runners.DaskRunner", {"n_workers": value})


def test_a_subclass_is_checked_by_its_own_arguments():
    assert "label = 3: Input should be a valid string." in _refusal(
        "tests.unit.runners.test_options.WideRunner", {"label": 3}
    )
