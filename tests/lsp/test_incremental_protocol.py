"""The keystroke path through the protocol: what the server publishes after each incremental
`didChange` equals what `analyze` says about the same text.

The server checks a changed document with the engine's incremental run (re-checking only the
declarations an edit touched, replaying the others); the semantics tests hold that checker
equal to `analyze` in-process. Here the whole way is exercised: `python -m qvr_lsp` over
stdio (`raw_client.RawServer`), a current-form document opened, then a chain of range edits,
each sent as one incremental `didChange`; after each the test reads the server's messages up
to the publishDiagnostics of that version and compares its diagnostics with `analyze`'s,
converted as the server converts them. It synchronises on those notifications only.
"""
from __future__ import annotations

import random
from pathlib import Path

import pytest
from pygls.protocol import default_converter

from qvr.semantics import analyze
from qvr.syntax.span import LineIndex
from qvr_lsp.convert import DiagnosticMemo
from qvr_lsp.positions import PositionEncoder
from raw_client import EXIT, SHUTDOWN, RawServer

ROOT = Path(__file__).resolve().parents[2]
URI = "file:///tmp/qvr_incremental_protocol.qvr"
ENCODER = PositionEncoder()  # UTF-16: the client below announces no other encoding

# Small programs of the current form whose diagnostics depend on other declarations: several
# exports (QVR054), a template and its calls, a drawn program with data names, an opaque block
# naming declarations, an algebra selector and a `composition` block, marginalize and score.
PROGRAMS = """object A : FinSet 2
object B : FinSet 3
object Val : Real 1
object Obs : FinSet 20
morphism f : A -> B [role=latent]
morphism g : B -> B [role=latent]
morphism squash : Val -> Val
export f
program effects(K2 : FinSet, spread : Real, link : Mor[Val, Val]) : K2 -> Val
    sample sd <- HalfNormal(scale=spread)
    sample raw : K2 <- Normal(loc=0.0, scale=1.0)
    let dev = sd * raw
    let v <- link(dev)
    return v
program level : Obs -> Val
    sample tau <- HalfNormal(scale=5.0)
    observe y : Obs <- Normal(loc=0.0, scale=sigma)
    return tau
program model : Obs -> Val
    sample a <- effects(A, 1.0, squash)
    sample t <- level
    score pull = -0.5 * t * t
    marginalize c : Obs <- Categorical(probs=w)
        observe z : Obs <- Normal(loc=a[c], scale=1.0)
    return t
deduction Gram : A -> A [semiring=log_prob]
    atoms S, NP
    rule r : NP => S
    use f, squash

define h = f >> g
export model
export h
"""

# what the random edits insert (part-2 forms among them)
INSERTS = [
    "export f\n", "export h\n", "composition max_plus\n", "composition Trop [level=semiring]\n    plus = min\n",
    "define k = f >> f\n", "    score s = 1.0 * t\n", "(Obs, 0.5, squash)", "B", "K2", "f", "g",
    "object A : FinSet 4\n", " ", "\n", "x", "    sample b <- effects(B, 2.0, squash)\n",
]


def _expected(text: str) -> list[dict]:
    """`analyze`'s diagnostics as the server publishes them (duplicates dropped, converted in
    UTF-16, serialised)."""
    seen, found = set(), []
    for d in analyze(text).diagnostics:
        key = (d.code, d.span.start, d.span.end, d.message)
        if key not in seen:
            seen.add(key)
            found.append(d)
    converted = DiagnosticMemo(URI, "utf-16").convert(ENCODER, LineIndex(text), found)
    return default_converter().unstructure(converted)


def _change(old: str, new: str) -> dict:
    """`new` as one range edit of `old`: the part between their common prefix and suffix."""
    start = 0
    most = min(len(old), len(new))
    while start < most and old[start] == new[start]:
        start += 1
    end_old, end_new = len(old), len(new)
    while end_old > start and end_new > start and old[end_old - 1] == new[end_new - 1]:
        end_old -= 1
        end_new -= 1
    index = LineIndex(old)
    (l0, c0), (l1, c1) = ENCODER.to_lsp(index, start), ENCODER.to_lsp(index, end_old)
    return {"range": {"start": {"line": l0, "character": c0}, "end": {"line": l1, "character": c1}},
            "text": new[start:end_new]}


def _edits(text: str, rng: random.Random, count: int) -> list[str]:
    """A chain of `count` versions after `text`: insertions (snippets, names), deletions of a
    few characters or of a line, lines moved, and now and then an undo of the last edit."""
    versions = []
    for _ in range(count):
        lines = text.splitlines(keepends=True)
        kind = rng.randrange(6)
        at = rng.randrange(len(text) + 1)
        if kind == 0:
            new = text[:at] + rng.choice(INSERTS) + text[at:]
        elif kind == 1 and text:
            new = text[:at] + text[at + rng.randint(1, 8):]
        elif kind == 2 and lines:
            del lines[rng.randrange(len(lines))]
            new = "".join(lines)
        elif kind == 3 and lines:
            line = lines.pop(rng.randrange(len(lines)))
            lines.insert(rng.randrange(len(lines) + 1), line if line.endswith("\n") else line + "\n")
            new = "".join(lines)
        elif kind == 4 and len(versions) >= 2:
            new = versions[-2]  # undo
        else:
            starts = [i for i in range(len(text)) if i == 0 or text[i - 1] == "\n"]
            at = rng.choice(starts) if starts else 0
            new = text[:at] + rng.choice(INSERTS) + text[at:]
        if new != text:
            versions.append(new)
            text = new
    return versions


def _published(server: RawServer, version: int) -> dict:
    """The server's messages up to the publishDiagnostics of `version` of the document (those
    of earlier versions, and anything else, are skipped)."""
    while True:
        message = server.message()
        assert message is not None, "the server's output ended"
        if (message.get("method") == "textDocument/publishDiagnostics"
                and message["params"]["uri"] == URI and message["params"].get("version") == version):
            return message["params"]


@pytest.fixture
def server():
    server = RawServer()
    capabilities = server.initialize()["result"]["capabilities"]
    assert capabilities["textDocumentSync"]["change"] == 2  # incremental
    yield server
    server.send(SHUTDOWN)
    server.response(99)
    server.send(EXIT)
    assert server.wait()[0] == 0


# (start text, seed of its edit chain, edits, codes the chain must go through: what depends on
# other declarations)
START = [
    pytest.param(PROGRAMS, 11, 40, {"QVR054", "QVR110", "QVR111"}, id="programs"),
    pytest.param((ROOT / "examples" / "current" / "e04_crossed_templates.qvr").read_text()
                 + (ROOT / "examples" / "current" / "e10_algebra.qvr").read_text(), 12, 30,
                 {"QVR015", "QVR054", "QVR135"}, id="e04-e10"),
]


@pytest.mark.slow
@pytest.mark.parametrize("start, seed, count, seen", START)
def test_published_diagnostics_follow_analyze_through_incremental_changes(server, start, seed,
                                                                          count, seen):
    server.send({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
        "uri": URI, "languageId": "qvr", "version": 1, "text": start}}})
    assert _published(server, 1)["diagnostics"] == _expected(start)
    text = start
    codes = set()
    for version, new in enumerate(_edits(start, random.Random(seed), count), 2):
        server.send({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
            "textDocument": {"uri": URI, "version": version},
            "contentChanges": [_change(text, new)]}})
        text = new
        published = _published(server, version)["diagnostics"]
        expected = _expected(text)
        assert published == expected, f"version {version}:\n{text}"
        codes.update(d.get("code") for d in expected)
    assert seen <= codes
