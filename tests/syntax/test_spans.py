"""Exact spans: every name and keyword points at exactly its characters (spec §3.4)."""
from __future__ import annotations

from qvr.syntax import ast as A
from qvr.syntax import parse

from syntax_helpers import at, example_text

TEXT = """object Token, Other : FinSet 256
morphism gate_i, gate_f : Embedded * Hidden -> Hidden [scale=0.1, role=kernel] ~ LogitNormal
continuous head[4] : Hidden -> Out ~ Normal [scale=-0.5]
define enc = tok >> scan(cell, states=all) @ fan(a, b)
program cell(x, h) : Embedded * Hidden -> Hidden
    sample (z, r) : Hidden <- gate(x, h)
    observe y <- Normal(loc=z, scale=0.5)
    let q = r * h
    return (c: q, y)
"""


def test_declaration_and_plural_names():
    m = parse(TEXT)
    obj, morph, cont, define, prog = m.statements
    assert at(TEXT, obj.keyword.span) == "object"
    assert [at(TEXT, n.span) for n in obj.names] == ["Token", "Other"]
    assert [at(TEXT, n.span) for n in morph.names] == ["gate_i", "gate_f"]
    assert at(TEXT, cont.name.span) == "head"
    assert at(TEXT, cont.replication.span) == "[4]"
    assert at(TEXT, cont.replication.count.span) == "4"
    assert at(TEXT, define.name.span) == "enc"
    assert at(TEXT, prog.name.span) == "cell"
    assert at(TEXT, obj.span) == "object Token, Other : FinSet 256"


def test_type_spans():
    m = parse(TEXT)
    obj, morph = m.statements[:2]
    assert at(TEXT, obj.value.ctor.span) == "FinSet"
    assert at(TEXT, obj.value.args[0].span) == "256"
    sig = morph.sig
    assert at(TEXT, sig.span) == "Embedded * Hidden -> Hidden"
    assert at(TEXT, sig.arrow) == "->"
    assert [at(TEXT, f.span) for f in sig.domain.factors] == ["Embedded", "Hidden"]
    assert at(TEXT, sig.domain.op_spans[0]) == "*"


def test_option_key_and_value_spans():
    m = parse(TEXT)
    morph, cont = m.statements[1], m.statements[2]
    scale, role = morph.options.items
    assert at(TEXT, morph.options.span) == "[scale=0.1, role=kernel]"
    assert at(TEXT, scale.key.span) == "scale" and at(TEXT, scale.value.span) == "0.1"
    assert at(TEXT, role.value.span) == "kernel"
    assert at(TEXT, morph.init.span) == "LogitNormal"
    assert at(TEXT, morph.tilde) == "~"
    neg = cont.init_options.items[0].value
    assert neg.value == -0.5 and at(TEXT, neg.span) == "-0.5"


def test_expression_operator_spans():
    define = parse(TEXT).statements[3]
    expr = define.expr
    assert isinstance(expr, A.Compose)
    assert at(TEXT, expr.op.span) == ">>"
    tensor = expr.right
    assert isinstance(tensor, A.Tensor) and at(TEXT, tensor.op) == "@"
    scan = tensor.left
    assert at(TEXT, scan.keyword.span) == "scan"
    assert at(TEXT, scan.span) == "scan(cell, states=all)"
    opt = scan.options[0]
    assert at(TEXT, opt.key.span) == "states" and at(TEXT, opt.value.span) == "all"
    assert [at(TEXT, i.span) for i in tensor.right.items] == ["a", "b"]


def test_program_spans():
    prog = parse(TEXT).statements[4]
    assert [at(TEXT, p.span) for p in prog.params] == ["x", "h"]
    assert at(TEXT, prog.params_span) == "(x, h)"
    sample, observe, let = prog.steps
    assert at(TEXT, sample.keyword.span) == "sample"
    assert [at(TEXT, n.span) for n in sample.pattern.names] == ["z", "r"]
    assert at(TEXT, sample.annotation.span) == "Hidden"
    assert at(TEXT, sample.target.name.span) == "gate"
    assert [at(TEXT, a.span) for a in sample.target.args] == ["x", "h"]
    assert at(TEXT, sample.span) == "sample (z, r) : Hidden <- gate(x, h)"
    named = observe.target.args
    assert [at(TEXT, a.key.span) for a in named] == ["loc", "scale"]
    assert [at(TEXT, a.value.span) for a in named] == ["z", "0.5"]
    assert at(TEXT, let.name.span) == "q"
    assert at(TEXT, let.value.op_span) == "*"
    ret = prog.ret
    assert at(TEXT, ret.keyword.span) == "return"
    first, second = ret.pattern.items
    assert at(TEXT, first.label.span) == "c" and at(TEXT, first.var.span) == "q"
    assert at(TEXT, second.var.span) == "y"
    assert at(TEXT, prog.span).endswith("return (c: q, y)")


def test_bind_step_keyword_is_the_arrow():
    text = example_text("s7_2.qvr")
    prog = next(d for d in parse(text).statements if isinstance(d, A.ProgramDecl))
    bind = next(s for s in prog.steps if isinstance(s, A.BindStep))
    assert at(text, bind.keyword.span) == "<-"
    assert at(text, bind.name.span) == "h_cand"


def test_rule_spans():
    text = "rule fwd(x, y) : x / y, y => x"
    rule = parse(text).statements[0]
    assert at(text, rule.name.span) == "fwd"
    assert [at(text, v.span) for v in rule.variables] == ["x", "y"]
    assert at(text, rule.premises[0].op_span) == "/"
    assert at(text, rule.premises[0].left.name.span) == "x"
    assert at(text, rule.arrow.span) == "=>"


def test_spans_use_code_points_not_bytes():
    text = "object é1 : 3\nobject Ω : 2"
    m = parse(text)
    assert at(text, m.statements[0].names[0].span) == "é1"
    assert at(text, m.statements[1].names[0].span) == "Ω"
    assert m.statements[1].names[0].span == type(m.statements[1].names[0].span)(21, 22)


def test_every_node_span_lies_within_its_parent():
    text = example_text("kitchen_sink.qvr")
    module = parse(text)

    def walk(node, parent_span):
        span = getattr(node, "span", None)
        if span is not None and parent_span is not None:
            assert parent_span.covers(span), (node, parent_span)
        for field in getattr(node, "__slots__", ()):
            value = getattr(node, field)
            children = value if isinstance(value, tuple) else (value,)
            for child in children:
                if hasattr(child, "__slots__") and hasattr(child, "span") and \
                        not isinstance(child, A.Doc):
                    walk(child, span)

    for decl in module.statements:
        walk(decl, None)
