"""One module per LSP feature. Each exposes pure functions from a `Document`/`Analysis` and an
offset (code points into the normalised text) to plain data with `Span`s; the server turns the
results into lsprotocol types. Nothing in here knows about the protocol or the position encoding.

The names the server announces at ``initialize`` are here rather than in their feature modules,
so that registering the handlers executes none of those modules (`qvr_lsp.handlers` loads them
on first use; the first diagnostics need none of them).
"""

#: The semantic-token legend: `semantic_tokens.Token.type` indexes TOKEN_TYPES, and bit i of
#: its modifiers stands for TOKEN_MODIFIERS[i].
TOKEN_TYPES = (
    "keyword", "type", "function", "variable", "parameter", "property", "number", "comment",
    "operator", "namespace", "enumMember", "macro",
)
TOKEN_MODIFIERS = ("declaration", "documentation", "defaultLibrary", "deprecated", "readonly")

#: The code action kind of the whole-file migration (`code_actions.migrate_action`).
MIGRATE_KIND = "source.migrate.qvr"
