"""The checker's faster constructions make exactly what the plain ones make.

`ObjType` writes its own `__init__` and keeps what it computes (`display`, `segments`,
`factor_types`) in its instance dict; `Context` makes diagnostics and fixes by filling the
slots of bare instances. Each must give objects equal to the plain construction's, and the
cached answers must be the ones a fresh object gives.
"""
from __future__ import annotations

import dataclasses

import pytest

from qvr.diagnostics import Diagnostic, Fix, Related, Severity, TextEdit
from qvr.semantics import context
from qvr.semantics.types import Cont, Fin, Mat, MorphType, ObjType, SeqType, compatible
from qvr.syntax.span import Span


def _fresh(t: ObjType) -> ObjType:
    """A copy of `t` with nothing computed yet."""
    return ObjType(tuple(_fresh(f) if f.__class__ is ObjType else f for f in t.factors), t.name)


TYPES = [
    ObjType.real(3),
    ObjType.fin(4, "Tok"),
    ObjType((ObjType.fin(2), ObjType.real(2), Cont(3, 0.0, 1.0), Fin(5))),
    ObjType((ObjType((Fin(2), Fin(3))), ObjType.leaf(Mat(2, 2)), ObjType.real(1, name="R"))),
    ObjType((Cont(2, simplex=True),)),
]


@pytest.mark.parametrize("t", TYPES, ids=range(len(TYPES)))
def test_objects_answer_as_fresh_ones_do(t):
    for _ in range(2):  # the first answer is computed, the second one kept
        fresh = _fresh(t)
        assert t == fresh and hash(t) == hash(fresh)
        assert (t.width, t.feature_width) == (fresh.width, fresh.feature_width)
        assert t.display() == fresh.display() and str(t) == str(fresh)
        assert t.segments() == fresh.segments()
        assert t.factor_types == fresh.factor_types
        assert (t.is_finite, t.is_continuous) == (fresh.is_finite, fresh.is_continuous)
        assert compatible(t, fresh) and compatible(t, t)


def test_object_fields_and_repr_are_the_dataclass_ones():
    t = ObjType((Fin(2), Cont(3)), "P")
    assert [f.name for f in dataclasses.fields(t)] == ["factors", "name", "width",
                                                       "feature_width"]
    assert repr(t) == "ObjType(factors=(Fin(n=2), Cont(d=3, low=None, high=None, " \
                      "simplex=False, count=False)), name='P')"
    assert dataclasses.replace(t, name="Q") == ObjType((Fin(2), Cont(3)), "Q")
    with pytest.raises(dataclasses.FrozenInstanceError):
        t.name = "Q"


def test_answers_of_mixed_or_missing_types_are_unchanged():
    real = ObjType.real(2)
    seq = SeqType(real)
    assert compatible(seq, seq) and compatible(MorphType(real, seq), MorphType(real, seq))
    assert not compatible(None, None)
    assert not compatible(real, seq)
    assert ObjType((Fin(2), Fin(3))).is_finite and not ObjType((Fin(2), Cont(1))).is_finite
    assert ObjType((Cont(2), Cont(1))).is_continuous
    assert not ObjType((Cont(2), Mat(2, 2))).is_continuous


def test_diagnostics_and_fixes_equal_the_classes_own():
    span = Span(3, 7)
    edit = TextEdit(span, "new")
    fix = Fix("Rewrite", (edit,))
    made = context._diagnostic("QVR092", Severity.HINT, "m", span, ("deprecated",),
                               (Related(span, "r"),), (fix,))
    assert made == Diagnostic("QVR092", Severity.HINT, "m", span, ("deprecated",),
                              (Related(span, "r"),), (fix,))
    assert context._text_edit(span, "new") == edit
    assert context._fix("Rewrite", (edit,)) == fix
    assert hash(made) == hash(Diagnostic("QVR092", Severity.HINT, "m", span, ("deprecated",),
                                         (Related(span, "r"),), (fix,)))


def test_a_class_the_filler_cannot_build_like_its_constructor_is_refused():
    from qvr.diagnostics import slot_filler

    @dataclasses.dataclass(frozen=True, slots=True)
    class Checked:
        span: Span
        text: str

        def __post_init__(self):
            pass

    @dataclasses.dataclass(frozen=True)
    class Unslotted:
        span: Span
        text: str

    for cls in (Checked, Unslotted):
        with pytest.raises(TypeError):
            slot_filler(cls)


def test_a_shifted_diagnostic_equals_one_built_at_the_new_place():
    span, moved = Span(3, 7), Span(13, 17)
    diagnostic = Diagnostic("QVR092", Severity.HINT, "m", span, ("deprecated",),
                            (Related(Span(0, 1), "r"),), (Fix("Rewrite", (TextEdit(span, "x"),)),))
    want = Diagnostic("QVR092", Severity.HINT, "m", moved, ("deprecated",),
                      (Related(Span(10, 11), "r"),), (Fix("Rewrite", (TextEdit(moved, "x"),)),))
    assert diagnostic.shifted(10) == want and hash(diagnostic.shifted(10)) == hash(want)
    assert diagnostic.shifted(0) is diagnostic
