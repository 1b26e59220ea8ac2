"""Name resolution details (spec §4.1–4.2): declaration order, no recursion, positions decide
the table, where-scoping, and the "did you mean" / "declare object" fixes."""
from __future__ import annotations

from qvr.semantics import analyze
from qvr.diagnostics import apply_edits

PRE = "object R : Real 2\nobject T : FinSet 3\nmorphism f : R -> R ~ Normal\n"


def codes(text):
    return [d.code for d in analyze(text).diagnostics if d.severity <= 2]


def test_programs_and_defines_are_not_recursive():
    text = PRE + "define d = d >> f\nprogram p(x) : R -> R\n    sample y <- p(x)\n    return y\nexport d\n"
    a = analyze(text)
    found = [(d.code, a.text[d.span.start:d.span.end]) for d in a.diagnostics if d.is_error]
    assert found == [("QVR014", "d"), ("QVR014", "p")]


def test_use_before_declaration_points_to_the_declaration():
    text = PRE + "define d = later\nmorphism later : R -> R ~ Normal\nexport d\n"
    d = next(x for x in analyze(text).diagnostics if x.code == "QVR014")
    assert d.message == "`later` is used before its declaration (line 5)"
    assert d.related and text[d.related[0].span.start:d.related[0].span.end] == "later"


def test_export_may_refer_to_later_names():
    text = PRE + "export later\nmorphism later : R -> R ~ Normal\n"
    assert "QVR014" not in codes(text)


def test_wrong_kind_messages():
    a = analyze(PRE + "define e = R\nmorphism g : f -> R\nexport e\n")
    msgs = sorted(d.message for d in a.diagnostics if d.code == "QVR017")
    assert msgs == ["`R` is an object, not a morphism", "`f` is a morphism, not an object"]


def test_did_you_mean_and_declare_object_fixes():
    text = PRE + "morphism g : R -> Tt ~ Categorical\nexport g\n"
    a = analyze(text)
    d = next(x for x in a.diagnostics if x.code == "QVR010")
    assert d.message == "undefined type `Tt`"
    titles = [fx.title for fx in d.fixes]
    assert titles == ["Change to `T`", "Declare object `Tt`"]
    assert "morphism g : R -> T ~ Categorical" in apply_edits(text, d.fixes[0].edits)
    declared = apply_edits(text, d.fixes[1].edits)
    assert "object Tt : Real 1\nmorphism g : R -> Tt" in declared


def test_misspelt_morphism_and_variable_and_family():
    text = PRE + ("program p(x) : R -> R\n    sample a <- ff(x)\n    sample b <- Nromal(loc=xx, scale=1.0)\n"
                  "    return b\nexport p\n")
    a = analyze(text)
    errors = [d for d in a.diagnostics if d.is_error]
    assert [d.code for d in errors] == ["QVR013", "QVR013"]
    assert errors[0].message == "`ff` is neither a declared morphism nor a distribution family"
    assert errors[0].fixes[0].title == "Change to `f`"
    assert errors[1].fixes[0].title == "Change to `Normal`"
    # an unbound operand is a data name (spec part 2 §4.3); a near miss of a local is QVR112
    misspelt = text.replace("sample b <- Nromal(loc=xx", "sample b <- Normal(loc=xin").replace(
        "(x) : R", "(x_in) : R").replace("ff(x)", "f(x_in)")
    d = next(d for d in analyze(misspelt).diagnostics if d.code == "QVR112")
    assert d.message == "`xin` is not bound in `p` and is read as data; did you mean `x_in`?"
    assert d.fixes[0].title == "Change to `x_in`"


def test_where_bindings_are_local_and_checked_first():
    text = PRE + ("define model = first >> second\n    where\n        define first = f >> f\n"
                  "        define second = f\ndefine after = model\nexport after\n")
    a = analyze(text)
    assert not a.errors
    assert "first" not in a.top_level and "model" in a.top_level
    assert a.defines["first"].owner == "model"
    assert [b.name for b in a.defines["model"].where_bindings] == ["first", "second"]
    # a binding is invisible outside its owner
    bad = text.replace("define after = model", "define after = first")
    assert "QVR011" in codes(bad)


def test_a_where_binding_cannot_use_its_owner():
    # `model` would be defined through itself (the run had no end to building it)
    text = PRE + ("define model = first >> second\n    where\n        define first = f >> model\n"
                  "        define second = f\nexport model\n")
    a = analyze(text)
    found = [(d.code, a.text[d.span.start:d.span.end], d.message) for d in a.diagnostics if d.is_error]
    line = a.line_index.position(a.text.index("define model"))[0] + 1
    assert found == [("QVR014", "model", f"`model` is used before its declaration (line {line})")]
    # nor the owner of its owner
    nested = text.replace("define first = f >> model\n",
                          "define first = inner\n            where\n"
                          "                define inner = f >> model\n")
    b = analyze(nested)
    assert [(d.code, b.text[d.span.start:d.span.end]) for d in b.diagnostics if d.is_error] == [
        ("QVR014", "model")]


def test_a_where_binding_cannot_use_itself():
    # in its own expression, and in a binding of its own: `first` is in scope only after it
    text = PRE + ("define model = first >> second\n    where\n        define first = f >> first\n"
                  "        define second = f\nexport model\n")
    a = analyze(text)
    line = a.line_index.position(a.text.index("define first"))[0] + 1
    found = [(d.code, a.text[d.span.start:d.span.end], d.message) for d in a.diagnostics if d.is_error]
    assert found == [("QVR014", "first", f"`first` is used before its declaration (line {line})")]
    nested = text.replace("define first = f >> first\n",
                          "define first = inner\n            where\n"
                          "                define inner = f >> first\n")
    b = analyze(nested)
    assert [(d.code, b.text[d.span.start:d.span.end]) for d in b.diagnostics if d.is_error] == [
        ("QVR014", "first")]
    # a later sibling may use it
    fine = text.replace("define first = f >> first\n        define second = f\n",
                        "define first = f\n        define second = first >> f\n")
    assert not analyze(fine).errors


def test_where_binding_clash_and_unreached_binding():
    text = PRE + ("define model = f\n    where\n        define f = f\n        define spare = f\nexport model\n")
    a = analyze(text)
    found = {(d.code, a.text[d.span.start:d.span.end]) for d in a.diagnostics}
    assert ("QVR015", "f") in found
    assert ("QVR080", "spare") in found


def test_plural_names_and_duplicates():
    text = PRE + "morphism g, h : R -> R ~ Normal\nmorphism h : R -> R ~ Normal\nexport g\n"
    a = analyze(text)
    dup = next(d for d in a.diagnostics if d.code == "QVR015")
    assert dup.message == "`h` is already declared (line 4)"
    assert a.line_index.position(dup.span.start) == (4, 9)


def test_where_binding_sees_earlier_siblings_only():
    text = PRE + ("define model = first\n    where\n        define first = second >> f\n"
                  "        define second = f\nexport model\n")
    a = analyze(text)
    found = [(d.code, a.text[d.span.start:d.span.end]) for d in a.diagnostics if d.is_error]
    assert found == [("QVR014", "second")]
    swapped = text.replace("define first = second >> f", "define first = f").replace(
        "define model = first", "define model = first >> second")
    assert not analyze(swapped).errors
