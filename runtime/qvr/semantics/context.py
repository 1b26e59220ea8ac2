"""Shared state of one checker run: diagnostics, symbols, references, inferred types.

The passes (`objects`, `declarations`, `expressions`, `programs`, `deprecations`) all write
into one `Context`; a `checker.Checker` holds it for one run of the engine
(`qvr.semantics.engine`), which freezes a fresh run's result into an `Analysis`.
"""
from __future__ import annotations

import dataclasses
from typing import Optional

from ..diagnostics import Diagnostic, Fix, Related, Severity, TextEdit, slot_filler
from ..syntax.span import LineIndex, Span
from .model import Reference, Symbol
from .suggestions import NameIndex, Names, closest

_new_tuple = tuple.__new__


# (built by filling slots: a large module's check makes thousands of diagnostics and fixes)
_diagnostic = slot_filler(Diagnostic)
_text_edit = slot_filler(TextEdit)
_fix = slot_filler(Fix)

KIND_WORDS = {
    "object": "object", "morphism": "morphism", "program": "program", "define": "define",
    "category": "category", "rule": "rule", "quantale": "quantale",
    "parameter": "variable", "variable": "variable", "rule_variable": "rule variable",
    "opaque": "tier-3 declaration",
}


class Context:
    def __init__(self, text: str, line_index: LineIndex):
        self.text = text
        self.line_index = line_index
        self.diagnostics: list[Diagnostic] = []
        self.symbols: list[Symbol] = []
        self.top: dict[str, Symbol] = Names()
        # entries of `top` a template's parameters hide while it is checked (`shadow`):
        # name -> [the entry underneath or None, how many hide it]
        self.shadowed: dict[str, list] = {}
        # statement index at which each top-level name becomes visible (declaration order)
        self.declared_at: dict[str, int] = {}
        self.references: list[Reference] = []
        self.used: set[int] = set()  # id(Symbol) of used symbols
        self.types: dict[int, tuple] = {}
        self.scans: dict[int, tuple] = {}
        self.intermediates: dict[int, tuple] = {}  # id(Compose) -> (node, value between sides)
        self.inlines: dict[int, tuple] = {}
        self.objects: dict = {}
        self.morphisms: dict = {}
        self.programs: dict = {}
        self.defines: dict = {}
        self.groups: dict[str, list[str]] = {}  # group name -> member names
        self.current_index = 0  # index of the statement being checked
        self.order_free = False  # True inside export: any top-level name may be used
        self.local_top: dict[str, Symbol] = {}  # where-bindings visible to the current owner
        self.quantale = "product_fuzzy"
        self.worlds: dict[int, str] = {}  # id(Compose/Tensor) -> quantale of a finite world
        self.quantale_at_identity: dict[int, str] = {}
        self.pending: set = set()
        self.where_later: dict = {}  # where-binding name -> name span, not yet visible  # names of the statement being checked (not yet visible)
        self.statement_start = 0  # offset of the current statement's line (for inserted fixes)
        self.current_define: Optional[str] = None  # top-level define being checked
        self.define_users: dict[int, set] = {}  # id(define Symbol) -> names of users (None: other)
        self.muted = 0  # >0 while re-checking (promotion): diagnostics are dropped
        self.instantiating: set = set()  # templates being checked at a call (ids of decls)
        # Frames. A fresh run of the engine (`analyze`) checks every statement in the
        # coordinates of the whole text (origin 0); its incremental runs check each statement
        # in the coordinates of its own chunk, so that an unchanged statement's AST and results
        # stay valid when text before it moves: `origin` is the offset of the current frame
        # in the text; spans of the current statement's nodes are relative to it, and
        # `report` moves what it records to absolute offsets.
        self.origin = 0
        # Set when an output depends on where things are, not only on what they are (a
        # message naming a line, a location in another statement): such a statement's
        # results cannot be reused once text before it moves.
        self.positional = False
        # Set when a result looked at every declared name (a "did you mean" suggestion,
        # "is there any `category`"), not only at the names the statement mentions.
        self.uses_all_names = False
        # Whether any `category` is declared: found at the first need, once per run (every
        # name is declared before any statement is checked; see `grammar`).
        self.categories_declared: Optional[bool] = None
        # When a list, every reference is also appended to it as (symbol, current define).
        self.recording: Optional[list] = None

    # -- diagnostics ---------------------------------------------------------------------
    def report(self, code: str, severity: Severity, message: str, span: Span, *,
               tags=(), related=(), fixes=()) -> None:
        if self.muted:
            return
        diagnostic = _diagnostic(code, severity, message, span, tuple(tags), tuple(related),
                                 tuple(fixes))
        self.diagnostics.append(diagnostic.shifted(self.origin) if self.origin else diagnostic)

    def error(self, code, message, span, **kw):
        self.report(code, Severity.ERROR, message, span, **kw)

    def warning(self, code, message, span, **kw):
        self.report(code, Severity.WARNING, message, span, **kw)

    def hint(self, code, message, span, **kw):
        self.report(code, Severity.HINT, message, span, **kw)

    def deprecated(self, code: str, form: str, rewrite: str, span: Span, edits) -> None:
        """A QVR090–109 Hint: "`form` is deprecated; write `rewrite`" with its fix."""
        edits = tuple([e if isinstance(e, TextEdit) else _text_edit(*e) for e in edits])
        self.report(code, Severity.HINT, f"`{form}` is deprecated; write `{rewrite}`", span,
                    tags=_DEPRECATED, fixes=(_fix(f"Rewrite as `{rewrite}`", edits),))

    def line_of(self, span: Span) -> int:
        """1-based line of a span of the current frame (a message that names it)."""
        self.positional = True
        return self.line_index.position(span.start + self.origin)[0] + 1

    def src(self, span: Span) -> str:
        return self.text[span.start + self.origin:span.end + self.origin]

    def frame_span(self, sym: Symbol) -> Span:
        """`sym.name_span` in the current frame (`sym` may belong to another statement)."""
        delta = sym.origin - self.origin
        if not delta:
            return sym.name_span
        self.positional = True
        return Span(sym.name_span.start + delta, sym.name_span.end + delta)

    # -- symbols and references ------------------------------------------------------------
    # References are made with tuple.__new__: NamedTuple's own constructor is a Python-level
    # function, and large modules record tens of thousands of references.
    def add_symbol(self, sym: Symbol) -> Symbol:
        sym.origin = self.origin
        self.symbols.append(sym)
        self.references.append(_new_tuple(Reference, (sym.name_span, sym, True)))
        return sym

    def add_reference(self, span: Span, sym: Symbol) -> None:
        if not self.muted:
            # a muted re-check revisits another statement's nodes (a template's parameter
            # types at a call): their occurrences are that statement's, in its frame
            self.references.append(_new_tuple(Reference, (span, sym, False)))
        self.used.add(id(sym))
        if self.recording is not None:
            self.recording.append((sym, self.current_define))
        if sym.kind == "define" and sym.scope is None:
            # who refers to a define: defines used only by unused defines are unused (§4.7)
            self.define_users.setdefault(id(sym), set()).add(self.current_define)

    def record_type(self, node, t) -> None:
        if t is not None:
            self.types[id(node)] = (node, t)

    def type_of(self, node):
        e = self.types.get(id(node))
        return e[1] if e is not None and e[0] is node else None

    # -- top-level lookup --------------------------------------------------------------------
    def before_declaration(self, name, sym: Symbol) -> bool:
        """QVR014 when `sym`, named at `name`, is not in scope there yet: a top-level program
        or define is in scope only after its own statement, a where-binding only after its
        own expression (no recursion)."""
        if (sym.scope is None and not self.order_free
                and (self.declared_at.get(name.text, -1) > self.current_index
                     # a program or define (a where-binding too) in its own expression
                     or (name.text in self.pending and sym.kind in ("program", "define")))):
            where = self.frame_span(sym)
            self.error("QVR014", f"`{name.text}` is used before its declaration "
                       f"(line {self.line_of(where)})", name.span,
                       related=(Related(where, f"`{name.text}` is declared here"),))
            return True
        return False

    def lookup_top(self, name, *, want: str, undefined_code: str, undefined_msg: str,
                   allowed_kinds: tuple, fix_kinds: Optional[tuple] = None) -> Optional[Symbol]:
        """Resolve a top-level name at a use site, reporting QVR010/011/014/017 as needed.

        Returns the symbol when it resolves to an allowed kind (a reference is recorded
        either way, so hover and rename still work on misuse)."""
        sym = self.local_top.get(name.text) or self.top.get(name.text)
        if sym is None:
            later = self.where_later.get(name.text)
            if later is not None:  # a where-binding written after the one being checked
                self.error("QVR014", f"`{name.text}` is used before its declaration "
                           f"(line {self.line_of(later)})", name.span,
                           related=(Related(later, f"`{name.text}` is declared here"),))
                return None
            self.undefined(name, undefined_code, undefined_msg, fix_kinds or allowed_kinds)
            return None
        self.add_reference(name.span, sym)
        if self.before_declaration(name, sym):
            return sym if sym.kind in allowed_kinds else None
        if sym.kind == "opaque":
            # a tier-3 block's name (spec part 2 §5.11): unchecked (⊤), so nothing more is said
            # about it and the caller treats the use as having no static type
            return None
        if sym.kind not in allowed_kinds:
            self.error("QVR017", f"`{name.text}` is {_article(KIND_WORDS.get(sym.kind, sym.kind))}, "
                       f"not {_article(want)}", name.span)
            return None
        return sym

    def undefined(self, name, code: str, message: str, kinds: tuple, candidates=None,
                  extra_fixes=(), also=()) -> None:
        """Report an undefined name with a "did you mean" fix: the closest of `candidates`
        (names, or a `NameIndex` of them) when given, else of the declared names of the
        `kinds` and the names `also` (builtin words, a handful)."""
        self.uses_all_names = True
        if isinstance(candidates, NameIndex):
            best = candidates.nearest(name.text)
        elif candidates is not None:
            best = closest(name.text, candidates)
        else:
            best = self._nearest_declared(name.text, kinds, also)
        fixes = ()
        if best is not None:
            fixes = (Fix(f"Change to `{best}`", (TextEdit(name.span, best),)),)
        self.error(code, message, name.span, fixes=fixes + tuple(extra_fixes))

    def _nearest_declared(self, word: str, kinds: tuple, also=()) -> Optional[str]:
        """`closest` among the top-level and `where` names of `kinds` and the names `also`,
        through the top-level table's index (`suggestions`: bounded, where reading every
        name per undefined name was quadratic in a file)."""
        top, shadowed = self.top, self.shadowed
        extra = [s.name for s in self.local_top.values() if s.kind in kinds]
        extra += also
        for x in shadowed:  # a template's parameters, as they are now
            sym = top.get(x)
            if sym is not None and sym.kind in kinds:
                extra.append(sym.name)
        return top.index(kinds, shadowed).nearest(word, extra, shadowed)

    # -- a template's parameters -----------------------------------------------------------
    def shadow(self, name: str, sym) -> None:
        """Make `sym` the top-level entry `name` while a template is checked (`unshadow`
        puts back what was there). Not a change of the declared names: the name indexes
        keep reading the entry underneath."""
        entry = self.shadowed.get(name)
        if entry is None:
            self.shadowed[name] = [self.top.get(name), 1]
        else:
            entry[1] += 1
        dict.__setitem__(self.top, name, sym)

    def unshadow(self, name: str, saved) -> None:
        """Put `saved` (what `top` held before the matching `shadow`; None: nothing) back."""
        if saved is None:
            dict.pop(self.top, name, None)
        else:
            dict.__setitem__(self.top, name, saved)
        entry = self.shadowed.get(name)
        if entry is not None:
            entry[1] -= 1
            if not entry[1]:
                del self.shadowed[name]


_DEPRECATED = ("deprecated",)


def _article(word: str) -> str:
    return ("an " if word[:1] in "aeiou" else "a ") + word
