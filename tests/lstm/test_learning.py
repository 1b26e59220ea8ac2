"""The many-to-one classifier and the seq2seq tagger learn small synthetic tasks that need the
recurrence. Training minimises `observed_nll` (the negative ELBO whose guide is the model's own
conditional of the stochastic gates); accuracy is measured on fresh inputs with one draw of the
gates, taking the label the head scores highest under that draw."""
from __future__ import annotations

import pytest
import torch

import qvr
from qvr.charlm import observed_nll

from lstm_paths import EXAMPLES

pytestmark = pytest.mark.slow


def train(model, x, obs, steps, lr=0.02):
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        observed_nll(model, x, obs).mean().backward()
        opt.step()


@torch.no_grad()
def best_labels(model, x, state_site, head, num_labels):
    """argmax over labels of the head's log p(label | h), h the encoder's value in one trace
    (one draw of the stochastic gates); the head is the observe step's module `_step_<v>`."""
    h = model.trace(x).sites[state_site].value
    flat = h.reshape(-1, h.shape[-1])
    scores = torch.stack([head.log_prob(flat, torch.full((flat.shape[0],), k))
                          for k in range(num_labels)], -1)
    return scores.argmax(-1).reshape(h.shape[:-1])


def test_classifier_learns_the_first_token():
    """label = first token mod 5: the final state must carry the first input through T steps."""
    torch.manual_seed(0)
    model = qvr.load(EXAMPLES / "lstm_classifier.qvr", device="cpu").morphism
    g = torch.Generator().manual_seed(1)
    x = torch.randint(0, 10, (256, 4), generator=g)
    train(model, x, {"label": x[:, 0] % 5}, steps=60)
    xt = torch.randint(0, 10, (400, 4), generator=g)
    acc = (best_labels(model, xt, "h", model._step_label, 5) == xt[:, 0] % 5).float().mean()
    assert acc >= 0.9, f"accuracy {float(acc):.3f}"


def test_tagger_learns_the_previous_token():
    """tag_t = token_{t-1} (tag 0 at t = 0): each position needs the state from the step before."""
    torch.manual_seed(0)
    model = qvr.load(EXAMPLES / "lstm_tagger.qvr", device="cpu").morphism
    g = torch.Generator().manual_seed(2)

    def data(n):
        x = torch.randint(0, 17, (n, 6), generator=g)
        return x, torch.cat([torch.zeros(n, 1, dtype=torch.long), x[:, :-1]], 1)

    x, y = data(256)
    train(model, x, {"tags": y}, steps=60)
    xt, yt = data(300)
    pred = best_labels(model, xt, "hs", model._step_tags, 17)
    acc = (pred == yt).float().mean()
    assert acc >= 0.9, f"accuracy {float(acc):.3f}"
