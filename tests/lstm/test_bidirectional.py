"""The bidirectional LSTM reads both ends: with the random gates fixed by the seed, changing the
first token moves the forward state (through the whole recurrence) and the backward state
(last step), and changing the last token moves both as well."""
from __future__ import annotations

import torch

import qvr

from lstm_paths import EXAMPLES


def encode(encoder, x, seed=5):
    torch.manual_seed(seed)   # same draws of the stochastic gates for every input
    with torch.no_grad():
        out = encoder.rsample(x)
    return out[:, :64], out[:, 64:]   # fan(fwd, bwd): forward then backward final hidden state


def test_bilstm_output_depends_on_both_ends():
    torch.manual_seed(0)
    program = qvr.load(EXAMPLES / "bilstm.qvr", device="cpu", dtype=torch.float64)
    encoder = program.env["encoder"]
    x = torch.randint(0, 256, (2, 8))
    fwd, bwd = encode(encoder, x)
    fwd_again, bwd_again = encode(encoder, x)
    assert torch.equal(fwd, fwd_again) and torch.equal(bwd, bwd_again)   # the seed fixes the gates

    first = x.clone()
    first[:, 0] = (x[:, 0] + 1) % 256
    f1, b1 = encode(encoder, first)
    last = x.clone()
    last[:, -1] = (x[:, -1] + 1) % 256
    f2, b2 = encode(encoder, last)
    middle = x.clone()
    middle[:, 3] = (x[:, 3] + 1) % 256
    f3, b3 = encode(encoder, middle)

    for a, b in ((fwd, f1), (bwd, b1), (fwd, f2), (bwd, b2), (fwd, f3), (bwd, b3)):
        assert (a - b).abs().max() > 1e-6

    # and the whole classifier's label distribution moves with either end
    model = program.morphism
    label = torch.zeros(2, dtype=torch.long)

    def label_logp(tokens):
        torch.manual_seed(5)
        with torch.no_grad():
            return model.trace(tokens, observations={"label": label}).sites["label"].log_prob

    base = label_logp(x)
    assert (label_logp(first) - base).abs().max() > 1e-9
    assert (label_logp(last) - base).abs().max() > 1e-9
