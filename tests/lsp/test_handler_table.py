"""The table of request handlers (qvr_lsp.handlers): what every row does the same way.

Every row is registered; a request about a document the server does not have, a feature that
answers None and a feature that fails all get the row's neutral default (a failure also logs
its traceback under the row's name), while an error raised on purpose is the answer.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
from types import SimpleNamespace

import pytest
from lsprotocol import types as lsp

from qvr_lsp import handlers
from qvr_lsp.protocol import RequestFailed
from qvr_lsp.server import create_server

DOCUMENT_ROWS = [row for row in handlers.TABLE if row.document and row.params is None]
MODEL = "object A : Real 2\nmorphism f : A -> A ~ Normal\n"


def call(handler, params):
    result = handler(params)
    return asyncio.run(result) if asyncio.iscoroutine(result) else result


def expected(row):
    return row.default() if callable(row.default) else row.default


def test_every_row_is_registered_once():
    ls = create_server()
    methods = [row.method for row in handlers.TABLE]
    assert len(methods) == len(set(methods))
    assert set(methods) <= set(ls.protocol.fm.features)


@pytest.mark.parametrize("row", DOCUMENT_ROWS, ids=lambda row: row.name)
def test_a_document_the_server_does_not_have_gets_the_default(row):
    ls = create_server()
    params = SimpleNamespace(text_document=SimpleNamespace(uri="file:///not-open.qvr"))
    assert call(ls.protocol.fm.features[row.method], params) == expected(row)


@pytest.mark.parametrize("row", DOCUMENT_ROWS, ids=lambda row: row.name)
def test_a_failing_feature_is_logged_and_answered_with_the_default(row, caplog):
    def broken(ls, doc, params):
        raise RuntimeError("feature bug")

    failing = dataclasses.replace(row, feature=broken)
    ls = create_server()
    ls.documents.open("file:///m.qvr", MODEL, 1)
    handler = handlers.handler_function(failing)
    params = SimpleNamespace(text_document=SimpleNamespace(uri="file:///m.qvr"))
    with caplog.at_level(logging.ERROR, logger="qvr_lsp"):
        assert call(lambda p: handler(ls, p), params) == expected(row)
    assert [r.getMessage() for r in caplog.records] == [f"{row.name} failed"]
    assert caplog.records[0].exc_info[0] is RuntimeError


def test_none_from_a_feature_is_the_default_and_a_refusal_is_the_answer():
    ls = create_server()
    ls.documents.open("file:///m.qvr", MODEL, 1)
    params = SimpleNamespace(text_document=SimpleNamespace(uri="file:///m.qvr"))
    silent = handlers.Handler("x/list", "listing", feature=lambda ls, doc, p: None, default=list)
    assert call(lambda p: handlers.handler_function(silent)(ls, p), params) == []

    def refuse(ls, doc, p):
        raise RequestFailed("no")

    refusing = handlers.Handler("x/refuse", "refusing", feature=refuse, need="analysis")
    with pytest.raises(RequestFailed):
        call(lambda p: handlers.handler_function(refusing)(ls, p), params)


def test_a_row_converts_what_its_feature_found():
    ls = create_server()
    ls.documents.open("file:///m.qvr", MODEL, 1)
    params = SimpleNamespace(text_document=SimpleNamespace(uri="file:///m.qvr"))
    row = handlers.Handler("x/count", "count", feature=lambda ls, doc, p: doc.text.count("\n"),
                           convert=lambda ls, doc, n: lsp.Position(line=n, character=0))
    assert call(lambda p: handlers.handler_function(row)(ls, p), params) == lsp.Position(line=2, character=0)


def test_completion_is_triggered_where_the_current_forms_need_it():
    # `=` after an option key (`reduction=`, `iid_over=`, `via=`, `level=`) lists its values
    ls = create_server()
    options = ls.protocol.fm.feature_options[lsp.TEXT_DOCUMENT_COMPLETION]
    assert options.trigger_characters == ["~", "-", ">", ":", "(", "[", ",", " ", "="]
