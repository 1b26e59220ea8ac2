"""Call steps and templates at run time (spec part 2 §5.5, §6.5, §6.6): a call of a program is
a deterministic site with the callee's sites below it; each template call is its own
instance (its own latents), with object, scalar and morphism parameters bound."""
from pathlib import Path

import torch

import qvr

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "current"


def test_template_called_twice_gives_distinct_sites_with_separate_latents():
    model = qvr.load(EXAMPLES / "e04_crossed_templates.qvr").morphism
    data = {"subj": torch.randint(0, 20, (300,)), "item": torch.randint(0, 15, (300,))}
    tr = model.trace(None, observations=data)
    assert [(n, s.kind, tuple(s.value.shape)) for n, s in tr.sites.items()] == [
        ("base", "latent", (1, 1)),
        ("by_subject", "deterministic", (1, 20, 1)), ("by_subject/sd", "latent", (1, 1)),
        ("by_subject/raw", "latent", (1, 20, 1)), ("by_subject/dev", "deterministic", (1, 20, 1)),
        ("by_subject/v", "deterministic", (1, 20, 1)),
        ("by_item", "deterministic", (1, 15, 1)), ("by_item/sd", "latent", (1, 1)),
        ("by_item/raw", "latent", (1, 15, 1)), ("by_item/dev", "deterministic", (1, 15, 1)),
        ("by_item/v", "deterministic", (1, 15, 1)),
        ("noise", "latent", (1, 1)), ("mu", "deterministic", (1, 300, 1)),
        ("rt", "observed", (1, 300, 1))]
    assert list(model.named_inputs) == ["subj", "item"]
    # the scalar argument is the spread of each instance's HalfNormal
    sd_subject = tr.sites["by_subject/sd"]
    torch.testing.assert_close(sd_subject.log_prob,
                               torch.distributions.HalfNormal(1.0).log_prob(sd_subject.value).sum(-1))
    sd_item = tr.sites["by_item/sd"]
    torch.testing.assert_close(sd_item.log_prob,
                               torch.distributions.HalfNormal(0.5).log_prob(sd_item.value).sum(-1))
    # the morphism parameter is the shared deterministic map, applied per plate element
    by_subject = tr.sites["by_subject"].value
    dev = tr.sites["by_subject/dev"].value
    torch.testing.assert_close(by_subject, tr.sites["by_subject/v"].value)
    assert not torch.equal(dev, by_subject)
    # the rows' means gather each instance's values
    mu = tr.sites["mu"].value[0, :, 0]
    expected = (tr.sites["base"].value[0, 0] + by_subject[0, data["subj"], 0]
                + tr.sites["by_item"].value[0, data["item"], 0])
    torch.testing.assert_close(mu, expected)


CALLS = """object V : Real 1

program inner(h) : V -> V
    sample z <- Normal(loc=h, scale=1.0)
    let g = tanh(z)
    return g

program outer : V -> V
    sample a <- Normal(loc=0.0, scale=1.0)
    let t <- inner(a)
    let u <- inner(t)
    return u

export outer
"""


def test_call_steps_record_the_callee_below_the_step():
    model = qvr.loads(CALLS).morphism
    tr = model.trace(torch.zeros(3, 1))
    assert [(n, s.kind) for n, s in tr.sites.items()] == [
        ("a", "latent"), ("t", "deterministic"), ("t/z", "latent"), ("t/g", "deterministic"),
        ("u", "deterministic"), ("u/z", "latent"), ("u/g", "deterministic")]
    torch.testing.assert_close(tr.sites["t"].value, torch.tanh(tr.sites["t/z"].value))
    assert [s.name for s in model.site_specs()] == list(tr.sites)
