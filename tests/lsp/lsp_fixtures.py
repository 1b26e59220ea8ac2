"""Shared helpers for the language-server tests: cursor-marker fixtures, sample files,
`frame()` for tests that talk raw JSON-RPC to a server process, and `render_*`: a feature's
whole output as stable, readable text for expectation tests (tests/expect.py).

Renderings write positions as `line:col`, 1-based, columns in code points (as `qvr check`
prints them), and sort what the protocol leaves unordered.

A fixture text marks the cursor with `$0` (rust-analyzer style); `marked()` removes the marker
and returns the text and the code-point offset where it was. Several markers `$1`, `$2`, ...
can name extra positions.
"""
from __future__ import annotations

import json

import re
from pathlib import Path

from qvr_lsp.documents import DocumentStore

DATA = Path(__file__).parent / "data"
SAMPLES = {p.stem: p.read_text(encoding="utf-8") for p in sorted(DATA.glob("*.qvr"))}
MARKER = re.compile(r"\$(\d)")


def marked(text: str) -> tuple[str, dict[int, int]]:
    """Strip `$n` markers; return (text, {n: offset})."""
    out, offsets, last = [], {}, 0
    length = 0
    for m in MARKER.finditer(text):
        chunk = text[last:m.start()]
        out.append(chunk)
        length += len(chunk)
        offsets[int(m.group(1))] = length
        last = m.end()
    out.append(text[last:])
    return "".join(out), offsets


def open_doc(text: str, uri: str = "file:///tmp/test.qvr"):
    store = DocumentStore()
    return store.open(uri, text, 1)


def at_cursor(fixture: str):
    """(document, offset of `$0`) for a marker fixture."""
    text, offsets = marked(fixture)
    return open_doc(text), offsets[0]


def offset_of(text: str, needle: str, nth: int = 0, delta: int = 0) -> int:
    """Offset of the `nth` occurrence of `needle` in `text`, plus `delta`."""
    pos = -1
    for _ in range(nth + 1):
        pos = text.index(needle, pos + 1)
    return pos + delta


def frame(message: dict) -> bytes:
    """`message` as one LSP base-protocol frame (Content-Length header and JSON body)."""
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


# The run tests: the stand-in for `python -m qvr` (see its docstring) and the smallest program
# they start (a `# fake-worker: MODE` line in front chooses what the fake worker does).
FAKE_WORKER = Path(__file__).parent / "fixtures" / "fake_qvr_worker.py"
RUN_MODEL = """object Token : FinSet 4
morphism head : Token -> Token ~ Categorical
program lm : Token -> Token
    observe y : Token <- head
    return y
export lm
"""


# ------------------------------------------------------------------------ renderings ----
def line_col(text: str, offset: int) -> str:
    """`line:col` of a code-point offset, both 1-based."""
    line = text.count("\n", 0, offset)
    return f"{line + 1}:{offset - (text.rfind(chr(10), 0, offset) + 1) + 1}"


def span_at(text: str, span) -> str:
    """`line:col-line:col` and the text it covers (newlines shown as \\n)."""
    covered = text[span.start:span.end].replace("\n", "\\n")
    return f"{line_col(text, span.start)}-{line_col(text, span.end)} `{covered}`"


def render_hover(result) -> str:
    """A hover's markdown, ending with a newline like every rendering."""
    return result.markdown + "\n"


def render_completion(items) -> str:
    """One item a line, in the order a client lists them (group, then label): label, kind,
    detail, and the insert text when it is not the label."""
    out = []
    for item in sorted(items, key=lambda i: (i.sort_group, i.label)):
        line = f"{item.label} [{item.kind}]"
        if item.detail:
            line += f" {item.detail}"
        if item.insert_text is not None and item.insert_text != item.label:
            line += (" snippet " if item.is_snippet else " inserts ") + repr(item.insert_text)
        out.append(line)
    return "".join(line + "\n" for line in out)


def render_symbols(nodes, text: str, depth: int = 0) -> str:
    """The document-symbol tree, a child indented under its parent: kind, name, name span,
    detail."""
    out = []
    for node in nodes:
        detail = f" : {node.detail}" if node.detail else ""
        out.append(f"{'  ' * depth}{node.kind} {node.name} {span_at(text, node.name_span)}{detail}\n")
        out.append(render_symbols(node.children, text, depth + 1))
    return "".join(out)


def render_tokens(text: str, tokens) -> str:
    """Semantic tokens decoded: position, type, modifiers and the text, in text order."""
    from qvr_lsp.features import semantic_tokens

    out = []
    for tok in sorted(tokens):
        mods = [name for i, name in enumerate(semantic_tokens.TOKEN_MODIFIERS) if tok.modifiers >> i & 1]
        out.append(f"{line_col(text, tok.start)} {semantic_tokens.TOKEN_TYPES[tok.type]}"
                   f"{''.join('.' + m for m in mods)} `{text[tok.start:tok.end]}`\n")
    return "".join(out)


def render_folds(text: str, folds) -> str:
    """Folding ranges by start line: `start-end kind` (1-based lines) and the first line."""
    lines = text.split("\n")
    return "".join(f"{f.start_line + 1}-{f.end_line + 1} {f.kind or 'region'} | {lines[f.start_line]}\n"
                   for f in sorted(folds, key=lambda f: (f.start_line, f.end_line, f.kind or "")))


def render_hints(text: str, hints) -> str:
    """Inlay hints in text order: where, the text before it on its line, and the label."""
    out = []
    for hint in sorted(hints, key=lambda h: (h.offset, h.label)):
        before = text[text.rfind("\n", 0, hint.offset) + 1:hint.offset].strip()
        out.append(f"{line_col(text, hint.offset)} {before}|{hint.label}\n")
    return "".join(out)


def render_spans(text: str, spans) -> str:
    """Spans in text order, one a line (see `span_at`)."""
    return "".join(span_at(text, s) + "\n" for s in sorted(spans, key=lambda s: (s.start, s.end)))


def render_edits(text: str, edits) -> str:
    """(span, new text) edits in text order: the span, what it covers and its replacement."""
    return "".join(f"{span_at(text, span)} -> {new!r}\n"
                   for span, new in sorted(edits, key=lambda e: (e[0].start, e[0].end)))


def render_diagnostics(text: str, diagnostics) -> str:
    """Diagnostics in text order: position, severity, code, message, tags."""
    out = []
    for d in sorted(diagnostics, key=lambda d: (d.span.start, d.span.end, d.code, d.message)):
        tags = f" [{', '.join(sorted(d.tags))}]" if d.tags else ""
        out.append(f"{line_col(text, d.span.start)}-{line_col(text, d.span.end)} "
                   f"{d.severity.name.lower()}[{d.code}] {d.message}{tags}\n")
    return "".join(out)


def render_actions(text: str, actions) -> str:
    """Code actions in the order offered (the order a client shows): title, kind, whether
    preferred, the diagnostic it fixes, and its edits."""
    out = []
    for a in actions:
        fixes = f" fixes {a.diagnostic.code}" if a.diagnostic is not None else ""
        out.append(f"{a.title} [{a.kind}{', preferred' if a.preferred else ''}]{fixes}\n")
        out.extend("  " + line + "\n" for line in render_edits(text, a.edits).splitlines())
    return "".join(out)


def _one_based(value):
    """A protocol value (unstructured to JSON types) with its positions as `line:col`, ranges
    as `line:col-line:col` and folding lines counted from 1, like every rendering here."""
    if isinstance(value, list):
        return [_one_based(v) for v in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"line", "character"}:
        return f"{value['line'] + 1}:{value['character'] + 1}"
    if set(value) == {"start", "end"} and all(isinstance(value[k], dict) for k in value):
        return f"{_one_based(value['start'])}-{_one_based(value['end'])}"
    return {k: (v + 1 if k in ("startLine", "endLine") else _one_based(v)) for k, v in value.items()}


def render_protocol(value, pretty: bool = False, unordered: bool = False) -> str:
    """A protocol answer as the server sent it (lsprotocol objects are unstructured to their
    JSON form), positions converted as `_one_based` says. A list gives one compact JSON line
    per element in the order the server sent them (sorted by range, then text, when
    `unordered`: for answers whose order the protocol leaves open, such as diagnostics and
    references), anything else one JSON line; `pretty` indents the whole value instead (for
    nested answers such as symbols)."""
    import json

    from lsprotocol.converters import get_converter

    raw = get_converter().unstructure(value)
    plain = _one_based(raw)
    if pretty:
        return json.dumps(plain, sort_keys=True, ensure_ascii=False, indent=1) + "\n"

    def line(v) -> str:
        return json.dumps(v, sort_keys=True, ensure_ascii=False) + "\n"

    if not isinstance(plain, list):
        return line(plain)
    lines = [line(v) for v in plain]
    if unordered:
        lines = [text for _, text in sorted(zip(map(_range_key, raw), lines))]
    return "".join(lines)


def _range_key(item) -> tuple:
    """Where an unstructured protocol item is: its `range` (or its location's), as numbers."""
    if isinstance(item, dict):
        span = item.get("range") or (item.get("location") or {}).get("range")
        if isinstance(span, dict):
            return (span["start"]["line"], span["start"]["character"],
                    span["end"]["line"], span["end"]["character"])
    return ()


def render_token_data(data, legend_types, legend_modifiers) -> str:
    """Semantic-token data as the protocol sends it (relative quintuples) decoded to absolute
    `line:col length type.modifiers`, in order."""
    out, line, col = [], 0, 0
    for i in range(0, len(data), 5):
        d_line, d_col, length, kind, mods = data[i:i + 5]
        line, col = line + d_line, (col + d_col if d_line == 0 else d_col)
        names = [m for b, m in enumerate(legend_modifiers) if mods >> b & 1]
        out.append(f"{line + 1}:{col + 1} {length} {legend_types[kind]}{''.join('.' + m for m in names)}\n")
    return "".join(out)
