"""Drawing a `rsx.compare.Comparison`: one PNG figure and one self-contained HTML page.

The figure has a row per model: its learning curves (validation loss solid, training loss
dashed, per epoch), a bar per run of its main metric (best on top) and, in the same order,
each run's training throughput with its backend. Runs are ranked by the validation main
metric (`val_rmse`), its test value written beside it. Each run keeps one colour in every
panel. The page holds the table, the figure (embedded) and the data it was drawn from
(`<script id="rsx-comparison">`).
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    from rsx.compare import Comparison, RunRow

_LABEL_CHARS = 48


def _label(run: "RunRow") -> str:
    text = run.name if len(run.name) <= _LABEL_CHARS else run.name[: _LABEL_CHARS - 1] + "…"
    return text + (" (reused)" if run.skipped else "")


def render_png(comparison: "Comparison", path: Path) -> None:
    """Draws the comparison figure into `path` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")  # No display: files only.
    import matplotlib.pyplot as plt

    runs = comparison.runs
    models = comparison.models()
    palette = plt.get_cmap("tab10" if len(runs) <= 10 else "tab20")
    colour = {run.run_id: palette(i % palette.N) for i, run in enumerate(runs)}
    by_model = {m: [r for r in runs if r.model == m] for m in models}

    heights = [max(3.4, 0.42 * len(by_model[m]) + 1.8) for m in models]
    mosaic = [[f"curve:{m}", f"metric:{m}", f"speed:{m}"] for m in models]
    fig, axes = plt.subplot_mosaic(
        mosaic, figsize=(15, sum(heights)), height_ratios=heights, width_ratios=[1.1, 1, 0.8],
        layout="constrained",
    )
    for model in models:
        _curves(axes[f"curve:{model}"], model, by_model[model], colour)
        _bars(axes[f"metric:{model}"], axes[f"speed:{model}"], model, by_model[model], colour)
    fig.suptitle(comparison.title, fontsize=13, fontweight="bold")
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _curves(ax, model: str, runs: Sequence["RunRow"], colour) -> None:
    epochs_seen = set()
    for run in runs:
        for key, style in (("val_loss", "-"), ("loss", "--")):
            points = run.curves.get(key)
            if not points:
                continue
            epochs, values = zip(*points)
            epochs_seen.update(epochs)
            ax.plot(epochs, values, style, marker="o", markersize=4, color=colour[run.run_id],
                    label=_label(run) if key == "val_loss" or "val_loss" not in run.curves else None)
    ax.set_title(f"{model}: learning curves\n(solid: validation loss, dashed: training loss)", fontsize=10)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.grid(alpha=0.3)
    if not epochs_seen:
        ax.text(0.5, 0.5, "no per-epoch losses recorded", ha="center", va="center", transform=ax.transAxes)
        return
    if len(epochs_seen) <= 12:
        ax.set_xticks(sorted(epochs_seen))
    if len(runs) <= 12:
        ax.legend(fontsize=8, loc="best")


def _bars(metric_ax, speed_ax, model: str, runs: Sequence["RunRow"], colour) -> None:
    """The model's main metric per run (best on top) and, beside it, the same runs' throughput."""
    scored = [r for r in runs if r.value is not None]
    if not scored:
        for ax in (metric_ax, speed_ax):
            ax.text(0.5, 0.5, "no finished run", ha="center", va="center", transform=ax.transAxes)
            ax.set_axis_off()
        return
    greater = scored[0].greater_is_better
    scored.sort(key=lambda r: -r.value if greater else r.value)
    rows = range(len(scored))
    colours = [colour[r.run_id] for r in scored]

    values = [r.value for r in scored]
    bars = metric_ax.barh(rows, values, color=colours)
    metric_ax.set_yticks(rows, [_label(r) for r in scored], fontsize=8)
    metric_ax.invert_yaxis()
    # The test value beside the validation one that ranks: looked at, never chosen by.
    labels = [f"{r.value:.4f}" + (f" (test {r.test_value:.4f})" if r.test_value is not None else "")
              for r in scored]
    metric_ax.bar_label(bars, labels=labels, padding=3, fontsize=8)
    metric_ax.set_xlim(0, (max(values) * 1.45) or 1)
    better = "higher" if greater else "lower"
    metric_ax.set_title(f"{model}: {scored[0].main_metric}\n({better} is better; best on top)", fontsize=10)
    metric_ax.grid(axis="x", alpha=0.3)

    speeds = [r.examples_per_second or 0.0 for r in scored]
    bars = speed_ax.barh(rows, speeds, color=colours)
    speed_ax.set_yticks(rows, [f"{r.backend} ({r.keras_backend})" for r in scored], fontsize=8)
    speed_ax.invert_yaxis()
    speed_ax.bar_label(bars, labels=[f"{v:,.0f}" if v else "-" for v in speeds], padding=3, fontsize=8)
    speed_ax.set_xlim(0, (max(speeds) * 1.25) or 1)
    speed_ax.set_title("training throughput, examples/s\n(median epoch after the first)", fontsize=10)
    speed_ax.grid(axis="x", alpha=0.3)


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0 2em; font-size: 14px; }
th, td { border-bottom: 1px solid #ddd; padding: 4px 10px; text-align: left; }
th { background: #f4f4f4; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
img { max-width: 100%; border: 1px solid #eee; }
.meta { color: #666; font-size: 13px; }
"""


def render_html(comparison: "Comparison", png: bytes, rows: Sequence[Sequence[str]]) -> str:
    """One self-contained page: the table, the embedded figure, and the data as JSON."""
    header, body = rows[0], rows[1:]
    numeric = {"examples/s", "wall time"}
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    lines = []
    for row in body:
        cells = "".join(
            f'<td class="num">{html.escape(c)}</td>' if h in numeric else f"<td>{html.escape(c)}</td>"
            for h, c in zip(header, row)
        )
        lines.append(f"<tr>{cells}</tr>")
    source = ", ".join(f"{k}: {v}" for k, v in comparison.source.items() if v)
    data = json.dumps(json.loads(comparison.to_json()), indent=1).replace("</", "<\\/")
    image = base64.b64encode(png).decode()
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(comparison.title)}</title>
<style>{_STYLE}</style></head>
<body>
<h1>{html.escape(comparison.title)}</h1>
<p class="meta">{html.escape(source)}</p>
<table><thead><tr>{head}</tr></thead><tbody>
{chr(10).join(lines)}
</tbody></table>
<img alt="learning curves, main metric and throughput per run" src="data:image/png;base64,{image}">
<script type="application/json" id="rsx-comparison">{data}</script>
</body></html>
"""
