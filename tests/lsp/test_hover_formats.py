"""Hover text as markdown and as plain text (the client's `textDocument.hover.contentFormat`),
and hover on builtin functions and combinator keywords. Whole hover texts are compared."""
from __future__ import annotations

import pytest
from lsp_fixtures import at_cursor
from raw_client import RawServer

from qvr.syntax import vocabulary
from qvr_lsp.features import hover

MODEL = """object Token : FinSet 4
object Hidden : Real 8
morphism embed : Token -> Hidden [role=embed]
morphism cell : Hidden * Hidden -> Hidden [scale=0.1] ~ Normal
morphism gate : Hidden -> Hidden ~ LogitNormal

#! Squash a hidden state.
program squash(h) : Hidden -> Hidden
    sample g <- gate(h)
    let s = g * $1tanh(h) + sigmoid(h)
    return s

define both = $2fan(squash, identity(Hidden))
define run = embed >> $3scan(cell, states=all)
define deep = $4stack(squash, 2) >> repeat(squash, 3)
export run
"""


def hover_at(marker: str) -> hover.HoverResult:
    doc, offset = at_cursor(MODEL.replace(f"${marker}", "$0").replace("$1", "").replace(
        "$2", "").replace("$3", "").replace("$4", ""))
    result = hover.hover(doc, offset)
    assert result is not None
    return result


def test_a_morphism_in_markdown_and_in_plain_text():
    doc, offset = at_cursor(MODEL.replace("gate : Hidden", "ga$0te : Hidden").replace(
        "$1", "").replace("$2", "").replace("$3", "").replace("$4", ""))
    result = hover.hover(doc, offset)
    assert result.markdown == (
        "```qvr\ngate : Hidden(8) -> Hidden(8) ~ LogitNormal\n```\n\n"
        "Family `LogitNormal(loc, scale)`, support unit interval (0, 1) → Real w {low=0.0, high=1.0}\n\n"
        "Options: `param_source=affine`, `replicate=1`")
    assert result.plaintext == (
        "gate : Hidden(8) -> Hidden(8) ~ LogitNormal\n\n"
        "Family LogitNormal(loc, scale), support unit interval (0, 1) → Real w {low=0.0, high=1.0}\n\n"
        "Options: param_source=affine, replicate=1")


def test_a_program_with_docs_in_plain_text_keeps_the_docs_as_written():
    doc, offset = at_cursor(MODEL.replace("program squash", "program squ$0ash").replace(
        "$1", "").replace("$2", "").replace("$3", "").replace("$4", ""))
    result = hover.hover(doc, offset)
    assert result.markdown == ("```qvr\nprogram squash(h) : Hidden(8) -> Hidden(8)\n```\n\n"
                               "Squash a hidden state.")
    assert result.plaintext == "program squash(h) : Hidden(8) -> Hidden(8)\n\nSquash a hidden state."


@pytest.mark.parametrize("marker, markdown, plaintext", [
    ("1", "```qvr\nbuiltin tanh(x) : Real n -> Real n\n```\n\n"
          "Hyperbolic tangent, elementwise; values in (-1, 1).",
     "builtin tanh(x) : Real n -> Real n\n\nHyperbolic tangent, elementwise; values in (-1, 1)."),
    ("2", "```qvr\nfan(f, g, ...) : A -> B * C * ...\n```\n\n"
          "Runs every component on the same input and returns the product of their outputs; "
          "the components must share a domain.",
     "fan(f, g, ...) : A -> B * C * ...\n\n"
     "Runs every component on the same input and returns the product of their outputs; "
     "the components must share a domain."),
    ("3", "```qvr\nscan(cell, init=zeros|learned, states=last|all, direction=forward|backward) : "
          "Seq[X] -> S\n```\n\n"
          "Runs the cell `X * S -> S` along a sequence, threading the state `S`; "
          "`states=all` returns `Seq[S]`.",
     "scan(cell, init=zeros|learned, states=last|all, direction=forward|backward) : "
     "Seq[X] -> S\n\n"
     "Runs the cell X * S -> S along a sequence, threading the state S; "
     "states=all returns Seq[S]."),
    ("4", "```qvr\nstack(f, n) : A -> A\n```\n\n"
          "Applies n independent, freshly initialised copies of `f` one after the other; "
          "for n ≥ 2, `f` must be an endomorphism.",
     "stack(f, n) : A -> A\n\n"
     "Applies n independent, freshly initialised copies of f one after the other; "
     "for n ≥ 2, f must be an endomorphism."),
])
def test_builtins_and_combinators_have_hover(marker, markdown, plaintext):
    result = hover_at(marker)
    assert (result.markdown, result.plaintext) == (markdown, plaintext)


@pytest.mark.parametrize("word", ["sigmoid", "identity", "repeat"])
def test_every_builtin_and_combinator_in_the_model_has_its_table_entry(word):
    text = MODEL.replace("$1", "").replace("$2", "").replace("$3", "").replace("$4", "")
    doc, offset = at_cursor(text.replace(f"{word}(", f"{word}$0(", 1))
    signature, sentence = hover.BUILTIN_HOVERS[word]
    assert hover.hover(doc, offset).markdown == f"```qvr\n{signature}\n```\n\n{sentence}"


def test_the_table_covers_every_builtin_and_expression_keyword():
    assert set(hover.BUILTIN_HOVERS) == set(vocabulary.BUILTINS) | set(vocabulary.EXPRESSION_KEYWORDS)


@pytest.mark.parametrize("formats, kind", [
    (["plaintext"], "plaintext"),
    (["plaintext", "markdown"], "plaintext"),
    (["markdown", "plaintext"], "markdown"),
    (None, "markdown"),
])
@pytest.mark.process
def test_the_server_honours_the_clients_content_format(formats, kind):
    text = MODEL.replace("$1", "").replace("$2", "").replace("$3", "").replace("$4", "")
    line = text.splitlines().index("    let s = g * tanh(h) + sigmoid(h)")
    capabilities = {} if formats is None else {"textDocument": {"hover": {"contentFormat": formats}}}
    server = RawServer()
    try:
        server.initialize(capabilities)
        uri = "file:///hover.qvr"
        server.send({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": uri, "languageId": "qvr", "version": 1, "text": text}}})
        server.send({"jsonrpc": "2.0", "id": 2, "method": "textDocument/hover", "params": {
            "textDocument": {"uri": uri}, "position": {"line": line, "character": 18}}})
        value = ("builtin tanh(x) : Real n -> Real n\n\nHyperbolic tangent, elementwise; values in (-1, 1)."
                 if kind == "plaintext" else
                 "```qvr\nbuiltin tanh(x) : Real n -> Real n\n```\n\nHyperbolic tangent, elementwise; "
                 "values in (-1, 1).")
        assert server.response(2) == {"jsonrpc": "2.0", "id": 2, "result": {
            "contents": {"kind": kind, "value": value},
            "range": {"start": {"line": line, "character": 16}, "end": {"line": line, "character": 20}}}}
        server.send({"jsonrpc": "2.0", "id": 3, "method": "shutdown"}, {"jsonrpc": "2.0", "method": "exit"})
        assert server.response(3)["result"] is None
        assert server.wait() == (0, "")
    finally:
        server.kill()
