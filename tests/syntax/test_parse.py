"""Every spec example parses, with and without indentation, into the expected AST shapes."""
from __future__ import annotations

import pytest

from qvr.errors import QvrSyntaxError
from qvr.syntax import ast as A
from qvr.syntax import parse, parse_module

from syntax_helpers import example_text, flatten


def test_every_example_parses_without_diagnostics(example):
    result = parse_module(example)
    assert result.diagnostics == ()
    assert result.module.statements


def test_every_example_parses_without_indentation_to_the_same_shape(example):
    def kinds(module):
        return [type(d).__name__ for d in module.statements]

    indented = parse(example)
    flat = parse(flatten(example))
    assert kinds(indented) == kinds(flat)
    for a, b in zip(indented.statements, flat.statements):
        if isinstance(a, A.ProgramDecl):
            assert [type(s).__name__ for s in a.steps] == [type(s).__name__ for s in b.steps]


def test_seed_000_structure():
    module = parse(example_text("s7_1.qvr"))
    kinds = [type(d).__name__ for d in module.statements]
    assert kinds == ["ObjectDecl", "TypeDecl", "TypeDecl", "TypeDecl", "TypeDecl", "EmbedDecl",
                     "ContinuousDecl", "ContinuousDecl", "ContinuousDecl", "ContinuousDecl",
                     "ProgramDecl", "ContinuousDecl", "DefineDecl", "ExportDecl"]
    prog = module.statements[10]
    assert prog.name.text == "lstm_cell"
    assert [p.text for p in prog.params] == ["x_t", "state_prev"]
    assert [type(s).__name__ for s in prog.steps] == ["DrawStep"] * 4 + ["LetStep"] * 5
    assert isinstance(prog.ret.pattern, A.RetTuple)
    assert [i.var.text for i in prog.ret.pattern.items] == ["c_new", "h_new"]
    cand = module.statements[9]
    # `~ Normal` is a plain reference (the checker decides it is a family, spec §3.2) and the
    # classic options after the family are kept apart from options before `~`.
    assert isinstance(cand.init, A.Ref) and cand.init.name.text == "Normal"
    assert cand.options is None
    assert cand.init_options.items[0].key.text == "scale"
    assert cand.init_options.items[0].value.value == 0.5
    lstm = module.statements[12]
    assert lstm.keyword.text == "let"
    # `a >> b >> c` is left-associative
    assert isinstance(lstm.expr, A.Compose) and isinstance(lstm.expr.left, A.Compose)
    assert isinstance(lstm.expr.left.right, A.Scan)
    assert module.statements[13].keyword.text == "output"


def test_seed_001_inline_family_bind_step():
    module = parse(example_text("s7_2.qvr"))
    prog = next(d for d in module.statements if isinstance(d, A.ProgramDecl))
    bind = next(s for s in prog.steps if isinstance(s, A.BindStep))
    assert bind.name.text == "h_cand"
    assert bind.keyword.text == "<-"
    assert bind.target.name.text == "Normal"
    assert isinstance(bind.target.args[0], A.Var) and isinstance(bind.target.args[1], A.Lit)
    assert isinstance(prog.ret.pattern, A.RetVar)


def test_seed_002_dialect_011():
    module = parse(example_text("s7_3.qvr"))
    token = module.statements[0]
    assert isinstance(token.value, A.TypeCtor) and token.value.ctor.text == "FinSet"
    assert token.value.args[0].value == 256
    embed = module.statements[3]
    role = embed.options.items[0]
    assert role.key.text == "role" and role.value.name.text == "embed" and role.value.is_keyword
    cell = module.statements[4]
    assert cell.init.name.text == "Normal"
    assert [o.key.text for o in cell.options.items] == ["role", "scale"]
    prog = module.statements[7]
    observe = prog.steps[1]
    assert isinstance(observe, A.ObserveStep)
    assert observe.annotation.name.text == "Token"
    assert observe.target.name.text == "lm_head"
    assert module.statements[8].keyword.text == "export"


def test_kitchen_sink_every_construct():
    module = parse(example_text("kitchen_sink.qvr"))
    by_name = {}
    for d in module.statements:
        for n in A.declared_names(d):
            by_name[n.text] = d
    assert isinstance(by_name["Det"].value, A.TypeCall)
    assert isinstance(by_name["B"].value, A.BracketCtor)
    assert [k.key.text for k in by_name["B"].value.kwargs] == ["low", "high"]
    c = by_name["C"].value
    assert c.options.items[0].value.value == -1.5 and c.options.items[1].value.value == 2.0
    assert isinstance(by_name["Sum"].value, A.Coproduct) and len(by_name["Sum"].value.operands) == 3
    box = by_name["Box"].value
    assert box.args[0].value == 3 and box.args[1].value.value == -1e-3
    assert box.args[2].value.value == 50.0
    fwd = by_name["fwd"]
    assert [v.text for v in fwd.variables] == ["x", "y"]
    assert isinstance(fwd.premises[0], A.CatSlash) and fwd.arrow.text == "=>"
    assert by_name["back"].premises[1].op == "\\" and by_name["back"].arrow.text == "|-"
    assert by_name["prod"].arrow.text == "⊢"
    assert isinstance(by_name["rel"].init, A.Identity)
    assert by_name["trans"].replication.count.value == 2
    assert by_name["disc"].bins.value == 5
    opts = by_name["opts"].options.items
    assert opts[0].value is None
    assert isinstance(opts[1].value, A.OptList)
    assert [type(v).__name__ for v in opts[1].value.items] == ["Number", "Number", "OptName",
                                                               "OptName"]
    assert opts[1].value.items[1].value == -2
    assert isinstance(by_name["gen"].init, A.FamilyCall)
    assert isinstance(by_name["gen"].init.args[0], A.NamedArg)
    assert by_name["top"].expr.op.text == ">=>"
    g = by_name["g"].expr
    assert isinstance(g, A.ParserExpr) and [a.key.text for a in g.args] == [
        "rules", "categories", "terminal", "start", "depth"]
    assert isinstance(g.args[0].value, A.IdList)
    assert isinstance(by_name["marg"].expr, A.Marginalize)
    assert [n.text for n in by_name["marg"].expr.names] == ["V", "V"]
    sc = by_name["sc"]
    assert sc.where is not None and [o.value.text for o in sc.expr.options] == [
        "learned", "all", "backward"]
    assert by_name["inner"].where is None
    p = by_name["p"]
    kinds = [type(s).__name__ for s in p.steps]
    assert kinds == ["DrawStep", "BindStep", "SampleStep", "SampleStep", "ObserveTildeStep",
                     "ObserveStep", "LetStep", "LetStep"]
    assert p.steps[2].pattern.bracket is True and p.steps[3].pattern.bracket is False
    assert p.options.items[0].key.text == "x"
    assert p.steps[0].docs[0].text == "the first draw"
    ret = p.ret.pattern.items
    assert ret[0].label.text == "out" and ret[0].var.text == "w" and ret[1].label is None
    assert by_name["only_return"].steps == ()
    assert len(module.comments) == 3  # line, block, doc


def test_arithmetic_precedence():
    module = parse("program p : A -> A\n let w = -x * 2 + 3 / x - 1\n return w")
    value = module.statements[0].steps[0].value
    # (((-x) * 2) + (3 / x)) - 1
    assert value.op == "-" and isinstance(value.right, A.Lit)
    add = value.left
    assert add.op == "+"
    assert add.left.op == "*" and isinstance(add.left.left, A.Neg)
    assert add.right.op == "/"


def test_parentheses_make_no_nodes_but_parents_cover_them():
    module = parse("program p : A -> A\n let w = (1.0 - z) * h\n return w")
    value = module.statements[0].steps[0].value
    assert value.op == "*" and isinstance(value.left, A.BinOp)
    text = "program p : A -> A\n let w = (1.0 - z) * h\n return w"
    assert text[value.span.start:value.span.end] == "(1.0 - z) * h"
    assert text[value.left.span.start:value.left.span.end] == "1.0 - z"


def test_products_flatten_through_parentheses():
    module = parse("object X : A * (B * C) * D\nobject Y : (A + B) * C")
    x = module.statements[0].value
    assert isinstance(x, A.Product)
    assert [f.name.text for f in x.factors] == ["A", "B", "C", "D"]
    y = module.statements[1].value
    assert isinstance(y, A.Product) and isinstance(y.factors[0], A.Coproduct)


def test_shift_left_composition_is_stored_swapped():
    text = "define x = f << g"
    expr = parse(text).statements[0].expr
    assert isinstance(expr, A.Compose)
    assert expr.left.name.text == "g" and expr.right.name.text == "f"
    assert expr.op.text == "<<" and text[expr.op.span.start:expr.op.span.end] == "<<"
    same = parse("define x = g >> f").statements[0].expr
    assert (same.left.name.text, same.right.name.text) == ("g", "f")


def test_dialects_agree_on_patterns_and_targets():
    classic = parse("program p : A -> A\n draw x ~ f(a)\n return x").statements[0].steps[0]
    current = parse("program p : A -> A\n sample x <- f(a)\n return x").statements[0].steps[0]
    bare = parse("program p : A -> A\n x <- f(a)\n return x").statements[0].steps[0]
    assert classic.pattern.name.text == current.pattern.name.text == bare.name.text == "x"
    for step in (classic, current, bare):
        assert step.target.name.text == "f"
        assert [a.name.text for a in step.target.args] == ["a"]
    tuple_new = parse("program p : A -> A\n sample (a, b) <- f\n return a").statements[0]
    tuple_old = parse("program p : A -> A\n sample [a, b] <- f\n return a").statements[0]
    assert [n.text for n in tuple_new.steps[0].pattern.names] == ["a", "b"]
    assert [n.text for n in tuple_old.steps[0].pattern.names] == ["a", "b"]
    assert tuple_old.steps[0].pattern.bracket and not tuple_new.steps[0].pattern.bracket
    obs_old = parse("program p : A -> A\n observe y ~ f(a)\n return y").statements[0].steps[0]
    obs_new = parse("program p : A -> A\n observe y <- f(a)\n return y").statements[0].steps[0]
    assert obs_old.pattern.name.text == obs_new.pattern.name.text == "y"
    assert obs_old.target.name.text == obs_new.target.name.text == "f"
    let_old = parse("let m = f >> g").statements[0]
    def_new = parse("define m = f >> g").statements[0]
    assert type(let_old) is type(def_new) is A.DefineDecl
    assert let_old.expr.left.name.text == def_new.expr.left.name.text == "f"


def test_target_without_parentheses_has_no_args():
    prog = parse("program p : A -> A\n sample h <- f\n sample k <- g()\n return h").statements[0]
    assert prog.steps[0].target.args is None
    assert prog.steps[1].target.args == ()


def test_newlines_are_insignificant():
    one_line = parse("object T : 3 object U : 4 program p : T -> U draw y ~ f (x) return y")
    assert len(one_line.statements) == 3
    target = one_line.statements[2].steps[0].target
    assert target.name.text == "f" and target.args[0].name.text == "x"


def test_parse_raises_located_syntax_error():
    with pytest.raises(QvrSyntaxError) as info:
        parse("object T : 3\nmorphism f : T T\n", filename="m.qvr")
    err = info.value
    assert str(err).startswith("m.qvr:2:16: error[QVR002]")
    assert err.diagnostics[0].code == "QVR002"


def test_crlf_and_bom_are_normalised():
    module = parse("\ufeffobject T : 3\r\nobject U : 4\r")
    assert [d.names[0].text for d in module.statements] == ["T", "U"]
    assert module.statements[1].span.start == len("object T : 3\n")
