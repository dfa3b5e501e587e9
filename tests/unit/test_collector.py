"""``imports_uncollected``: no garbage collection while the libraries load, none of their
objects walked again after."""

import gc

import pytest

from parallel_trees.collector import imports_uncollected


@pytest.fixture(autouse=True)
def collector_as_it_was():
    enabled = gc.isenabled()
    yield
    gc.unfreeze()
    if enabled:
        gc.enable()
    else:
        gc.disable()


class TestImportsUncollected:
    def test_nothing_is_collected_inside_and_collections_run_again_after(self):
        gc.enable()
        with imports_uncollected():
            assert not gc.isenabled()
        assert gc.isenabled()

    def test_what_was_made_inside_is_frozen(self):
        gc.unfreeze()
        with imports_uncollected():
            made = [[] for _ in range(100)]
        assert gc.get_freeze_count() >= len(made)
        assert not any(o is made for o in gc.get_objects())  # no collection walks it

    def test_a_collector_switched_off_before_stays_off(self):
        gc.disable()
        with imports_uncollected():
            pass
        assert not gc.isenabled()

    def test_the_collector_runs_again_when_the_import_fails(self):
        gc.enable()
        with pytest.raises(ImportError), imports_uncollected():
            raise ImportError("no such module")
        assert gc.isenabled()
