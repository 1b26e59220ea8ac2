"""Plated values (spec part 2 §5.1–§5.3): plates, plate lists, open plates and their algebra.

A program value may vary over *plates*: finite objects, one value element per plate element.
`Plating` is the plate information of one value: its axis plates in order, at most one
open plate `?x` (the rows of data name `x`, of a size known only from the data) and, for a
step value, a row plate (the batch axis; no axis of its own). `PlatedType` pairs a P1 value
type with a non-empty plating; a value without plates keeps its bare `ObjType`/`SeqType`,
so P1 programs publish exactly the types they always did.

Open plates are unified per program (`PlateEnv`, a union-find): two open plates that meet
denote the same data rows; an open plate met by a step's declared plate is bound to it.
Types keep a reference to their program's environment and resolve open plates when asked,
so a hover after the whole program was checked shows what each open plate became.

Pure Python, like `types`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Union

from ..syntax import ast as A
from .types import ObjType, SeqType


@dataclass(frozen=True, slots=True)
class Plate:
    """A finite object used as a plate, identified by its declaration after alias
    resolution (two objects of equal size are different plates)."""

    name: str
    size: int

    def display(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class Plating:
    """The plates of one value: axis plates in order, then the open plate (a data name's
    `?x`), and the row plate of a step value."""

    axes: tuple = ()
    open: Optional[str] = None
    row: Optional[Plate] = None

    @property
    def empty(self) -> bool:
        return not self.axes and self.open is None and self.row is None

    @property
    def has_axes(self) -> bool:
        """Axis or open plates (what a sequence value cannot carry, QVR130)."""
        return bool(self.axes) or self.open is not None

    def names(self) -> list:
        return [p.name for p in self.axes] + ([f"?{self.open}"] if self.open else [])

    def suffix(self) -> str:
        """How a value type shows these plates after its own text: ` over A × ?x`, then
        ` (row plate N, 32 rows)`; empty without plates."""
        names = self.names()
        text = " over " + " × ".join(names) if names else ""
        if self.row is not None:
            text += f" (row plate {self.row.name}, {self.row.size} rows)"
        return text


NO_PLATES = Plating()


class PlateEnv:
    """Open plates of one program: `find` gives a class's representative data name;
    a class may be bound to a declared plate (with the place where that happened)."""

    def __init__(self):
        self.parent: dict = {}
        self.bound: dict = {}  # representative -> (Plate, span of the use that bound it)

    def find(self, x: str) -> str:
        root = x
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        while x != root:  # path compression
            self.parent[x], x = root, self.parent[x]
        return root

    def resolve(self, p: Plating) -> Plating:
        """`p` with its open plate replaced by its representative, or by the declared plate
        it is bound to (an axis, last, unless `p` already has that axis)."""
        if p.open is None:
            return p
        root = self.find(p.open)
        bound = self.bound.get(root)
        if bound is None:
            return p if root == p.open else Plating(p.axes, root, p.row)
        plate = bound[0]
        axes = p.axes if plate in p.axes else p.axes + (plate,)
        return Plating(axes, None, p.row)

    def unify(self, x: str, y: str):
        """Make two open plates one. Returns the two declared plates when both classes were
        bound to different ones (QVR115), else None."""
        rx, ry = self.find(x), self.find(y)
        if rx == ry:
            return None
        bx, by = self.bound.get(rx), self.bound.get(ry)
        if bx is not None and by is not None and bx[0] != by[0]:
            return bx, by
        self.parent[ry] = rx
        if bx is None and by is not None:
            self.bound[rx] = by
        self.bound.pop(ry, None)
        return None

    def bind(self, x: str, plate: Plate, span):
        """Bind the class of open plate `x` to `plate`. Returns the earlier binding
        `(plate, span)` when it is a different plate (QVR115), else None."""
        root = self.find(x)
        old = self.bound.get(root)
        if old is not None and old[0] != plate:
            return old
        if old is None:
            self.bound[root] = (plate, span)
        return None

    def is_bound(self, x: str) -> bool:
        return self.find(x) in self.bound

    def merge(self, a: Plating, b: Plating) -> Plating:
        """Combining two values (arithmetic, builtin calls, one family application): plates
        by union, `a`'s first, aligned by identity; two open plates unify; an open plate
        and a declared plate stay two axes."""
        if b is NO_PLATES:  # the common case, a value without plates: nothing to combine
            return a if a.open is None else self.resolve(a)
        a, b = self.resolve(a), self.resolve(b)
        if b.empty:
            return a
        if a.empty:
            return b
        axes = a.axes + tuple(p for p in b.axes if p not in a.axes)
        opened = a.open or b.open
        if a.open and b.open and a.open != b.open:
            self.unify(a.open, b.open)  # both free after `resolve`: no conflict possible
            opened = self.find(a.open)
        return Plating(axes, opened, a.row or b.row)


@dataclass(frozen=True, eq=False)
class PlatedType:
    """A value type `base` over `plating`. Attributes the checker asks of value types
    (`width`, `leaves`, `is_finite`, …) are those of `base`."""

    base: Union[ObjType, SeqType]
    plating: Plating
    env: Optional[PlateEnv] = field(default=None, repr=False)

    @property
    def plates(self) -> Plating:
        return self.env.resolve(self.plating) if self.env is not None else self.plating

    def __getattr__(self, name):
        if name.startswith("__") or name == "base":
            raise AttributeError(name)
        return getattr(self.base, name)

    def display(self) -> str:
        return self.base.display() + self.plates.suffix()

    def __str__(self) -> str:
        return self.display()


def base_of(t):
    """The P1 value type of a (possibly plated) value type."""
    return t.base if t.__class__ is PlatedType else t


def plating_of(t) -> Plating:
    """The resolved plates of a value type (`NO_PLATES` for a bare type or None)."""
    return t.plates if t.__class__ is PlatedType else NO_PLATES


def plated(base, plating: Plating, env: Optional[PlateEnv]):
    """`base` over `plating`; the bare `base` when there are no plates."""
    if base is None:
        return None
    if base.__class__ is PlatedType:
        base = base.base
    if plating is NO_PLATES or plating.empty:
        return base
    return PlatedType(base, plating, env)


def display_plates(plates) -> str:
    return " × ".join(p.name if isinstance(p, Plate) else f"?{p}" for p in plates)


def plate_of(ctx, name: str) -> Optional[Plate]:
    """The plate a finite object name denotes: its declaration after following aliases
    (`object B : A` names the plate `A`). None when the name is not a finite object."""
    seen = set()
    while name not in seen:
        seen.add(name)
        sym = ctx.top.get(name)
        obj = ctx.objects.get(name)
        if sym is None or obj is None or not obj.is_finite:
            return None
        value = getattr(sym.decl, "value", None)
        if isinstance(sym.decl, (A.ObjectDecl, A.TypeDecl)) and isinstance(value, A.TypeRef) \
                and value.name.text in ctx.objects:
            name = value.name.text
            continue
        return Plate(name, obj.cardinality)
    return None


def not_elementwise(info) -> Optional[str]:
    """Why a checked program cannot be used inside a morphism expression (§5.1, QVR113):
    "reads data `x`" or "has plated step `s`"; None when it is elementwise."""
    variables = getattr(info, "variables", None) or {}
    for name, var in variables.items():
        if var.kind == "data":
            return f"reads data `{name}`"
    for name, var in variables.items():
        t = var.type
        if var.kind in ("sample", "observe") and t.__class__ is PlatedType and not t.plating.empty:
            return f"has plated step `{name}`"
    return None
