"""Latency of the QVR language server, driven over stdio like an editor would.

Generates 1,000- and 5,000-line modules of recurrent models (every model with its own names),
starts `python -m qvr_lsp` and measures, per size:

* start -> first diagnostics: process spawn, initialize, didOpen, first publishDiagnostics
  (`--starts` servers per size), side by side with as many starts without the start-up code
  cache (QVR_CODE_CACHE=off, see qvr_lsp/code_cache.py), and once with the cache empty;
* right after those first diagnostics, what a user may do at once: a hover, then a keystroke
  (the first version is published from the full analysis and the engine's incremental run catches
  up in slices after it, see `DocumentStore.first_from_analysis`: a keystroke that comes
  before that is done waits for the rest of it);
* keystroke -> diagnostics: one-character didChange in the middle of the file (alternately
  inserting and deleting, so the text stays valid) until publishDiagnostics for that version
  (as an editor sees it: the client's own decoding of the notification is included; the "read"
  row stops when the message has arrived and is parsed as JSON; the "client decoding" row is
  the Python client's conversion of it into lsprotocol objects, the difference between the
  two), and the server's mean CPU time per keystroke;
* the same keystrokes from a Node client (`bench/node_keystrokes.mjs`: vscode-jsonrpc, the
  library VS Code's language client reads messages with, from the extension's node_modules;
  skipped when node or those modules are missing): until its publishDiagnostics has been
  parsed, what an editor in Node has of the diagnostics before its own bookkeeping; and as many
  keystrokes in code (a digit typed and deleted in a width of the middle model, `code_position`:
  the declaration and its block are checked again, where a keystroke in a comment changes no
  declaration and the engine hands on the last version's results); and those keystrokes in code
  once more against `bench/canned_server.py`, a stand-in that does no work and publishes the
  same diagnostics at once (the client's and the pipe's share, which no server work can save),
  and pulled (LSP 3.17 textDocument/diagnostic after each didChange, as VS Code's client does);
* semantic tokens delta right after each keystroke (what VS Code asks for while typing);
* keystroke -> diagnostics while an inlay-hint request (which needs the full analysis) is in
  flight, hover right after a keystroke and after a 0.6 s pause, and signature help and code
  actions right after a keystroke (inside a call, as while typing its arguments);
* hover, definition, completion and full semantic tokens request round trips;
* with a small file open, a generated file of `--big-mb` MB: hovers on the small file while the
  big one is opened and analysed, then while each of `KEYSTROKES_BIG` keystrokes in the big
  one is checked (the engine's run for a keystroke goes in slices as well); the longest of
  those is printed apart for the hovers in flight when the big file's diagnostics arrive
  (this client decodes those megabytes of JSON before it reads the hover's answer).

Prints p50/p95 in milliseconds and the targets. Run: ``python bench/lsp_latency.py [--rounds N]``.
Targets (spec/issue): keystroke->diagnostics p95 <= 30 ms at 5,000 lines, hover/definition p95
<= 5 ms, start->first diagnostics <= 0.5 s.
"""
from __future__ import annotations

import argparse
import asyncio
import functools
import importlib.util
import os
import statistics
import sys
import tempfile
import time

from lsprotocol import types as lsp
from pygls.lsp.client import LanguageClient

MODEL = """#! Model {i}: an LSTM-style cell.
object Tok{i} : FinSet 64
object Emb{i} : Real 16
object Hid{i} : Real 16
morphism embed{i} : Tok{i} -> Emb{i} [role=embed]
morphism gate{i}, forget{i} : Emb{i} * Hid{i} -> Hid{i} ~ LogitNormal
morphism cand{i} : Emb{i} * Hid{i} -> Hid{i} [scale=0.1] ~ Normal
program cell{i}(x, h) : Emb{i} * Hid{i} -> Hid{i}
    sample i <- gate{i}(x, h)
    sample f <- forget{i}(x, h)
    sample g <- cand{i}(x, h)
    let h_new = f * h + i * tanh(g)
    return h_new
define enc{i} = embed{i} >> scan(cell{i})
"""


def generate(lines: int) -> str:
    parts, total, i = [], 0, 0
    per = MODEL.count("\n")
    while total + per + 1 <= lines:
        parts.append(MODEL.format(i=i))
        total += per
        i += 1
    parts.append(f"export fan({', '.join(f'enc{k}' for k in range(min(i, 4)))})\n")
    return "".join(parts)


def generate_classic(lines: int) -> str:
    """About `lines` lines of the classic dialect (bench/parse_check.py's CLASSIC models, each
    under a comment line that keystrokes can go into): a deprecation hint on almost every line."""
    spec = importlib.util.spec_from_file_location("parse_check", os.path.join(os.path.dirname(__file__), "parse_check.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = "# Model {i}: a classic cell.\n" + module.CLASSIC
    per = model.count("\n")
    return "".join(model.format(i=i) for i in range(max(1, lines // per)))


def positions(text: str) -> tuple[int, lsp.Position]:
    """The comment line of the model in the middle of a generated file (keystrokes go there)
    and a position on the name of its first sampled morphism (hover, definition)."""
    lines = text.split("\n")
    comments = [k for k, line in enumerate(lines) if line.startswith("# Model") or line.startswith("#! Model")]
    line_of_model = comments[len(comments) // 2]
    for k in range(line_of_model, len(lines)):
        for marker in ("    sample i <- ", "    draw z ~ "):
            if lines[k].startswith(marker):
                return line_of_model, lsp.Position(line=k, character=len(marker) + 1)
    raise ValueError("no model in the middle of the text")


def server_cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid` so far (Linux /proc; NaN elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(q * (len(values) - 1))))
    return values[k]


@functools.cache
def _shared_converter():
    """One cattrs converter for every client session of the bench: a fresh one builds its
    (de)serialisation code for each message type on first use, ~20 ms of the *client's* time
    for a first hover answer, which an editor (not written in Python) never spends."""
    from pygls.protocol import default_converter

    return default_converter()


class Bench:
    def __init__(self) -> None:
        self.client = LanguageClient("qvr-bench", "0", converter_factory=_shared_converter)
        self.published: dict[tuple[str, int | None], float] = {}
        # when each publishDiagnostics had been read and parsed as JSON, before the client
        # turned it into lsprotocol objects (an editor's own decoding differs: this is the
        # time the server's part ends; `published` includes the Python client's decoding)
        self.arrived: dict[tuple[str, int | None], float] = {}
        # how long the client took to turn each of them into lsprotocol objects (the
        # difference between the two rows: the client's share, not the server's)
        self.decoding: dict[tuple[str, int | None], float] = {}
        self.event = asyncio.Event()
        protocol = self.client.protocol
        structure = protocol.structure_message

        def structure_message(data):
            if data.get("method") == lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS and "jsonrpc" in data:
                params = data.get("params") or {}
                key = (params.get("uri"), params.get("version"))
                self.arrived[key] = start = time.perf_counter()
                message = structure(data)
                self.decoding[key] = time.perf_counter() - start
                return message
            return structure(data)

        protocol.structure_message = structure_message

        @self.client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def on_diagnostics(params: lsp.PublishDiagnosticsParams):
            self.published[(params.uri, params.version)] = time.perf_counter()
            self.event.set()

    async def wait_published(self, uri: str, version: int, timeout: float = 30.0) -> float:
        end = time.perf_counter() + timeout
        while (uri, version) not in self.published:
            self.event.clear()
            remaining = end - time.perf_counter()
            if remaining <= 0:
                raise TimeoutError(f"no diagnostics for version {version}")
            try:
                await asyncio.wait_for(self.event.wait(), remaining)
            except asyncio.TimeoutError:
                pass
        return self.published[(uri, version)]


PULL_CAPABILITIES = lsp.ClientCapabilities(text_document=lsp.TextDocumentClientCapabilities(
    diagnostic=lsp.DiagnosticClientCapabilities()))


async def open_session(text: str, uri: str, env: dict, pull: bool = False) -> tuple["Bench", float]:
    """Spawn the server (environment `env`), initialize it and open `text` as `uri`: the
    session, and the seconds from spawning to the first diagnostics (published, or with
    `pull` a client that pulls them: the first textDocument/diagnostic answer)."""
    bench = Bench()
    client = bench.client
    t0 = time.perf_counter()
    await client.start_io(sys.executable, "-m", "qvr_lsp", env=env)
    result = await client.initialize_async(lsp.InitializeParams(capabilities=PULL_CAPABILITIES if pull else lsp.ClientCapabilities()))
    client.initialized(lsp.InitializedParams())
    bench.pulls = pull and result.capabilities.diagnostic_provider is not None
    if pull and not bench.pulls:
        return bench, float("nan")  # a server that cannot be pulled from
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        text_document=lsp.TextDocumentItem(uri=uri, language_id="qvr", version=1, text=text)))
    if pull:
        bench.result_id = (await pull_diagnostics(bench, uri)).result_id
        return bench, time.perf_counter() - t0
    return bench, await bench.wait_published(uri, 1) - t0


async def pull_diagnostics(bench: "Bench", uri: str, previous: str | None = None):
    return await bench.client.text_document_diagnostic_async(lsp.DocumentDiagnosticParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), previous_result_id=previous))


async def close_session(bench: "Bench") -> None:
    await bench.client.shutdown_async(None)
    bench.client.exit(None)
    await bench.client.stop()


def middle_positions(lines: int) -> tuple[int, lsp.Position]:
    """The first line of the model in the middle of a generated file (its doc comment), and
    the position of the `x` in its `gate{k}(x, h)`."""
    line_of_model = (lines // MODEL.count("\n")) // 2 * MODEL.count("\n")
    return line_of_model, lsp.Position(line=line_of_model + 8, character=len("    sample i <- ") + 1)


async def start_once(lines: int, env: dict, after_open: bool = False) -> dict[str, float]:
    """Seconds from spawning the server (with environment `env`) to the first
    publishDiagnostics of a `lines` file; with `after_open`, also what a user does next at
    once: a hover, then a keystroke (the server may still be preparing the incremental
    checker, see `DocumentStore.first_from_analysis`)."""
    uri = f"file:///tmp/bench_start_{lines}.qvr"
    bench, first = await open_session(generate(lines), uri, env)
    times = {"start -> first diagnostics": first}
    if after_open:
        client, doc = bench.client, lsp.TextDocumentIdentifier(uri=uri)
        line, hover_pos = middle_positions(lines)
        t = time.perf_counter()
        await client.text_document_hover_async(lsp.HoverParams(text_document=doc, position=hover_pos))
        times["hover right after open"] = time.perf_counter() - t
        at = lsp.Position(line=line, character=3)
        t = time.perf_counter()
        client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[lsp.TextDocumentContentChangePartial(range=lsp.Range(start=at, end=at), text="x")]))
        times["keystroke right after open"] = await bench.wait_published(uri, 2) - t
    await close_session(bench)
    return times


def starts_side_by_side(lines: int, starts: int, env: dict) -> dict[str, list[float]]:
    """`starts` server starts with the start-up code cache (warm) and as many without it
    (QVR_CODE_CACHE=off), alternating so that both see the same machine; the warm ones also
    time a hover and a keystroke right after the first diagnostics."""
    results: dict[str, list[float]] = {"start, no code cache": []}
    for _ in range(starts):
        off = asyncio.run(start_once(lines, dict(env, QVR_CODE_CACHE="off")))
        results["start, no code cache"].append(off["start -> first diagnostics"])
        for name, seconds in asyncio.run(start_once(lines, env, after_open=True)).items():
            results.setdefault(name, []).append(seconds)
    return results


async def measure_pull(text: str, rounds: int, env: dict) -> dict[str, list[float]]:
    """Keystroke -> diagnostics for a client that pulls them (LSP 3.17, as VS Code and Neovim
    do when the server offers it): didChange, then textDocument/diagnostic with the last
    result id, until the answer (`unchanged` when the diagnostics are those it has)."""
    uri = "file:///tmp/bench_pull.qvr"
    bench, first = await open_session(text, uri, env, pull=True)
    if not bench.pulls:
        await close_session(bench)
        return {}
    client = bench.client
    line_of_model, _ = positions(text)
    pos = lsp.Position(line=line_of_model, character=3)
    out, kinds, typed, result_id = [], set(), False, bench.result_id
    for version in range(2, rounds + 2):
        end = lsp.Position(line=pos.line, character=4) if typed else pos
        sent = time.perf_counter()
        client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[lsp.TextDocumentContentChangePartial(range=lsp.Range(start=pos, end=end), text="" if typed else "x")]))
        typed = not typed
        report = await pull_diagnostics(bench, uri, result_id)
        out.append(time.perf_counter() - sent)
        result_id = report.result_id
        kinds.add(report.kind)
    await close_session(bench)
    print(f"  pulled reports: {sorted(kinds)}")
    return {"start -> first pulled": [first], "keystroke -> pulled diagnostics": out}


# keystrokes typed in the big file (each takes the engine a second or more there)
KEYSTROKES_BIG = 5


async def big_file_hovers(megabytes: float, rounds: int, env: dict) -> dict[str, list[float]]:
    """Open a small file, then a generated file of about `megabytes` MB, and time hover
    round trips on the small file, one after the other, while the big one is analysed (until
    its first diagnostics are published or `rounds` hovers were timed)."""
    small_uri, big_uri = "file:///tmp/bench_small.qvr", "file:///tmp/bench_big.qvr"
    small = generate(40)
    bench, _ = await open_session(small, small_uri, env)
    client = bench.client
    big = generate(int(megabytes * 1e6 / (len(MODEL) / MODEL.count("\n"))))
    _, hover_pos = positions(small)
    sent = time.perf_counter()
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        text_document=lsp.TextDocumentItem(uri=big_uri, language_id="qvr", version=1, text=big)))
    hovers = []
    while len(hovers) < rounds and (big_uri, 1) not in bench.published:
        t = time.perf_counter()
        await client.text_document_hover_async(lsp.HoverParams(text_document=lsp.TextDocumentIdentifier(uri=small_uri), position=hover_pos))
        hovers.append(time.perf_counter() - t)
    published_first = (big_uri, 1) in bench.published
    opened = await bench.wait_published(big_uri, 1, timeout=600) - sent
    print(f"  {len(big) / 1e6:.1f} MB: {len(hovers)} hovers answered before its first diagnostics"
          f"{' (it was published before the last)' if published_first else ''}; diagnostics after {opened:.1f} s")
    # Then keystrokes in the big file, each followed by hovers on the small one until that
    # version's diagnostics are published: how long the engine's run for a keystroke there
    # holds up another document's requests (it goes in slices too).
    line_of_model, _ = positions(big)
    while_checked, keystroke_runs = [], []
    # the hovers in flight when the big file's diagnostics arrived: their answers wait for this
    # client to decode those diagnostics first (megabytes of JSON), whatever the server does
    behind_publish = []
    for version in range(2, KEYSTROKES_BIG + 2):
        typed = version % 2 == 0
        sent = time.perf_counter()
        client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=big_uri, version=version),
            content_changes=[lsp.TextDocumentContentChangePartial(
                range=lsp.Range(start=lsp.Position(line=line_of_model, character=3),
                                end=lsp.Position(line=line_of_model, character=3 if typed else 4)),
                text="x" if typed else "")]))
        timed = []
        while (big_uri, version) not in bench.published:
            t = time.perf_counter()
            await client.text_document_hover_async(lsp.HoverParams(text_document=lsp.TextDocumentIdentifier(uri=small_uri), position=hover_pos))
            timed.append((t, time.perf_counter() - t))
        arrived = await bench.wait_published(big_uri, version, timeout=600)
        keystroke_runs.append(arrived - sent)
        while_checked.extend(d for _, d in timed)
        behind_publish.extend(d for t, d in timed if t <= arrived <= t + d)
    others = sorted(while_checked)
    for d in behind_publish:
        others.remove(d)
    print(f"  {KEYSTROKES_BIG} keystrokes in it: diagnostics after {statistics.median(keystroke_runs):.2f} s "
          f"(median), {len(while_checked)} hovers answered meanwhile, the longest in "
          f"{max(while_checked) * 1000:.0f} ms; of the {len(behind_publish)} in flight when that "
          f"version's diagnostics arrived (this client decodes them before it reads the answer) the "
          f"longest {max(behind_publish, default=0) * 1000:.0f} ms, of the others "
          f"{max(others, default=0) * 1000:.0f} ms")
    await close_session(bench)
    return {f"hover, {megabytes:g} MB file opening": hovers, f"{megabytes:g} MB open -> diagnostics": [opened],
            f"hover while a keystroke in the {megabytes:g} MB file is checked": while_checked}


async def measure(lines: int, rounds: int, env: dict, text: str | None = None) -> dict[str, list[float]]:
    """The request round trips of one server session on a `lines` file (`text`: another
    generated text of that size; `env`: the server's environment; its own debounce unless
    QVR_LSP_DEBOUNCE_MS is set)."""
    uri = f"file:///tmp/bench_{lines}.qvr"
    text = text if text is not None else generate(lines)
    bench, first = await open_session(text, uri, env)
    client = bench.client
    results: dict[str, list[float]] = {"start -> first diagnostics": [first]}

    # a position in the middle of the file: on the first morphism its middle model samples
    line_of_model, hover_pos = positions(text)
    gate_line = hover_pos.line
    doc = lsp.TextDocumentIdentifier(uri=uri)

    keystrokes, deltas = [], []
    version = 1
    full = await client.text_document_semantic_tokens_full_async(lsp.SemanticTokensParams(text_document=doc))
    result_id = full.result_id
    pos = lsp.Position(line=line_of_model, character=3)  # in the middle model's doc comment
    typed = False

    def keystroke() -> int:
        """Type an `x` at `pos`, or delete it again (the text stays valid); the new version."""
        nonlocal version, typed
        version += 1
        end = lsp.Position(line=pos.line, character=4) if typed else pos
        change = lsp.TextDocumentContentChangePartial(range=lsp.Range(start=pos, end=end), text="" if typed else "x")
        typed = not typed
        client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=version), content_changes=[change]))
        return version

    arrivals, decodings = [], []
    server_cpu = 0.0
    pid = client._server.pid
    for _ in range(rounds):
        cpu = server_cpu_seconds(pid)
        sent = time.perf_counter()
        v = keystroke()
        keystrokes.append(await bench.wait_published(uri, v) - sent)
        arrivals.append(bench.arrived[(uri, v)] - sent)
        decodings.append(bench.decoding[(uri, v)])
        server_cpu += server_cpu_seconds(pid) - cpu
        t = time.perf_counter()
        answer = await client.text_document_semantic_tokens_full_delta_async(
            lsp.SemanticTokensDeltaParams(text_document=doc, previous_result_id=result_id))
        deltas.append(time.perf_counter() - t)
        result_id = answer.result_id
    results["keystroke -> diagnostics"] = keystrokes
    results["keystroke -> diagnostics read"] = arrivals
    results["client decoding of those diagnostics"] = decodings
    # the server's CPU time from each didChange to its publish, as a mean (the clock ticks in
    # 10 ms: one keystroke's is too coarse to read, their sum is not); less sensitive to other
    # processes on the machine than the wall-clock rows
    results["server CPU per keystroke, mean"] = [server_cpu / rounds]
    results["semantic tokens delta"] = deltas

    # What an editor does around typing: inlay hints (or code lenses) are asked for after a
    # change and need the full analysis; the next keystroke must not wait for it. And hover
    # right after a keystroke (the analysis computed on demand) or after a pause (computed
    # while the user paused).
    whole = lsp.Range(start=lsp.Position(line=0, character=0), end=lsp.Position(line=lines + 1, character=0))
    during, hover_now, hover_paused, signature_now, actions_now = [], [], [], [], []
    # signature help inside the middle model's first call (`gate(x, ` / `gate_z(x_t, `), asked
    # right after a keystroke as an editor does while the user types the arguments
    call_line = text.split("\n")[gate_line]
    sig_pos = lsp.Position(line=gate_line, character=call_line.index(", ", call_line.index("(")) + 2)
    for r in range(rounds):
        await bench.wait_published(uri, keystroke())
        # a request that needs the analysis of this version is in flight when the next comes
        hints = asyncio.ensure_future(client.text_document_inlay_hint_async(
            lsp.InlayHintParams(text_document=doc, range=whole)))
        await asyncio.sleep(0.002)
        sent = time.perf_counter()
        during.append(await bench.wait_published(uri, keystroke()) - sent)
        try:
            await hints  # answered, or ContentModified (the document changed under it)
        except Exception:
            pass
        if r < min(rounds, 10):
            t = time.perf_counter()
            await client.text_document_hover_async(lsp.HoverParams(text_document=doc, position=hover_pos))
            hover_now.append(time.perf_counter() - t)
            await bench.wait_published(uri, keystroke())
            await asyncio.sleep(0.6)  # the user pauses
            t = time.perf_counter()
            await client.text_document_hover_async(lsp.HoverParams(text_document=doc, position=hover_pos))
            hover_paused.append(time.perf_counter() - t)
            await bench.wait_published(uri, keystroke())
            await asyncio.sleep(0.6)  # (so that no analysis is under way)
            keystroke()
            t = time.perf_counter()
            await client.text_document_signature_help_async(
                lsp.SignatureHelpParams(text_document=doc, position=sig_pos))
            signature_now.append(time.perf_counter() - t)
            await bench.wait_published(uri, version)
            await asyncio.sleep(0.6)
            keystroke()
            t = time.perf_counter()  # the code actions an editor asks for where the cursor is
            await client.text_document_code_action_async(lsp.CodeActionParams(
                text_document=doc, range=lsp.Range(start=sig_pos, end=sig_pos),
                context=lsp.CodeActionContext(diagnostics=[])))
            actions_now.append(time.perf_counter() - t)
            await bench.wait_published(uri, version)
    results["keystroke, hints in flight"] = during
    results["hover right after keystroke"] = hover_now
    results["hover after a 0.6 s pause"] = hover_paused
    results["signature help right after keystroke"] = signature_now
    results["code actions right after keystroke"] = actions_now

    async def timed(name: str, coro_factory):
        out = []
        for _ in range(rounds):
            t = time.perf_counter()
            await coro_factory()
            out.append(time.perf_counter() - t)
        results[name] = out

    await timed("hover", lambda: client.text_document_hover_async(lsp.HoverParams(text_document=doc, position=hover_pos)))
    await timed("definition", lambda: client.text_document_definition_async(lsp.DefinitionParams(text_document=doc, position=hover_pos)))
    comp_pos = lsp.Position(line=gate_line, character=len("    sample i <- "))
    await timed("completion", lambda: client.text_document_completion_async(lsp.CompletionParams(text_document=doc, position=comp_pos)))
    await timed("semantic tokens (full)", lambda: client.text_document_semantic_tokens_full_async(lsp.SemanticTokensParams(text_document=doc)))
    await close_session(bench)
    return results


NODE_CLIENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "node_keystrokes.mjs")


def code_position(text: str) -> tuple[int, int]:
    """Where a keystroke in code goes: in the width of the middle model's first `Real 16`
    (`Euclidean 16` in the classic dialect), between its digits (typing `1` makes it 116)."""
    line_of_model, _ = positions(text)
    lines = text.split("\n")
    for k in range(line_of_model, len(lines)):
        for width in ("Real 16", "Euclidean 16"):
            at = lines[k].find(width)
            if at >= 0:
                return k, at + len(width) - 1
    raise ValueError("no width to type in")


def node_keystrokes(text: str, rounds: int, env: dict) -> dict[str, list[float]]:
    """Keystroke -> diagnostics from a Node client (`node_keystrokes.mjs`), in seconds: the
    same keystrokes as `measure` (an `x` typed and deleted in the middle model's doc comment,
    each followed by a semantic tokens delta request), and as many in code (a `1` typed and
    deleted in a width, `code_position`: the declaration is checked again, and in the classic
    dialect its hint, which quotes it, changes), and those again against
    `canned_server.py`, which answers each at once with the same diagnostics (the client's and
    the pipe's share of the figure: what no work in the server can save), and once more pulling
    the diagnostics after each didChange (`--pull`, VS Code's way). Empty when node or the extension's
    vscode-jsonrpc is not installed (``npm ci`` in vscode-extension/)."""
    import json
    import shutil
    import subprocess

    node = shutil.which("node")
    jsonrpc = os.path.join(os.path.dirname(NODE_CLIENT), "..", "vscode-extension", "node_modules", "vscode-jsonrpc")
    if node is None or not os.path.isdir(jsonrpc):
        print("  (no Node client: node or vscode-extension/node_modules/vscode-jsonrpc missing)")
        return {}
    line_of_model, _ = positions(text)
    line, column = code_position(text)
    with tempfile.TemporaryDirectory(prefix="qvr-bench-node-") as folder:
        path = os.path.join(folder, "bench_node.qvr")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)

        def client(at: str, *flags: str) -> dict:
            done = subprocess.run([node, NODE_CLIENT, sys.executable, path, at, str(rounds), *flags],
                                  env=env, check=True, capture_output=True, text=True)
            return json.loads(done.stdout)

        report = client(str(line_of_model))
        in_code, floor, pull = (client(f"{line}:{column}", "--type", "1", *flags)
                                for flags in ((), ("--canned",), ("--pull",)))
    print(f"  Node client, pulled reports in code: {pull['kinds']}")
    return {"keystroke -> diagnostics, Node client": [ms / 1000 for ms in report["keystrokes"]],
            "keystroke in code -> diagnostics, Node client": [ms / 1000 for ms in in_code["keystrokes"]],
            "the same, server doing no work": [ms / 1000 for ms in floor["keystrokes"]],
            "the same, pulled (Node client)": [ms / 1000 for ms in pull["keystrokes"]]}


def child_cpu_ms(code: str, repeat: int = 3) -> float:
    """CPU time of a fresh interpreter running `code` (best of `repeat`)."""
    import resource
    import subprocess

    best = float("inf")
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([sys.executable, "-c", code], check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        best = min(best, (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000)
    return best


def keystroke_breakdown(lines: int, rounds: int) -> list[tuple[str, float, float]]:
    """CPU time (not wall time: robust to a busy machine) of each stage of one keystroke,
    in-process, with the server's garbage-collector settings; and, side by side on the same
    texts, the whole-module path the incremental one replaces (a fresh parse + `analyze`, and
    semantic tokens from that analysis) as the reference."""
    from qvr import semantics, syntax
    from qvr_lsp import convert
    from qvr_lsp.documents import Change, DocumentStore
    from qvr_lsp.features import diagnostics, semantic_tokens
    from qvr_lsp.positions import PositionEncoder
    from qvr_lsp.server import tune_gc

    tune_gc()
    enc = PositionEncoder()
    store = DocumentStore()
    doc = store.open("file:///breakdown.qvr", generate(lines), 1)
    doc.diagnostics
    semantic_tokens.encoded(doc, enc)
    stages: dict[str, list[float]] = {k: [] for k in (
        "apply change, tree edit, re-split", "incremental diagnostics", "diagnostics -> LSP",
        "semantic tokens (stitched)", "reference: parse + analyze", "reference: semantic tokens")}
    line = (lines // MODEL.count("\n")) // 2 * MODEL.count("\n")  # a doc comment mid-file, as above
    for v in range(2, rounds + 2):
        t0 = time.process_time()
        doc = store.change(doc.uri, v, [Change(((line, 3), (line, 3 if v % 2 == 0 else 4)), "x" if v % 2 == 0 else "")], enc)
        t1 = time.process_time(); found = diagnostics.document_diagnostics(doc)
        t2 = time.process_time(); [convert.diagnostic(enc, doc, d) for d in found]
        t3 = time.process_time(); semantic_tokens.encoded(doc, enc)
        t4 = time.process_time(); analysis = semantics.analyze(doc.text, parsed=syntax.parse_module(doc.text))
        t5 = time.process_time()
        assert analysis.diagnostics == doc.diagnostics  # the incremental result is the real one
        doc._analysis = analysis
        semantic_tokens.encode(doc, semantic_tokens.semantic_tokens(doc), enc)
        t6 = time.process_time()
        for key, a, b in zip(stages, (t0, t1, t2, t3, t4, t5), (t1, t2, t3, t4, t5, t6)):
            stages[key].append((b - a) * 1000)
    import gc

    gc.enable()
    return [(k, statistics.median(v), percentile(v, 0.95)) for k, v in stages.items()]


def typing_breakdown(lines: int) -> tuple[float, float, float, int]:
    """Typing a new program step character by character (then deleting it again) in the middle
    of the file: CPU per keystroke of the change and the incremental diagnostics (p50, p95, max),
    each version's result asserted equal to a fresh `analyze`. Unlike the doc-comment keystrokes
    above, half-typed lines here break and mend the program's parse and name things that do not
    exist yet ("did you mean")."""
    from qvr import semantics
    from qvr_lsp.documents import Change, DocumentStore
    from qvr_lsp.positions import PositionEncoder
    from qvr_lsp.server import tune_gc

    tune_gc()
    enc = PositionEncoder()
    store = DocumentStore()
    text = generate(lines)
    doc = store.open("file:///typing.qvr", text, 1)
    doc.diagnostics
    k = (lines // MODEL.count("\n")) // 2
    line = text.split("\n").index(f"    sample i <- gate{k}(x, h)") + 1
    typed = f"    sample z <- gate{k}(x, h)"
    doc = store.change(doc.uri, 2, [Change(((line, 0), (line, 0)), "\n")], enc)
    doc.diagnostics
    costs, version = [], 2
    steps = [(c, c, typed[c]) for c in range(len(typed))] + [(c - 1, c, "") for c in range(len(typed), 0, -1)]
    for start, end, new in steps:
        version += 1
        t0 = time.process_time()
        doc = store.change(doc.uri, version, [Change(((line, start), (line, end)), new)], enc)
        found = doc.diagnostics
        costs.append((time.process_time() - t0) * 1000)
        assert found == semantics.analyze(doc.text).diagnostics
    import gc

    gc.enable()
    return statistics.median(costs), percentile(costs, 0.95), max(costs), len(costs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--sizes", default="1000,5000")
    parser.add_argument("--starts", type=int, default=5, help="server starts timed per size")
    parser.add_argument("--dialects", default="current,classic",
                        help="current: the models above; classic: bench/parse_check.py's CLASSIC (a hint on most lines)")
    parser.add_argument("--big-mb", type=float, default=10.0, help="size of the file opened for the hover-while-opening case (0: skip)")
    parser.add_argument("--only", choices=("all", "keystrokes", "big"), default="all",
                        help="keystrokes: only the keystroke/request rows (no start-up, no breakdowns); big: only the big-file case")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {args.rounds} rounds")
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="qvr-bench-cache-") as cache_dir:
        # the servers keep their start-up code cache here: empty for the very first start
        env = dict(os.environ, QVR_CACHE_DIR=cache_dir)
        env.pop("QVR_CODE_CACHE", None)
        # An installed server imports its modules from bytecode: let the servers write it (a
        # tree whose sources changed since its __pycache__ was written would otherwise be
        # timed compiling them at every start), and the first, untimed start write it.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        cold = asyncio.run(start_once(sizes[0], env))["start -> first diagnostics"]
        if args.only == "all":
            print(f"first start ever (empty code cache), {sizes[0]} lines: {cold * 1000:.0f} ms")
        # Start-up first, before the keystroke rounds: after them this process' own share of
        # a start (its client reading the server's answers and sending the document) was
        # larger (in one run the same starts' median was 0.49 s in a fresh process and 0.62 s
        # after the rounds, with the same server).
        starts = {lines: starts_side_by_side(lines, args.starts, env)
                  for lines in (sizes if args.only == "all" else ())}
        for lines in sizes if args.only != "big" else ():
            for dialect in args.dialects.split(","):
                text = generate(lines) if dialect == "current" else generate_classic(lines)
                res = asyncio.run(measure(lines, args.rounds, env, text))
                res.update(node_keystrokes(text, args.rounds, env))
                res.update(asyncio.run(measure_pull(text, args.rounds, env)))
                if dialect == "current" and lines in starts:
                    # start-up is one sample per session: take a few more (the machine is noisy)
                    for name, values in starts[lines].items():
                        res.setdefault(name, []).extend(values)
                for name, values in res.items():
                    ms = [v * 1000 for v in values]
                    label = name if dialect == "current" else f"{name} ({dialect})"
                    rows.append((lines, label, statistics.median(ms), percentile(ms, 0.95)))
        if args.big_mb and args.only in ("all", "big"):
            for name, values in asyncio.run(big_file_hovers(args.big_mb, max(args.rounds, 40), env)).items():
                ms = [v * 1000 for v in values]
                rows.append((f"{args.big_mb:g}MB", name, statistics.median(ms), percentile(ms, 0.95)))
    print(f"| {'lines':>5} | {'measurement':<28} | {'p50 ms':>8} | {'p95 ms':>8} |")
    print(f"|{'-' * 7}|{'-' * 30}|{'-' * 10}|{'-' * 10}|")
    for lines, name, p50, p95 in rows:
        print(f"| {lines:>5} | {name:<28} | {p50:>8.1f} | {p95:>8.1f} |")
    print("targets: keystroke->diagnostics p95 <= 30 ms (5,000 lines); hover/definition p95 <= 5 ms; "
          "start->first diagnostics <= 500 ms; hover on a small file while a 10 MB one opens p95 <= 100 ms")
    if args.only != "all":
        return
    print()
    print("one keystroke, in-process CPU time per stage (the reference rows are the whole-module")
    print("path, run side by side on the same texts; the incremental result is asserted equal):")
    print(f"| {'lines':>5} | {'stage':<33} | {'p50 ms':>8} | {'p95 ms':>8} |")
    print(f"|{'-' * 7}|{'-' * 35}|{'-' * 10}|{'-' * 10}|")
    for lines in (int(s) for s in args.sizes.split(",")):
        for name, p50, p95 in keystroke_breakdown(lines, min(args.rounds, 20)):
            print(f"| {lines:>5} | {name:<33} | {p50:>8.1f} | {p95:>8.1f} |")
    print()
    print("typing a program step character by character, then deleting it (in-process CPU per")
    print("keystroke: change + incremental diagnostics, each result asserted equal to `analyze`):")
    for lines in (int(s) for s in args.sizes.split(",")):
        p50, p95, most, count = typing_breakdown(lines)
        print(f"| {lines:>5} | {count} keystrokes | p50 {p50:.1f} ms | p95 {p95:.1f} ms | max {most:.1f} ms |")
    print()
    for what in ("pass", "import lsprotocol.types", "import qvr_lsp.server"):
        print(f"start-up CPU of `python -c '{what}'`: {child_cpu_ms(what):.0f} ms")


if __name__ == "__main__":
    main()
