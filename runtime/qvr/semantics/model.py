"""The records the semantic layer publishes (docs/internals.md "Semantics").

`Analysis` is the immutable result of `analyze()`; everything the language server and the
runtime need is here so neither re-derives semantics:

* `Symbol` / `Reference`: every declared name and every occurrence of it;
* `MorphismInfo`: per declared morphism (replicated members included) its role, family, fixed
  arguments, validated options (with defaults filled in), replicate count and quantale;
* `ProgramInfo` / `VarInfo`: program signatures, promotion, parameter binding, local types;
* `DefineInfo`, `ScanInfo`, `InlineInfo`: `define` types, scan partitions, inline draws.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Optional

from ..syntax.span import LineIndex, Span
from .types import MorphType, ObjType, Type


@dataclass(eq=False, slots=True)
class Symbol:
    """A declared name. `kind` ∈ object morphism program define category rule quantale
    parameter variable rule_variable; `scope` is None at top level, else the program/rule
    name; `detail` is the one-line signature hover shows. Slotted: a large module has tens
    of thousands."""

    name: str
    kind: str
    name_span: Span
    span: Span
    type: Any = None
    doc: Optional[str] = None
    detail: str = ""
    scope: Optional[str] = None
    decl: Any = None
    # offset of the frame `name_span` is relative to (0: the whole text; see Context.origin)
    origin: int = 0

    def __repr__(self) -> str:
        return f"Symbol({self.name!r}, {self.kind!r}, scope={self.scope!r})"


class Reference(NamedTuple):
    """One occurrence of a name (a tuple: millions are made on large files, cheaply)."""

    span: Span
    symbol: Symbol
    is_definition: bool


@dataclass(slots=True)
class MorphismInfo:
    """A declared morphism. `role` ∈ kernel deterministic embed latent observed discretize;
    `family` the family name for kernels (``Categorical`` for `stochastic`); `fixed_args` the
    argument nodes of a fixed distribution ``~ F(args)`` (None for a learned kernel);
    `fixed_bound` those arguments by canonical parameter name; `options` the validated
    options with defaults (`scale` None when learned); `replicate` the group size (members
    `f_0…` each get their own MorphismInfo with `member_of` set); `quantale` the quantale for
    finite-world use; `init` the initializer expression of an observed morphism; `bins` for
    discretize."""

    name: str
    role: str
    decl: Any
    type: Optional[MorphType]
    family: Optional[str] = None
    fixed_args: Optional[tuple] = None
    fixed_bound: Optional[dict] = None
    options: dict = field(default_factory=dict)
    replicate: int = 1
    member_of: Optional[str] = None
    quantale: str = "markov"
    init: Any = None
    bins: Optional[int] = None

    @property
    def is_stochastic(self) -> bool:
        return self.role in ("kernel", "latent") or (
            self.role == "discretize")


@dataclass(slots=True)
class VarInfo:
    """A program local: `kind` ∈ parameter sample observe let; `type` ObjType/SeqType."""

    name: str
    kind: str
    type: Optional[Type]
    node: Any


@dataclass
class ProgramInfo:
    """A program. `param_binding` ∈ whole factors leaves none (spec §4.6); `params` pairs
    each parameter Name with its type (sequence types when promoted); `effective` is the type
    after promotion (and after a QVR067 scalar return)."""

    name: str
    decl: Any
    declared: Optional[MorphType]
    effective: Optional[MorphType]
    promoted: bool = False
    params: list = field(default_factory=list)
    param_binding: str = "none"
    variables: dict = field(default_factory=dict)
    scope_span: Optional[Span] = None
    return_type: Optional[Type] = None
    return_parts: Optional[list] = None  # types of the returned variables, in order
    # its scalar parameters that programs it draws read as data too (one input, §5.3): a
    # call that binds one would hide it from them
    passed_on: frozenset = frozenset()
    # the row plates of its steps and of the programs it draws, in the order met: a run's
    # batch has their rows (one plate, else QVR115)
    row_plates: tuple = ()


@dataclass
class DefineInfo:
    """A `define`/`let`; `where_bindings` its where-bindings (DefineInfos with `owner` set,
    also listed in `Analysis.defines` under their own names)."""

    name: str
    decl: Any
    type: Optional[MorphType]
    where_bindings: tuple = ()
    owner: Optional[str] = None  # for a where-binding: the name of its owner


@dataclass(slots=True)
class ScanInfo:
    """A `scan(c, …)`: the cell's input leaves (as the product `input`) and state part
    (`state`, the cell's codomain), and the three options with defaults filled in."""

    cell_type: Optional[MorphType]
    input_leaves: tuple
    state_leaves: tuple
    input: Optional[ObjType]
    state: Optional[ObjType]
    init: str = "zeros"
    states: str = "last"
    direction: str = "forward"


@dataclass(slots=True)
class InlineInfo:
    """An inline draw `Normal(loc=mu, scale=0.5)`: `bound` maps canonical parameter names to
    argument nodes; `width` the broadcast width; `value_type` the family support at it."""

    family: str
    bound: dict
    width: int
    value_type: Optional[Type]


@dataclass(frozen=True, eq=False)
class Analysis:
    text: str
    line_index: LineIndex
    module: Any
    diagnostics: tuple
    symbols: tuple
    top_level: dict
    references: tuple
    objects: dict
    morphisms: dict
    programs: dict
    defines: dict
    export: Any
    export_type: Optional[MorphType]
    _types: dict = field(repr=False, default_factory=dict)
    _scans: dict = field(repr=False, default_factory=dict)
    _inlines: dict = field(repr=False, default_factory=dict)
    _ref_starts: list = field(repr=False, default_factory=list)
    _intermediates: dict = field(repr=False, default_factory=dict)

    def parts(self) -> list:
        """The containers that hold nearly everything this analysis made (of a file of
        megabytes, millions of objects), for a caller that frees it a piece at a time: the
        language server, when a newer version supersedes it (`qvr_lsp.leftovers`)."""
        return [self.references, self.symbols, self._ref_starts, self.diagnostics, self._types,
                self.top_level, self.objects, self.morphisms, self.programs, self.defines,
                self._scans, self._inlines, self._intermediates, self.module.statements]

    def reference_at(self, offset: int) -> Optional[Reference]:
        """The reference whose span contains `offset` (end inclusive)."""
        refs = self.references
        i = bisect.bisect_right(self._ref_starts, offset) - 1
        # A cursor at the end of one name and the start of the next prefers the later one.
        for j in (i, i - 1):
            if 0 <= j < len(refs) and refs[j].span.start <= offset <= refs[j].span.end:
                return refs[j]
        return None

    def references_within(self, span) -> list:
        """The references that start inside `span`, in source order."""
        starts = self._ref_starts
        lo = bisect.bisect_left(starts, span.start)
        hi = bisect.bisect_left(starts, span.end, lo)
        return list(self.references[lo:hi])

    def references_to(self, symbol: Symbol) -> list:
        return [r for r in self.references if r.symbol is symbol]

    def type_of(self, node):
        """Inferred type of an expression node (MorphType), arithmetic node or step
        (value type); None when unknown."""
        entry = self._types.get(id(node))
        return entry[1] if entry is not None and entry[0] is node else None

    def intermediate_type(self, node):
        """For a `Compose` node: the value passed between its sides as it flows, i.e. after
        lifting (`Seq[Embedded]` in `tok_embed >> scan(cell)`); hover on `>>` shows it."""
        entry = self._intermediates.get(id(node))
        return entry[1] if entry is not None and entry[0] is node else None

    def scan_info(self, node) -> Optional[ScanInfo]:
        entry = self._scans.get(id(node))
        return entry[1] if entry is not None and entry[0] is node else None

    def inline_info(self, step) -> Optional[InlineInfo]:
        entry = self._inlines.get(id(step))
        return entry[1] if entry is not None and entry[0] is step else None

    def template_instance(self, target) -> Optional[tuple]:
        """For a call of a template program (spec part 2 §5.5) at the step target `target`:
        the checker's instance of it, (instance, (types, inlines, scans) of the instance's
        nodes, {parameter: bound name}); None for any other target."""
        entry = self._types.get(("instance", id(target)))
        return entry[1] if entry is not None and entry[0] is target else None

    @property
    def errors(self) -> list:
        return [d for d in self.diagnostics if d.is_error]
