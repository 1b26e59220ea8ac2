"""Language-server start-up, variants side by side: spawn -> initialize -> didOpen -> first
publishDiagnostics, and ``python -X importtime -c "import qvr.syntax"``.

A variant is a source tree (``--tree LABEL=DIR``: a directory holding ``runtime/qvr`` and
``qvr_lsp``, e.g. an export of another commit made with ``git archive``; default: this
checkout) and, with ``--cache-off``, the same tree with ``QVR_CODE_CACHE=off`` as well. Every
server runs with ``PYTHONSAFEPATH=1`` and ``PYTHONPATH=DIR:DIR/runtime``, so each imports its
own tree whatever the current directory, and each tree keeps its start-up cache in its own
temporary directory, filled by one untimed start first (which also writes the tree's
bytecode: ``PYTHONDONTWRITEBYTECODE`` is dropped from the servers' environment). The variants
alternate within every round, so that all see the same machine.

The session itself (spawn, initialize, open, wait for diagnostics, shut down) and the generated
file are those of bench/lsp_latency.py.

Run: ``python bench/startup.py [--lines 5000] [--rounds 5] [--tree LABEL=DIR ...]
[--cache-off]``. Prints, per variant, the median and minimum seconds to first diagnostics (wall
clock, and the server's CPU time by then) with the median's ratio to the first variant's (same
run); the same steps in-process, in CPU time (the least noisy figure); then the import time
of qvr.syntax. Target: start -> first diagnostics <= 0.5 s on 5,000 lines.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from lsp_latency import close_session, generate, open_session  # noqa: E402


def server_env(tree: Path, cache_dir: str, cache_off: bool) -> dict:
    env = dict(os.environ, PYTHONSAFEPATH="1", PYTHONPATH=f"{tree}{os.pathsep}{tree / 'runtime'}",
               QVR_CACHE_DIR=cache_dir)
    # An installed server imports from bytecode: let the untimed first start write it, or a
    # tree without __pycache__ would be timed compiling its modules.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if cache_off:
        env["QVR_CODE_CACHE"] = "off"
    else:
        env.pop("QVR_CODE_CACHE", None)
    return env


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid` so far (Linux /proc; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def first_diagnostics(text: str, env: dict) -> tuple[float, float]:
    """Wall seconds from spawning the server to its first publishDiagnostics, and the CPU
    seconds the server had used when the client received them (less sensitive to other
    processes on a loaded machine)."""
    bench, seconds = await open_session(text, "file:///tmp/bench_startup.qvr", env)
    cpu = cpu_seconds(bench.client._server.pid)
    await close_session(bench)
    return seconds, cpu


def import_ms(env: dict, module: str = "qvr.syntax") -> float:
    """Cumulative import time of `module` in a fresh interpreter (``-X importtime``), in ms."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"],
                         env=env, capture_output=True, text=True, check=True).stderr
    for line in out.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \|\s*(\S+)$", line)
        if m and m.group(2) == module:
            return int(m.group(1)) / 1000
    raise RuntimeError(f"no import time for {module}:\n{out[-2000:]}")


# What `python -m qvr_lsp` does before its first publish, in-process and timed in CPU time:
# the start-up cache (when the tree has one), the server's imports, then opening the document
# and computing the diagnostics it publishes (the sending itself is replaced by a list).
IN_PROCESS = """
import gc, json, sys, time
gc.disable()  # as qvr_lsp.__main__
t0 = time.process_time()
import qvr.syntax
t1 = time.process_time()
try:
    from qvr_lsp import code_cache
except ImportError:
    cache = None
else:
    cache = code_cache.install()
from qvr_lsp.server import create_server, tune_gc
server = create_server()
tune_gc()
t2 = time.process_time()
text = open(sys.argv[1], encoding="utf-8").read()
sent = []
server.text_document_publish_diagnostics = sent.append
doc = server.documents.open("file:///a.qvr", text, 1)
server.publish(doc)
t3 = time.process_time()
assert sent
if cache is not None:
    cache.save()
print(json.dumps({"import qvr.syntax": t1 - t0, "imports + create_server": t2 - t0,
                  "first diagnostics": t3 - t2, "total": t3 - t0}))
"""


def in_process(env: dict, path: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", IN_PROCESS, path], env=env, capture_output=True,
                         text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--tree", action="append", default=[], metavar="LABEL=DIR",
                    help="a source tree to start the server from (repeatable; default: "
                         "this checkout)")
    ap.add_argument("--cache-off", action="store_true",
                    help="also start every tree with QVR_CODE_CACHE=off")
    args = ap.parse_args()
    trees = [(label, Path(d).resolve()) for label, _, d in
             (t.partition("=") for t in args.tree)] or [("this checkout", ROOT)]
    text = generate(args.lines)

    tmp = tempfile.mkdtemp(prefix="qvr-startup-")
    variants = []  # (label, env)
    for k, (label, tree) in enumerate(trees):
        cache_dir = os.path.join(tmp, str(k))
        variants.append((label, server_env(tree, cache_dir, False)))
        if args.cache_off:
            variants.append((f"{label}, QVR_CODE_CACHE=off", server_env(tree, cache_dir, True)))
    try:
        for _, env in variants:  # fill each tree's cache (and its __pycache__)
            asyncio.run(first_diagnostics(text, env))
        seconds: dict[str, list[float]] = {label: [] for label, _ in variants}
        cpu: dict[str, list[float]] = {label: [] for label, _ in variants}
        imports: dict[str, list[float]] = {label: [] for label, _ in variants}
        steps: dict[str, list[dict]] = {label: [] for label, _ in variants}
        path = os.path.join(tmp, "module.qvr")
        Path(path).write_text(text, encoding="utf-8")
        for _ in range(args.rounds):
            for label, env in variants:
                wall, used = asyncio.run(first_diagnostics(text, env))
                seconds[label].append(wall)
                cpu[label].append(used)
                imports[label].append(import_ms(env))
                steps[label].append(in_process(env, path))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"Python {sys.version.split()[0]}, {text.count(chr(10))} lines, {args.rounds} rounds "
          "(variants alternating); start -> first diagnostics (target <= 0.5 s wall clock)")
    for name, table in (("wall clock", seconds), ("server CPU time", cpu)):
        base = statistics.median(table[variants[0][0]])
        print(f"{name}:")
        for label, _ in variants:
            values = table[label]
            median = statistics.median(values)
            print(f"  {label:40s} median {median:6.3f} s  min {min(values):6.3f} s  "
                  f"{median / base:5.2f} x first")
    print("in-process CPU ms before the first publish (median of rounds; qvr_lsp.__main__'s "
          "steps):")
    names = list(steps[variants[0][0]][0])
    print(f"  {'':40s} " + "  ".join(f"{n:>24s}" for n in names))
    for label, _ in variants:
        cells = [statistics.median(r[n] for r in steps[label]) * 1000 for n in names]
        print(f"  {label:40s} " + "  ".join(f"{c:24.1f}" for c in cells))
    print("import qvr.syntax (python -X importtime, cumulative), median of rounds:")
    base = statistics.median(imports[variants[0][0]])
    for label, _ in variants:
        median = statistics.median(imports[label])
        print(f"  {label:40s} {median:7.1f} ms  {median / base:5.2f} x first")


if __name__ == "__main__":
    main()
