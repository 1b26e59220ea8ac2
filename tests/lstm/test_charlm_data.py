"""The character data pipeline (d2l preprocessing, 28-symbol vocabulary, windows, split),
perplexity reporting and generation on The Time Machine."""
from __future__ import annotations

import math
import string

import pytest
import torch

import qvr
from qvr import charlm as C

from lstm_paths import EXAMPLES, TIME_MACHINE_SHA1


@pytest.fixture(scope="module")
def corpus(time_machine):
    return C.read_corpus(time_machine, sha1=TIME_MACHINE_SHA1)


def char_lm(seed=0, name="char_lstm_lm.qvr"):
    torch.manual_seed(seed)
    return C.char_model(qvr.load(EXAMPLES / name, device="cpu").morphism, 28)


def test_preprocessing_maps_non_letters_to_one_space_and_lowers():
    assert C.preprocess("The Time-Machine, by H. G. Wells\n\n1895!") == "the time machine by h g wells "
    assert C.preprocess("ÄÖ über") == " ber"


def test_vocabulary_has_28_symbols_with_unk(corpus):
    assert len(corpus.vocab) == 28
    assert set(corpus.vocab.tokens) == set(string.ascii_lowercase) | {" ", C.UNK}
    assert corpus.text.startswith("the time machine by h g wells")
    assert corpus.vocab.decode(corpus.vocab.encode("hello world")) == "hello world"
    assert corpus.vocab.encode("é").tolist() == [corpus.vocab.unk]
    assert corpus.indices.numel() == len(corpus.text)


def test_checksum_is_verified(time_machine, tmp_path):
    assert C.sha1_of(time_machine) == TIME_MACHINE_SHA1
    with pytest.raises(C.CorpusError, match="SHA-1"):
        C.read_corpus(time_machine, sha1="0" * 40)
    with pytest.raises(C.CorpusError, match="cannot read"):
        C.read_corpus(tmp_path / "missing.txt")


def test_windows_are_shifted_by_one_and_split_in_order(corpus):
    X, Y = C.windows(corpus.indices, 32)
    assert X.shape == Y.shape == (corpus.indices.numel() - 32, 32)
    assert torch.equal(X[5, 1:], Y[5, :-1]) and torch.equal(X[6, :31], X[5, 1:])
    assert corpus.vocab.decode(X[0]) == corpus.text[:32]
    (xt, yt), (xv, yv) = C.split_windows(X, Y, 10_000, 5_000)
    assert xt.shape[0] == 10_000 and xv.shape[0] == 5_000
    assert torch.equal(xv[0], X[10_000]) and torch.equal(yv[-1], Y[14_999])
    (xt, _), (xv, _) = C.split_windows(X[:30], Y[:30])   # short text: 2/3 and 1/3
    assert (xt.shape[0], xv.shape[0]) == (20, 10)
    with pytest.raises(C.CorpusError, match="split"):
        C.split_windows(X[:30], Y[:30], 25, 10)
    with pytest.raises(C.CorpusError, match="at least 33"):
        C.windows(corpus.indices[:20], 32)


def test_model_must_fit_the_vocabulary():
    model = qvr.load(EXAMPLES / "seed_002_vanilla_rnn_lm.qvr", device="cpu").morphism
    with pytest.raises(C.CorpusError, match="256 symbols.*28"):
        C.char_model(model, 28)


def test_uniform_model_has_perplexity_equal_to_vocabulary_size(corpus):
    cm = char_lm()
    head = cm.model._step_next_char.linear
    with torch.no_grad():
        head.weight.zero_()
        head.bias.zero_()
    X, Y = C.windows(corpus.indices[:500], 32)
    assert C.perplexity(cm, X, Y, batch_size=100) == pytest.approx(28.0, rel=1e-5)


def test_training_lowers_training_and_validation_perplexity(corpus):
    X, Y = C.windows(corpus.indices[:20_000], 32)
    train, val = C.split_windows(X, Y, 2048, 512)
    cm = char_lm()
    before = C.perplexity(cm, *val)
    seen = []
    hist = C.fit(cm, train, val, epochs=2, batch_size=256, lr=4.0, clip=1.0,
                 progress=lambda step, total, loss, elapsed: seen.append((step, total)))
    assert seen[-1] == (16, 16) and len(hist.losses) == 16
    assert len(hist.train_ppl) == len(hist.val_ppl) == 2
    assert hist.val_ppl[-1] < 0.8 * before, (before, hist.val_ppl)
    assert hist.train_ppl[-1] < hist.train_ppl[0]
    # the reported validation perplexity is exp of the per-token NLL of the next characters
    with torch.no_grad():
        nll = -cm.model.log_joint(val[0], {"next_char": val[1]}).sum() / val[1].numel()
    assert hist.val_ppl[-1] == pytest.approx(math.exp(float(nll)), rel=1e-4)


def test_generation_gives_the_requested_characters_greedily(corpus):
    X, Y = C.windows(corpus.indices[:20_000], 32)
    train, val = C.split_windows(X, Y, 1024, 256)
    cm = char_lm()
    C.fit(cm, train, val, epochs=1, batch_size=256)
    ids = C.generate_ids(cm, corpus.vocab, "it has", 20)
    assert len(ids) == 6 + 20 and all(0 <= i < 28 for i in ids)
    assert corpus.vocab.decode(ids[:6]) == "it has"
    assert C.generate(cm, corpus.vocab, "it has", 20) == corpus.vocab.decode(ids)   # greedy
    # each generated character is the head's most probable one given the text before it
    model = cm.model
    with torch.no_grad():
        for n in (6, 15, 25):
            h = model.trace(torch.tensor([ids[:n]])).sites["h"].value[:, -1]
            scores = torch.stack([model._step_next_char.log_prob(h, torch.tensor([k])) for k in range(28)])
            assert int(scores.argmax()) == ids[n]


@pytest.mark.slow
def test_bayesian_char_lm_trains_and_samples(corpus):
    X, Y = C.windows(corpus.indices[:10_000], 32)
    train, val = C.split_windows(X, Y, 512, 256)
    cm = char_lm(name="char_lstm_lm_bayesian.qvr")
    assert cm.latent
    hist = C.fit(cm, train, val, epochs=1, batch_size=128, lr=1.0)
    assert all(math.isfinite(v) for v in hist.losses) and hist.val_ppl[-1] < 28
    text = C.generate(cm, corpus.vocab, "time", 10)
    assert text.startswith("time") and len(C.generate_ids(cm, corpus.vocab, "time", 10)) == 14


def test_fetch_checks_the_sha1_and_keeps_only_a_good_copy(time_machine, tmp_path):
    """`fetch` through a file:// URL (no network in tests): the copy is kept only when its SHA-1
    matches, and a second call reuses it."""
    url = time_machine.resolve().as_uri()
    with pytest.raises(C.CorpusError, match="SHA-1"):
        C.fetch(url, "0" * 40, tmp_path / "bad")
    assert list((tmp_path / "bad").iterdir()) == []
    got = C.fetch(url, TIME_MACHINE_SHA1, tmp_path / "cache")
    assert got.name == "timemachine.txt" and C.sha1_of(got) == TIME_MACHINE_SHA1
    mtime = got.stat().st_mtime_ns
    assert C.fetch(url, TIME_MACHINE_SHA1, tmp_path / "cache") == got and got.stat().st_mtime_ns == mtime
    assert len(C.read_corpus(got).vocab) == 28
