"""qvr_lsp: the QVR language server (pygls 2).

Layers, one way only: `documents` keeps each open file's text, incremental tree-sitter tree and
latest `Analysis`; `features/*` are pure functions from a document (or analysis) and a
position to plain data; `server` wires them to LSP with lsprotocol types. Nothing here imports
torch (model runs go through a worker process, see `qvr_lsp.runs`).
"""
__version__ = "0.1.0"
