"""Plated values, named inputs and `score` sites in the torch runtime (spec part 2 §6.1, §6.3,
§6.5–§6.7): site shapes and plates of the worked examples, alignment by plate identity,
gathers, reductions, supplying data by name and the errors for missing or misshapen data."""
from pathlib import Path

import pytest
import torch

import qvr
from qvr.diagnostics import Severity
from qvr.errors import MissingDataError, QvrCheckError, ShapeError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "current"
SD = torch.tensor([15.0, 10, 16, 11, 9, 11, 10, 18])
Y = torch.tensor([28.0, 8, -3, 7, -1, 1, 18, 12])


def _sites(tr):
    return [(n, s.kind, tuple(s.value.shape)) for n, s in tr.sites.items()]


@pytest.fixture(scope="module")
def schools():
    return qvr.load(EXAMPLES / "e01_schools.qvr").morphism


@pytest.fixture(scope="module")
def radon():
    return qvr.load(EXAMPLES / "e02_radon.qvr").morphism


def test_schools_sites_have_the_worked_example_shapes(schools):
    tr = schools.trace(None, observations={"prior_scale": 5.0, "sd": SD, "y": Y})
    assert _sites(tr) == [("mu", "latent", (1, 1)), ("tau", "latent", (1, 1)),
                          ("z", "latent", (1, 8, 1)), ("theta", "deterministic", (1, 8, 1)),
                          ("y", "observed", (1, 8, 1))]
    assert tuple(tr.output.shape) == (1, 8, 1)
    assert torch.equal(tr.sites["y"].value.reshape(8), Y)


def test_site_specs_carry_plates_and_named_inputs_are_listed(schools):
    specs = {s.name: (s.kind, s.event_shape, s.plates, s.row_plate) for s in schools.site_specs()}
    assert specs == {"mu": ("latent", (1,), (), None), "tau": ("latent", (1,), (), None),
                     "z": ("latent", (1,), (("School", 8),), None),
                     "theta": ("deterministic", (1,), (("School", 8),), None),
                     "y": ("observed", (1,), (("School", 8),), None)}
    inputs = {n: (s.kind, [p.name for p in s.plates], s.dtype) for n, s in schools.named_inputs.items()}
    assert inputs == {"prior_scale": ("hyper", [], "float"), "sd": ("data", ["School"], "float")}
    assert schools.observed_names == {"y"}


def test_observation_shapes_with_and_without_batch_and_width_agree(schools):
    tr = schools.trace(None, observations={"prior_scale": 5.0, "sd": SD, "y": Y})
    latents = {n: s.value for n, s in tr.sites.items() if s.kind == "latent"}
    base = {"prior_scale": 5.0, "sd": SD, **latents}
    lj = [schools.log_joint(None, {**base, "y": y}) for y in (Y, Y[None], Y[None, :, None], Y[:, None])]
    for value in lj[1:]:
        torch.testing.assert_close(value, lj[0])
    # the density is the product over schools of the element densities
    theta = latents["mu"] + latents["tau"] * latents["z"]
    expected = (torch.distributions.Normal(0.0, 5.0).log_prob(latents["mu"]).sum()
                + torch.distributions.HalfNormal(5.0).log_prob(latents["tau"]).sum()
                + torch.distributions.Normal(0.0, 1.0).log_prob(latents["z"]).sum()
                + torch.distributions.Normal(theta.reshape(8), SD).log_prob(Y).sum())
    torch.testing.assert_close(lj[0], expected.reshape(1))


def test_missing_named_input_names_it_and_its_first_use(schools):
    with pytest.raises(MissingDataError, match=r"named input `sd` \(first used at .*e01_schools.qvr:11:59\)"):
        schools.trace(None, observations={"prior_scale": 5.0})
    with pytest.raises(MissingDataError, match="`prior_scale`"):
        schools.rsample(None, observations={"sd": SD})


def test_wrong_plate_size_names_the_input(schools):
    with pytest.raises(ShapeError, match=r"named input `sd`: plate `School` has 8 elements, the data has 7"):
        schools.trace(None, observations={"prior_scale": 5.0, "sd": SD[:7]})


def test_reading_the_input_with_x_none_is_a_shape_error():
    m = qvr.load(EXAMPLES / "rows_lstm_lm.qvr").morphism
    with pytest.raises(ShapeError, match="x=None"):
        m.rsample(None)


def test_row_plate_needs_its_size_as_batch():
    m = qvr.load(EXAMPLES / "rows_lstm_lm.qvr").morphism
    tr = m.trace(torch.randint(0, 64, (16, 6)))
    assert tuple(tr.sites["next_token"].value.shape) == (16,)
    with pytest.raises(ShapeError, match=r"row plate `Batch`: the batch must have 16 rows"):
        m.trace(torch.randint(0, 64, (4, 6)))


def test_radon_gathers_by_index_data_and_reduces_over_the_plate(radon):
    county = torch.randint(0, 12, (300,))
    basement = torch.randn(300)
    tr = radon.trace(None, observations={"county": county, "basement": basement})
    assert _sites(tr) == [("a_mu", "latent", (1, 1)), ("a_sd", "latent", (1, 1)),
                          ("a", "latent", (1, 12, 1)), ("b", "latent", (1, 1)),
                          ("noise", "latent", (1, 1)), ("mu", "deterministic", (1, 300, 1)),
                          ("log_radon", "observed", (1, 300, 1)), ("a_bar", "deterministic", (1, 1))]
    a, b = tr.sites["a"].value[0, :, 0], tr.sites["b"].value[0, 0]
    torch.testing.assert_close(tr.sites["mu"].value[0, :, 0], a[county] + b * basement)
    torch.testing.assert_close(tr.sites["a_bar"].value[0, 0], a.mean())
    assert tuple(tr.output.shape) == (1, 2)


def test_out_of_range_index_data_is_a_shape_error(radon):
    county = torch.full((300,), 12)
    with pytest.raises(ShapeError, match=r"named input `county`: index values must be in \[0, 12\)"):
        radon.trace(None, observations={"county": county, "basement": torch.randn(300)})


ALIGN = """
object A : FinSet 2
object Bee : FinSet 3
object V : Real 1

program grid : A -> V
    sample u : A <- Normal(loc=0.0, scale=1.0)
    sample v : Bee <- Normal(loc=0.0, scale=1.0)
    let s = v + u
    let t = s[2, 1]
    score pull = -1.0 * t * t
    return t

export grid
"""


def test_operands_align_by_plate_identity_and_score_is_a_factor_site():
    m = qvr.loads(ALIGN).morphism
    tr = m.trace(None)
    u, v, s = (tr.sites[n].value for n in ("u", "v", "s"))
    assert tuple(s.shape) == (1, 3, 2, 1)  # `v`'s plate first (the left operand's)
    torch.testing.assert_close(s[0, :, :, 0], v[0, :, 0, None] + u[0, None, :, 0])
    torch.testing.assert_close(tr.sites["t"].value, s[:, 2, 1])
    pull = tr.sites["pull"]
    assert pull.kind == "factor" and tuple(pull.value.shape) == (1, 1)
    torch.testing.assert_close(pull.log_prob, -(s[:, 2, 1, 0] ** 2))
    latent = {n: tr.sites[n].value for n in ("u", "v")}
    expected = sum(torch.distributions.Normal(0.0, 1.0).log_prob(x).sum() for x in latent.values())
    torch.testing.assert_close(m.log_joint(None, latent), expected.reshape(1) + pull.log_prob)
    assert {s.name: s.kind for s in m.site_specs()}["pull"] == "factor"


KERNELS = """object N : FinSet 5
object F : Real 2
object V : Real 1

morphism enc : N -> F ~ Normal
morphism head : F -> V ~ Normal

program m : N -> V
    sample f : N <- enc
    sample y : N <- head(f)
    return y

export m
"""


def test_kernels_are_drawn_per_plate_element():
    program = qvr.loads(KERNELS)
    model = program.morphism
    tr = model.trace(None)  # `f : N <- enc` draws each element of N conditioned on itself
    assert [(n, tuple(s.value.shape)) for n, s in tr.sites.items()] == [("f", (1, 5, 2)), ("y", (1, 5, 1))]
    f, y = tr.sites["f"].value[0], tr.sites["y"].value[0]
    torch.testing.assert_close(tr.sites["f"].log_prob, program.env["enc"].log_prob(torch.arange(5), f).sum().reshape(1))
    torch.testing.assert_close(tr.sites["y"].log_prob, program.env["head"].log_prob(f, y).sum().reshape(1))


COORDINATES = """object Obs : FinSet 6
object K : FinSet 3
object R : Real 1
program p : Obs -> R
    sample w <- Normal(loc=0.0, scale=1.0) [over=K]
    let picked = w[which]
    observe y : Obs <- Normal(loc=picked, scale=1.0)
    return y
export p
"""


def test_a_coordinate_picked_by_index_data_varies_over_the_index_plates():
    # `w` has no plates; `which` picks one of its three coordinates per observation, so
    # `picked` (and `which`) are over `Obs`, as the checker says and the runtime computes
    program = qvr.loads(COORDINATES, name="c.qvr")
    assert [d.code for d in program.diagnostics] == ["QVR111"]  # `which` is a data input
    types = {n: v.type.display() for n, v in program.analysis.programs["p"].variables.items()}
    assert types == {"w": "Real 3", "picked": "Real 1 over Obs", "y": "Real 1 over Obs",
                     "which": "FinSet 3 over Obs"}
    model = program.morphism
    which = torch.tensor([2, 0, 1, 1, 0, 2])
    torch.manual_seed(0)
    tr = model.trace(None, observations={"which": which})
    w, picked = tr.sites["w"].value, tr.sites["picked"].value
    assert w.shape == (1, 3) and picked.shape == (1, 6, 1)
    assert torch.equal(picked[0, :, 0], w[0, which])


SCALED_FACTORS = """object Dim : FinSet 3
object Item : FinSet 5
object Vec3 : Real 3
program p : Item -> Vec3
    sample L : Dim <- LKJCholesky(concentration=2.0)
    sample sigma <- HalfNormal(scale=1.0) [iid_over=Item]
    let S = sigma * L
    sample mu <- Normal(loc=0.0, scale=5.0) [over=Dim]
    observe y : Item <- MultivariateNormal(loc=mu, scale_tril=S)
    return mu
export p
"""


def test_a_plated_scalar_times_a_matrix_scales_the_matrix_per_element():
    # `sigma` is a number per item and `L` one 3x3 factor: `S` is a factor per item
    program = qvr.loads(SCALED_FACTORS, name="s.qvr")
    assert program.analysis.programs["p"].variables["S"].type.display() == "Matrix 3 3 over Item"
    torch.manual_seed(0)
    tr = program.morphism.trace(None)
    sigma, L, S = (tr.sites[n].value for n in ("sigma", "L", "S"))
    assert S.shape == (1, 5, 3, 3)
    torch.testing.assert_close(S[0], sigma[0, :, :, None] * L[0][None])


SEQUENCE_ROWS = """object Tok : FinSet 5
object Rows : FinSet 4
object H : Real 3
morphism emb : Tok -> H [role=embed]
morphism step : H * H -> H
morphism head : H -> Tok ~ Categorical
define states = emb >> scan(step, states=all)
program lm : Tok -> Tok
    sample h <- states
    observe next : Tok <- head(h) [iid_over=Rows]
    return next
export lm
"""


def test_a_row_plate_on_a_sequence_observation_is_the_batch_of_sequences():
    # `Rows` is the row plate (QVR117): the observed value is (rows, time), as without plates
    program = qvr.loads(SEQUENCE_ROWS, name="rows.qvr")
    assert [d.code for d in program.diagnostics] == ["QVR117"]
    model = program.morphism
    torch.manual_seed(0)
    x = torch.randint(0, 5, (4, 6))
    y = torch.randint(0, 5, (4, 6))
    tr = model.trace(x, observations={"next": y})
    assert torch.equal(tr.sites["next"].value, y) and tr.sites["next"].log_prob.shape == (4,)
    torch.testing.assert_close(model.log_joint(x, {"next": y}), tr.sites["next"].log_prob)


DRAWN_DATA = """object Obs : FinSet 6
object R : Real 1
program inner : Obs -> R
    sample a <- Normal(loc=shift, scale=1.0)
    return a
program outer : Obs -> R
    sample b <- inner
    observe y : Obs <- Normal(loc=b, scale=1.0)
    return b
export outer
"""


def test_a_data_input_of_a_drawn_program_takes_the_plate_it_meets_in_the_caller():
    # `shift` has rows of its own in `inner`; in `outer` they meet `Obs`, so `outer` needs
    # (and a run without --data simulates) six of them
    program = qvr.loads(DRAWN_DATA, name="d.qvr")
    outer = program.analysis.programs["outer"]
    assert outer.variables["shift"].type.display() == "Real 1 over Obs"
    model = program.morphism
    assert [p.name for p in model.named_inputs["shift"].plates] == ["Obs"]
    tr = model.trace(None, observations={"shift": torch.zeros(6)})
    assert tr.sites["y"].value.shape == (1, 6, 1)


def test_a_data_input_a_drawn_program_ties_to_a_plate_keeps_it_in_the_caller():
    # `inner` observes over Obs with `shift`: `outer`, which draws `inner`, needs six rows
    text = DRAWN_DATA.replace("    sample a <- Normal(loc=shift, scale=1.0)",
                              "    sample a <- HalfNormal(scale=1.0)\n"
                              "    observe z : Obs <- Normal(loc=shift, scale=a)").replace(
        "    observe y : Obs <- Normal(loc=b, scale=1.0)\n", "")
    model = qvr.loads(text, name="d.qvr").morphism
    assert [p.name for p in model.named_inputs["shift"].plates] == ["Obs"]
    tr = model.trace(None, observations={"shift": torch.zeros(6)})
    assert tr.sites["b/z"].value.shape == (1, 6, 1)


TEMPLATE_DATA = """object Subject : FinSet 5
object Trial : FinSet 30
object R : Real 1
program effects(G : FinSet) : G -> R
    sample raw : G <- Normal(loc=offset, scale=1.0)
    let scaled = raw * w
    return scaled
program model : Trial -> R
    sample by_subject <- effects(Subject)
    let mu = by_subject[who]
    observe y : Trial <- Normal(loc=mu, scale=1.0)
    return mu
export model
"""


def test_data_inputs_of_a_template_instance_take_the_plates_of_the_call():
    # `offset` is over G, which the call binds to Subject; the rows of `w` come back with
    # the instance's value and meet Trial in `model`
    model = qvr.loads(TEMPLATE_DATA, name="t.qvr").morphism
    assert {n: [p.name for p in s.plates] for n, s in model.named_inputs.items()} == {
        "offset": ["Subject"], "w": ["Trial"], "who": ["Trial"]}
    torch.manual_seed(0)
    tr = model.trace(None, observations={"offset": torch.zeros(5), "w": torch.ones(30),
                                         "who": torch.randint(0, 5, (30,))})
    assert tr.sites["by_subject/raw"].value.shape == (1, 5, 1)
    assert tr.sites["y"].value.shape == (1, 30, 1)
    with pytest.raises(ShapeError, match="`offset`"):
        model.trace(None, observations={"offset": torch.zeros(10), "w": torch.ones(30),
                                        "who": torch.randint(0, 5, (30,))})


NESTED_TEMPLATES = """object G : FinSet 3
object R : Real 1
program effects(K : FinSet) : K -> R
    sample raw : K <- Normal(loc=0.0, scale=1.0)
    return raw
program outer(K : FinSet) : K -> R
    sample inner <- effects(K)
    return inner
program model : R -> R
    sample e <- outer(G)
    let total = e[0]
    return total
export model
"""


def test_a_program_that_never_reads_its_input_ignores_the_callers_shape():
    # `outer(G)` and `effects(K)` have the domain G but read no input: the caller's (B, 1)
    # input of `R` only gives them the batch
    model = qvr.loads(NESTED_TEMPLATES, name="n.qvr").morphism
    tr = model.trace(torch.zeros(2, 1))
    assert _sites(tr) == [("e", "deterministic", (2, 3, 1)), ("e/inner", "deterministic", (2, 3, 1)),
                          ("e/inner/raw", "latent", (2, 3, 1)), ("total", "deterministic", (2, 1))]
    torch.testing.assert_close(tr.sites["total"].value, tr.sites["e/inner/raw"].value[:, 0])


def test_a_draw_with_scalar_parameters_gives_one_value_per_row():
    # `spread` (a named input) is one number; `sd` is still drawn once per row of the batch,
    # as with a literal scale
    text = ("object Trial : FinSet 6\nobject R : Real 1\n"
            "program p(spread : Real) : Trial -> R\n"
            "    sample sd <- HalfNormal(scale=spread)\n"
            "    sample other <- HalfNormal(scale=2.0)\n"
            "    return sd\n"
            "export p\n")
    model = qvr.loads(text, name="p.qvr").morphism
    tr = model.trace(torch.arange(6), observations={"spread": torch.tensor(2.0)})
    assert _sites(tr) == [("sd", "latent", (6, 1)), ("other", "latent", (6, 1))]


ROW_PLATED_TEMPLATE = """object Subject : FinSet 4
object Trial : FinSet 6
object R : Real 1
program effect(G : FinSet, spread : Real) : G -> R
    sample sd <- HalfNormal(scale=spread)
    return sd
program model : Trial -> R
    sample per_trial : Trial <- effect(Subject, 2.0)
    observe y : Trial <- Normal(loc=per_trial, scale=1.0)
    return per_trial
export model
"""


def test_a_template_call_passes_the_input_so_an_annotation_is_its_row_plate():
    program = qvr.loads(ROW_PLATED_TEMPLATE, name="r.qvr")
    assert [(d.code, d.message) for d in program.diagnostics] == [
        ("QVR117", "`Trial` is read as the row plate: 6 rows, one `Real 1 {low=0.0}` per row; the "
                   "batch must have 6 rows"),
        ("QVR117", "`Trial` is read as the row plate: 6 rows, one `Real 1` per row; the batch "
                   "must have 6 rows")]
    tr = program.morphism.trace(torch.arange(6), observations={"y": torch.zeros(6)})
    assert _sites(tr) == [("per_trial", "deterministic", (6, 1)),
                          ("per_trial/sd", "latent", (6, 1)), ("y", "observed", (6, 1))]


REPEATED = """object Trial : FinSet 5
object R : Real 1
program inner(s) : R -> R
    sample sd <- HalfNormal(scale=1.0)
    sample a <- Normal(loc=s, scale=sd)
    return a
program outer : Trial -> R
    sample b : Trial <- inner(0.5)
    observe y : Trial <- Normal(loc=b, scale=1.0)
    return b
export outer
"""


def test_a_program_drawn_over_a_plate_nothing_it_is_given_varies_over_runs_once_per_element():
    # `: Trial` is an axis plate that neither `inner`'s argument nor its value vary over: each
    # element draws the whole program, its own `sd` and `a`
    from torch.distributions import HalfNormal, Normal

    model = qvr.loads(REPEATED, name="r.qvr").morphism
    torch.manual_seed(0)
    x = torch.arange(3)
    tr = model.trace(x)
    assert _sites(tr) == [("b", "deterministic", (3, 5, 1)), ("b/sd", "latent", (3, 5, 1)),
                          ("b/a", "latent", (3, 5, 1)), ("y", "observed", (3, 5, 1))]
    sd = tr.sites["b/sd"].value
    assert len(set(sd.flatten().tolist())) == 15  # one draw per row and element
    values = {n: s.value for n, s in tr.sites.items() if s.kind != "deterministic"}
    a, y = values["b/a"], values["y"]
    expected = (HalfNormal(1.0).log_prob(sd) + Normal(0.5, sd).log_prob(a)
                + Normal(a, 1.0).log_prob(y)).sum((1, 2))
    torch.testing.assert_close(model.log_joint(x, values), expected)


def test_a_program_drawn_over_two_declared_plates_runs_once_per_pair_of_elements():
    text = REPEATED.replace("object R : Real 1", "object R : Real 1\nobject Subj : FinSet 2").replace(
        "    sample b : Trial <- inner(0.5)\n    observe y : Trial <- Normal(loc=b, scale=1.0)\n",
        "    sample b <- inner(0.5) [iid_over=[Trial, Subj]]\n")
    tr = qvr.loads(text, name="r.qvr").morphism.trace(torch.arange(4))
    assert _sites(tr) == [("b", "deterministic", (4, 5, 2, 1)), ("b/sd", "latent", (4, 5, 2, 1)),
                          ("b/a", "latent", (4, 5, 2, 1))]


ON_ITS_DOMAIN = """object Trial : FinSet 4
object R : Real 1
morphism centre : Trial -> R [role=embed]
program noise(t) : Trial -> R
    sample a <- Normal(loc=centre(t), scale=0.001)
    return a
program outer : Trial -> R
    sample b : Trial <- noise
    return b
export outer
"""


def test_an_argument_less_draw_of_a_program_over_its_domain_passes_each_element():
    # `noise : Trial -> R` drawn with `: Trial`: element j is drawn conditioned on j itself
    # (part 2 §5.2), whatever the row's own input
    model = qvr.loads(ON_ITS_DOMAIN, name="d.qvr").morphism
    table = next(p for n, p in model.named_parameters() if "centre" in n).detach().reshape(-1)
    tr = model.trace(torch.tensor([0, 3, 3]))
    assert _sites(tr) == [("b", "deterministic", (3, 4, 1)), ("b/a", "latent", (3, 4, 1))]
    torch.testing.assert_close(tr.sites["b"].value.squeeze(-1), table.expand(3, 4),
                               atol=0.01, rtol=0)


def test_an_embedding_called_in_arithmetic_is_looked_up():
    text = ("object Tok : FinSet 3\nobject R : Real 2\n"
            "morphism table : Tok -> R [role=embed]\n"
            "program p(t) : Tok -> R\n    let v = table(t) * 2.0\n    return v\nexport p\n")
    model = qvr.loads(text, name="e.qvr").morphism
    weights = next(p for n, p in model.named_parameters() if "table" in n).detach().reshape(3, 2)
    x = torch.tensor([2, 0])
    torch.testing.assert_close(model.trace(x).sites["v"].value, 2.0 * weights[x])


@pytest.mark.parametrize("plates", ["[A, B]", "[B, A]"])
def test_a_program_drawn_over_plates_some_of_its_arguments_vary_over_gets_their_element(plates):
    # `m` varies over A, the literal over nothing: the copy of `inner` at (a, b) is passed
    # `m[a]` and 10.0, whatever the order of the step's plates
    text = ("object A : FinSet 3\nobject B : FinSet 2\nobject R : Real 1\n"
            "program inner(s, w) : R * R -> R\n"
            "    sample a <- Normal(loc=s + w, scale=0.001)\n    return a\n"
            "program outer : A -> R\n    sample m : A <- Normal(loc=0.0, scale=1.0)\n"
            f"    sample b <- inner(m, 10.0) [iid_over={plates}]\n    return m\nexport outer\n")
    tr = qvr.loads(text, name="o.qvr").morphism.trace(torch.tensor([0, 2, 1, 1]))
    shape = (4, 3, 2, 1) if plates == "[A, B]" else (4, 2, 3, 1)
    assert _sites(tr) == [("m", "latent", (4, 3, 1)), ("b", "deterministic", shape),
                          ("b/a", "latent", shape)]
    m = tr.sites["m"].value.unsqueeze(2 if plates == "[A, B]" else 1)
    torch.testing.assert_close(tr.sites["b/a"].value, (m + 10.0).expand(shape), atol=0.01, rtol=0)


def test_a_program_with_a_row_plate_of_its_own_is_not_drawn_once_per_element():
    # `inner`'s step over G reads its input: G is its row plate (QVR117), which this runtime
    # does not repeat over the caller's plates
    text = ("object B : FinSet 2\nobject G : FinSet 4\nobject R : Real 1\n"
            "program inner(s) : R -> R\n    sample raw : G <- Normal(loc=s, scale=1.0)\n"
            "    return raw\n"
            "program outer : G -> R\n    sample b <- inner(0.5) [iid_over=[G, B]]\n    return b\n"
            "export outer\n")
    with pytest.raises(qvr.errors.NotSupportedError) as caught:
        qvr.loads(text, name="o.qvr").morphism.trace(torch.arange(4))
    assert (caught.value.line, caught.value.column, caught.value.what) == (
        8, 17, "drawing the program `inner` once per element of `G` is not supported by this "
               "runtime: `inner` has plates of its own (its value, its rows or a data input it "
               "reads vary over them)")


COMPUTED_SCALAR = """object Subject : FinSet 5
object R : Real 1
program effect(K : FinSet, spread : Real) : K -> R
    sample sd <- HalfNormal(scale=spread)
    sample raw : K <- Normal(loc=0.0, scale=1.0)
    let v = sd * raw
    return v
program model : Subject -> R
    sample tau <- HalfNormal(scale=1.0)
    sample by_subject <- effect(Subject, 2.0 * tau)
    observe y : Subject <- Normal(loc=by_subject, scale=1.0)
    return tau
export model
"""


def test_a_template_scalar_argument_computed_by_the_caller_reaches_the_instance():
    # `spread` is 2 * tau, row by row: the instance's `sd` is scored under HalfNormal(2 tau)
    from torch.distributions import HalfNormal, Normal

    model = qvr.loads(COMPUTED_SCALAR, name="c.qvr").morphism
    assert "spread" not in model.named_inputs  # a call's argument, not data
    torch.manual_seed(1)
    x = torch.arange(3)
    tr = model.trace(x)
    values = {n: s.value for n, s in tr.sites.items() if s.kind != "deterministic"}
    tau, sd, raw, y = (values[n] for n in ("tau", "by_subject/sd", "by_subject/raw", "y"))
    expected = (HalfNormal(1.0).log_prob(tau) + HalfNormal(2 * tau).log_prob(sd)).sum(-1) \
        + (Normal(0.0, 1.0).log_prob(raw)
           + Normal(tr.sites["by_subject"].value, 1.0).log_prob(y)).sum((1, 2))
    torch.testing.assert_close(model.log_joint(x, values), expected)


BARE_ARGUMENT = """object Subject : FinSet 2
object Trial : FinSet 3
object R : Real 1
program jitter(s, K : FinSet, spread : Real) : R -> R
    sample a <- Normal(loc=s, scale=spread)
    return a
program model : Subject -> R
    sample tau <- HalfNormal(scale=1.0)
    sample m : Trial <- Normal(loc=100.0, scale=1.0)
    sample b : Trial <- jitter(m, Subject, 0.001 * tau)
    return m
export model
"""


def test_a_template_call_passes_the_arguments_of_its_bare_parameters_as_the_input():
    # `s` is bound to `m` (over Trial): the copy at each element of Trial is centred on its
    # part of `m`, with the caller's `tau` in its scale (folded with it: one per row)
    from torch.distributions import Normal

    model = qvr.loads(BARE_ARGUMENT, name="b.qvr").morphism
    torch.manual_seed(2)
    x = torch.tensor([0, 1])
    tr = model.trace(x)
    assert _sites(tr) == [("tau", "latent", (2, 1)), ("m", "latent", (2, 3, 1)),
                          ("b", "deterministic", (2, 3, 1)), ("b/a", "latent", (2, 3, 1))]
    m, a, tau = tr.sites["m"].value, tr.sites["b/a"].value, tr.sites["tau"].value
    assert float((a - m).abs().max()) < 0.01
    values = {n: s.value for n, s in tr.sites.items() if s.kind == "latent"}
    scored = model.log_joint(x, values) - model.log_joint(x, {**values, "b/a": m})
    expected = (Normal(m, 0.001 * tau.reshape(2, 1, 1)).log_prob(a)
                - Normal(m, 0.001 * tau.reshape(2, 1, 1)).log_prob(m)).sum((1, 2))
    torch.testing.assert_close(scored, expected)


def test_a_program_with_plates_of_its_own_on_its_domain_plate_is_passed_the_input():
    # `noise : Trial -> R` draws its `sd` over Trial itself: drawn at `: Trial`, it keeps the
    # caller's input rather than being run once per element of its own plate
    text = ("object Trial : FinSet 4\nobject R : Real 1\n"
            "program noise : Trial -> R\n    sample sd : Trial <- HalfNormal(scale=1.0)\n"
            "    sample a <- Normal(loc=0.0, scale=sd)\n    return a\n"
            "program outer : Trial -> R\n    sample b : Trial <- noise\n"
            "    observe y : Trial <- Normal(loc=b, scale=0.5)\n    return b\nexport outer\n")
    tr = qvr.loads(text, name="n.qvr").morphism.trace(torch.arange(2))
    assert _sites(tr) == [("b", "deterministic", (2, 4, 1)), ("b/sd", "latent", (2, 4, 1)),
                          ("b/a", "latent", (2, 4, 1)), ("y", "observed", (2, 4, 1))]


def test_a_template_with_a_row_plate_is_not_drawn_once_per_element_of_its_argument():
    # `jitter`'s step over Subject reads its input: Subject is its row plate; its input `m`
    # varies over Trial, which would fold Trial into those rows
    text = BARE_ARGUMENT.replace("    sample a <- Normal(loc=s, scale=spread)\n",
                                 "    sample a <- Normal(loc=s, scale=spread) [iid_over=Subject]\n")
    with pytest.raises(qvr.errors.NotSupportedError) as caught:
        qvr.loads(text, name="b.qvr").morphism.trace(torch.tensor([0, 1]))
    assert (caught.value.line, caught.value.column, caught.value.what) == (
        10, 25, "drawing the program `jitter` once per element of `Trial` is not supported by "
                "this runtime: `jitter` has a row plate of its own (`Subject`)")


def test_a_program_drawn_per_element_may_return_a_number_its_caller_gave():
    # `jitter` returns its scalar parameter: each element's value is that number
    text = BARE_ARGUMENT.replace("    return a\n", "    return spread\n").replace(
        "jitter(m, Subject, 0.001 * tau)", "jitter(m, Subject, 3.0)")
    tr = qvr.loads(text, name="b.qvr").morphism.trace(torch.tensor([0, 1]))
    assert torch.equal(tr.sites["b"].value, torch.full((2, 3, 1), 3.0))


def test_a_morphism_called_without_arguments_in_arithmetic_applies_to_the_input():
    # `centre()` is `centre(t)`: the checker types it so, and the run computes it so
    text = ("object Tok : FinSet 3\nobject R : Real 2\n"
            "morphism centre : Tok -> R [role=embed]\n"
            "program p(t) : Tok -> R\n    let v = centre() * 2.0\n    return v\nexport p\n")
    program = qvr.loads(text, name="c.qvr")
    assert [d.code for d in program.diagnostics] == ["QVR083"]  # (`t` itself is unused)
    model = program.morphism
    weights = next(p for n, p in model.named_parameters() if "centre" in n).detach().reshape(3, 2)
    x = torch.tensor([2, 0])
    torch.testing.assert_close(model.trace(x).sites["v"].value, 2.0 * weights[x])


def test_the_row_plate_of_a_drawn_program_sets_the_batch_of_a_run():
    # `inner`'s step over G is a row plate (it reads the input): `outer`, which passes it
    # its input, runs on G's three rows though it has no row plate of its own
    from qvr.run.data import entry_batch

    text = ("object G : FinSet 3\nobject R : Real 1\n"
            "program inner(x) : R -> R\n"
            "    sample raw : G <- Normal(loc=x, scale=1.0)\n"
            "    return raw\n"
            "program outer : R -> R\n"
            "    sample e <- inner\n"
            "    return e\n"
            "export outer\n")
    model = qvr.loads(text, name="o.qvr").morphism
    assert entry_batch(model, 4, explicit=False) == 3
    assert [r.name for r in model.row_plates] == ["G"]
    tr = model.trace(torch.zeros(3, 1))
    assert _sites(tr) == [("e", "deterministic", (3, 1)), ("e/raw", "latent", (3, 1))]


TEMPLATE_ROWS = """object A : FinSet 4
object B : FinSet 6
object R : Real 1
program rows(x, G : FinSet) : R -> R
    sample u : G <- Normal(loc=x, scale=1.0)
    return u
program outer(x) : R -> R
    sample a <- rows(x, B)
    sample w : B <- Normal(loc=x, scale=1.0)
    let s = a + w
    return s
export outer
"""


def test_the_row_plates_the_checker_finds_are_those_a_run_needs():
    # one row plate from the caller's step and the template instance it calls: the checker
    # lists it once, and the compiled model asks the batch for the same rows
    program = qvr.loads(TEMPLATE_ROWS, name="rows.qvr")
    assert [d.code for d in program.diagnostics if d.code != "QVR117"] == ["QVR080"]
    assert [p.name for p in program.analysis.programs["outer"].row_plates] == ["B"]
    assert [(p.name, p.size) for p in program.morphism.row_plates] == [("B", 6)]
    tr = program.morphism.trace(torch.zeros(6, 1))
    assert tr.sites["w"].value.shape == (6, 1)
    # called with the other plate, loading refuses what the run could not do
    with pytest.raises(QvrCheckError) as refused:
        qvr.loads(TEMPLATE_ROWS.replace("rows(x, B)", "rows(x, A)"), name="rows.qvr")
    assert [(d.code, d.message) for d in refused.value.diagnostics if d.severity == Severity.ERROR] == [
        ("QVR115", "`x` is used over `A` (line 8) and over `B`")]
