"""Hostile shapes (long operator chains and products, thousands of misspelt names, thousands
of look-ups of one kind) and a deterministic measure of the work spent on them.

`SHAPES[name](n)` is a small module around one construct of about `n` parts. The tests
compare the work done for `n` and `4 * n` parts: linear cost gives a ratio of about 4,
quadratic about 16. Work is counted, never timed (the machines running the tests are shared):

* `line_events(fn)`: the Python lines executed inside the `qvr` and `qvr_lsp` packages while
  `fn()` runs (a `sys.settrace` line counter). Loops over ever longer lists written in Python
  show up here; copying done in C (a `list.extend`, a tuple of a list) does not, so the tests
  that need it count the objects built instead.
* `peak_bytes(fn)`: the peak of memory allocated while `fn()` runs (`tracemalloc`).
"""
from __future__ import annotations

import os
import sys
import tracemalloc

import qvr
import qvr_lsp

_PACKAGES = (os.path.dirname(qvr.__file__), os.path.dirname(qvr_lsp.__file__))

HEADER = "object X : Real 2\nobject Y : Real 3\nmorphism f : X -> X\nmorphism g : X -> Y\n"


def chain(op: str, n: int) -> str:
    """`define a = f op f op ... f` with `n` operators."""
    return HEADER + "define a = " + f" {op} ".join(["f"] * (n + 1)) + "\nexport a\n"


def arithmetic(op: str, n: int) -> str:
    """A program `let` with `n` arithmetic operators."""
    return ("object X : Real 2\nprogram p(x) : X -> X\n    let y = "
            + f" {op} ".join(["x"] * (n + 1)) + "\n    return y\nexport p\n")


def pattern(op: str, n: int) -> str:
    """A grammar rule whose first premise has `n` category operators."""
    return "category S\nrule r(x, y) : " + f" {op} ".join(["x"] * (n + 1)) + ", y |- S\n"


def product_object(n: int) -> str:
    """`object P : X * X * ...` with `n` factors."""
    return ("object X : Real 2\nobject P : " + " * ".join(["X"] * n)
            + "\nmorphism h : P -> X\nexport h\n")


def product_signature(n: int) -> str:
    """A morphism whose domain is a product of `n` factors, written in the signature."""
    return "object X : Real 2\nmorphism h : " + " * ".join(["X"] * n) + " -> X\nexport h\n"


def product_program(n: int) -> str:
    """A program with `n` parameters bound to the `n` factors of its domain."""
    names = [f"x{i}" for i in range(n)]
    return ("object X : Real 2\nprogram p(" + ", ".join(names) + ") : "
            + " * ".join(["X"] * n) + " -> X\n    return x0\nexport p\n")


def coproduct(n: int) -> str:
    """`object P : B + B + ...` with `n` operands."""
    return ("object B : FinSet 2\nobject P : " + " + ".join(["B"] * n)
            + "\nmorphism h : P -> B ~ Categorical\nexport h\n")


def sequence_tensor(n: int) -> str:
    """`s @ s @ ...` of sequence morphisms (a QVR046 warning at every operator)."""
    return ("object T : FinSet 4\nobject X : Real 2\nmorphism e : T -> X [role=embed]\n"
            "morphism c : X * X -> X\ndefine s = e >> scan(c)\ndefine a = "
            + " @ ".join(["s"] * (n + 1)) + "\nexport a\n")


def composed_tensors(n: int) -> str:
    """`f @ f >> f @ f >> ...`: about `n` operators of both kinds."""
    return HEADER + "define a = " + " >> ".join(["f @ f"] * (n // 2 + 1)) + "\nexport a\n"


def undefined_types(n: int) -> str:
    """`n` morphisms whose types are all undefined (no object to suggest)."""
    return "".join(f"morphism g{i} : Y{i} -> Z{i}\n" for i in range(n))


def undefined_morphisms(n: int) -> str:
    """`n` morphisms and `n` defines of a misspelt one each: every suggestion is searched for
    among `n` long names of one length that differ only in their number."""
    return ("object X : Real 2\n"
            + "".join(f"morphism state_gate_{i:05} : X -> X\n" for i in range(n))
            + "".join(f"define d{i} = state_gatx_{i:05}\n" for i in range(n)))


def data_names(n: int) -> str:
    """A program of `n` locals and `n` data names, each one edit from a local (a near miss,
    QVR112, looked for among the locals)."""
    return ("object X : Real 2\nprogram p(x) : X -> X\n"
            + "".join(f"    let y{i:05} = x\n" for i in range(n))
            + "".join(f"    let z{i} = yy{i:05}\n" for i in range(n)) + "    return x\n")


def misspelt_families(n: int) -> str:
    """`n` morphisms and `n` programs that each draw from a misspelt family: each suggestion
    is looked for among the declared morphisms and the families."""
    return ("object X : Real 2\n"
            + "".join(f"morphism gate_{i:05} : X -> X\n" for i in range(n))
            + "".join(f"program p{i}(x) : X -> X\n    sample a <- Nromal(x)\n    return a\n"
                      for i in range(n)))


def misspelt_functions(n: int) -> str:
    """`n` morphisms and `n` programs that each call a misspelt builtin function."""
    return ("object X : Real 2\n"
            + "".join(f"morphism gate_{i:05} : X -> X\n" for i in range(n))
            + "".join(f"program p{i}(x) : X -> X\n    let a = tnah(x)\n    return a\n"
                      for i in range(n)))


def posterior_consumers(n: int) -> str:
    """A program with a latent site and `n` programs over it (`[over=m]`) that read it."""
    return ("object T : FinSet 2\nobject R : Real 1\nprogram m : T -> R\n"
            "    sample a <- Normal(loc=0.0, scale=1.0)\n    return a\n"
            + "".join(f"program q{i} : T -> R [over=m]\n    let b = a + 1.0\n    return b\n"
                      for i in range(n)))


def schema_parsers(n: int) -> str:
    """`n` objects and `n` schema-mode parsers in a module without a `category` (QVR053 each:
    whether the module has one is looked up)."""
    return ("object T : FinSet 2\n" + "".join(f"object O{i:05} : FinSet 2\n" for i in range(n))
            + "".join(f"define gr{i} = parser(rules=[evaluation], terminal=T)\n"
                      for i in range(n)))


def undefined_returns(n: int) -> str:
    """A program of `n` locals that returns `n` names each one edit from a local (QVR012,
    each with a suggestion looked for among the locals)."""
    return ("object X : Real 2\nprogram p(x) : X -> X\n"
            + "".join(f"    let y{i:05} = x\n" for i in range(n))
            + "    return (" + ", ".join(f"yy{i:05}" for i in range(n)) + ")\n")


def define_chain(n: int) -> str:
    """`n` defines, each using the one before; the last is exported, so all are live."""
    return (HEADER + "define d0 = f\n" + "".join(f"define d{i + 1} = d{i} >> f\n" for i in range(n))
            + f"export d{n}\n")


def deprecated_forms(n: int) -> str:
    """`n` classic-dialect declarations, two deprecated forms each (`type … =`, `Euclidean`)."""
    return "".join(f"type T{i} = Euclidean 4\n" for i in range(n))


SHAPES = {
    "@": lambda n: chain("@", n),
    ">>": lambda n: chain(">>", n),
    "<<": lambda n: chain("<<", n),
    ">=>": lambda n: chain(">=>", n),
    "let +": lambda n: arithmetic("+", n),
    "let -": lambda n: arithmetic("-", n),
    "let *": lambda n: arithmetic("*", n),
    "let /": lambda n: arithmetic("/", n),
    "rule *": lambda n: pattern("*", n),
    "rule /": lambda n: pattern("/", n),
    "rule \\": lambda n: pattern("\\", n),
    "object product": product_object,
    "signature product": product_signature,
    "program product": product_program,
    "coproduct": coproduct,
    "sequence @": sequence_tensor,
    "@ and >>": composed_tensors,
    "undefined types": undefined_types,
    "undefined morphisms": undefined_morphisms,
    "data names": data_names,
    "misspelt families": misspelt_families,
    "misspelt functions": misspelt_functions,
    "posterior consumers": posterior_consumers,
    "schema parsers": schema_parsers,
    "undefined returns": undefined_returns,
    "deprecated forms": deprecated_forms,
    "define chain": define_chain,
}


def line_events(fn) -> int:
    """Python lines executed in the `qvr` and `qvr_lsp` packages while `fn()` runs."""
    count = 0

    def local(frame, event, arg):
        nonlocal count
        if event == "line":
            count += 1
        return local

    def call(frame, event, arg):
        return local if frame.f_code.co_filename.startswith(_PACKAGES) else None

    previous = sys.gettrace()
    sys.settrace(call)
    try:
        fn()
    finally:
        sys.settrace(previous)
    return count


def peak_bytes(fn) -> int:
    """Peak memory allocated while `fn()` runs, above what was allocated before."""
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        fn()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
