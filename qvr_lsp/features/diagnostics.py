"""Diagnostics of a document: the checker's (syntax and semantic), each reported once.

They come from `Document.diagnostics` (the analysis engine's incremental run: a keystroke
re-checks only the declarations it touched), which equals the full analysis' diagnostics.

The checker's lark-based syntax diagnostics (QVR001–QVR005) are authoritative. Tree-sitter
ERROR/MISSING nodes are only used when the checker is unavailable, worded for humans, so a
syntax error is never reported twice.
"""
from __future__ import annotations

from typing import Optional

from qvr.diagnostics import Diagnostic, Severity
from qvr.semantics.placed import DiagnosticRuns, Run
from qvr.syntax.span import Span


def document_diagnostics(doc) -> list[Diagnostic]:
    """The document's diagnostics with repeats (same code, range and message) left out.
    They arrive sorted by (start, end, code), so a repeat lies in the run of diagnostics with
    its range and code: only such runs are compared (`_Once`)."""
    diagnostics = doc.diagnostics
    if diagnostics is None:
        return tree_sitter_syntax_errors(doc)
    once = _Once()
    return [d for d in diagnostics if once.keep(d)]


def document_diagnostic_runs(doc) -> DiagnosticRuns:
    """`document_diagnostics` as runs (`Document.diagnostic_runs`, what the server converts
    run by run): a run of a recorded block is kept whole when it has no repeat of its own
    (looked at once per record) and its first diagnostic repeats none before it."""
    runs = doc.diagnostic_runs
    if runs is None:
        return DiagnosticRuns.of(tree_sitter_syntax_errors(doc))
    out = []
    once = _Once()
    for run in runs.runs:
        memo = run.memo
        if memo is None:  # made in this version: only this part
            free = _repeat_free(run.base[run.lo:run.hi])
        else:
            free = memo.get("repeat-free")
            if free is None:
                free = memo["repeat-free"] = _repeat_free(run.base)
        if free and not once.follows(run):
            out.append(run)
            once.last = run
        else:
            out.append(Run.of([d for d in run.items() if once.keep(d)]))
    return DiagnosticRuns(out)


class _Once:
    """What decides whether a diagnostic repeats one before it: the last (start, end, code)
    seen and the messages seen with it, or the run that ended with them (`last`, looked into
    only when the next diagnostic has that key)."""

    __slots__ = ("key", "messages", "last")

    def __init__(self) -> None:
        self.key = None
        self.messages: list = []
        self.last: Optional[Run] = None

    def follows(self, run: Run) -> bool:
        """Whether the first diagnostic of `run` has the key of the last one seen."""
        first, delta = run.base[run.lo], run.delta
        key = (first.span.start + delta, first.span.end + delta, first.code)
        if self.last is not None:
            last, delta = self.last.base[self.last.hi - 1], self.last.delta
            if (last.span.start + delta, last.span.end + delta, last.code) != key:
                return False
            self._settle()
        return key == self.key

    def keep(self, d: Diagnostic) -> bool:
        if self.last is not None:
            self._settle()
        key = (d.span.start, d.span.end, d.code)
        if key != self.key:
            self.key, self.messages = key, [d.message]
            return True
        if d.message in self.messages:
            return False
        self.messages.append(d.message)
        return True

    def _settle(self) -> None:
        """The key and messages at the end of `last` (a run that repeats none)."""
        run, self.last = self.last, None
        base, k = run.base, run.hi - 1
        last = base[k]
        key = (last.span.start, last.span.end, last.code)
        messages = [last.message]
        while k > run.lo and (base[k - 1].span.start, base[k - 1].span.end, base[k - 1].code) == key:
            k -= 1
            messages.append(base[k].message)
        self.key, self.messages = (key[0] + run.delta, key[1] + run.delta, key[2]), messages


def _repeat_free(diagnostics) -> bool:
    once = _Once()
    return all(map(once.keep, diagnostics))


def _offset_of_byte(text: str, byte: int) -> int:
    return len(text.encode("utf-8", errors="surrogatepass")[:byte].decode("utf-8", errors="ignore"))


def tree_sitter_syntax_errors(doc, limit: int = 50) -> list[Diagnostic]:
    """QVR002-style diagnostics from the tree-sitter CST (fallback when lark is unavailable)."""
    tree = doc.tree
    if tree is None or not tree.root_node.has_error:
        return []
    out: list[Diagnostic] = []
    cursor = [tree.root_node]
    while cursor and len(out) < limit:
        node = cursor.pop()
        if node.is_missing:
            start = _offset_of_byte(doc.text, node.start_byte)
            out.append(Diagnostic("QVR002", Severity.ERROR, f"syntax error: expected `{node.type}` here", Span(start, start)))
            continue
        if node.type == "ERROR":
            start = _offset_of_byte(doc.text, node.start_byte)
            end = _offset_of_byte(doc.text, node.end_byte)
            snippet = doc.text[start:end].split("\n", 1)[0][:30]
            out.append(Diagnostic("QVR002", Severity.ERROR, f"syntax error: unexpected `{snippet}`", Span(start, end)))
            continue
        if node.has_error:
            cursor.extend(reversed(node.children))
    return sorted(out, key=lambda d: (d.span.start, d.span.end))
