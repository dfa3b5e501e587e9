"""kedro-viz on the shared default run's outputs: its API in process, the static build,
``kedro viz run``, and a real browser; in the browser too, a shared tuned run's search.

No test here needs the network: the browser aborts every request that leaves
the local server, and answers ``/api/version`` itself (the server would ask PyPI).
"""

import json
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlparse

import pytest
from fastapi.testclient import TestClient
from kedro.framework.startup import bootstrap_project
from kedro_viz.api.apps import create_api_app_from_project
from kedro_viz.server import load_and_populate_data
from playwright.sync_api import Locator, Page, expect

from parallel_trees.pipelines.training.pipeline import FOLD_NODES
from tests.helpers.browser import for_the_docs, serving
from tests.helpers.network import Offline

CHARTS = {"model_comparison", "run_timeline", "confusion_matrix", "feature_importance"}
NAMESPACES = {"data_preparation", "random_forest", "xgboost", "baseline"}
# Each model's nodes that fit it (tagged fit as well as training): they share no data.
FIT_NODES = [*(f"cross_validate_{n}_of_5" for n in range(1, FOLD_NODES + 1)), "fit_model"]
# kedro-viz's index.html links Google Fonts (the page falls back to local fonts);
# nothing else may be asked of the outside, least of all a tracking script.
ALLOWED_OUTSIDE = {"fonts.googleapis.com", "fonts.gstatic.com"}
# The static build, served as any folder of files is.
STATIC = [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "{port}"]


@pytest.fixture(scope="module")
def ran(iris_parallel):
    """The project copy of the shared default ``kedro run --runner=ParallelRunner``."""
    return iris_parallel.project


def _tracking_free(html: str) -> None:
    assert "heap" not in html.lower()  # kedro-viz's telemetry is Heap analytics
    sources = re.findall(r"<script[^>]*\bsrc=\"([^\"]+)\"", html)
    assert sources and all(not urlparse(src).netloc for src in sources), sources


@pytest.fixture(scope="module")
def api(ran):
    """The API the page reads, served in process by FastAPI's TestClient."""
    bootstrap_project(ran.root)
    load_and_populate_data(ran.root)
    with TestClient(create_api_app_from_project(ran.root)) as client:
        yield client


@pytest.fixture(scope="module")
def graph(api):
    """The graph of ``/api/main``: nodes by id, qualified names, and edges by name."""
    main = api.get("/api/main").json()
    nodes = {n["id"]: n for n in main["nodes"]}

    def qualified(node):  # task names are shown without their namespace
        namespace = node["modular_pipelines"] if node["type"] == "task" else None
        return f"{namespace[0]}.{node['name']}" if namespace else node["name"]

    names = {i: qualified(n) for i, n in nodes.items() if n["type"] != "modularPipeline"}
    edges = {
        (names[e["source"]], names[e["target"]])
        for e in main["edges"]
        if e["source"] in names and e["target"] in names
    }
    return {"nodes": nodes, "names": names, "edges": edges}


class TestApi:
    def test_training_branches_are_namespaces_beside_data_preparation(self, graph):
        folded = {n["name"] for n in graph["nodes"].values() if n["type"] == "modularPipeline"}
        assert folded == NAMESPACES
        tasks = {  # a node's tags are a set: kedro-viz lists them in no fixed order
            graph["names"][i]: sorted(n["tags"])
            for i, n in graph["nodes"].items()
            if n["type"] == "task"
        }
        assert tasks == {
            "data_preparation.load_dataset": ["data_preparation"],
            "data_preparation.infer_column_roles": ["data_preparation"],
            "data_preparation.split_data": ["data_preparation"],
            "data_preparation.make_cv_splits": ["data_preparation"],
            "data_preparation.take_input_example": ["data_preparation"],
            "data_preparation.choose_yardstick": ["data_preparation"],
            "baseline.evaluate_baseline": ["training"],
            **{
                f"{m}.{step}": ["fit", "long", "training"]
                for m in ("random_forest", "xgboost")
                for step in FIT_NODES
            },
            "random_forest.record_training": ["training"],
            "random_forest.predict_test_rows": ["training"],
            "random_forest.explain_model": ["long", "training"],
            "xgboost.record_training": ["training"],
            "xgboost.predict_test_rows": ["training"],
            "xgboost.explain_model": ["long", "training"],
            "xgboost.export_model": ["training"],
            "collect_predictions": ["scoring"],
            "score_models": ["scoring"],
            "compare_models": ["scoring"],
            "compare_untuned": ["scoring"],
            "build_metrics": ["scoring"],
            "report_results": ["reporting"],
            "plot_model_comparison": ["reporting"],
            "plot_run_timeline": ["reporting"],
            "plot_confusion_matrices": ["reporting"],
            "plot_feature_importance": ["reporting"],
            "plot_hyperparameter_search": ["reporting"],
        }

    def test_edges_run_from_the_joins_to_the_report_and_the_charts(self, graph):
        assert {
            ("random_forest.training", "score_models"),
            ("xgboost.training", "score_models"),
            ("score_models", "scores"),
            ("scores", "compare_models"),
            ("compare_models", "ranking"),
            ("build_metrics", "metrics"),
            ("metrics", "report_results"),
            ("report_results", "report"),
            ("scores", "plot_model_comparison"),
            ("comparison", "plot_model_comparison"),
            ("plot_model_comparison", "model_comparison"),
            ("run_context", "plot_run_timeline"),
            ("xgboost.training", "plot_run_timeline"),
            ("plot_run_timeline", "run_timeline"),
            ("test_predictions", "plot_confusion_matrices"),
            ("classes", "plot_confusion_matrices"),
            ("plot_confusion_matrices", "confusion_matrix"),
            ("random_forest.importance", "plot_feature_importance"),
            ("plot_feature_importance", "feature_importance"),
            ("compare_untuned", "untuned_comparison"),
            ("untuned_comparison", "build_metrics"),
            ("random_forest.training", "plot_hyperparameter_search"),
            ("plot_hyperparameter_search", "hyperparameter_search"),
        } <= graph["edges"]

    def test_no_training_node_of_one_model_leads_to_one_of_the_other(self, graph):
        def reachable(start):
            seen, todo = set(), [start]
            while todo:
                name = todo.pop()
                for source, target in graph["edges"]:
                    if source == name and target not in seen:
                        seen.add(target)
                        todo.append(target)
            return seen

        forest, booster = (
            {f"{m}.{step}" for step in FIT_NODES} for m in ("random_forest", "xgboost")
        )
        for one, other in ((forest, booster), (booster, forest)):
            for name in one:
                assert "build_metrics" in reachable(name)
                assert not reachable(name) & (one | other), name  # no fit node follows it

    def test_charts_and_metrics_have_previews(self, api, graph):
        ids = {name: i for i, name in graph["names"].items()}
        for chart in CHARTS:
            detail = api.get(f"/api/nodes/{ids[chart]}").json()
            assert detail["preview_type"] == "PlotlyPreview", chart
            assert detail["preview"]["data"], chart  # traces to draw
        timeline = api.get(f"/api/nodes/{ids['run_timeline']}").json()["preview"]
        assert timeline["layout"]["title"]["text"].startswith("Training nodes under ParallelRunner")
        # An untuned run: the search chart has nothing to draw, and says why.
        search = api.get(f"/api/nodes/{ids['hyperparameter_search']}").json()
        assert search["preview_type"] == "PlotlyPreview"
        assert search["preview"]["layout"]["title"]["text"].endswith("(tuning.trials is 0)")
        metrics = api.get(f"/api/nodes/{ids['metrics']}").json()
        assert metrics["preview_type"] == "JSONPreview"
        assert set(json.loads(metrics["preview"])["models"]) == {"random_forest", "xgboost"}

    def test_page_has_no_tracking_script_with_the_projects_opt_out(self, api, monkeypatch):
        # The committed .telemetry file alone must do it.
        for name in ("KEDRO_DISABLE_TELEMETRY", "DO_NOT_TRACK"):
            monkeypatch.delenv(name, raising=False)
        _tracking_free(api.get("/").text)


@pytest.fixture(scope="module")
def built(ran):
    """``kedro viz build --include-previews`` in the copy."""
    run = ran.kedro("viz", "build", "--include-previews")
    assert run.returncode == 0, run.output
    return run, ran.root / "build"


def test_static_build_holds_the_graph_and_the_previews(built):
    run, build = built
    assert "Warning" not in run.output and "WARNING" not in run.output, run.output
    main = json.loads((build / "api/main").read_text())
    ids = {n["name"]: n["id"] for n in main["nodes"]}
    for chart in CHARTS:
        detail = json.loads((build / "api/nodes" / ids[chart]).read_text())
        assert detail["preview_type"] == "PlotlyPreview" and detail["preview"]["data"], chart
    assert json.loads((build / "api/nodes" / ids["metrics"]).read_text())["preview"]
    _tracking_free((build / "index.html").read_text())


@pytest.mark.server
def test_kedro_viz_run_prints_no_warning(project, tmp_path):
    # kedro viz run asks PyPI for its latest version: refused here, as by a machine offline.
    env = project.env(Offline(tmp_path).env(project.root / "src"))
    command = [sys.executable, "-m", "kedro", "viz", "run", "--no-browser", "--host", "127.0.0.1"]
    log = tmp_path / "server.log"
    with serving([*command, "--port", "{port}"], project.root, env, log):
        deadline = time.monotonic() + 60
        while "Kedro Viz started successfully" not in log.read_text():
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
    output = log.read_text()
    assert "Warning" not in output and "WARNING" not in output, output


@pytest.fixture(params=["kedro viz run", "static build"])
def site(request, ran, tmp_path):
    """The viz of the run, served by ``kedro viz run`` or from the static build."""
    if request.param == "kedro viz run":
        command = [sys.executable, "-m", "kedro", "viz", "run", "--no-browser"]
        command += ["--host", "127.0.0.1", "--port", "{port}"]
        cwd = ran.root
    else:
        _, build = request.getfixturevalue("built")
        command, cwd = STATIC, build
    with serving(command, cwd, ran.env(), tmp_path / "server.log") as url:
        yield request.param, url


@contextmanager
def viewing(browser, url: str) -> Iterator[Page]:
    """A page of the viz at ``url``, its graph drawn. No request may leave for anywhere but
    ``ALLOWED_OUTSIDE``; ``/api/version`` is answered here (the server would ask PyPI)."""
    outside = []

    def local_only(route):
        request_url = route.request.url
        if request_url.startswith(f"{url}/api/version"):
            return route.fulfill(json={"installed": "", "isOutdated": False, "latest": ""})
        if request_url.startswith(url):
            return route.continue_()
        outside.append(request_url)
        return route.abort()

    page = browser.new_page()
    try:
        page.route("**/*", local_only)
        page.goto(url)
        page.wait_for_selector(".pipeline-node", timeout=60_000)
        yield page
    finally:
        page.close()
    assert {urlparse(u).hostname for u in outside} <= ALLOWED_OUTSIDE, outside


def expanded(page: Page, chart: str) -> Locator:
    """``chart`` chosen in the node list, its preview expanded: the plot, full size."""
    page.locator(f'[data-test="node-list-tree-item--row--{chart}"]').click()
    page.get_by_text("Expand preview").click()
    plot = page.locator(".pipeline-metadata-modal .js-plotly-plot")
    expect(plot).to_be_visible()
    return plot


def texts(plot: Locator, selector: str) -> list[str]:
    """The non-empty texts of ``selector`` in ``plot`` (plotly leaves empty placeholders)."""
    return [t for t in plot.locator(selector).all_text_contents() if t]


@pytest.mark.server
@pytest.mark.browser
def test_browser_shows_the_folded_graph_and_every_chart_of_the_run(
    browser, site, iris_parallel, tmp_path
):
    kind, url = site
    metrics = iris_parallel.metrics
    models = [m["display_name"] for m in metrics["models"].values()]
    with viewing(browser, url) as page:
        labels = page.locator(".pipeline-node__text")
        for name in (*NAMESPACES, "build_metrics", "run_timeline"):
            expect(labels.filter(has_text=re.compile(f"^{name}$"))).to_be_visible()
        assert "fit_model" not in labels.all_text_contents()  # the branches are folded
        page.screenshot(path=tmp_path / "kedro-viz-graph.png")

        page.locator('[data-test="node-list-tree-item--row--run_timeline"]').click()
        preview = page.locator(".pipeline-metadata__preview .js-plotly-plot")
        expect(preview.locator(".gtitle")).to_contain_text("Training nodes under ParallelRunner")
        ticks = texts(preview, ".ytick")
        assert ticks and all(re.fullmatch(r"pid \d+", t) for t in ticks)  # a row per process
        # A trace per model (the preview draws no legend), a bar per training node.
        assert preview.locator(".barlayer .trace").count() == 2
        assert sorted(preview.locator(".bartext").all_text_contents()) == sorted(FIT_NODES * 2)
        page.screenshot(path=tmp_path / "kedro-viz-timeline.png")

        plot = expanded(page, "model_comparison")
        expect(plot.locator(".gtitle")).to_contain_text("Accuracy per model (higher is better)")
        expect(plot.locator(".legendtext")).to_have_text(
            [
                "CV accuracy (mean ± std over folds)",
                "CV accuracy of each fold",
                "held-out accuracy",
                "baseline (always 'setosa'), CV",
            ]
        )
        page.screenshot(path=tmp_path / "kedro-viz-comparison.png")
        page.get_by_role("button", name="Back", exact=True).click()

        plot = expanded(page, "confusion_matrix")
        expect(plot.locator(".gtitle")).to_have_text(
            "Confusion matrix per model on the held-out rows"
        )
        # A heatmap per model, titled with its name, every class a row and a column.
        expect(plot.locator(".annotation-text")).to_have_text(models)
        assert plot.locator(".heatmaplayer .hm").count() == len(models)
        assert texts(plot, ".xtitle, .x2title") == ["predicted class"] * len(models)
        assert texts(plot, ".ytitle, .y2title") == ["true class"] * len(models)
        classes = metrics["run"]["classes"]
        assert texts(plot, ".xtick") == classes
        assert sorted(texts(plot, ".ytick")) == sorted(classes)  # drawn top to bottom
        expect(plot.locator(".cbtitle")).to_have_text("rows")
        # Each cell a count: each model's add up to the held-out rows.
        counts = [int(t) for t in texts(plot, ".heatmap-label")]
        assert len(counts) == len(models) * len(classes) ** 2
        assert sum(counts) == len(models) * metrics["run"]["test_rows"]
        page.screenshot(path=tmp_path / "kedro-viz-confusion.png")
        page.get_by_role("button", name="Back", exact=True).click()

        plot = expanded(page, "feature_importance")
        expect(plot.locator(".gtitle")).to_contain_text(
            "What each model learned: how much worse its accuracy gets when a column is shuffled"
        )
        expect(plot.locator(".legendtext")).to_have_text(models)
        assert plot.locator(".barlayer .trace").count() == len(models)  # a trace per model
        # A group of bars per column of the table.
        assert sorted(texts(plot, ".ytick")) == sorted(metrics["run"]["feature_roles"]["numeric"])
        assert texts(plot, ".xtitle") == ["accuracy, worse by (permutation importance)"]
        assert texts(plot, ".ytitle") == ["column"]
        page.screenshot(path=tmp_path / "kedro-viz-importance.png")

    # `make screenshots` refreshes the documentation's pictures from one variant.
    if kind == "kedro viz run":
        for_the_docs(*tmp_path.glob("*.png"))


@pytest.fixture(scope="module")
def tuned(tuned_runs):
    """The shared tuned runs' project, ``kedro viz build --include-previews`` in it: its
    charts are those of the latest run (every runner's searches are the same)."""
    project = tuned_runs["SequentialRunner"].project
    run = project.kedro("viz", "build", "--include-previews")
    assert run.returncode == 0, run.output
    return project


def axes(letter: str, subplots: list[int], part: str) -> str:
    """The selector of a ``part`` (tick, title) of the ``letter`` axes of ``subplots``, numbered
    from 1 as plotly names them (``xtitle``, ``x3title``)."""
    return ", ".join(f".{letter}{k if k > 1 else ''}{part}" for k in subplots)


@pytest.mark.server
@pytest.mark.browser
def test_browser_shows_a_tuned_runs_hyperparameter_search(browser, tuned, tmp_path):
    metrics = tuned.metrics()[-1]
    tuning = metrics["run"]["tuning"]
    trained = metrics["models"].values()
    with (
        serving(STATIC, tuned.root / "build", tuned.env(), tmp_path / "server.log") as url,
        viewing(browser, url) as page,
    ):
        plot = expanded(page, "hyperparameter_search")
        expect(plot.locator(".gtitle")).to_have_text(
            f"Hyperparameter search: {tuning['trials']} trials per search, "
            f"{tuning['inner_folds']}-fold inner CV, every search of each model"
        )
        # A row per model: its trials by number, then what mattered (TUNED: by log loss).
        expect(plot.locator(".annotation-text")).to_have_text(
            [
                title
                for m in trained
                for title in (
                    f"{m['display_name']}: inner log loss per trial",
                    f"{m['display_name']}: what mattered (fANOVA, mean of its searches)",
                )
            ]
        )
        expect(plot.locator(".legendtext")).to_have_text(
            [f"{m['display_name']}: {what}" for m in trained for what in ("trials", "best so far")]
        )
        # Per model, every search's trials and best-so-far line (each outer fold's, then the
        # last one's), and a bar per hyperparameter searched.
        searches = [len(m["folds"]) + 1 for m in trained]
        assert plot.locator(".scatterlayer .trace").count() == 2 * sum(searches)
        assert plot.locator(".scatterlayer .point").count() == tuning["trials"] * sum(searches)
        assert plot.locator(".barlayer .trace").count() == len(trained)
        rows = range(len(trained))
        left = [2 * row + 1 for row in rows]  # the trials' subplots; the importances' beside
        assert sorted(texts(plot, axes("y", [k + 1 for k in left], "tick"))) == sorted(
            name for m in trained for name in m["search"]["best_params"]
        )
        assert texts(plot, axes("x", left, "title")) == ["trial"] * len(trained)
        assert texts(plot, axes("y", left, "title")) == ["inner-CV log loss"] * len(trained)
        page.screenshot(path=tmp_path / "kedro-viz-search.png")
    for_the_docs(tmp_path / "kedro-viz-search.png")
