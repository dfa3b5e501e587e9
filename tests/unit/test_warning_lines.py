"""Python's warnings as one line each (runs that show them: tests/end_to_end/test_warnings.py)."""

import io
import logging
import sys
import warnings
from pathlib import Path

import pytest
import sklearn

import parallel_trees
from parallel_trees.warning_lines import (
    install,
    library,
    show,
    source_package,
    warning_line,
)
from tests.helpers.project import configure_logging, logging_taken_back

SKLEARN_FILE = str(Path(sklearn.__file__).parent / "ensemble" / "_forest.py")
OWN_FILE = str(Path(parallel_trees.__file__).parent / "metrics.py")
OOB = (
    "Some inputs do not have OOB scores. This probably means too few trees were used\n"
    "to compute any reliable OOB estimates."
)


class TestWarningLine:
    def test_names_the_library_by_its_distribution_says_what_and_the_category(self):
        line = warning_line(UserWarning(OOB), UserWarning, SKLEARN_FILE, "sklearn")
        assert line == (
            "scikit-learn: Some inputs do not have OOB scores. This probably means too few "
            "trees were used to compute any reliable OOB estimates. (UserWarning)"
        )

    def test_is_one_line_whatever_the_message_s_line_breaks_and_indents(self):
        message = "Hint: Inferred schema\n    contains integer column(s).\n\n  See `docs`_.  "
        line = warning_line(message, UserWarning, "/x/mlflow/types/utils.py", "mlflow")
        expected = "Hint: Inferred schema contains integer column(s). See `docs`_."
        assert line == f"mlflow: {expected} (UserWarning)"

    def test_the_project_s_own_warnings_are_named_after_it(self):
        line = warning_line("no test rows", RuntimeWarning, OWN_FILE, "parallel_trees")
        assert line == "parallel_trees: no test rows (RuntimeWarning)"

    def test_a_file_of_no_known_package_is_named_by_its_name_alone(self):
        line = warning_line("odd", FutureWarning, "/home/someone/scratch/try.py", None)
        assert line == "try.py: odd (FutureWarning)"

    def test_no_path_is_shown(self):
        line = warning_line(UserWarning(OOB), UserWarning, SKLEARN_FILE, "sklearn")
        assert "/" not in line and "site-packages" not in line


class TestSourcePackage:
    def test_the_module_that_raised_it_decides(self):
        assert source_package(SKLEARN_FILE, "sklearn.ensemble._forest") == "sklearn"
        # pandas points its warnings at the caller's code (its stacklevel): pandas said it.
        assert source_package(OWN_FILE, "pandas.core.frame") == "pandas"

    def test_else_the_file_it_points_at_found_on_the_path(self):
        assert source_package(SKLEARN_FILE, None) == "sklearn"
        assert source_package(OWN_FILE, "__main__") == "parallel_trees"

    def test_else_none(self):
        assert source_package("/nowhere/on/the/path/try.py", None) is None
        assert source_package("<string>", None) is None


class TestLibrary:
    def test_a_package_is_named_by_the_distribution_that_installs_it(self):
        assert library("sklearn") == "scikit-learn"
        assert library("yaml") == "PyYAML"

    def test_of_several_distributions_the_one_named_as_the_package(self):
        # mlflow, mlflow-skinny and mlflow-tracing all install files in mlflow/.
        assert library("mlflow") == "mlflow"

    def test_a_package_of_no_distribution_is_named_as_itself(self):
        assert library("asyncio") == "asyncio"


def _warn_from(module: str, message: str, stacklevel: int = 1) -> None:
    """``warnings.warn`` called by code of ``module`` (as if the library said it)."""
    code = compile(
        "import warnings\nwarnings.warn(message, UserWarning, stacklevel=stacklevel)",
        f"/site-packages/{module.replace('.', '/')}.py",
        "exec",
    )
    exec(code, {"__name__": module, "message": message, "stacklevel": stacklevel})


@pytest.fixture
def shown():
    """Warnings shown by ``show`` meanwhile, every time (not once per place); pytest's
    own way of showing them put back afterwards."""
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = show
        yield


class TestShow:
    def test_logs_one_record_to_the_logger_of_the_raising_package(self, shown, caplog):
        with caplog.at_level(logging.WARNING, logger="py.warnings"):
            _warn_from("sklearn.ensemble._forest", OOB)
        (record,) = caplog.records
        assert record.name == "py.warnings.sklearn"
        assert record.levelno == logging.WARNING
        assert record.getMessage() == warning_line(OOB, UserWarning, "", "sklearn")
        # The record points at the warning's place, not at warning_lines.
        assert record.pathname == "/site-packages/sklearn/ensemble/_forest.py"

    def test_a_warning_pointed_at_its_caller_is_still_the_raiser_s(self, shown, caplog):
        with caplog.at_level(logging.WARNING, logger="py.warnings"):
            _warn_from("mlflow.utils.annotations", "f is deprecated", stacklevel=2)
        (record,) = caplog.records
        assert record.name == "py.warnings.mlflow"
        assert record.getMessage() == "mlflow: f is deprecated (UserWarning)"
        assert record.pathname == __file__  # this test's _warn_from called it

    def test_a_percent_sign_in_the_message_is_kept(self, shown, caplog):
        with caplog.at_level(logging.WARNING, logger="py.warnings"):
            _warn_from("sklearn.metrics", "100% of rows: %s %d")
        assert caplog.records[0].getMessage() == "scikit-learn: 100% of rows: %s %d (UserWarning)"

    def test_a_warning_asked_to_go_to_a_file_goes_there_as_python_prints_it(self, tmp_path):
        message = UserWarning("to a file")
        with (tmp_path / "out.txt").open("w") as out:
            show(message, UserWarning, "/x/y.py", 3, file=out)
        # (plotly.tools, once imported, replaces warnings.formatwarning with its own.)
        printed = warnings.formatwarning(message, UserWarning, "/x/y.py", 3)
        assert (tmp_path / "out.txt").read_text() == printed
        assert "to a file" in printed


def test_install_survives_kedro_s_console_handler(monkeypatch):
    """Kedro's RichHandler turns on logging.captureWarnings as it is made: after install,
    that leaves the one-line warnings in place."""
    monkeypatch.setattr(logging, "_warnings_showwarning", None)  # capture off: a new process
    monkeypatch.setattr(warnings, "showwarning", warnings._showwarning_orig)
    install()
    logging.captureWarnings(True)
    assert warnings.showwarning is show


class TestConfLogging:
    """conf/logging.yml sends each library's warnings where they belong."""

    @pytest.fixture
    def configured(self, project_root, tmp_path, shown, monkeypatch):
        """This process logging as a run's does, in this test's folder (its info.log), to a
        stdout and a stderr of its own; taken back afterwards."""
        streams = {"stdout": io.StringIO(), "stderr": io.StringIO()}
        with logging_taken_back():
            for name, stream in streams.items():
                monkeypatch.setattr(sys, name, stream)  # the handlers' ext://sys.<name>
            configure_logging(project_root)
            monkeypatch.undo()
            yield tmp_path / "info.log", streams

    def test_a_library_s_warning_is_one_line_on_stderr_and_in_info_log(self, configured):
        log, streams = configured
        _warn_from("sklearn.ensemble._forest", OOB)
        line = warning_line(OOB, UserWarning, "", "sklearn")
        assert streams["stderr"].getvalue() == f"{line}\n"
        assert streams["stdout"].getvalue() == ""
        assert f" - py.warnings.sklearn - WARNING - {line}\n" in log.read_text()

    def test_mlflow_s_go_to_info_log_only(self, configured):
        log, streams = configured
        _warn_from("mlflow.types.utils", "Hint: Inferred schema contains integer column(s).")
        assert streams["stderr"].getvalue() == streams["stdout"].getvalue() == ""
        assert (
            " - py.warnings.mlflow - WARNING - mlflow: Hint: Inferred schema contains "
            "integer column(s). (UserWarning)\n"
        ) in log.read_text()
