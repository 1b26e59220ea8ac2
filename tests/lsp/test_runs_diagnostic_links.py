"""Diagnostics link to their code's section of docs/diagnostics.md (LSP ``codeDescription``)
once the client says where that page lives: ``qvr.diagnostics.codeDescriptionBaseUrl``, in
``initializationOptions`` or pushed with ``workspace/didChangeConfiguration`` (the run layer
keeps it with the other pushed settings). Without it no diagnostic has a link.

Through the protocol (pytest-lsp client, the real server over stdio): a client that receives
published diagnostics (Neovim 0.7) and one that pulls them (a later Neovim).
"""
from __future__ import annotations

import asyncio
import contextlib
import re
import sys

import pytest
from lsprotocol import types
from pytest_lsp import client_capabilities, make_test_lsp_client

from qvr_lsp import client_contract

GUARD_S = 30.0
# an undefined type (QVR010) and a run failure's code (no section: no link)
TEXT = "object X : Real 2\nmorphism f : X -> Y\nexport f\n"
BASE = "https://example.org/qvr-tools/docs"


@contextlib.asynccontextmanager
async def session(init_options=None, preset="neovim@v0.7.0"):
    client = make_test_lsp_client()
    await client.start_io(sys.executable, "-m", "qvr_lsp")
    await client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities(preset), initialization_options=init_options))
    try:
        yield client
    finally:
        await client.shutdown_session()
        await client.stop()


async def published(client, uri: str, predicate) -> list:
    """The diagnostics of the first publish for `uri` (from now on) that satisfies `predicate`."""
    async def wait():
        while True:
            params = await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
            if params.uri == uri and predicate(params.diagnostics):
                return params.diagnostics

    return await asyncio.wait_for(wait(), GUARD_S)


def links(diagnostics) -> list:
    return [(d.code, d.code_description.href if d.code_description else None)
            for d in diagnostics]


def open_doc(client, uri: str) -> None:
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="qvr", version=1, text=TEXT)))


def test_every_linked_code_has_its_heading_in_docs_diagnostics_md():
    """A code gets a link only if it is in the catalogue docs/diagnostics.md is generated from,
    where its section's heading is the code itself, whose anchor is the code in lower case."""
    from qvr.explain import CATALOGUE, render_markdown

    from qvr_lsp import convert

    headings = set(re.findall(r"^## (\S+)$", render_markdown(), re.MULTILINE))
    assert set(CATALOGUE) <= headings
    assert {convert._anchor(code) for code in CATALOGUE} == {code.lower() for code in CATALOGUE}


@pytest.mark.process
async def test_diagnostics_link_to_their_section_with_a_base_from_initialization(tmp_path):
    uri = (tmp_path / "m.qvr").as_uri()
    async with session({"diagnostics": {"codeDescriptionBaseUrl": BASE + "/"}}) as client:
        open_doc(client, uri)
        diagnostics = await published(client, uri, bool)
        assert links(diagnostics) == [("QVR010", f"{BASE}/diagnostics.md#qvr010")]


@pytest.mark.process
async def test_pulled_diagnostics_carry_the_link_too(tmp_path):
    uri = (tmp_path / "m.qvr").as_uri()
    async with session({"diagnostics": {"codeDescriptionBaseUrl": BASE}}, "neovim") as client:
        open_doc(client, uri)
        report = await asyncio.wait_for(client.text_document_diagnostic_async(
            types.DocumentDiagnosticParams(text_document=types.TextDocumentIdentifier(uri=uri))),
            GUARD_S)
        assert links(report.items) == [("QVR010", f"{BASE}/diagnostics.md#qvr010")]


@pytest.mark.process
async def test_no_base_no_link(tmp_path):
    uri = (tmp_path / "m.qvr").as_uri()
    async with session() as client:
        open_doc(client, uri)
        diagnostics = await published(client, uri, bool)
        assert links(diagnostics) == [("QVR010", None)]
        json_form = client.protocol._converter.unstructure(diagnostics[0])
        assert "codeDescription" not in json_form


@pytest.mark.process
async def test_a_pushed_base_republishes_with_links_and_null_removes_them(tmp_path):
    uri = (tmp_path / "m.qvr").as_uri()
    async with session() as client:
        open_doc(client, uri)
        assert links(await published(client, uri, bool)) == [("QVR010", None)]
        client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
            settings={"qvr": {"diagnostics": {"codeDescriptionBaseUrl": BASE}}}))
        diagnostics = await published(client, uri, lambda ds: ds and ds[0].code_description)
        assert links(diagnostics) == [("QVR010", f"{BASE}/diagnostics.md#qvr010")]
        client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
            settings={"qvr": {"diagnostics": {"codeDescriptionBaseUrl": None}}}))
        diagnostics = await published(client, uri, lambda ds: ds and not ds[0].code_description)
        assert links(diagnostics) == [("QVR010", None)]


def test_the_setting_is_in_the_client_contract():
    setting = {s["key"]: s for s in client_contract.SETTINGS}[
        client_contract.CODE_DESCRIPTION_SETTING]
    assert client_contract.CODE_DESCRIPTION_SETTING == "qvr.diagnostics.codeDescriptionBaseUrl"
    assert (setting["default"], setting["server"], setting.get("restricted")) == ("", True, True)
    assert client_contract.DIAGNOSTICS_SETTING_DEFAULTS == {"codeDescriptionBaseUrl": ""}


def test_a_run_failures_code_has_no_section_and_no_link():
    from qvr_lsp import convert, runs

    assert convert.code_description(runs.RUN_ERROR_CODE, BASE) is None
    assert convert.code_description("QVR010", "") is None
    assert convert.code_description("QVR010", BASE).href == f"{BASE}/diagnostics.md#qvr010"
