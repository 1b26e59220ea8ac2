"""Each runtime construct on small QVR programs: shapes, dtypes, site names and exact
densities (spec §5.3–§5.8)."""
from __future__ import annotations

import pytest
import torch
import torch.distributions as D
import torch.nn.functional as F

import qvr
from pathlib import Path

PROGRAMS = Path(__file__).parent / "programs"
from qvr.errors import MissingSiteError, NotSupportedError, QvrCheckError, ShapeError
from qvr.compile.trace import DETERMINISTIC, LATENT, OBSERVED


def load(src: str, **kw):
    return qvr.loads(src, name="t.qvr", **kw)


RNN = """
object X : Real 2
object S : Real 3
morphism cell : X * S -> S [scale=0.5] ~ Normal
define sc = scan(cell{opts})
program p : X -> S
    sample s <- sc
    return s
export p
"""


def rnn(opts=""):
    return load(RNN.replace("{opts}", opts)).morphism


def hand_scan_log_joint(model, x, states, init):
    """Σ_t log N(s_t | W[x_t; s_{t-1}] + b, 0.5) computed by hand."""
    cell = model._step_s.cell
    W, b = cell.linear.weight, cell.linear.bias
    prev, total = init, 0.0
    for t in range(x.shape[1]):
        loc = torch.cat([x[:, t], prev], -1) @ W.T + b
        total = total + D.Normal(loc, 0.5).log_prob(states[:, t]).sum(-1)
        prev = states[:, t]
    return total


def test_scan_log_joint_is_the_hand_computed_sum_of_step_densities():
    torch.manual_seed(0)
    model = rnn()
    x = torch.randn(4, 5, 2)
    states = torch.randn(4, 5, 3)
    values = {"s": states[:, -1], "s/scan": states[:, :-1]}
    lj = model.log_joint(x, values)
    torch.testing.assert_close(lj, hand_scan_log_joint(model, x, states, torch.zeros(4, 3)))
    tr = model.trace(x, values=values)
    assert tr.sites["s"].kind == LATENT and tr.sites["s/scan"].value.shape == (4, 4, 3)
    torch.testing.assert_close(tr.sites["s/scan"].value, states[:, :-1])


def test_scan_backward_and_learned_init():
    torch.manual_seed(0)
    model = rnn(", init=learned, direction=backward")
    scan = model._step_s
    assert [n for n, _ in scan.named_parameters()] == ["init_state", "cell.linear.weight", "cell.linear.bias"]
    with torch.no_grad():
        scan.init_state.copy_(torch.tensor([1.0, -1.0, 0.5]))
    x = torch.randn(2, 4, 2)
    states = torch.randn(2, 4, 3)  # position t holds the state after consuming x_T … x_t
    lj = model.log_joint(x, {"s": states[:, 0], "s/scan": states[:, 1:]})
    # consume in reverse order: hand computation on the flipped sequence
    want = hand_scan_log_joint(model, x.flip(1), states.flip(1), scan.init_state.expand(2, 3))
    torch.testing.assert_close(lj, want)


def test_scan_states_all_and_empty_sequences():
    model = rnn(", states=all")
    y = model.rsample(torch.randn(2, 6, 2))
    assert y.shape == (2, 6, 3)
    assert [s.name for s in model.site_specs()] == ["s"]
    assert model.rsample(torch.randn(2, 0, 2)).shape == (2, 0, 3)
    last = rnn()
    torch.testing.assert_close(last.rsample(torch.randn(2, 0, 2)), torch.zeros(2, 3))
    tr = last.trace(torch.randn(2, 1, 2))
    assert list(tr.sites) == ["s"]   # no `s/scan` when T = 1


def test_missing_site_and_shape_errors():
    model = rnn()
    x = torch.randn(2, 3, 2)
    with pytest.raises(MissingSiteError, match="s/scan"):
        model.log_joint(x, {"s": torch.randn(2, 3)})
    with pytest.raises(ShapeError, match=r"\(B, T, 2\)"):
        model.rsample(torch.randn(2, 3, 5))
    with pytest.raises(ShapeError):
        model.rsample(torch.randn(2, 2))


def test_lstm_product_state_threads_both_halves():
    prog = qvr.load(__import__("pathlib").Path(__file__).parent / "programs" / "lstm_current.qvr")
    scan = prog.env["lstm"].parts[1]
    x = torch.randn(2, 3, 64)
    s = scan.rsample(x)
    assert s.shape == (2, 128)
    tr = scan.trace(x)
    c_new, h_new = tr.sites["output/scan/c_new"].value, tr.sites["output/scan/h_new"].value
    # the state after step t is (c_new_t, h_new_t); the final one is the output
    torch.testing.assert_close(tr.output, torch.cat([c_new[:, -1], h_new[:, -1]], -1))
    states = tr.sites["output/scan"].value
    torch.testing.assert_close(states[:, 0], torch.cat([c_new[:, 0], h_new[:, 0]], -1))
    # c_new at step 2 uses c from step 1: f * c + i * tanh(g)
    i, f, g = (tr.sites[f"output/scan/{v}"].value[:, 1] for v in "ifg")
    torch.testing.assert_close(c_new[:, 1], f * c_new[:, 0] + i * torch.tanh(g))


COMBINATORS = """
object A : Real 2
object B : Real 3
object N : FinSet 4
morphism f : A -> B [scale=0.1] ~ Normal
morphism g : B -> A
morphism k : A -> N ~ Categorical
morphism e : N -> B [role=embed]
define chain = f >> g >> f
define par = f @ g
define fanned = fan(f, k)
define rep = repeat(f >> g, 3)
define rep_n = repeat(f >> g)
define st = stack(f >> g, 2)
define ident = identity(A) >> f
program p(a) : A -> B
    sample y <- chain(a)
    sample z <- par(a, y)
    sample w <- fanned
    sample r <- rep
    sample q <- st
    sample i <- ident
    sample n <- k
    sample v <- e(n)
    return v
export p
"""


def test_combinator_shapes_and_site_names():
    torch.manual_seed(0)
    model = load(COMBINATORS).morphism
    x = torch.randn(5, 2)
    tr = model.trace(x)
    shapes = {n: tuple(s.value.shape) for n, s in tr.sites.items()}
    assert shapes["y"] == (5, 3) and shapes["y/f"] == (5, 3)
    assert shapes["z"] == (5, 5) and shapes["z/f"] == (5, 3)
    assert shapes["w"] == (5, 4) and shapes["w/f"] == (5, 3) and shapes["w/k"] == (5,)
    assert tr.sites["w"].value.dtype == torch.float32   # product with a continuous leaf
    assert shapes["r"] == (5, 2) and "r/0" not in shapes  # the repeated composite is deterministic
    assert "r/0/f" in shapes and "r/2/f" not in shapes and "r/f" in shapes
    assert "q/0/f" in shapes and "q/f" in shapes
    assert shapes["v"] == (5, 3) and tr.sites["n"].value.dtype == torch.int64
    kinds = {n: s.kind for n, s in tr.sites.items()}
    assert kinds["y"] == LATENT and kinds["z"] == DETERMINISTIC and kinds["v"] == DETERMINISTIC
    assert [s.name for s in model.site_specs()] == list(tr.sites)
    # composites: a repeated label gets #2
    assert "y/f" in shapes and tr.sites["y"].kind == LATENT
    names = [n for n, _ in model.named_parameters()]
    assert "_step_q.copies.0.parts.0.linear.weight" in names and "_step_q.copies.1.parts.1.linear.bias" in names
    assert model._step_z.parts[0] is model._step_y.parts[0]   # `f` is one module wherever it is used


def test_stack_copies_are_independent_and_repeat_shares():
    model = load(COMBINATORS).morphism
    st = model._step_q
    w0, w1 = st.copies[0].parts[0].linear.weight, st.copies[1].parts[0].linear.weight
    assert not torch.equal(w0, w1)
    assert st.copies[0].parts[0] is not model._step_y.parts[0]
    rep = model._step_r
    assert sum(p.numel() for p in rep.parameters()) == sum(p.numel() for p in rep.inner.parameters())


def test_repeat_without_count_takes_n_steps():
    src = """
object A : Real 2
morphism g : A -> A [scale=0.1] ~ Normal
export repeat(g)
"""
    model = load(src).morphism
    assert [s.name for s in model.site_specs()] == ["output"]
    tr = model.trace(torch.randn(2, 2))
    assert list(tr.sites) == ["output"]
    y = model.rsample(torch.randn(2, 2), n_steps=3)
    assert y.shape == (2, 2)


def test_repeated_labels_get_numbered():
    src = """
object A : Real 2
morphism g : A -> A [scale=0.1] ~ Normal
define ggg = g >> g >> g
program p : A -> A
    sample y <- ggg
    return y
export p
"""
    model = load(src).morphism
    assert [s.name for s in model.site_specs()] == ["y", "y/g", "y/g#2"]


def test_kernel_log_prob_equals_normal_density_and_composite_refuses():
    src = """
object A : Real 2
object B : Real 3
morphism f : A -> B [scale=0.25] ~ Normal
morphism h : B -> B ~ Normal
export f
"""
    f = load(src).morphism
    x, y = torch.randn(4, 2), torch.randn(4, 3)
    loc = f.linear(x)
    torch.testing.assert_close(f.log_prob(x, y), D.Normal(loc, 0.25).log_prob(y).sum(-1))
    both = load(src.replace("export f", "export f >> h")).morphism
    with pytest.raises(NotSupportedError, match="log_joint"):
        both.log_prob(x, y)


def test_kernel_parameter_sources():
    src = """
object A : Real 2
object N : FinSet 3
object M : FinSet 2
object B : Real 4
morphism aff : A -> B ~ Normal
morphism deep : A -> B [hidden_dim=8, n_layers=3] ~ Normal
morphism tab : N * M -> B ~ Normal
morphism mixed : N * A -> B ~ Normal
program p(a) : A -> B
    sample y1 <- aff(a)
    sample y2 <- deep(a)
    return y2
export p
"""
    prog = load(src)
    names = lambda m: {n: tuple(p.shape) for n, p in m.named_parameters()}
    assert names(prog.env["aff"]) == {"linear.weight": (8, 2), "linear.bias": (8,)}
    deep = names(prog.env["deep"])
    assert deep["mlp.0.weight"] == (8, 2) and deep["mlp.4.weight"] == (8, 8) and deep["mlp.6.weight"] == (8, 8)
    assert names(prog.env["tab"]) == {"table": (6, 8)}
    assert names(prog.env["mixed"]) == {"linear.weight": (8, 5), "linear.bias": (8,)}
    # one-hot features: index 2 of N, then the continuous coordinates
    mixed = prog.env["mixed"]
    x = torch.tensor([[2.0, 0.5, -1.0]])
    u = torch.tensor([[0.0, 0.0, 1.0, 0.5, -1.0]])
    torch.testing.assert_close(mixed.raw(x), mixed.linear(u))
    tab = prog.env["tab"]
    torch.testing.assert_close(tab.raw(torch.tensor([[2, 1]])), tab.table[[5]])


def test_deterministic_codomain_transforms_and_embed():
    src = """
object A : Real 2
object Box : Real 2 {low=-1.0, high=3.0}
object Pos : Real 2 {low=1.0}
object Neg : Real 2 {high=-2.0}
object P : Simplex 3
object N : FinSet 5
morphism box : A -> Box
morphism pos : A -> Pos
morphism neg : A -> Neg
morphism simp : A -> P
morphism e : N -> Box [role=embed]
program p(a) : A -> Box
    sample b <- box(a)
    return b
export p
"""
    prog = load(src)
    x = torch.randn(50, 2) * 3
    b = prog.env["box"].rsample(x)
    assert ((b >= -1) & (b <= 3)).all() and b.min() < 0.5 < b.max()
    assert (prog.env["pos"].rsample(x) > 1).all() and (prog.env["neg"].rsample(x) < -2).all()
    torch.testing.assert_close(prog.env["simp"].rsample(x).sum(-1), torch.ones(50))
    e = prog.env["e"]
    assert tuple(e.weight.shape) == (5, 2)
    toks = torch.randint(0, 5, (3, 4, 6))
    out = e.rsample(toks) if False else e.run(toks, None, "", None)[0]
    assert out.shape == (3, 4, 6, 2)
    torch.testing.assert_close(out, -1 + 4 * torch.sigmoid(e.weight[toks]))


def test_discretize_is_categorical_over_bins():
    src = """
object S : Real 1 {low=0.0, high=1.0}
discretize d : S -> 5 [temperature=0.5]
export d
"""
    d = load(src).morphism
    x = torch.rand(6, 1)
    y = torch.randint(0, 5, (6,))
    centres = torch.linspace(0, 1, 5)
    logits = -(x - centres) ** 2 / 0.5
    torch.testing.assert_close(d.log_prob(x, y), D.Categorical(logits=logits).log_prob(y))


PROGRAM = """
object A : Real 2
object N : FinSet 3
object C : Real 1
morphism f : A -> A [scale=0.1] ~ Normal
morphism pair : A -> C * C [scale=0.5] ~ Normal
program p(a, n) : A * N -> C * A
    let two = 2.0
    let s = [1.0, -1.0]
    let u = sigmoid(a) + tanh(a) * exp(a) - log(softplus(a)) / sqrt(abs(a) + 1.0)
    let r = relu(-a) + logit(sigmoid(a)) + softmax(a) * two
    let idx = n * 1.0
    sample y <- f(u * s + idx)
    sample (z1, z2) <- pair(y)
    observe o <- Normal(z1, 1.0)
    return (out: o, y)
export p
"""


def test_let_builtins_inline_draws_and_tuple_returns():
    torch.manual_seed(0)
    model = load(PROGRAM).morphism
    a = torch.randn(4, 2)
    n = torch.tensor([0, 1, 2, 1])
    x = torch.cat([a, n.unsqueeze(-1).float()], -1)
    tr = model.trace(x)
    sig = torch.sigmoid(a)
    u = sig + torch.tanh(a) * torch.exp(a) - torch.log(F.softplus(a)) / torch.sqrt(torch.abs(a) + 1.0)
    torch.testing.assert_close(tr.sites["u"].value, u)
    r = torch.relu(-a) + torch.logit(sig) + torch.softmax(a, -1) * 2.0
    torch.testing.assert_close(tr.sites["r"].value, r)
    assert tr.sites["two"].value.shape == (4, 1)
    torch.testing.assert_close(tr.sites["idx"].value, n.float().unsqueeze(-1))
    assert tr.sites["z1"].value.shape == (4, 1) and tr.sites["z2"].value.shape == (4, 1)
    assert tr.sites["o"].kind == OBSERVED and tr.output.shape == (4, 3)
    d = model.rsample(x, as_dict=True)
    assert set(d) == {"out", "y"} and d["out"].shape == (4, 1)
    # clamp everything: the joint is the sum of Normal densities
    vals = {k: s.value for k, s in tr.sites.items()}
    y, z = vals["y"], torch.cat([vals["z1"], vals["z2"]], -1)
    f = model._step_y
    want = (D.Normal(f.linear(u * torch.tensor([1.0, -1.0]) + n.float().unsqueeze(-1)), 0.1).log_prob(y).sum(-1)
            + D.Normal(model._step_z1.linear(y), 0.5).log_prob(z).sum(-1)
            + D.Normal(vals["z1"], 1.0).log_prob(vals["o"]).sum(-1))
    torch.testing.assert_close(model.log_joint(x, vals), want)
    # return labels name sites too, and a width-1 value may omit its trailing axis
    vals2 = {k: v for k, v in vals.items() if k != "o"}
    vals2["out"] = vals["o"].squeeze(-1)
    torch.testing.assert_close(model.log_joint(x, vals2), want)
    # tuple inputs are accepted for products
    assert model.rsample((a, n)).shape == (4, 3)


def test_observations_clamp_observe_sites():
    model = load(PROGRAM).morphism
    x = torch.cat([torch.randn(3, 2), torch.zeros(3, 1)], -1)
    obs = torch.full((3, 1), 7.0)
    tr = model.trace(x, observations={"o": obs})
    torch.testing.assert_close(tr.sites["o"].value, obs)
    assert model.observed_names == {"o"}


def test_runtime_lifting_folds_time_into_batch():
    src = """
object A : Real 2
morphism f : A -> A [scale=0.1] ~ Normal
program p(a) : A -> A
    sample y <- f(a)
    let z = y * 2.0
    return z
export p
"""
    model = load(src).morphism
    x = torch.randn(3, 5, 2)
    tr = model.trace(x)
    assert tr.output.shape == (3, 5, 2) and tr.sites["y"].value.shape == (3, 5, 2)
    assert tr.sites["y"].log_prob.shape == (3,)
    lj = model.log_joint(x, {"y": tr.sites["y"].value})
    want = D.Normal(model._step_y.linear(x), 0.1).log_prob(tr.sites["y"].value).sum((1, 2))
    torch.testing.assert_close(lj, want)


def test_lifted_draw_in_tagger_gives_per_position_categoricals():
    prog = qvr.load(__import__("pathlib").Path(__file__).parent / "programs" / "tagger.qvr")
    model = prog.morphism
    x = torch.randint(0, 256, (2, 7))
    tags = model.rsample(x)
    assert tags.shape == (2, 7) and tags.dtype == torch.int64
    tr = model.trace(x, observations={"tags": tags})
    hs = tr.sites["hs"].value
    head = model._step_tags
    want = D.Categorical(logits=head.linear(hs)).log_prob(tags).sum(1)
    torch.testing.assert_close(tr.sites["tags"].log_prob, want)


def test_dtype_float64_and_device_rule(monkeypatch):
    prog = load(RNN.replace("{opts}", ""), dtype=torch.float64)
    assert all(p.dtype == torch.float64 for p in prog.parameters())
    y = prog.morphism.rsample(torch.randn(2, 3, 2, dtype=torch.float32))
    assert y.dtype == torch.float64
    from qvr.compile import resolve_device
    monkeypatch.setenv("QVR_DEVICE", "meta")
    assert resolve_device() == torch.device("meta")
    assert resolve_device("cpu") == torch.device("cpu")
    monkeypatch.delenv("QVR_DEVICE")
    assert resolve_device().type == ("cuda" if torch.cuda.is_available() else "cpu")


def test_refusals_list_located_diagnostics():
    with pytest.raises(QvrCheckError) as err:
        load("object A : FinSet 3\nmorphism f : A -> B ~ Normal\nexport f\n")
    assert str(err.value) == "t.qvr:2:19: error[QVR010]: undefined type `B`"
    assert err.value.diagnostics[0].code == "QVR010"
    with pytest.raises(QvrCheckError, match=r"t\.qvr:1:1: .*\[QVR055\]"):
        load("object A : FinSet 3\n")
    with pytest.raises(qvr.QvrSyntaxError, match=r"t\.qvr:2:\d+: error\[QVR00\d\]"):
        load("object A : FinSet 3\nexport\n")


def test_grammar_parsers_raise_located_not_supported():
    src = "object Tok : FinSet 4\ncategory S, NP\nexport ccg(terminal=Tok, categories=[S, NP])\n"
    with pytest.raises(NotSupportedError, match=r"t\.qvr:3:8: grammar parsers are not supported by this runtime"):
        load(src)


def test_bad_values_and_names_raise_qvr_errors():
    model = rnn()
    x = torch.randn(2, 3, 2)
    with pytest.raises(ShapeError, match=r"s/scan.*\(B, T-1, 3\)"):
        model.log_joint(x, {"s": torch.randn(2, 3), "s/scan": torch.randn(2, 3, 3)})
    with pytest.raises(ShapeError, match="site `s`"):
        model.log_joint(x, {"s": torch.randn(2, 4), "s/scan": torch.randn(2, 2, 3)})
    with pytest.raises(ShapeError, match="batch size 2"):
        model.log_joint(x, {"s": torch.randn(5, 3), "s/scan": torch.randn(2, 2, 3)})
    prog = load(RNN.replace("{opts}", ""))
    with pytest.raises(qvr.QvrError, match="nope"):
        prog.env["nope"]


@pytest.mark.parametrize("opts", ["", ", direction=backward", ", states=all", ", init=learned, direction=backward, states=all"])
@pytest.mark.parametrize("T", [1, 2, 5])
def test_batched_clamped_scan_equals_the_step_loop(opts, T):
    torch.manual_seed(0)
    model = rnn(opts)
    scan = model._step_s
    if scan.init == "learned":
        with torch.no_grad():
            scan.init_state.normal_()
    x = torch.randn(3, T, 2)
    tr = model.trace(x)
    values = {k: s.value for k, s in tr.sites.items()}
    fast = model.log_joint(x, values)
    scan._parallel_ok = False
    slow = model.log_joint(x, values)
    torch.testing.assert_close(fast, slow)
    torch.testing.assert_close(slow, tr.log_joint)


def test_replicated_group_in_fan_and_leaf_binding():
    src = """
object X : Real 2
object Y : Real 3
object Pair : X * Y
continuous head[3] : X -> Y ~ Normal [scale=0.2]
program leaves(u, v, w) : X * Pair -> Y
    let s = v * 0.0 + u[0] * 0.0
    return w
program factors(u, p) : X * Pair -> Pair
    return p
define heads = fan(head)
export heads
"""
    prog = load(src.replace("u[0] * 0.0", "0.0"))
    fan = prog.morphism
    assert [n for n, _ in fan.named_parameters()] == [
        f"parts.{i}.linear.{k}" for i in range(3) for k in ("weight", "bias")]
    y = fan.rsample(torch.randn(4, 2))
    assert y.shape == (4, 9)
    assert [s.name for s in fan.site_specs()] == ["output", "output/head_0", "output/head_1", "output/head_2"]
    x = torch.arange(7.0).expand(2, 7)
    torch.testing.assert_close(prog.env["leaves"].rsample(x), x[:, 4:])
    torch.testing.assert_close(prog.env["factors"].rsample(x), x[:, 2:])


def test_stacked_program_copy_calls_its_own_morphisms():
    src = (PROGRAMS / "char_lm.qvr").read_text().replace(
        "define lstm = scan(cell, states=all)", "define lstm = scan(stack(cell, 1), states=all)")
    model = load(src).morphism
    copy = model._step__c.cell.copies[0]
    assert copy._callee_in_gate is not load(src).env["in_gate"]
    x, y = torch.randint(0, 28, (2, 5)), torch.randint(0, 28, (2, 5))
    model.log_joint(x, {"next_char": y}).sum().backward()
    assert copy._callee_in_gate.linear.weight.grad is not None
    assert sum(p.numel() for p in model.parameters()) == 8_732


def test_inputs_follow_the_module_after_to():
    prog = load(RNN.replace("{opts}", ""))
    model = prog.morphism.to(torch.float64)
    assert model.device == torch.device("cpu")
    y = model.rsample(torch.randn(2, 3, 2, dtype=torch.float32))
    assert y.shape == (2, 3)


def test_user_names_never_reach_the_program_modules_own_attributes():
    # each step's module is the attribute `_step_<variable>` and each called morphism's
    # `_callee_<name>`; a method with one of those names would be found instead of the module
    from qvr.compile.program import ProgramModule
    assert [n for n in dir(ProgramModule) if n.startswith(("_step_", "_callee_"))] == []
    # a variable `target` and a morphism `impl` (`_step_target`, `_call_impl` were methods)
    model = load("""object X : Real 2
morphism impl : X -> X [role=deterministic]
morphism target : X -> X ~ Normal [scale=0.5]
program p(x) : X -> X
    let h = impl(x)
    sample target <- Normal(loc=h, scale=1.0)
    sample value <- target(target)
    return value
export p
""").morphism
    torch.manual_seed(0)
    tr = model.trace(torch.randn(3, 2))
    assert [(n, s.kind, tuple(s.value.shape)) for n, s in tr.sites.items()] == [
        ("h", DETERMINISTIC, (3, 2)), ("target", LATENT, (3, 2)), ("value", LATENT, (3, 2))]
    h, t = tr.sites["h"].value, tr.sites["target"].value
    torch.testing.assert_close(tr.sites["target"].log_prob, D.Normal(h, 1.0).log_prob(t).sum(-1))
