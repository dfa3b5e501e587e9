"""The end of a run: the report a user reads, and the charts kedro-viz shows.

The charts are plotly figures as plain dicts, as ``go.Figure.to_plotly_json()``
gives them (``FigureDataset`` saves them): building a ``go.Figure`` validates
every property, and the first one a process makes imports IPython through
``plotly.offline``, 0.3 s in each worker of a 2 s run. The tests build a
``go.Figure`` from each, so that a property plotly does not know fails there.
"""

import logging
import statistics
from collections.abc import Sequence
from typing import Any

import pandas as pd

from parallel_trees.metrics import METRICS, PRINTED, Metric, chosen
from parallel_trees.pipelines.scoring.nodes import p_value_text
from parallel_trees.sources import title
from parallel_trees.tasks import REGRESSION

logger = logging.getLogger(__name__)

Figure = dict[str, Any]  # a plotly figure: {"data": [traces], "layout": {...}}

# Readable on kedro-viz's dark theme and on a light one.
GREY = "#9e9e9e"
# plotly's default colours (plotly.colors.qualitative.Plotly), as the other charts use
COLOURS = [
    "#636EFA", "#EF553B", "#00CC96", "#AB63FA", "#FFA15A",
    "#19D3F3", "#FF6692", "#B6E880", "#FF97FF", "#FECB52",
]  # fmt: skip
# plotly's "Blues" (plotly.colors.sequential.Blues), which plotly.js's differs from
BLUES = [
    [0.0, "rgb(247,251,255)"], [0.125, "rgb(222,235,247)"], [0.25, "rgb(198,219,239)"],
    [0.375, "rgb(158,202,225)"], [0.5, "rgb(107,174,214)"], [0.625, "rgb(66,146,198)"],
    [0.75, "rgb(33,113,181)"], [0.875, "rgb(8,81,156)"], [1.0, "rgb(8,48,107)"],
]  # fmt: skip
# Per-class results of the best model: at most this many classes, the worst recalls first.
CLASSES_SHOWN = 5
# The share of rows above which guessing the most frequent class makes accuracy misleading.
MAJORITY = 0.6


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _columns(rows: Sequence[tuple[str, ...]]) -> list[str]:
    """Rows of cells as lines of aligned columns (the last column unpadded)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return ["  ".join([*map(str.ljust, row[:-1], widths), row[-1]]) for row in rows]


def _capital(text: str) -> str:
    """``text`` with its first letter a capital, the rest as it is (ROC AUC, log loss)."""
    return text[:1].upper() + text[1:]


def _metric(metrics: dict[str, Any]) -> Metric:
    yardstick = metrics["run"]["yardstick"]
    return chosen(yardstick["metric"], yardstick["task"])


def format_report(metrics: dict[str, Any]) -> str:
    """The run's results as a user reads them: the scores, the panel, the verdicts, the best
    model's results by class, the ranking.

    Args:
        metrics: The run's record (``build_metrics``).

    Returns:
        Plain text, one fact a line.
    """
    run, metric = metrics["run"], _metric(metrics)
    judged = [*metrics["models"].values(), *([metrics["baseline"]] if metrics["baseline"] else [])]
    table = title(run["data_source"]) if run.get("data_source") else run["dataset"]
    repeats = run.get("cv_repeats", 1)
    cv = f"{run['cv_folds']}-fold CV" + (f" repeated {repeats} times" if repeats > 1 else "")
    lines = [
        f"{_capital(metric.title)} on {table} ({cv} on {run['train_rows']} "
        f"training rows; {run['test_rows']} held-out rows; {metric.direction}):",
        *_columns(
            [("model", f"CV {metric.title} (mean ± std over folds)", "held out")]
            + [
                (m["display_name"], f"{_fmt(m['cv_mean'])} ± {_fmt(m['cv_std'])}")
                + (_fmt(m["test_score"]),)
                for m in judged
            ]
        ),
    ]
    # The tutorial's lines, without its misleading '%': accuracy is a fraction.
    for m in metrics["models"].values():
        mean, std = round(m["cv_mean"], 3), round(m["cv_std"], 3)
        lines.append(f"{m['display_name']} Model {_capital(metric.title)}: {mean} ± {std}")
    lines += [f"Left out of this run: {why}." for why in run.get("left_out", {}).values()]
    lines += _panel_lines(metrics, judged)
    lines += _baseline_note(metrics, metric)
    comparison = metrics["comparison"]
    for record in comparison["comparisons"]:
        lines.append(record["cv"]["verdict"])
        if record["held_out"]:
            lines.append(f"  {record['held_out']['verdict']}")
    lines += _best_lines(metrics, metric)
    lines.append(
        f"Ranking by CV {metric.title} ({metric.direction}; Holm-adjusted p, significance "
        f"level {comparison['significance_level']}):"
    )
    lines += _columns([_ranking_row(r, metrics) for r in metrics["ranking"]])
    return "\n".join(lines + _tuning_lines(metrics)) + "\n"


def _panel_lines(metrics: dict[str, Any], judged: list[dict[str, Any]]) -> list[str]:
    """Every printed metric of each model on the held-out rows; nothing when none were."""
    if not metrics["run"]["test_rows"]:
        return []
    yardstick = metrics["run"]["yardstick"]
    printed = PRINTED[yardstick["task"]]
    header = ("model", *(METRICS[name].label for name in printed))
    rows = [(m["display_name"], *(_fmt(m["test_panel"][name]) for name in printed)) for m in judged]
    if yardstick["task"] == REGRESSION:
        return [
            "Every metric, held out (on the folds too: metrics.json):",
            *_columns([header, *rows]),
        ]
    if yardstick["positive_class"] is not None:
        about = f"of the positive class {yardstick['positive_class']!r} (positive_class)"
    else:
        about = f"the mean over the {yardstick['classes']} classes"
    return [
        f"Every metric, held out (on the folds too: metrics.json); f1 is {about}:",
        *_columns([header, *rows]),
    ]


def _baseline_note(metrics: dict[str, Any], metric: Metric) -> list[str]:
    """When accuracy, not chosen, rewards guessing the most frequent class: one line saying so."""
    baseline, yardstick = metrics["baseline"], metrics["run"]["yardstick"]
    if not baseline or yardstick["chosen"] or metric.name != "accuracy":
        return []
    share = baseline["cv_mean"]
    if share < MAJORITY:
        return []
    return [
        f"Always guessing {yardstick['majority']!r} scores {share:.2f} accuracy on its own: "
        "accuracy can rank models that learned nothing. Judge them on every class with "
        "--params metric=balanced_accuracy (or metric=roc_auc)."
    ]


def _best_lines(metrics: dict[str, Any], metric: Metric) -> list[str]:
    """Which model is chosen, and why; its held-out score as the estimate for new rows;
    its results by class."""
    best = metrics["models"][metrics["best"]]
    entry = next(r for r in metrics["ranking"] if r["model"] == metrics["best"])
    why = "the best by CV " + metric.title
    if entry["tied"]:
        why += ", the first in the registry of the models tied at the top"
    lines = [f"Chosen: {best['display_name']}, {why} (predict uses it)."]
    if best["test_score"] is not None:
        lines[0] = lines[0][:-1] + (
            f"; its held-out {metric.title}, {_fmt(best['test_score'])} on "
            f"{metrics['run']['test_rows']} rows, estimates how it does on new rows."
        )
    beaten = [r for r in metrics["ranking"] if r["beats_baseline"]]
    if metrics["baseline"] and not beaten:
        guess = metrics["run"]["yardstick"]["guess"]
        lines.append(f"No model is significantly better than always guessing {guess}.")
    if best["per_class"]:
        classes = sorted(best["per_class"], key=lambda c: c["recall"])
        shown = classes if len(classes) <= CLASSES_SHOWN else classes[:CLASSES_SHOWN]
        if len(shown) == len(classes):
            shown = best["per_class"]
        lines.append(
            f"{best['display_name']}, held out, by class (recall: the share of its rows found):"
        )
        lines += [
            f"  {line}"
            for line in _columns(
                [("class", "precision", "recall", "rows")]
                + [
                    (str(c["class"]), _fmt(c["precision"]), _fmt(c["recall"]), str(c["support"]))
                    for c in shown
                ]
            )
        ]
        if len(shown) < len(classes):
            lines.append(
                f"  (the {len(shown)} worst recalls; {len(classes) - len(shown)} more classes "
                "in metrics.json)"
            )
    return lines


def _ranking_row(entry: dict[str, Any], metrics: dict[str, Any]) -> tuple[str, ...]:
    place = f"{entry['rank']}{'=' if entry['tied'] else '.'} {entry['display_name']}"
    standing = entry["versus_best"]
    if standing == "baseline":
        text = f"the baseline: always {metrics['run']['yardstick']['guess']}"
    elif standing == "best":
        text = "best (tied: the first in the registry)" if entry["tied"] else "best"
    else:
        p = p_value_text(entry["p_adjusted_vs_best"])
        text = (
            f"{'significantly' if standing == 'worse' else 'not significantly'} worse than "
            f"the best (p = {p})"
        )
    if entry["beats_baseline"] is False:
        text += "; no better than the baseline"
    return place, f"{entry['cv_mean']:.3f}", text


def _tuning_lines(metrics: dict[str, Any]) -> list[str]:
    """When the run tuned: each tuned model's best setting per outer fold, and whether
    tuning changed the verdict. Nothing when it did not tune."""
    untuned = metrics["comparison"].get("untuned")
    if not untuned:
        return []
    tuning = metrics["run"]["tuning"]
    lines = [
        f"Tuning by nested CV ({tuning['trials']} trials per search, {tuning['inner_folds']}-fold "
        "inner CV), each outer fold's best setting:",
        "(best inner: the search's own score, optimistic; saved: a last search on all rows)",
    ]
    for model in metrics["models"].values():
        if model.get("search"):
            lines.append(f"{model['display_name']}:")
            table = _search_table(model, _metric(metrics).label)
            lines += [f"  {line}".rstrip() for line in _columns(table)]
    return [*lines, untuned["verdict"]]


def _search_table(model: dict[str, Any], label: str) -> list[tuple[str, ...]]:
    """A tuned model's searches as rows: each outer fold's, their mean, the saved model's."""
    folds, last = model["folds"], model["search"]
    names = list(dict.fromkeys(n for s in [*folds, last] for n in s["best_params"]))

    def setting(params: dict[str, Any]) -> tuple[str, ...]:
        return tuple(_param_text(params[n]) if n in params else "-" for n in names)

    def mean(key: str) -> str:
        return _fmt(sum(f[key] for f in folds) / len(folds))

    return [
        ("fold", label, "untuned", "best inner", *names),
        *(
            (
                str(f["fold"] + 1),
                _fmt(f["score"]),
                _fmt(f["untuned_score"]),
                _fmt(f["best_inner_score"]),
                *setting(f["best_params"]),
            )
            for f in folds
        ),
        (
            "mean",
            mean("score"),
            mean("untuned_score"),
            mean("best_inner_score"),
            *[""] * len(names),
        ),
        ("saved", "-", "-", _fmt(last["best_score"]), *setting(last["best_params"])),
    ]


def _param_text(value: Any) -> str:
    """A hyperparameter's value, short: three significant digits for a real number."""
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def report_results(metrics: dict[str, Any]) -> str:
    """Print the run's report (the ``parallel_trees`` logger), and return it to be saved.

    Args:
        metrics: The run's record.

    Returns:
        The report (``report.txt``).
    """
    report = format_report(metrics)
    logger.info("%s", report.rstrip("\n"))
    return report


def _title(text: str) -> dict[str, str]:
    return {"text": text}


def subplots(
    rows: int,
    cols: int,
    titles: list[str],
    horizontal_spacing: float,
    column_widths: list[float] | None = None,
) -> dict[str, Any]:
    """The layout of a grid of subplots, as ``plotly.subplots.make_subplots`` makes it.

    Subplot ``k`` (row by row, from 1 at the top left) draws on axes ``xaxis{k}`` and
    ``yaxis{k}`` (``xaxis``, ``yaxis`` for the first), its title above it; a trace
    goes to it with ``"xaxis": "x{k}", "yaxis": "y{k}"`` (``subplot_axes``).
    """
    # make_subplots' arithmetic, step by step, so that the domains are the same floats.
    free = 1.0 - horizontal_spacing * (cols - 1)
    if column_widths is None:
        widths = [free / cols] * cols
    else:
        widths = [free * (w / float(sum(column_widths))) for w in column_widths]
    vertical_spacing = 0.5 / rows  # make_subplots' default for titled subplots
    heights = [(1.0 - vertical_spacing * (rows - 1)) / rows] * rows
    layout: dict[str, Any] = {}
    annotations = []
    for row in range(rows):
        below = rows - 1 - row  # rows under this one
        bottom = sum(heights[:below]) + below * vertical_spacing
        y_domain = [bottom, bottom + heights[below]]
        for col in range(cols):
            k = row * cols + col + 1
            left = sum(widths[:col]) + col * horizontal_spacing
            x_domain = [left, left + widths[col]]
            x, y = subplot_axes(k)
            layout[_axis("x", k)] = {"anchor": y, "domain": x_domain}
            layout[_axis("y", k)] = {"anchor": x, "domain": y_domain}
            if k <= len(titles):
                annotations.append(
                    {
                        "font": {"size": 16},
                        "showarrow": False,
                        "text": titles[k - 1],
                        "x": sum(x_domain) / 2.0,
                        "xanchor": "center",
                        "xref": "paper",
                        "y": y_domain[1],
                        "yanchor": "bottom",
                        "yref": "paper",
                    }
                )
    layout["annotations"] = annotations
    return layout


def subplot_axes(k: int) -> tuple[str, str]:
    """The x and y axes of subplot ``k`` (1: the first), as a trace names them."""
    suffix = str(k) if k > 1 else ""
    return f"x{suffix}", f"y{suffix}"


def _axis(letter: str, k: int) -> str:
    """The layout key of subplot ``k``'s x or y axis: ``xaxis``, ``xaxis2``, ..."""
    return f"{letter}axis{k if k > 1 else ''}"


def plot_model_comparison(
    scores: dict[str, Any], comparison: dict[str, Any], yardstick: dict[str, Any]
) -> Figure:
    """Per model: the run's metric on CV (mean, std error bar, each fold) beside held out,
    and the baseline as a line across.

    Args:
        scores: Each model's scores (``score_models``), the baseline's last.
        comparison: The paired tests (``compare_models``).
        yardstick: The run's metric.

    Returns:
        A grouped bar chart with one group per model; under its title, each comparison's
        verdict; the baseline's CV mean as a dashed line.
    """
    metric = chosen(yardstick["metric"], yardstick["task"])
    models = [m for m in scores.values() if not m["baseline"]]
    baseline = next((m for m in scores.values() if m["baseline"]), None)
    verdicts = [record["cv"]["verdict"] for record in comparison["comparisons"]]
    names = [m["display_name"] for m in models]
    folds = [(m["display_name"], score) for m in models for score in m["cv_scores"]]
    data = [
        {
            "type": "bar",
            "name": f"CV {metric.title} (mean ± std over folds)",
            "x": names,
            "y": [m["cv_mean"] for m in models],
            "error_y": {
                "type": "data",
                "array": [m["cv_std"] for m in models],
                "color": GREY,
                "thickness": 2,
            },
            "offsetgroup": "cv",
        },
        {
            "type": "scatter",
            "name": f"CV {metric.title} of each fold",
            "x": [name for name, _ in folds],
            "y": [score for _, score in folds],
            "mode": "markers",
            "marker": {"color": GREY, "size": 9, "line": {"color": "white", "width": 1}},
            "offsetgroup": "cv",
        },
        {
            "type": "bar",
            "name": f"held-out {metric.title}",
            "x": names,
            # None leaves a gap: no test score when test_size is 0.
            "y": [m["test_score"] for m in models],
            "offsetgroup": "test",
        },
    ]
    if baseline is not None:
        data.append(
            {
                "type": "scatter",
                "name": f"baseline (always {yardstick['guess']}), CV",
                "x": names,
                "y": [baseline["cv_mean"]] * len(names),
                "mode": "lines",
                "line": {"color": GREY, "dash": "dash", "width": 2},
            }
        )
    bounded = (
        {}
        if metric.worst is None or metric.best is None
        else {"range": [metric.worst, metric.best + 0.05]}
    )
    layout = {
        "title": _title(
            f"{_capital(metric.title)} per model ({metric.direction}): "
            "cross-validation vs held-out rows"
            + "".join(f"<br><sup>{verdict}</sup>" for verdict in verdicts)
        ),
        "barmode": "group",
        "scattermode": "group",
        "xaxis": {"title": _title("model")},
        "yaxis": {"title": _title(metric.title)} | bounded,
        "legend": {"orientation": "h", "y": -0.2},
    }
    return {"data": data, "layout": layout}


def concurrent_seconds(intervals: list[tuple[float, float]]) -> float:
    """Seconds during which at least two of ``(start, end)`` intervals ran at once."""
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    total, running, since = 0.0, 0, 0.0
    for time, step in events:
        if running > 1:
            total += time - since
        running, since = running + step, time
    return total


def plot_run_timeline(run_context: dict[str, Any], **trainings: dict[str, Any]) -> Figure:
    """A Gantt chart of the training nodes: which process ran each, and when.

    Args:
        run_context: The run's context (its ``runner`` and ``cores`` are in the title).
        **trainings: Each model's training record, by model name; its ``timing``
            holds a span per training node: ``node``, ``pid``, ``started_at`` and
            ``finished_at`` (Unix seconds), ``cpu_seconds``.

    Returns:
        One row per process, one bar per node (a colour per model), in seconds
        since the first training node started; titled with the runner, how long
        two or more nodes ran at once, and the share of the cores busy training.
    """
    spans = [s for t in trainings.values() for s in t["timing"]]
    zero = min(s["started_at"] for s in spans)
    wall = max(s["finished_at"] for s in spans) - zero
    overlap = concurrent_seconds([(s["started_at"], s["finished_at"]) for s in spans])
    busy = sum(s["cpu_seconds"] for s in spans) / (run_context["cores"] * wall) if wall else 0.0
    verdict = f"two or more at once for {overlap:.2f} s" if overlap > 0 else "one after the other"
    data = [
        {
            "type": "bar",
            "name": training["display_name"],
            "orientation": "h",
            "y": [f"pid {s['pid']}" for s in training["timing"]],
            "base": [s["started_at"] - zero for s in training["timing"]],
            "x": [s["finished_at"] - s["started_at"] for s in training["timing"]],
            "text": [s["node"] for s in training["timing"]],
            "textposition": "inside",
            "customdata": [s["finished_at"] - zero for s in training["timing"]],
            "hovertemplate": (
                f"{training['display_name']} %{{text}}: "
                "%{base:.2f} s to %{customdata:.2f} s<extra></extra>"
            ),
        }
        for training in trainings.values()
    ]
    layout = {
        "title": _title(
            f"Training nodes under {run_context['runner']}: {verdict};<br>"
            f"{busy:.0%} of {run_context['cores']} core(s) busy training, over {wall:.1f} s"
        ),
        "barmode": "overlay",
        "xaxis": {
            "title": _title("seconds since the first training node started"),
            "rangemode": "tozero",
        },
        "yaxis": {"title": _title("process"), "autorange": "reversed"},
    }
    return {"data": data, "layout": layout}


def plot_confusion_matrices(
    test_predictions: pd.DataFrame, classes: list, scores: dict[str, Any]
) -> Figure:
    """One confusion matrix per model on the held-out rows; of a regression (no
    ``classes``), each model's predictions against the true numbers, and its residuals.

    Args:
        test_predictions: The true labels, then one column of predicted
            labels per model name, one row per held-out row.
        classes: The class names, every one a row and a column of each matrix.
        scores: Each model's scores, for its display name.

    Returns:
        One heatmap per model (rows: true class, columns: predicted class,
        cells: counts), or ``plot_prediction_errors``' chart; a chart saying why it
        is empty when no rows were held out (``test_size: 0``).
    """
    models = {name: m for name, m in scores.items() if not m["baseline"]}
    if test_predictions.empty:
        kind = "Confusion matrices" if classes else "Predicted against true"
        title = f"{kind}: no held-out rows (test_size is 0)"
        return {"data": [], "layout": {"title": _title(title)}}
    if not classes:
        return plot_prediction_errors(test_predictions, models)
    layout = subplots(
        rows=1,
        cols=len(models),
        titles=[m["display_name"] for m in models.values()],
        horizontal_spacing=0.12,
    )
    # Every class of the dataset, in its order, even one the held-out rows lack.
    labels = classes
    text_labels = [str(label) for label in labels]
    data = []
    for k, model in enumerate(models, start=1):
        counts = pd.crosstab(test_predictions.iloc[:, 0], test_predictions[model]).reindex(
            index=labels, columns=labels, fill_value=0
        )
        x, y = subplot_axes(k)
        data.append(
            {
                "type": "heatmap",
                "z": counts.to_numpy().tolist(),
                "x": text_labels,
                "y": text_labels,
                "text": counts.to_numpy().tolist(),
                "texttemplate": "%{text}",
                "coloraxis": "coloraxis",
                "hovertemplate": "true %{y}, predicted %{x}: %{z}<extra></extra>",
                "xaxis": x,
                "yaxis": y,
            }
        )
        layout[_axis("x", k)] |= {
            "title": _title("predicted class"),
            "type": "category",
        }
        layout[_axis("y", k)] |= {
            "title": _title("true class"),
            "type": "category",
            "autorange": "reversed",
        }
    layout |= {
        "title": _title("Confusion matrix per model on the held-out rows"),
        "coloraxis": {"colorscale": BLUES, "colorbar": {"title": _title("rows")}},
    }
    return {"data": data, "layout": layout}


def plot_prediction_errors(test_predictions: pd.DataFrame, models: dict[str, Any]) -> Figure:
    """Per model, on the held-out rows of a regression: its prediction against the true
    number (on the diagonal: exact), and its residual (prediction - true) against the
    prediction (around 0: no bias; a funnel: errors that grow with the value).

    Args:
        test_predictions: The true numbers, then one column of predictions per model name.
        models: Each model's scores, for its display name (not the baseline's).

    Returns:
        Two rows of scatter plots, one column per model.
    """
    truth = test_predictions.iloc[:, 0]
    names = [m["display_name"] for m in models.values()]
    layout = subplots(
        rows=2,
        cols=len(models),
        titles=[f"{n}: predicted against true" for n in names] + [f"{n}: residuals" for n in names],
        horizontal_spacing=0.12,
    )
    low, high = float(truth.min()), float(truth.max())
    data = []
    for k, model in enumerate(models, start=1):
        predicted = test_predictions[model]
        x, y = subplot_axes(k)
        data += [
            {
                "type": "scatter",
                "mode": "markers",
                "name": names[k - 1],
                "x": truth.tolist(),
                "y": predicted.tolist(),
                "marker": {"size": 6, "opacity": 0.6},
                "hovertemplate": "true %{x}, predicted %{y}<extra></extra>",
                "showlegend": False,
                "xaxis": x,
                "yaxis": y,
            },
            {
                "type": "scatter",
                "mode": "lines",
                "x": [low, high],
                "y": [low, high],
                "line": {"color": GREY, "dash": "dash"},
                "hoverinfo": "skip",
                "showlegend": False,
                "xaxis": x,
                "yaxis": y,
            },
        ]
        layout[_axis("x", k)] |= {"title": _title("true")}
        layout[_axis("y", k)] |= {"title": _title("predicted")}
        below = k + len(models)
        x, y = subplot_axes(below)
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": names[k - 1],
                "x": predicted.tolist(),
                "y": (predicted - truth).tolist(),
                "marker": {"size": 6, "opacity": 0.6},
                "hovertemplate": "predicted %{x}, residual %{y}<extra></extra>",
                "showlegend": False,
                "xaxis": x,
                "yaxis": y,
            }
        )
        layout[_axis("x", below)] |= {"title": _title("predicted")}
        layout[_axis("y", below)] |= {
            "title": _title("residual (predicted - true)"),
            "zeroline": True,
        }
    layout["title"] = _title(
        "Predicted against true, and residuals, per model on the held-out rows"
    )
    return {"data": data, "layout": layout}


def plot_feature_importance(scores: dict[str, Any], **importances: dict[str, Any]) -> Figure:
    """Per model, how much worse its score gets, by the run's metric, when each column of
    the table is shuffled.

    Args:
        scores: Each model's scores, for its display name.
        **importances: Each model's ``explain_model`` record, by model name.

    Returns:
        Horizontal bars, one group per column (the most important on top),
        one bar per model with the std over shuffles as its error bar.
    """
    importances = {m: r for m, r in importances.items() if m in scores}  # none left out
    records = list(importances.values())
    total = pd.DataFrame(
        {m: {c: v["mean"] for c, v in r["columns"].items()} for m, r in importances.items()}
    )
    columns = total.sum(axis=1).sort_values().index.tolist()
    data = [
        {
            "type": "bar",
            "name": scores[model]["display_name"],
            "orientation": "h",
            "y": columns,
            "x": [record["columns"][c]["mean"] for c in columns],
            "error_x": {
                "type": "data",
                "array": [record["columns"][c]["std"] for c in columns],
                "color": GREY,
            },
        }
        for model, record in importances.items()
    ]
    title = METRICS[records[0]["metric"]].title if records else "score"
    layout = {
        "title": _title(
            f"What each model learned: how much worse its {title} gets when a column is "
            f"shuffled<br><sup>{_importance_precision(records)}</sup>"
        ),
        "barmode": "group",
        "xaxis": {"title": _title(f"{title}, worse by (permutation importance)")},
        "yaxis": {"title": _title("column"), "type": "category"},
        "legend": {"orientation": "h", "y": -0.2},
        "height": max(400, 60 + 40 * len(columns) * max(1, len(records)) // 2),
    }
    return {"data": data, "layout": layout}


def _importance_precision(records: list[dict[str, Any]]) -> str:
    """On how many rows the importances were measured, and how precise they are: the std
    over shuffles that the error bars draw (the median over models and columns)."""
    if not records:
        return "no model measured"
    first = records[0]
    rows, measured, out_of = first["rows"], first["measured_on"], first["out_of"]
    how = {"stratified": ", a sample stratified by class", "random": ", a random sample"}
    on = (
        f"on all {out_of:,} {rows} rows"
        if measured == out_of
        else f"on {measured:,} of {out_of:,} {rows} rows{how.get(first['sample'], '')}"
    )
    stds = [v["std"] for record in records for v in record["columns"].values()]
    typical = f", median {statistics.median(stds):.2g}" if stds else ""
    return f"{on}; error bars: ± 1 std over {first['repeats']} shuffles{typical}"


def _searches(training: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """A tuned model's searches, labelled: each outer fold's, then the last one (all rows)."""
    folds = [(f"outer fold {f['fold'] + 1}", f) for f in training["folds"]]
    return [*folds, ("all training rows", training["search"])]


def _best_so_far(trials: list[dict[str, Any]], metric: Metric) -> list[float | None]:
    """The best score of the complete trials up to each trial (a pruned one's is partial)."""
    best, line = None, []
    for trial in trials:
        if trial["state"] == "complete" and (best is None or metric.better(trial["score"], best)):
            best = trial["score"]
        line.append(best)
    return line


def plot_hyperparameter_search(
    tuning: dict[str, Any], yardstick: dict[str, Any], **trainings: dict[str, Any]
) -> Figure:
    """Per tuned model: the inner score of every trial of its searches, and what mattered.

    Args:
        tuning: ``trials`` per search (0: no tuning) and ``inner_folds``.
        yardstick: The run's metric, which the searches optimise.
        **trainings: Each model's training record, by model name: its ``folds``' searches
            and its last ``search`` (``trials``: ``params``, ``score``, ``state``;
            ``importance``: each parameter's share, Optuna's fANOVA).

    Returns:
        One row per tuned model: on the left, the inner-CV metric against trial number,
        every search's trials as points (a cross when pruned: its score is partial)
        and its best-so-far line; on the right, each parameter's importance, its mean
        over the searches (the bar) and their spread (the error bar). An empty chart
        that says why when nothing was tuned.
    """
    metric = chosen(yardstick["metric"], yardstick["task"])
    tuned = {name: t for name, t in trainings.items() if t.get("search")}
    if not tuned:
        reason = "no model has a search space" if tuning["trials"] else "tuning.trials is 0"
        return {"data": [], "layout": {"title": _title(f"Hyperparameter search: none ({reason})")}}
    layout = subplots(
        rows=len(tuned),
        cols=2,
        column_widths=[0.65, 0.35],
        horizontal_spacing=0.15,
        titles=[
            title
            for t in tuned.values()
            for title in (
                f"{t['display_name']}: inner {metric.title} per trial",
                f"{t['display_name']}: what mattered (fANOVA, mean of its searches)",
            )
        ],
    )
    data = []
    for row, (name, training) in enumerate(tuned.items()):
        colour = COLOURS[row % len(COLOURS)]
        trials_k, importance_k = 2 * row + 1, 2 * row + 2  # its subplots, left and right
        x, y = subplot_axes(trials_k)
        for i, (label, found) in enumerate(_searches(training)):
            trials = found["trials"]
            numbers = list(range(1, len(trials) + 1))
            data.append(
                {
                    "type": "scatter",
                    "name": f"{training['display_name']}: trials",
                    "legendgroup": name,
                    "showlegend": i == 0,
                    "x": numbers,
                    "y": [t["score"] for t in trials],
                    "mode": "markers",
                    "marker": {
                        "color": colour,
                        "opacity": 0.6,
                        "symbol": ["circle" if t["state"] == "complete" else "x" for t in trials],
                    },
                    "text": [
                        f"{label}, {t['state']}: {_setting_text(t['params'])}" for t in trials
                    ],
                    "hovertemplate": "trial %{x}, %{text}: %{y:.3f}<extra></extra>",
                    "xaxis": x,
                    "yaxis": y,
                }
            )
            data.append(
                {
                    "type": "scatter",
                    "name": f"{training['display_name']}: best so far",
                    "legendgroup": name,
                    "showlegend": i == 0,
                    "x": numbers,
                    "y": _best_so_far(trials, metric),
                    "mode": "lines",
                    "line": {"color": colour, "shape": "hv", "width": 1.5},
                    "hovertemplate": (
                        f"{label}, best after trial %{{x}}: %{{y:.3f}}<extra></extra>"
                    ),
                    "xaxis": x,
                    "yaxis": y,
                }
            )
        shares = pd.DataFrame([found["importance"] for _, found in _searches(training)])
        order = shares.mean().sort_values().index.tolist()  # the largest on top
        x, y = subplot_axes(importance_k)
        data.append(
            {
                "type": "bar",
                "name": f"{training['display_name']}: importance",
                "legendgroup": name,
                "showlegend": False,
                "orientation": "h",
                "y": order,
                "x": [float(shares[p].mean()) for p in order],
                "error_x": {
                    "type": "data",
                    "array": [float(shares[p].std(ddof=0)) for p in order],
                    "color": GREY,
                },
                "marker": {"color": colour},
                "hovertemplate": "%{y}: %{x:.0%} of the score's variance<extra></extra>",
                "xaxis": x,
                "yaxis": y,
            }
        )
        layout[_axis("x", trials_k)]["title"] = _title("trial")
        layout[_axis("y", trials_k)]["title"] = _title(f"inner-CV {metric.title}")
        layout[_axis("x", importance_k)] |= {
            "title": _title("share of importance"),
            "tickformat": ".0%",
        }
    layout |= {
        "title": _title(
            f"Hyperparameter search: {tuning['trials']} trials per search, "
            f"{tuning['inner_folds']}-fold inner CV, every search of each model"
        ),
        "legend": {"orientation": "h", "y": -0.15},
        "height": max(450, 350 * len(tuned)),
    }
    return {"data": data, "layout": layout}


def _setting_text(params: dict[str, Any]) -> str:
    return ", ".join(f"{name}={_param_text(value)}" for name, value in params.items())
