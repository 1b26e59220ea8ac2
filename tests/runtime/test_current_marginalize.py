"""`marginalize` at run time (spec part 2 §6.4, §6.6, worked examples E5–E7): exact enumeration
against known answers. The two-component mixture against brute-force enumeration of its joint
(every assignment of labels) and against the per-element sum; `mix_enum` / `mix_closed` and
`zip_enum` / `zip_closed` give equal `log_joint`s for equal values; a grouped block (`over`,
`via`) against a Python loop over the groups; the block's sites (a `factor` site per group, its
body's observes with log-density 0); sampling without observations; SVI on the mixture."""
from __future__ import annotations

import itertools
import math
from pathlib import Path

import pytest
import torch
import torch.distributions as D

import qvr
from qvr.errors import MissingSiteError, NotSupportedError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "current"


def load(name, text=None):
    text = text if text is not None else (EXAMPLES / f"{name}.qvr").read_text()
    return qvr.loads(text, name=f"{name}.qvr")


def sites_of(trace):
    return [(n, s.kind, tuple(s.value.shape)) for n, s in trace.sites.items()]


def latents(trace):
    return {n: s.value for n, s in trace.sites.items() if s.kind == "latent"}


MIXTURE = (EXAMPLES / "two_component_mixture.qvr").read_text()


def mixture_priors(share, centre, spread):
    return (D.Beta(2.0, 2.0).log_prob(share) + D.Normal(0.0, 4.0).log_prob(centre).sum()
            + D.HalfNormal(1.0).log_prob(spread))


def test_mixture_against_brute_force_enumeration_of_the_joint():
    # 8 observations: the joint over labels has 2^8 assignments, each scored as a whole
    model = load("mixture8", MIXTURE.replace("FinSet 250", "FinSet 8")).morphism
    torch.manual_seed(0)
    x = torch.randn(8) * 2.0
    share, centre, spread = torch.tensor(0.3), torch.tensor([-1.5, 2.0]), torch.tensor(0.8)
    got = model.log_joint(None, {"share": share.view(1, 1), "centre": centre.view(1, 2, 1),
                                 "spread": spread.view(1, 1), "x": x})
    k = torch.tensor(list(itertools.product((0, 1), repeat=8)))          # (256, 8) assignments
    joint = (torch.where(k == 1, share.log(), (1 - share).log())
             + D.Normal(centre[k], spread).log_prob(x)).sum(1)
    want = torch.logsumexp(joint, 0) + mixture_priors(share, centre, spread)
    torch.testing.assert_close(got, want.view(1).float(), rtol=1e-5, atol=1e-4)


def test_mixture_sites_and_per_element_sum():
    model = load("two_component_mixture").morphism
    torch.manual_seed(1)
    x = torch.randn(250) * 2.0
    trace = model.trace(None, observations={"x": x})
    assert sites_of(trace) == [("share", "latent", (1, 1)), ("centre", "latent", (1, 2, 1)),
                               ("spread", "latent", (1, 1)), ("k", "factor", (1, 250)),
                               ("x", "observed", (1, 250, 1))]
    assert [(spec.name, spec.kind, spec.plates) for spec in model.site_specs()] == [
        ("share", "latent", ()), ("centre", "latent", (("Label", 2),)), ("spread", "latent", ()),
        ("k", "factor", (("Obs", 250),)), ("x", "observed", (("Obs", 250),))]
    s = trace.sites
    share, centre, spread = s["share"].value[0, 0], s["centre"].value[0, :, 0], s["spread"].value[0, 0]
    per = torch.logsumexp(torch.stack([(1 - share).log() + D.Normal(centre[0], spread).log_prob(x),
                                       share.log() + D.Normal(centre[1], spread).log_prob(x)]), 0)
    torch.testing.assert_close(s["k"].value[0], per)                    # one group per element
    torch.testing.assert_close(s["k"].log_prob, per.sum().view(1))
    assert torch.equal(s["x"].log_prob, torch.zeros(1))                 # its density is in `k`
    got = model.log_joint(None, {**latents(trace), "x": x})
    torch.testing.assert_close(got, (per.sum() + mixture_priors(share, centre, spread)).view(1))


def test_mix_enum_equals_mix_closed():
    program = load("e05_mixtures")
    torch.manual_seed(2)
    y = torch.randn(200) * 3.0
    closed = program.env["mix_closed"].trace(None, observations={"y": y})
    enum = program.env["mix_enum"]
    trace = enum.trace(None, observations={"y": y})
    assert sites_of(trace) == [("w", "latent", (1, 3)), ("loc", "latent", (1, 3, 1)),
                               ("sd", "latent", (1, 3, 1)), ("c", "factor", (1, 200)),
                               ("y", "observed", (1, 200, 1))]
    values = {**latents(closed), "y": y}
    torch.testing.assert_close(enum.log_joint(None, values),
                               program.env["mix_closed"].log_joint(None, values), rtol=1e-5, atol=1e-3)


def test_zip_enum_equals_zip_closed_and_regime_is_one_latent():
    program = load("e07_counts")
    torch.manual_seed(3)
    sales = (torch.poisson(torch.full((50,), 3.0)) * (torch.rand(50) > 0.4)).long()
    closed = program.env["zip_closed"]
    values = {**latents(closed.trace(None, observations={"sales": sales})), "sales": sales}
    enum = program.env["zip_enum"]
    assert sites_of(enum.trace(None, observations={"sales": sales})) == [
        ("rate", "latent", (1, 1)), ("p_zero", "latent", (1, 1)), ("open", "factor", (1, 50)),
        ("sales", "observed", (1, 50, 1))]
    torch.testing.assert_close(enum.log_joint(None, values), closed.log_joint(None, values),
                               rtol=1e-5, atol=1e-3)

    regime = program.env["regime"]
    trace = regime.trace(None, observations={"sales": sales})
    assert sites_of(trace) == [("lo", "latent", (1, 1)), ("hi", "latent", (1, 1)),
                               ("busy", "factor", (1, 1)), ("sales", "observed", (1, 50, 1))]
    lo, hi = trace.sites["lo"].value[0, 0], trace.sites["hi"].value[0, 0]
    s = sales.float()
    want = torch.logsumexp(torch.stack([math.log(0.7) + D.Poisson(lo).log_prob(s).sum(),
                                        math.log(0.3) + D.Poisson(hi).log_prob(s).sum()]), 0)
    torch.testing.assert_close(trace.sites["busy"].value, want.view(1, 1))


def test_zip_enum_gradients_are_finite():
    enum = load("e07_counts").env["zip_enum"]
    sales = torch.tensor([0, 0, 3, 1, 0, 5] + [2] * 44)
    rate = torch.tensor([[2.5]], requires_grad=True)
    p_zero = torch.tensor([[0.3]], requires_grad=True)
    enum.log_joint(None, {"rate": rate, "p_zero": p_zero, "sales": sales}).sum().backward()
    assert torch.isfinite(rate.grad).all() and torch.isfinite(p_zero.grad).all()


def test_grouped_marginalize_against_a_loop_over_groups():
    program = load("e06_user_classes")
    model = program.env["user_classes"]
    torch.manual_seed(4)
    data = {"click_user": torch.randint(0, 30, (500,)), "visit_user": torch.randint(0, 30, (400,)),
            "clicked": torch.randint(0, 2, (500,)), "log_dwell": torch.randn(400)}
    trace = model.trace(None, observations=data)
    assert sites_of(trace) == [
        ("prior", "latent", (1, 2)), ("ctr", "latent", (1, 2, 1)), ("dwell_mu", "latent", (1, 2, 1)),
        ("dwell_sd", "latent", (1, 1)), ("k", "factor", (1, 30)), ("clicked", "observed", (1, 500)),
        ("log_dwell", "observed", (1, 400, 1))]
    s = trace.sites
    prior, ctr = s["prior"].value[0], s["ctr"].value[0, :, 0]
    mu, sd = s["dwell_mu"].value[0, :, 0], s["dwell_sd"].value[0, 0]
    want = []
    for u in range(30):
        clicks = data["clicked"][data["click_user"] == u].float()
        dwell = data["log_dwell"][data["visit_user"] == u]
        per_class = [prior[k].log() + D.Bernoulli(probs=ctr[k]).log_prob(clicks).sum()
                     + D.Normal(mu[k], sd).log_prob(dwell).sum() for k in range(2)]
        want.append(torch.logsumexp(torch.stack(per_class), 0))
    torch.testing.assert_close(s["k"].value[0], torch.stack(want), rtol=1e-5, atol=1e-4)
    got = model.log_joint(None, {**latents(trace), **data})
    priors = sum(t.log_prob.sum() for n, t in s.items() if t.kind == "latent")
    torch.testing.assert_close(got, (torch.stack(want).sum() + priors).view(1), rtol=1e-5, atol=1e-3)


REDUCTIONS = """
object Obs : FinSet 6
object Class : FinSet 3
object Out : Real 1

program p : Obs -> Out
    sample mu : Class <- Normal(loc=0.0, scale=2.0)
    marginalize c : Obs <- Categorical(logits=[0.0, 1.0, -1.0]) [reduction={reduction}]
        let m = mu[c] * 2.0
        observe y : Obs <- Normal(loc=m, scale=1.0)
    let top = mu[0]
    return top

export p
"""


@pytest.mark.parametrize("reduction, rho", [
    ("logsumexp", lambda s: torch.logsumexp(s, -1)), ("sum", lambda s: s.sum(-1)),
    ("mean", lambda s: s.mean(-1))])
def test_reductions_over_the_atoms_with_logits_and_a_body_let(reduction, rho):
    program = load("reductions", REDUCTIONS.replace("{reduction}", reduction))
    assert program.diagnostics == []
    torch.manual_seed(5)
    y = torch.randn(6)
    trace = program.morphism.trace(None, observations={"y": y})
    mu = trace.sites["mu"].value[0, :, 0]
    log_pi = torch.log_softmax(torch.tensor([0.0, 1.0, -1.0]), 0)
    S = log_pi[None, :] + D.Normal((mu * 2.0)[None, :], 1.0).log_prob(y[:, None])   # (Obs, atom)
    torch.testing.assert_close(trace.sites["c"].value[0], rho(S))
    assert "m" not in trace.sites                                       # body lets are internal


def test_sampling_without_observations_and_log_joint_needs_them():
    model = load("two_component_mixture").morphism
    torch.manual_seed(6)
    trace = model.trace(None)
    assert sites_of(trace)[3:] == [("k", "factor", (1, 250)), ("x", "observed", (1, 250, 1))]
    x = trace.sites["x"].value
    # the factor is evaluated at the values drawn, the way log_joint scores them
    torch.testing.assert_close(model.log_joint(None, {**latents(trace), "x": x}),
                               sum(s.log_prob for s in trace.sites.values()))
    with pytest.raises(MissingSiteError, match="`x`"):
        model.log_joint(None, latents(trace))


NESTED = """
object Obs : FinSet 6
object Out : Real 1

program p : Obs -> Out
    sample mu <- Normal(loc=0.0, scale=1.0)
    marginalize a <- Bernoulli(probs=0.5)
        marginalize b <- Bernoulli(probs=0.5)
            observe y : Obs <- Normal(loc=mu + a + b, scale=1.0)
    return mu

export p
"""


def test_nested_blocks_are_refused_with_their_location():
    # the inner block is the tier-2 construct; the refusal comes when the program is built
    with pytest.raises(NotSupportedError,
                       match=r"nested\.qvr:8:9: a nested `marginalize` \(inside `a`'s block\)"):
        load("nested", NESTED).morphism.log_joint(torch.zeros(1, dtype=torch.long), {})


@pytest.mark.slow
def test_svi_on_the_mixture_lowers_its_loss():
    from qvr.infer import ELBO, SVI, AutoNormalGuide

    model = load("two_component_mixture").morphism
    torch.manual_seed(7)
    label = torch.rand(250) < 0.3
    x = torch.where(label, torch.randn(250) * 0.5 + 3.0, torch.randn(250) * 0.5 - 2.0)
    x0 = torch.zeros(1, dtype=torch.long)
    guide = AutoNormalGuide(model, example_input=x0, observed_names={"x"})
    assert guide.latent_names == ["share", "centre", "spread"]
    with torch.no_grad():  # equal starting centres would get equal gradients forever
        guide.loc("centre").copy_(torch.tensor([-1.0, 1.0]).view_as(guide.loc("centre")))
    svi = SVI(model, guide, torch.optim.Adam(guide.parameters(), lr=0.05), ELBO(num_particles=2))
    losses = [svi.step(x0, {"x": x.unsqueeze(0)}) for _ in range(300)]
    assert all(math.isfinite(v) for v in losses)
    assert sum(losses[-20:]) / 20 < 0.7 * sum(losses[:20]) / 20
    # the labels summed out, the fit finds both components and the share of the second
    centre = guide.loc("centre").detach().flatten()
    assert torch.allclose(centre, torch.tensor([-2.0, 3.0]), atol=0.3)
    share = torch.sigmoid(guide.loc("share").detach()).item()
    assert share == pytest.approx(label.float().mean().item(), abs=0.1)


SCORED = """
object Obs : FinSet 5
object Out : Real 1

program p : Obs -> Out
    sample mu <- Normal(loc=0.0, scale=1.0)
    marginalize open <- ContinuousBernoulli(logits=0.5)
        score bonus = open * 2.0
        observe y : Obs <- Normal(loc=mu + open, scale=1.0)
    return mu

export p
"""


def test_a_score_in_the_body_and_bernoulli_type_atoms_from_logits():
    program = load("scored", SCORED)
    assert program.diagnostics == []
    torch.manual_seed(8)
    y = torch.randn(5)
    trace = program.morphism.trace(None, observations={"y": y})
    assert sites_of(trace) == [("mu", "latent", (1, 1)), ("open", "factor", (1, 1)),
                               ("y", "observed", (1, 5, 1))]
    mu = trace.sites["mu"].value[0, 0]
    l = torch.tensor(0.5)
    S = torch.stack([torch.nn.functional.logsigmoid(-l) + D.Normal(mu, 1.0).log_prob(y).sum(),
                     torch.nn.functional.logsigmoid(l) + 2.0 + D.Normal(mu + 1.0, 1.0).log_prob(y).sum()])
    torch.testing.assert_close(trace.sites["open"].value, torch.logsumexp(S, 0).view(1, 1))


LATENT = """
object Obs : FinSet 6
object Out : Real 1

program p : Obs -> Out
    sample mu <- Normal(loc=0.0, scale=1.0)
    marginalize u : Obs <- Normal(loc=mu, scale=0.5)
        let m = u * 2.0
        observe y : Obs <- Normal(loc=m, scale=1.0)
    return mu

export p
"""


def test_a_family_without_finite_support_is_a_latent_scoped_to_the_block():
    program = load("latent", LATENT)
    assert [d.code for d in program.diagnostics] == ["QVR121"]
    torch.manual_seed(9)
    y = torch.randn(6)
    trace = program.morphism.trace(None, observations={"y": y})
    assert sites_of(trace) == [("mu", "latent", (1, 1)), ("u", "latent", (1, 6, 1)),
                               ("m", "deterministic", (1, 6, 1)), ("y", "observed", (1, 6, 1))]
    assert [(s.name, s.kind, s.plates) for s in program.morphism.site_specs()] == [
        ("mu", "latent", ()), ("u", "latent", (("Obs", 6),)), ("m", "deterministic", (("Obs", 6),)),
        ("y", "observed", (("Obs", 6),))]
    mu, u = trace.sites["mu"].value[0, 0], trace.sites["u"].value[0, :, 0]
    want = (D.Normal(0.0, 1.0).log_prob(mu) + D.Normal(mu, 0.5).log_prob(u).sum()
            + D.Normal(2.0 * u, 1.0).log_prob(y).sum())
    got = program.morphism.log_joint(None, {"mu": mu.view(1, 1), "u": u.view(1, 6, 1), "y": y})
    torch.testing.assert_close(got, want.view(1))


TOPICS = """
object Doc : FinSet 4
object Topic : FinSet 3
object Word : FinSet 7
object Token : FinSet 40
object Mix : Real 3

program topics : Token -> Mix
    sample theta : Doc <- Dirichlet(concentration=1.0) [over=Topic]
    sample phi : Topic <- Dirichlet(concentration=0.5) [over=Word]
    marginalize z : Topic <- Categorical(probs=theta) [over=Doc]
        sample noise <- Normal(loc=0.0, scale=1.0)
        observe w : Token <- Categorical(probs=phi[z]) [via=doc_of]
    let first = theta[0]
    return first

export topics
"""


def test_categorical_observes_pulled_back_through_via_and_a_hoisted_draw():
    program = load("topics", TOPICS)
    assert [d.code for d in program.diagnostics] == ["QVR082", "QVR111"]  # noise unused; data
    model = program.morphism
    torch.manual_seed(10)
    doc_of, w = torch.randint(0, 4, (40,)), torch.randint(0, 7, (40,))
    trace = model.trace(None, observations={"doc_of": doc_of, "w": w})
    assert sites_of(trace) == [
        ("theta", "latent", (1, 4, 3)), ("phi", "latent", (1, 3, 7)), ("noise", "latent", (1, 1)),
        ("z", "factor", (1, 4)), ("w", "observed", (1, 40)), ("first", "deterministic", (1, 3))]
    theta, phi = trace.sites["theta"].value[0], trace.sites["phi"].value[0]
    want = torch.stack([
        torch.logsumexp(torch.stack([theta[d, k].log() + phi[k].log()[w[doc_of == d]].sum()
                                     for k in range(3)]), 0) for d in range(4)])
    torch.testing.assert_close(trace.sites["z"].value[0], want)
    # without the words, z is drawn per document and each word from its document's topic
    drawn = model.trace(None, observations={"doc_of": doc_of})
    words = drawn.sites["w"].value
    assert words.shape == (1, 40) and words.dtype == torch.long
    assert 0 <= int(words.min()) and int(words.max()) < 7
    torch.testing.assert_close(
        model.log_joint(None, {**latents(drawn), "doc_of": doc_of, "w": words}),
        sum(s.log_prob for s in drawn.sites.values()))



@pytest.mark.parametrize("topics, words", [(1, 7), (3, 1)])
def test_one_topic_or_one_word_keeps_each_dirichlet_draw_a_whole_distribution(topics, words):
    # a `Simplex 1` is a distribution over one category, not a width-1 value whose plate
    # could become the vector axis: `theta` stays one distribution per document and `phi[z]`
    # one per word, so z has `topics` atoms and the words take `words` values
    text = (TOPICS.replace("Topic : FinSet 3", f"Topic : FinSet {topics}")
            .replace("Word : FinSet 7", f"Word : FinSet {words}")
            .replace("Mix : Real 3", f"Mix : Real {topics}"))
    program = load("topics", text)
    assert [d.code for d in program.diagnostics] == ["QVR082", "QVR111"]
    model = program.morphism
    torch.manual_seed(11)
    doc_of, w = torch.randint(0, 4, (40,)), torch.randint(0, words, (40,))
    trace = model.trace(None, observations={"doc_of": doc_of, "w": w})
    assert sites_of(trace) == [
        ("theta", "latent", (1, 4, topics)), ("phi", "latent", (1, topics, words)),
        ("noise", "latent", (1, 1)), ("z", "factor", (1, 4)), ("w", "observed", (1, 40)),
        ("first", "deterministic", (1, topics))]
    theta, phi = trace.sites["theta"].value[0], trace.sites["phi"].value[0]
    want = torch.stack([
        torch.logsumexp(torch.stack([theta[d, k].log() + phi[k].log()[w[doc_of == d]].sum()
                                     for k in range(topics)]), 0) for d in range(4)])
    torch.testing.assert_close(trace.sites["z"].value[0], want)
    drawn = model.trace(None, observations={"doc_of": doc_of}).sites["w"].value
    assert drawn.shape == (1, 40) and 0 <= int(drawn.min()) and int(drawn.max()) < words



PER_STEP = """
object State : FinSet 3
object Word : FinSet 4
object Step : FinSet 5
object Dist : Real 3

program tagger : Step -> Dist
    sample start <- Dirichlet(concentration=1.0) [over=State, iid_over=Step]
    sample rows : State <- Dirichlet(concentration=1.0) [over=Word, iid_over=State]
    marginalize s <- Categorical(probs=start) [reduction=logsumexp]
        observe w : Step <- Categorical(probs=rows[s])
    let first = start[0]
    return first

export tagger
"""


def test_an_undeclared_block_takes_its_arguments_plates_one_z_per_element():
    # `start` is over `Step`, so `s` is (no `over`, no annotation): one state per step,
    # each summed out against that step's word
    program = load("tagger", PER_STEP)
    assert [d.code for d in program.diagnostics] == []
    model = program.morphism
    torch.manual_seed(4)
    w = torch.randint(0, 4, (5,))
    trace = model.trace(None, observations={"w": w})
    assert ("s", "factor", (1, 5)) in sites_of(trace)
    start, rows = trace.sites["start"].value[0], trace.sites["rows"].value[0]
    want = torch.stack([torch.logsumexp(start[t].log() + rows[:, w[t]].log(), 0) for t in range(5)])
    torch.testing.assert_close(trace.sites["s"].value[0], want)


UNPLATED = """
object Out : Real 1

program p : Out -> Out
    sample mu <- Normal(loc=0.0, scale=1.0)
    marginalize b <- Bernoulli(probs=0.25)
        observe y <- Normal(loc=mu * b, scale=1.0)
    return mu

export p
"""


def test_an_unplated_observe_in_the_body_is_fitted_like_any_observed_value():
    program = load("unplated", UNPLATED)
    assert program.diagnostics == []
    model = program.morphism
    x = torch.zeros(2, 1)
    y = torch.tensor([0.5, -1.0])                                       # (B,): the width added
    mu = torch.tensor([[1.5], [1.5]])
    got = model.log_joint(x, {"mu": mu, "y": y})
    per_row = torch.logsumexp(torch.stack([math.log(0.75) + D.Normal(0.0, 1.0).log_prob(y),
                                           math.log(0.25) + D.Normal(1.5, 1.0).log_prob(y)]), 0)
    torch.testing.assert_close(got, per_row + D.Normal(0.0, 1.0).log_prob(torch.tensor(1.5)))


GROUPS = """
object Site : FinSet 3
object Day : FinSet 2
object Class : FinSet 2
object Reading : FinSet 30
object P : Real 2

program by_product : Reading -> P
    sample prior <- Dirichlet(concentration=1.0) [over=Class]
    sample mu : Class <- Normal(loc=0.0, scale=3.0)
    marginalize k : Class <- Categorical(probs=prior) [over=[Site, Day]]
        observe r : Reading <- Normal(loc=mu[k], scale=1.0) [via=[site_of, day_of]]
    return prior

program by_identity : Reading -> P
    sample prior <- Dirichlet(concentration=1.0) [over=Class]
    sample mu : Class <- Normal(loc=0.0, scale=3.0)
    marginalize k : Class <- Categorical(probs=prior) [over=Site]
        observe v : Site <- Normal(loc=mu[k], scale=1.0)
    return prior

export by_product
export by_identity
"""


def test_a_product_group_flattened_row_major_and_identity_grouping():
    program = load("groups", GROUPS)
    assert [d.code for d in program.diagnostics] == ["QVR111", "QVR111"]  # site_of, day_of
    torch.manual_seed(11)
    site_of, day_of, r = torch.randint(0, 3, (30,)), torch.randint(0, 2, (30,)), torch.randn(30)
    trace = program.env["by_product"].trace(None, observations={"site_of": site_of,
                                                                "day_of": day_of, "r": r})
    assert sites_of(trace)[2:] == [("k", "factor", (1, 6)), ("r", "observed", (1, 30, 1))]
    prior, mu = trace.sites["prior"].value[0], trace.sites["mu"].value[0, :, 0]
    want = torch.stack([  # (site, day) row-major: the last factor varies fastest
        torch.logsumexp(torch.stack([
            prior[k].log() + D.Normal(mu[k], 1.0).log_prob(r[(site_of == s) & (day_of == d)]).sum()
            for k in range(2)]), 0)
        for s in range(3) for d in range(2)])
    torch.testing.assert_close(trace.sites["k"].value[0], want)

    v = torch.randn(3)
    trace = program.env["by_identity"].trace(None, observations={"v": v})
    assert sites_of(trace)[2:] == [("k", "factor", (1, 3)), ("v", "observed", (1, 3, 1))]
    prior, mu = trace.sites["prior"].value[0], trace.sites["mu"].value[0, :, 0]
    want = torch.logsumexp(prior.log()[None, :] + D.Normal(mu[None, :], 1.0).log_prob(v[:, None]), 1)
    torch.testing.assert_close(trace.sites["k"].value[0], want)


KEPT = """
object Obs : FinSet 4
object Out : Real 1

program p : Obs -> Out
    sample mu <- Normal(loc=0.0, scale=1.0)
    marginalize b <- Bernoulli(probs=0.5)
        let shift = mu * 3.0
        observe y : Obs <- Normal(loc=shift, scale=1.0)
    let after = shift + 1.0
    return after

export p
"""


def test_a_body_let_that_does_not_depend_on_z_stays_in_scope():
    program = load("kept", KEPT)
    assert program.diagnostics == []
    trace = program.morphism.trace(None, observations={"y": torch.zeros(4)})
    mu = trace.sites["mu"].value
    torch.testing.assert_close(trace.sites["after"].value, mu * 3.0 + 1.0)
    assert "shift" not in trace.sites


KERNEL = """
object Obs : FinSet 20
object Feat : Real 2
object Label : FinSet 2
object Out : Real 1

morphism pick : Feat -> Label ~ Categorical

program per_row : Obs -> Out
    sample centre : Label <- Normal(loc=0.0, scale=3.0)
    marginalize k : Obs <- pick(feat)
        observe y : Obs <- Normal(loc=centre[k], scale=1.0)
    let top = centre[0]
    return top

program from_input : Feat -> Out
    sample centre : Label <- Normal(loc=0.0, scale=3.0)
    marginalize k <- pick
        observe y : Obs <- Normal(loc=centre[k], scale=1.0)
    let top = centre[0]
    return top

export per_row
export from_input
"""


def test_a_kernel_target_gives_its_log_probabilities_per_element_and_is_learned():
    program = load("kernel", KERNEL)
    assert [d.code for d in program.diagnostics] == ["QVR111"]          # feat is data
    torch.manual_seed(12)
    feat, y = torch.randn(20, 2), torch.randn(20)
    pick = program.env["pick"]

    def log_pick(x, label):  # the kernel's own log-probability of `label` at each row of x
        return torch.stack([pick.log_joint(x[i:i + 1], {"output": torch.tensor([label])})[0]
                            for i in range(x.shape[0])])

    model = program.env["per_row"]
    assert [n for n, _ in model.named_parameters()] == ["_marginal_k.linear.weight",
                                                        "_marginal_k.linear.bias"]
    trace = model.trace(None, observations={"feat": feat, "y": y})
    assert sites_of(trace)[1:3] == [("k", "factor", (1, 20)), ("y", "observed", (1, 20, 1))]
    centre = trace.sites["centre"].value[0, :, 0]
    S = torch.stack([log_pick(feat, k) + D.Normal(centre[k], 1.0).log_prob(y) for k in range(2)])
    torch.testing.assert_close(trace.sites["k"].value[0], torch.logsumexp(S, 0))

    model = program.env["from_input"]
    x = torch.randn(1, 2)
    trace = model.trace(x, observations={"y": y})
    assert sites_of(trace)[1:3] == [("k", "factor", (1, 1)), ("y", "observed", (1, 20, 1))]
    centre = trace.sites["centre"].value[0, :, 0]
    S = torch.stack([log_pick(x, k)[0] + D.Normal(centre[k], 1.0).log_prob(y).sum() for k in range(2)])
    torch.testing.assert_close(trace.sites["k"].value[0, 0], torch.logsumexp(S, 0))


KERNEL_OBSERVES = """
object Obs : FinSet 12
object User : FinSet 3
object Label : FinSet 2
object Reading : Real 1
object Out : Real 1

morphism emit : Label -> Reading ~ Normal

program per_row : Obs -> Out
    sample share <- Beta(concentration1=2.0, concentration0=2.0)
    marginalize k : Obs <- Bernoulli(probs=share)
        observe y : Obs <- emit(k)
    return share

program per_user : Obs -> Out
    sample share <- Beta(concentration1=2.0, concentration0=2.0)
    marginalize k : Label <- Bernoulli(probs=share) [over=User]
        observe y : Obs <- emit(k) [via=user_of]
    return share

export per_row
export per_user
"""


def test_kernel_observes_in_the_body_per_element_and_through_via():
    program = load("kernel_observes", KERNEL_OBSERVES)
    assert [d.code for d in program.diagnostics] == ["QVR111"]          # user_of is data
    torch.manual_seed(13)
    y, user_of = torch.randn(12), torch.randint(0, 3, (12,))
    emit = program.env["emit"]

    def log_emit(label):  # the kernel's own log density of each y given `label`
        return torch.stack([emit.log_joint(torch.tensor([label]), {"output": y[i].view(1, 1)})[0]
                            for i in range(12)])

    model = program.env["per_row"]
    assert [n for n, _ in model.named_parameters()] == ["_step_y.table"]  # emit is learned
    trace = model.trace(None, observations={"y": y})
    share = trace.sites["share"].value[0, 0]
    S = torch.stack([(1 - share).log() + log_emit(0), share.log() + log_emit(1)])
    torch.testing.assert_close(trace.sites["k"].value[0], torch.logsumexp(S, 0))
    assert trace.sites["y"].value.shape == (1, 12, 1)

    model = program.env["per_user"]
    trace = model.trace(None, observations={"y": y, "user_of": user_of})
    share = trace.sites["share"].value[0, 0]
    want = torch.stack([torch.logsumexp(torch.stack([
        (1 - share).log() + log_emit(0)[user_of == u].sum(),
        share.log() + log_emit(1)[user_of == u].sum()]), 0) for u in range(3)])
    torch.testing.assert_close(trace.sites["k"].value[0], want)
    drawn = model.trace(None, observations={"user_of": user_of})       # y drawn given k
    assert drawn.sites["y"].value.shape == (1, 12, 1)


LATENT_KERNEL = """
object Obs : FinSet 12
object Reading : Real 1
object Out : Real 1

morphism emit : Reading -> Reading ~ Normal

program p : Obs -> Out
    sample share <- Beta(concentration1=2.0, concentration0=2.0)
    marginalize k : Obs <- Beta(concentration1=share, concentration0=1.0)
        observe y : Obs <- emit(k)
    return share

export p
"""


def test_a_kernel_observe_in_a_latent_block_is_an_ordinary_step():
    program = load("latent_kernel", LATENT_KERNEL)
    assert [d.code for d in program.diagnostics] == ["QVR121"]
    model = program.morphism
    torch.manual_seed(14)
    y = torch.randn(12)
    trace = model.trace(None, observations={"y": y})
    assert sites_of(trace) == [("share", "latent", (1, 1)), ("k", "latent", (1, 12, 1)),
                               ("y", "observed", (1, 12, 1))]
    emit = program.env["emit"]
    want = emit.log_joint(trace.sites["k"].value[0], {"output": y.view(12, 1)}).sum()
    torch.testing.assert_close(trace.sites["y"].log_prob, want.view(1))


CALLED = """
object Obs : FinSet 8
object Label : FinSet 2
object Weight : Real 1

program inner : Obs -> Weight
    sample share <- Beta(concentration1=2.0, concentration0=2.0)
    sample centre : Label <- Normal(loc=0.0, scale=4.0)
    marginalize k : Obs <- Bernoulli(probs=share)
        observe x : Obs <- Normal(loc=centre[k], scale=1.0)
    return share

program outer : Obs -> Weight
    sample w <- inner
    return w

export outer
"""


def test_a_block_in_a_drawn_program_records_its_sites_below_the_draw():
    program = load("called", CALLED)
    assert program.diagnostics == []
    model = program.morphism
    x0 = torch.zeros(1, dtype=torch.long)
    trace = model.trace(x0, observations={"w/x": torch.randn(8)})
    assert sites_of(trace) == [("w", "deterministic", (1, 1)), ("w/share", "latent", (1, 1)),
                               ("w/centre", "latent", (1, 2, 1)), ("w/k", "factor", (1, 8)),
                               ("w/x", "observed", (1, 8, 1))]
    assert [(s.name, s.kind) for s in model.site_specs()] == [
        ("w", "deterministic"), ("w/share", "latent"), ("w/centre", "latent"), ("w/k", "factor"),
        ("w/x", "observed")]
    # a value given for the factor site is ignored
    values = {n: s.value for n, s in trace.sites.items() if s.kind != "deterministic"}
    torch.testing.assert_close(model.log_joint(x0, values),
                               model.log_joint(x0, {**values, "w/k": torch.zeros(1, 8)}))


MORPHISM_PARAMETER_TARGET = """object Obs : FinSet 6
object Label : FinSet 2
object Val : Real 1

morphism pick : Obs -> Label ~ Categorical

program part(chooser : Mor[Obs, Label]) : Obs -> Val
    sample centre : Label <- Normal(loc=0.0, scale=4.0)
    marginalize k : Obs <- chooser
        observe x : Obs <- Normal(loc=centre[k], scale=1.0)
    return centre

program whole : Obs -> Val
    sample c <- part(pick)
    return c

program direct : Obs -> Val
    sample centre : Label <- Normal(loc=0.0, scale=4.0)
    marginalize k : Obs <- pick
        observe x : Obs <- Normal(loc=centre[k], scale=1.0)
    return centre

export whole
export direct
"""


def test_a_template_marginalizes_over_its_morphism_parameter_as_over_the_bound_kernel():
    program = qvr.loads(MORPHISM_PARAMETER_TARGET, name="m.qvr")
    whole, direct = program.exports["whole"], program.exports["direct"]
    assert sites_of(whole.trace(None)) == [("c", "deterministic", (1, 2, 1)),
                                           ("c/centre", "latent", (1, 2, 1)),
                                           ("c/k", "factor", (1, 6)), ("c/x", "observed", (1, 6, 1))]
    torch.manual_seed(1)
    centre, x = torch.tensor([-1.0, 2.0]).view(1, 2, 1), torch.randn(6) * 2.0
    torch.testing.assert_close(whole.log_joint(None, {"c/centre": centre, "c/x": x}),
                               direct.log_joint(None, {"centre": centre, "x": x}))
