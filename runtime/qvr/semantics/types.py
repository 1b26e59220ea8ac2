"""The QVR type model (spec §4.3): objects, sequences, morphism types and compatibility.

Objects are products of *leaves*: `Fin(n)` (a finite set), `Cont(d, low, high, simplex,
count)` (a real space, optionally bounded, a simplex, or counts) or `Mat(n, m)` (a matrix,
part 2 §5.1). `ObjType` keeps the top-level factors as written (so programs can bind one
parameter per written factor, spec §4.6) and flattens them into leaves on demand.
`SeqType(elem)` is a length-T sequence of an object; `MorphType(dom, cod)` a morphism type.
`compatible(a, b)` is the spec's `≈`: leaves are grouped into segments (each maximal run of
continuous leaves is one `Cont(Σd)` segment, each finite leaf and each matrix its own segment)
and the segment lists must be equal; names and bounds are ignored.

This module is pure Python (no torch): the checker, the language server and the runtime all
consume it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Union


def _fmt_num(x: float) -> str:
    """Bounds print as floats (`0.0`, `1.0`, `-2.5`), like the current-form source."""
    return repr(float(x))


@dataclass(frozen=True, slots=True)
class Fin:
    """A finite set of `n` elements; its value is one int64 index (value width 1)."""

    n: int

    @property
    def width(self) -> int:
        return 1

    @property
    def feature_width(self) -> int:
        return self.n

    is_finite = True
    is_continuous = False

    def display(self) -> str:
        return f"FinSet {count_text(self.n)}"


@dataclass(frozen=True, slots=True)
class Cont:
    """A continuous space of dimension `d`: ℝᵈ, a box (`low`/`high`, per coordinate) or a
    probability simplex (`simplex=True`). `count=True` is `Count d` (non-negative integers
    from a count family), which `≈` treats as a continuous segment of width `d`."""

    d: int
    low: Optional[float] = None
    high: Optional[float] = None
    simplex: bool = False
    count: bool = False

    @property
    def width(self) -> int:
        return self.d

    @property
    def feature_width(self) -> int:
        return self.d

    is_finite = False
    is_continuous = True

    @property
    def bounded(self) -> bool:
        return self.low is not None and self.high is not None

    @property
    def unbounded(self) -> bool:
        return self.low is None and self.high is None and not self.simplex

    def display(self) -> str:
        if self.simplex:
            return f"Simplex {self.d}"
        if self.count:
            return "Count" if self.d == 1 else f"Count {self.d}"
        opts = []
        if self.low is not None:
            opts.append(f"low={_fmt_num(self.low)}")
        if self.high is not None:
            opts.append(f"high={_fmt_num(self.high)}")
        return f"Real {self.d}" + (" {" + ", ".join(opts) + "}" if opts else "")


@dataclass(frozen=True, slots=True)
class Mat:
    """`Matrix n m` (spec part 2 §5.1): a matrix value, ≈ only to a matrix of the same shape."""

    n: int
    m: int

    @property
    def width(self) -> int:
        return self.n * self.m

    @property
    def feature_width(self) -> int:
        return self.n * self.m

    is_finite = False
    is_continuous = False

    def display(self) -> str:
        return f"Matrix {self.n} {self.m}"


Leaf = Union[Fin, Cont, Mat]

# Counts from this size up print as a bound: Python refuses to print an int of more than 4300
# digits (and printing a huge one costs quadratic time); a product of many finite objects
# has a cardinality that large.
_COUNT_LIMIT = 10 ** 60


def count_text(n: int) -> str:
    """`n` in decimal, or `more than 10^k` when it has more than 60 digits."""
    if n < _COUNT_LIMIT:
        return str(n)
    # n >= 2^(bits - 1) >= 10^k for k = floor((bits - 1) * log10(2)); 0.301029 < log10(2)
    return f"more than 10^{(n.bit_length() - 1) * 301029 // 1000000}"


def _product(ns: list) -> int:
    """The product of `ns`, multiplied pairwise (a balanced tree): multiplying one growing
    number by each in turn is quadratic in the result's size, and the cardinality of a
    product of thousands of finite objects is a number of thousands of digits."""
    if not ns:
        return 1
    while len(ns) > 1:
        pairs = [ns[i] * ns[i + 1] for i in range(0, len(ns) - 1, 2)]
        if len(ns) % 2:
            pairs.append(ns[-1])
        ns = pairs
    return ns[0]

_PLAIN_REAL: dict = {}  # d -> the anonymous `Real d` (see ObjType.real)


class _Leaves:
    """`ObjType.leaves`, computed on first use and then kept in the instance's ``__dict__``
    (a non-data descriptor, so later reads are plain attribute reads).

    Not at construction: an `f @ f @ ...` chain builds one binary product per operator, each
    holding the previous one, and flattening every one of them would copy ever longer leaf
    tuples (quadratic in the chain's length). Only the types somebody asks about get
    flattened, each once, with an explicit stack (the nesting can be thousands deep)."""

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        factors = obj.factors
        if len(factors) == 1 and factors[0].__class__ is not ObjType:
            leaves = factors
        else:
            out: list = []
            todo = list(reversed(factors))
            while todo:
                f = todo.pop()
                if f.__class__ is not ObjType:
                    out.append(f)
                    continue
                cached = f.__dict__.get("leaves")
                if cached is not None:
                    out.extend(cached)
                else:
                    todo.extend(reversed(f.factors))
            leaves = tuple(out)
        obj.__dict__[self.name] = leaves
        return leaves


@dataclass(frozen=True, init=False)
class ObjType:
    """An object: its top-level factors as written, and an optional declared name.

    A primitive object has exactly one factor, which is a leaf. A product `A * B` has one
    factor per written operand (each an `ObjType`, named if it was a reference), so
    `Embedded * Hidden * Hidden` has three factors and `leaves` flattens nested products.
    Equality is structural (name included); use `compatible` for `≈`. `width` and
    `feature_width` are computed at construction from the factors' own (constant work per
    factor, the checker asks often); `leaves` on first use (see `_Leaves`).
    """

    factors: tuple[Union["ObjType", Leaf], ...]
    name: Optional[str] = None
    width: int = field(init=False, repr=False, compare=False)
    feature_width: int = field(init=False, repr=False, compare=False)

    def __init__(self, factors, name=None):
        # value width w: Σd over continuous leaves plus 1 per finite leaf;
        # feature width fw: Σd plus n per finite leaf (one-hot). A nested product already
        # knows both for its own leaves.
        width = feature_width = 0
        for f in factors:
            cls = f.__class__
            if cls is Fin:
                width += 1
                feature_width += f.n
            elif cls is Cont:
                width += f.d
                feature_width += f.d
            else:
                width += f.width
                feature_width += f.feature_width
        # Written by hand (the dataclass one sets each field through `object.__setattr__`,
        # then calls `__post_init__`): the checker makes an object for every type it resolves.
        # Filling the instance dict directly is what a frozen instance allows and is about
        # twice as fast.
        d = self.__dict__
        d["factors"] = factors
        d["name"] = name
        d["width"] = width
        d["feature_width"] = feature_width

    leaves = _Leaves()

    # Equality and hashing written out rather than generated: the generated ones recurse
    # through the factors, and the product an `f @ f @ ...` chain builds nests as deep as the
    # chain is long.
    def __eq__(self, other):
        if other.__class__ is not ObjType:
            return NotImplemented
        todo = [(self, other)]
        while todo:
            a, b = todo.pop()
            if a is b:
                continue
            if a.__class__ is not b.__class__:
                return False
            if a.__class__ is not ObjType:  # leaves compare as values
                if a != b:
                    return False
                continue
            if a.name != b.name or len(a.factors) != len(b.factors) or a.width != b.width:
                return False
            todo.extend(zip(a.factors, b.factors))
        return True

    def __hash__(self):
        # constant work; equal objects agree on all three
        return hash((self.name, len(self.factors), self.width, self.feature_width))

    # -- constructors ----------------------------------------------------------------------
    @staticmethod
    def leaf(leaf: Leaf, name: Optional[str] = None) -> "ObjType":
        return ObjType((leaf,), name)

    @staticmethod
    def fin(n: int, name: Optional[str] = None) -> "ObjType":
        return ObjType((Fin(n),), name)

    @staticmethod
    def real(d: int, low: Optional[float] = None, high: Optional[float] = None,
             name: Optional[str] = None) -> "ObjType":
        if low is None and high is None and name is None:
            # `Real w` is made for every arithmetic result; objects are immutable, so share
            cached = _PLAIN_REAL.get(d)
            if cached is None:
                cached = _PLAIN_REAL[d] = ObjType((Cont(d),))
            return cached
        return ObjType((Cont(d, low, high),), name)

    @staticmethod
    def product(parts: "list[ObjType] | tuple[ObjType, ...]") -> "ObjType":
        """The product of `parts` as written (a single part is returned unchanged)."""
        parts = tuple(parts)
        if len(parts) == 1:
            return parts[0]
        return ObjType(parts)

    def named(self, name: Optional[str]) -> "ObjType":
        return ObjType(self.factors, name)

    # -- structure -------------------------------------------------------------------------
    @property
    def is_primitive(self) -> bool:
        factors = self.factors
        return len(factors) == 1 and factors[0].__class__ is not ObjType

    @property
    def factor_types(self) -> tuple["ObjType", ...]:
        """Top-level factors, each as an `ObjType` (a leaf factor is wrapped). A product's
        are made once and kept in its ``__dict__``, like `leaves` (a primitive object's is
        itself: keeping that would be a reference cycle)."""
        if self.is_primitive:
            return (self,)
        cached = self.__dict__.get("_factor_types")
        if cached is None:
            cached = self.__dict__["_factor_types"] = tuple(
                f if isinstance(f, ObjType) else ObjType((f,)) for f in self.factors)
        return cached

    # `is_finite`/`is_continuous` are asked of every signature the checker reads: a loop
    # that stops at the first other leaf, without a generator per call.
    @property
    def is_finite(self) -> bool:
        for leaf in self.leaves:
            if leaf.__class__ is not Fin:
                return False
        return True

    @property
    def is_continuous(self) -> bool:
        for leaf in self.leaves:
            if leaf.__class__ is not Cont:
                return False
        return True

    @property
    def cardinality(self) -> int:
        """Product of the finite leaves' sizes (1 if there are none)."""
        return _product([l.n for l in self.leaves if l.__class__ is Fin])

    def segments(self) -> tuple[tuple[str, int], ...]:
        """Segments for `≈`: ("cont", Σd) per maximal continuous run, ("fin", n) per finite leaf.
        Computed once per object (it is immutable) and kept in its ``__dict__``: `compatible`
        asks for both sides' segments on every comparison."""
        cached = self.__dict__.get("_segments")
        if cached is not None:
            return cached
        segs: list[tuple[str, int]] = []
        run = 0
        for l in self.leaves:
            if l.__class__ is Cont:
                run += l.d
            elif l.__class__ is Mat:
                if run:
                    segs.append(("cont", run))
                    run = 0
                segs.append(("mat", l.n, l.m))
            else:
                if run:
                    segs.append(("cont", run))
                    run = 0
                segs.append(("fin", l.n))
        if run:
            segs.append(("cont", run))
        segs = self.__dict__["_segments"] = tuple(segs)
        return segs

    # -- display ---------------------------------------------------------------------------
    def display(self) -> str:
        """Named objects print by name, anonymous ones in current form, products `A * B`.
        An anonymous object's text is made once and kept in its ``__dict__`` (symbol details
        and messages print the same few objects, `Real 1` above all, many times)."""
        if self.name is not None:
            return self.name
        shown = self.__dict__.get("_display")
        if shown is None:
            shown = self.__dict__["_display"] = self._display()
        return shown

    def _display(self) -> str:
        if self.is_primitive:
            return self.factors[0].display()
        # Anonymous products nest as deep as an `f @ f @ ...` chain is long, and print flat
        # (`A * B * C`): walk them with an explicit stack rather than recursing.
        parts: list[str] = []
        todo: list = [self]
        while todo:
            t = todo.pop()
            if t.__class__ is not ObjType:  # a leaf factor
                parts.append(t.display())
            elif t.name is not None:
                parts.append(t.name)
            elif t.is_primitive:
                parts.append(t.factors[0].display())
            else:
                todo.extend(reversed(t.factors))
        return " * ".join(parts)

    def __str__(self) -> str:
        return self.display()


@dataclass(frozen=True)
class SeqType:
    """`Seq[A]`: a length-T sequence of the (non-sequence) object `elem`."""

    elem: ObjType

    def display(self) -> str:
        return f"Seq[{self.elem.display()}]"

    def __str__(self) -> str:
        return self.display()

    # Convenience mirrors so callers can ask width/finite questions without unwrapping.
    @property
    def width(self) -> int:
        return self.elem.width

    @property
    def leaves(self) -> tuple[Leaf, ...]:
        return self.elem.leaves


Type = Union[ObjType, SeqType]


@dataclass(frozen=True)
class MorphType:
    """A morphism type `dom -> cod`; each side is an `ObjType` or a `SeqType`."""

    dom: Type
    cod: Type

    @property
    def is_elementwise(self) -> bool:
        """Neither side is a sequence: the morphism may be lifted over sequences."""
        return not isinstance(self.dom, SeqType) and not isinstance(self.cod, SeqType)

    def lifted(self) -> "MorphType":
        """`Seq[A] -> Seq[B]` for an elementwise `A -> B`."""
        return MorphType(seq_of(self.dom), seq_of(self.cod))

    def display(self) -> str:
        return f"{self.dom.display()} -> {self.cod.display()}"

    def __str__(self) -> str:
        return self.display()


# The type classes have no subclasses: the tests below compare classes, which is cheaper
# than `isinstance` (the checker asks them of nearly every value it types).
def is_seq(t) -> bool:
    return t.__class__ is SeqType


def elem_of(t: Type) -> ObjType:
    """The element type of a sequence, or the object itself."""
    return t.elem if t.__class__ is SeqType else t


def seq_of(t: Type) -> SeqType:
    """`Seq[t]`; a sequence stays as it is (nesting is reported by the checker)."""
    return t if t.__class__ is SeqType else SeqType(t)


def compatible(a, b) -> bool:
    """`a ≈ b` (spec §4.3). Works on ObjType, SeqType and MorphType; mixed kinds are ≉."""
    ca, cb = a.__class__, b.__class__
    if ca is ObjType and cb is ObjType:  # the common case
        return a is b or _same_factors(a.factors, b.factors) or a.segments() == b.segments()
    if ca is MorphType and cb is MorphType:
        return compatible(a.dom, b.dom) and compatible(a.cod, b.cod)
    if ca is SeqType or cb is SeqType:
        return ca is SeqType and cb is SeqType and compatible(a.elem, b.elem)
    return False


def _same_factors(fa: tuple, fb: tuple) -> bool:
    """Whether two objects are made of the very same factors (so they are ≈): an argument
    list's product is usually made of the objects the callee's domain names, and this
    spares flattening it into segments."""
    if len(fa) != len(fb):
        return False
    for x, y in zip(fa, fb):
        if x is not y:
            return False
    return True


def product_of(types: "list[Type]") -> Optional[Type]:
    """Product of value types (for argument lists and tuple returns): `Seq[A * B]` when any is
    a sequence (non-sequence parts are broadcast over time)."""
    if not types:
        return None
    if len(types) == 1:  # one part is its own product
        t = types[0]
        return SeqType(t.elem) if t.__class__ is SeqType else t
    any_seq = False
    parts = []
    for t in types:
        if t.__class__ is SeqType:
            any_seq = True
            t = t.elem
        parts.append(t)
    prod = ObjType(tuple(parts))
    return SeqType(prod) if any_seq else prod


def display(t) -> str:
    return "?" if t is None else t.display()
