"""A run's outputs: the results folder (`prepare_out_dir`, by default `default_out_dir`, the
rule of `qvr.run.contract.results_dir`), ``summary.json`` and the curve of the kind's metric,
``loss.png`` or ``log_joint.png`` (`write_results`, `plot`), and the posterior as the ``result`` event carries it (`compact_posterior`).
"""
from __future__ import annotations

import json
import math
from pathlib import Path

from .contract import RunError, results_dir


def default_out_dir(path: Path, entry: str, kind: str) -> Path:
    """``runs/<entry>-<kind>-<UTC time>`` next to FILE, with ``-2``, ``-3``... for runs started
    in the same second (the language server names its folders by the same rule)."""
    return results_dir(path.resolve().parent, entry, kind)


def prepare_out_dir(out, path: Path, entry: str, kind: str) -> Path:
    """Create the output folder and prove it writable (a probe file) before the run starts."""
    import tempfile

    d = Path(out) if out else default_out_dir(path, entry, kind)
    try:
        d.mkdir(parents=True, exist_ok=True)
        # mkdir succeeds on an existing read-only folder; only a write tells.
        with tempfile.TemporaryFile(dir=d):
            pass
    except OSError as exc:
        raise RunError(f"cannot write to output folder {d}: {exc.strerror or exc}", "io") from None
    return d


def write_results(out_dir: Path, summary: dict, losses, title: str, ylabel: str,
                  metric: str = "loss") -> tuple[Path, Path]:
    """Write ``summary.json`` and the curve ``<metric>.png`` (``loss.png``, ``log_joint.png``)
    into `out_dir`; a folder that went away or filled up during the run is a `RunError` with
    code ``io``."""
    summary_path, curve_path = out_dir / "summary.json", out_dir / f"{metric}.png"
    try:
        summary_path.write_text(json.dumps(summary, indent=1, allow_nan=True), encoding="utf-8")
        plot(losses, curve_path, title, ylabel)
    except OSError as exc:
        raise RunError(f"cannot write results to {out_dir}: {exc.strerror or exc}", "io") from None
    return summary_path, curve_path


def plot(losses, path: Path, title: str, ylabel: str) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no display; lazily imported so `qvr check` never pays for it
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    # Non-finite values (a NaN model, an infinite draw) are gaps in the line, not errors.
    series = [float(v) if v is not None and math.isfinite(v) else float("nan") for v in losses]
    ax.plot(range(1, len(series) + 1), series, lw=1.2)
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if wants_log_scale(series):
        ax.set_yscale("log")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def wants_log_scale(series) -> bool:
    """A log axis only for positive finite values spanning more than two decades."""
    finite = [v for v in series if math.isfinite(v)]
    if not finite or min(finite) <= 0:
        return False
    return max(finite) / min(finite) > 100


EVENT_ARRAY_LIMIT = 256


def compact_posterior(posterior: dict) -> dict:
    """The posterior for the `result` event: arrays over EVENT_ARRAY_LIMIT elements are
    averaged over their leading (batch/time) axes, keeping the last axis, with the full shape
    recorded; summary.json keeps everything. Keeps events small enough to read live."""
    import torch

    out = {}
    for site, stats in posterior.items():
        if not isinstance(stats, dict) or site.startswith("_"):
            out[site] = stats
            continue
        entry = {}
        for key, value in stats.items():
            t = torch.as_tensor(value, dtype=torch.float64)
            if t.numel() > EVENT_ARRAY_LIMIT and t.dim() > 1:
                entry.setdefault("shape", list(t.shape))
                entry["averaged_over_leading_axes"] = True
                t = t.reshape(-1, t.shape[-1]).nanmean(0)
            entry[key] = t.tolist()
        out[site] = entry
    return out
