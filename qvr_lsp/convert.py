"""Conversion of feature results (plain data with code-point `Span`s) to lsprotocol types."""
from __future__ import annotations

from lsprotocol import types as lsp

from qvr.diagnostics import Diagnostic

from .positions import PositionEncoder

SYMBOL_KINDS = {
    "object": lsp.SymbolKind.Class, "morphism": lsp.SymbolKind.Function, "program": lsp.SymbolKind.Method,
    "define": lsp.SymbolKind.Constant, "export": lsp.SymbolKind.Module, "category": lsp.SymbolKind.Namespace,
    "rule": lsp.SymbolKind.Operator, "quantale": lsp.SymbolKind.Namespace, "parameter": lsp.SymbolKind.Variable,
    "variable": lsp.SymbolKind.Variable,
}
COMPLETION_KINDS = {
    "keyword": lsp.CompletionItemKind.Keyword, "snippet": lsp.CompletionItemKind.Snippet,
    "family": lsp.CompletionItemKind.Class, "object": lsp.CompletionItemKind.Struct,
    "morphism": lsp.CompletionItemKind.Function, "program": lsp.CompletionItemKind.Method,
    "define": lsp.CompletionItemKind.Constant, "variable": lsp.CompletionItemKind.Variable,
    "builtin": lsp.CompletionItemKind.Function, "option": lsp.CompletionItemKind.Property,
    "constructor": lsp.CompletionItemKind.Constructor,
}
TAGS = {"deprecated": lsp.DiagnosticTag.Deprecated, "unnecessary": lsp.DiagnosticTag.Unnecessary}


def position(encoder: PositionEncoder, index, offset: int) -> lsp.Position:
    line, col = encoder.to_lsp(index, offset)
    return lsp.Position(line=line, character=col)


def range_(encoder: PositionEncoder, index, span) -> lsp.Range:
    return lsp.Range(start=position(encoder, index, span.start), end=position(encoder, index, span.end))


def diagnostic(encoder: PositionEncoder, doc, d: Diagnostic) -> lsp.Diagnostic:
    index = doc.line_index
    related = [
        lsp.DiagnosticRelatedInformation(
            location=lsp.Location(uri=doc.uri, range=range_(encoder, index, r.span)), message=r.message
        )
        for r in d.related
    ]
    tags = [TAGS[t] for t in d.tags if t in TAGS]
    return lsp.Diagnostic(
        range=range_(encoder, index, d.span),
        message=d.message,
        severity=lsp.DiagnosticSeverity(int(d.severity)),
        code=d.code,
        source="qvr",
        tags=tags or None,
        related_information=related or None,
    )


def text_edits(encoder: PositionEncoder, index, edits) -> list[lsp.TextEdit]:
    return [lsp.TextEdit(range=range_(encoder, index, span), new_text=new) for span, new in edits]
