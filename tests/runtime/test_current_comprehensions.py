"""Comprehensions at run time (spec part 2 §5.8, §6.3): `factor v : K, … in e` is a value over
`K1 × … × Km` (each binder its own index, a binder the body does not use a constant axis,
the body's other plates after the binders'), and `factor c : K in { 0 -> e0, … }` stacks the
cases along `K`. Worked example E8 against its stated sites and shapes and against the same
arithmetic written out in torch."""
from __future__ import annotations

from pathlib import Path

import torch

import qvr

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "current"


def sites_of(trace):
    return [(n, s.kind, tuple(s.value.shape)) for n, s in trace.sites.items()]


def test_e08_tables_sites_shapes_and_values():
    program = qvr.loads((EXAMPLES / "e08_tables.qvr").read_text(), name="e08_tables.qvr")
    torch.manual_seed(0)
    color_of = torch.randint(0, 3, (40,))
    size_of = torch.randint(0, 2, (40,))
    y = torch.randn(40)
    trace = program.morphism.trace(None, observations={"color_of": color_of, "size_of": size_of,
                                                       "y": y})
    assert sites_of(trace) == [
        ("c_eff", "latent", (1, 3, 1)), ("s_eff", "latent", (1, 2, 1)),
        ("s_bias", "deterministic", (1, 2, 1)), ("cell", "deterministic", (1, 3, 2, 1)),
        ("centred", "factor", (1, 1)), ("y", "observed", (1, 40, 1)),
        ("top", "deterministic", (1, 1)),
    ]
    s = trace.sites
    c_eff, s_eff = s["c_eff"].value[0, :, 0], s["s_eff"].value[0, :, 0]
    s_bias = torch.tensor([-0.5, 0.5])
    assert torch.equal(s["s_bias"].value[0, :, 0], s_bias)
    cell = c_eff[:, None] + s_eff[None, :] + s_bias[None, :]
    torch.testing.assert_close(s["cell"].value[0, :, :, 0], cell)
    torch.testing.assert_close(s["top"].value, cell[2, 1].view(1, 1))  # blue, large
    want_y = torch.distributions.Normal(cell[color_of, size_of], 1.0).log_prob(y).sum()
    torch.testing.assert_close(s["y"].log_prob, want_y.view(1))


FORMS = """
object Color : {red, green, blue}
object Size : {small, large}
object Out : Real 1

program forms : Size -> Out
    sample c_eff : Color <- Normal(loc=0.0, scale=1.0)
    let idx = factor c : Color in c * 2.0
    let ones = factor c : Color, s : Size in 1.0
    let swap = factor s : Size, c : Color in c_eff[c] * 10.0 + s
    let sgn = factor s : Size in { 0 -> c_eff, 1 -> -c_eff }
    let both = factor s : Size in idx + s
    let top = c_eff[0]
    return top

export forms
"""


def test_binders_unused_binders_other_plates_and_plated_cases():
    program = qvr.loads(FORMS, name="forms.qvr")
    # arithmetic on the binders is allowed with a warning; the other lets are only traced here
    assert [d.code for d in program.diagnostics] == ["QVR075", "QVR081", "QVR081", "QVR081", "QVR081"]
    torch.manual_seed(1)
    trace = program.morphism.trace(None)
    assert sites_of(trace) == [
        ("c_eff", "latent", (1, 3, 1)), ("idx", "deterministic", (1, 3, 1)),
        ("ones", "deterministic", (1, 3, 2, 1)), ("swap", "deterministic", (1, 2, 3, 1)),
        ("sgn", "deterministic", (1, 2, 3, 1)), ("both", "deterministic", (1, 2, 3, 1)),
        ("top", "deterministic", (1, 1)),
    ]
    s = {n: site.value[0, ..., 0] for n, site in trace.sites.items()}
    c_eff = s["c_eff"]
    size = torch.arange(2.0)
    assert torch.equal(s["idx"], torch.tensor([0.0, 2.0, 4.0]))             # each binder its index
    assert torch.equal(s["ones"], torch.ones(3, 2))                          # unused binders: axes
    torch.testing.assert_close(s["swap"], c_eff[None, :] * 10.0 + size[:, None])  # binder order
    torch.testing.assert_close(s["sgn"], torch.stack([c_eff, -c_eff]))       # cases along Size
    torch.testing.assert_close(s["both"], torch.tensor([0.0, 2.0, 4.0])[None, :] + size[:, None])


OWN_PLATE = """object Branch : FinSet 2
object R : Real 1
program p : R -> R
    sample q : Branch <- Beta(concentration1=2.0, concentration0=2.0)
    let side = factor b : Branch in { 0 -> log(q), 1 -> log(1.0 - q) }
    let total = sum(side)
    return total
export p
"""


def test_a_case_over_the_binders_own_plate_gives_the_element_its_key_names():
    # `q` is over `Branch`, as the result is: case 0 is `log(q)` at element 0 and case 1
    # `log(1 - q)` at element 1 (the one `Branch` axis the checker gives `side`)
    program = qvr.loads(OWN_PLATE, name="own.qvr")
    assert [d.code for d in program.diagnostics] == []
    assert program.analysis.programs["p"].variables["side"].type.display() == "Real 1 over Branch"
    torch.manual_seed(2)
    trace = program.morphism.trace(None)
    q, side = trace.sites["q"].value[0, :, 0], trace.sites["side"].value
    assert side.shape == (1, 2, 1)
    torch.testing.assert_close(side[0, :, 0], torch.stack([q[0].log(), (1.0 - q[1]).log()]))
