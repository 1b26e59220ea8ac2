"""Character-level language models on a plain-text corpus: data, training, generation.

This is the code behind `qvr run MODEL --svi --data corpus.txt` and bench/charlm.py. It follows
the d2l recipe for The Time Machine (sections "Converting Raw Text into Sequence Data" and
"Long Short-Term Memory"), so a QVR model can be compared with torch `nn.LSTM` on equal terms:

* **Preprocessing** (`preprocess`): every run of non-letters becomes one space, then lower case.
* **Vocabulary** (`Vocab.build`): the sorted set of characters plus `<unk>` (d2l's `Vocab` with
  no reserved tokens), so The Time Machine gives 28 symbols: `' '`, `'<unk>'`, `'a'`…`'z'`.
  Unknown characters encode as `<unk>`.
* **Windows** (`windows`): every start position i gives `X = c[i : i+n]`, `Y = c[i+1 : i+n+1]`
  (n = `num_steps`, default 32), as d2l's `TimeMachine` builds them.
* **Split** (`split_windows`): the first `num_train` windows train, the next `num_val` validate
  (d2l: 10,000 and 5,000).
* **Training** (`fit`): minibatches of shuffled training windows; the loss is the negative ELBO
  per token (`token_loss`). For a model without latent sites (the char LM with deterministic
  gates) the ELBO is the exact log-likelihood, so this is maximum likelihood; with latent sites
  (the Bayesian variant) the guide is the model's own conditional of the gates (see
  `observed_nll`). SGD with gradient-norm clipping, as in d2l.
* **Perplexity** (`perplexity`): exp of the mean per-token negative log-likelihood of the
  observed next characters. For models with latent sites the latents are drawn once from the
  model (a one-draw estimate, so a bound rather than the exact value).
* **Generation** (`generate`): greedy decoding from a prompt (d2l's `predict`): each next
  character is the most probable one under the model given the text so far. Models with latent
  sites sample instead (their predictions depend on random gates).

A model qualifies when its input is one finite object whose size is the vocabulary size and it
has exactly one observed site, also over that object (the `char_lm` program of
examples/char_lstm_lm.qvr). Everything here uses the public program protocol (`log_joint`,
`trace`, `site_specs`, `observed_names`) and `qvr.infer`, never compiler internals.

The corpus can be read from a file (`read_corpus`) or fetched from a URL with a SHA-1 check
(`fetch`, for The Time Machine: `TIME_MACHINE_URL`, `TIME_MACHINE_SHA1`).
"""
from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import torch

from .datasets import DATASETS, DataError, download, sha1_of  # noqa: F401  (sha1_of re-exported)
from .errors import QvrError

TIME_MACHINE_URL = DATASETS["timemachine"].url
TIME_MACHINE_SHA1 = DATASETS["timemachine"].sha1
UNK = "<unk>"

DEFAULT_NUM_STEPS = 32
DEFAULT_NUM_TRAIN = 10_000
DEFAULT_NUM_VAL = 5_000


class CorpusError(QvrError):
    """A corpus that cannot be used: unreadable, too short, wrong hash, or a model that does not
    fit it. The message says which."""


# ---------------------------------------------------------------------------------- text --

def preprocess(text: str) -> str:
    """d2l preprocessing: runs of non-letters become one space, then lower case."""
    return re.sub("[^A-Za-z]+", " ", text).lower()


@dataclass(frozen=True)
class Vocab:
    """Character vocabulary: `tokens[i]` is the symbol with index i (sorted, `<unk>` included)."""

    tokens: tuple

    @classmethod
    def build(cls, text: str) -> "Vocab":
        return cls(tuple(sorted(set(text) | {UNK})))

    def __len__(self) -> int:
        return len(self.tokens)

    @property
    def unk(self) -> int:
        return self.tokens.index(UNK)

    def encode(self, text: str) -> torch.Tensor:
        index = {t: i for i, t in enumerate(self.tokens)}
        unk = self.unk
        return torch.tensor([index.get(ch, unk) for ch in text], dtype=torch.int64)

    def decode(self, indices) -> str:
        return "".join(self.tokens[int(i)] for i in indices)


@dataclass
class Corpus:
    """A preprocessed text, its vocabulary and the text as indices."""

    text: str
    vocab: Vocab
    indices: torch.Tensor

    @classmethod
    def from_text(cls, raw: str) -> "Corpus":
        text = preprocess(raw)
        vocab = Vocab.build(text)
        return cls(text, vocab, vocab.encode(text))


def read_corpus(path, sha1: Optional[str] = None) -> Corpus:
    """Read a UTF-8 text file (optionally checking its SHA-1) and preprocess it."""
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise CorpusError(f"cannot read corpus {path}: {exc.strerror or exc}") from None
    if sha1 is not None and sha1_of(path) != sha1.lower():
        raise CorpusError(f"corpus {path} has SHA-1 {sha1_of(path)}, expected {sha1}")
    return Corpus.from_text(raw)


def fetch(url: str, sha1: str, cache_dir) -> Path:
    """Download `url` into `cache_dir` unless a copy with the right SHA-1 is already there
    (`qvr.datasets.download`); a failure is a `CorpusError`."""
    try:
        return download(url, sha1, cache_dir)
    except DataError as exc:
        raise CorpusError(str(exc)) from None


# ------------------------------------------------------------------------------ windows --

def windows(indices: torch.Tensor, num_steps: int = DEFAULT_NUM_STEPS):
    """All windows of `num_steps` characters and their next characters (d2l `TimeMachine`):
    `X[i] = c[i : i+n]`, `Y[i] = c[i+1 : i+n+1]`, one window per start position."""
    if num_steps < 1:
        raise CorpusError(f"num_steps must be at least 1, got {num_steps}")
    count = indices.numel() - num_steps
    if count < 1:
        raise CorpusError(f"the corpus has {indices.numel()} characters after preprocessing; "
                          f"windows of {num_steps} steps need at least {num_steps + 1}")
    array = indices.unfold(0, num_steps + 1, 1)[:count]
    return array[:, :-1].contiguous(), array[:, 1:].contiguous()


def split_windows(X, Y, num_train: Optional[int] = None, num_val: Optional[int] = None):
    """First `num_train` windows for training, the next `num_val` for validation. Defaults:
    d2l's 10,000 / 5,000, reduced to 2/3 and 1/3 of the windows for a shorter text."""
    n = X.shape[0]
    if num_train is None:
        num_train = min(DEFAULT_NUM_TRAIN, max(1, (2 * n) // 3))
    if num_val is None:
        num_val = min(DEFAULT_NUM_VAL, n - num_train)
    if num_train < 1 or num_val < 1 or num_train + num_val > n:
        raise CorpusError(f"cannot split {n} windows into {num_train} training and {num_val} "
                          "validation windows (a longer text or fewer windows is needed)")
    train = (X[:num_train], Y[:num_train])
    val = (X[num_train:num_train + num_val], Y[num_train:num_train + num_val])
    return train, val


# ------------------------------------------------------------------------------- models --

@dataclass
class CharModel:
    """A program checked to be a character model for a vocabulary of `vocab_size` symbols."""

    model: object
    observed: str           # the observed next-character site
    latent: list            # latent site names (empty: deterministic, maximum likelihood)


def char_model(model, vocab_size: int) -> CharModel:
    """Check that `model` reads one finite symbol per position and observes the next one."""
    from .compile.trace import LATENT, OBSERVED
    from .semantics.types import SeqType

    if not all(hasattr(model, a) for a in ("log_joint", "trace", "site_specs")):
        raise CorpusError("a text corpus needs a program with an observed next-character site")
    dom = model.dom.elem if isinstance(model.dom, SeqType) else model.dom
    leaves = list(dom.leaves)
    if len(leaves) != 1 or not dom.is_finite:
        raise CorpusError(f"a text corpus needs a model over one finite object (characters); "
                          f"this one reads {dom.display()}")
    if leaves[0].n != vocab_size:
        raise CorpusError(f"the model reads {dom.display()} ({leaves[0].n} symbols) but the corpus "
                          f"vocabulary has {vocab_size} symbols")
    specs = model.site_specs()
    observed = [s for s in specs if s.kind == OBSERVED]
    if len(observed) != 1:
        raise CorpusError(f"a character model needs exactly one observed site, this one has "
                          f"{len(observed)} ({', '.join(s.name for s in observed) or 'none'})")
    return CharModel(model, observed[0].name, [s.name for s in specs if s.kind == LATENT])


# ----------------------------------------------------------------------------- training --

@dataclass
class History:
    """What `fit` measured: per-step losses (negative ELBO per token) and per-epoch perplexities."""

    losses: list = field(default_factory=list)
    train_ppl: list = field(default_factory=list)
    val_ppl: list = field(default_factory=list)
    epoch_seconds: list = field(default_factory=list)


def steps_per_epoch(num_windows: int, batch_size: int) -> int:
    return math.ceil(num_windows / batch_size)


def observed_nll(model, x, observations) -> torch.Tensor:
    """Minus the log-density of the observed sites per row, `(B,)`, with every latent site drawn
    from the model itself (reparameterised, so gradients flow through the draws).

    This is the negative ELBO for the guide q(z | x) = p(z | x), the model's own conditional of
    its latent sites given the input: log p(z) - log q(z) cancels and E_q[log p(y | x, z)] is
    left, estimated with one draw. For a model without latent sites it is the exact negative
    log-likelihood. A mean-field AutoNormal guide is the wrong tool for per-step latent gates:
    its q per site is shared over rows and positions, so every step would get the same gate
    values and the recurrence would be lost (measured on the Bayesian char LM: validation
    perplexity stuck near 27 on The Time Machine).
    """
    from .compile.trace import OBSERVED

    trace = model.trace(x, observations=observations)
    lps = [s.log_prob for s in trace.sites.values() if s.kind == OBSERVED]
    return -torch.stack(lps, 0).sum(0)


def token_loss(cm: CharModel, X, Y) -> torch.Tensor:
    """Negative ELBO per token for a batch of windows (`observed_nll`; the exact NLL, through
    the faster `log_joint`, for a model without latent sites)."""
    obs = {cm.observed: Y}
    if cm.latent:
        nll = observed_nll(cm.model, X, obs)
    else:
        nll = -cm.model.log_joint(X, obs)
    return nll.mean() / X.shape[1]


def fit(cm: CharModel, train, val, *, epochs: int = 1, max_steps: Optional[int] = None,
        batch_size: int = 1024, lr: float = 4.0, clip: float = 1.0,
        seed: int = 0, progress: Optional[Callable] = None) -> History:
    """SGD on the per-token negative ELBO with gradient-norm clipping (d2l's recipe).

    Runs `epochs` passes over the shuffled training windows, or stops after `max_steps`
    optimiser steps if that comes first. In a torch.distributed group each process computes
    its share of every batch (`qvr.infer.distributed`). `progress(step, total, loss, elapsed)` is called after
    every step; after every epoch the training perplexity (exp of the epoch's mean loss, as d2l
    plots it) and the validation perplexity are appended to the history.
    """
    from .infer.distributed import (all_reduce_gradients, broadcast_parameters, rank,
                                    shard_rows, world_size)

    X, Y = train
    device = cm.model.device
    params = list(cm.model.parameters())
    optim = torch.optim.SGD(params, lr=lr)
    # Data parallel (`qvr run --nproc N`): every process walks the same shuffled order and
    # takes its share of each batch; the summed gradient is the whole batch's.
    rank_, world = rank(), world_size()
    if world > 1:
        if batch_size < world:
            raise CorpusError(f"a batch of {batch_size} windows cannot be shared by {world} "
                              "processes")
        broadcast_parameters(params)
    gen = torch.Generator().manual_seed(seed)
    per_epoch = steps_per_epoch(X.shape[0], batch_size)
    total = epochs * per_epoch if max_steps is None else min(max_steps, epochs * per_epoch)
    history = History()
    started = time.perf_counter()
    step = 0
    for _ in range(epochs):
        epoch_start = time.perf_counter()
        order = torch.randperm(X.shape[0], generator=gen)
        epoch_losses = []
        for b in range(per_epoch):
            if step >= total:
                break
            idx = order[b * batch_size:(b + 1) * batch_size]
            share = 1.0
            if world > 1:  # this process's part of the batch; gradients summed below
                part = shard_rows(len(idx), rank_, world)
                share = (part.stop - part.start) / len(idx)
                idx = idx[part]
            xb, yb = X[idx].to(device), Y[idx].to(device)
            optim.zero_grad(set_to_none=True)
            loss = token_loss(cm, xb, yb) * share
            loss.backward()
            value = all_reduce_gradients(params, loss) if world > 1 else float(loss.detach())
            if clip:
                torch.nn.utils.clip_grad_norm_(params, clip)
            optim.step()
            if not math.isfinite(value):
                raise CorpusError(f"the loss became non-finite at step {step + 1} (lower --lr?)")
            step += 1
            history.losses.append(value)
            epoch_losses.append(value)
            if progress is not None:
                progress(step, total, value, time.perf_counter() - started)
        if epoch_losses:
            history.train_ppl.append(math.exp(sum(epoch_losses) / len(epoch_losses)))
            history.val_ppl.append(perplexity(cm, *val, batch_size=batch_size))
            history.epoch_seconds.append(time.perf_counter() - epoch_start)
        if step >= total:
            break
    return history


@torch.no_grad()
def perplexity(cm: CharModel, X, Y, *, batch_size: int = 1024) -> float:
    """exp(mean per-token NLL of the observed next characters) over all windows."""
    device = cm.model.device
    total, count = 0.0, 0
    for start in range(0, X.shape[0], batch_size):
        xb = X[start:start + batch_size].to(device)
        yb = Y[start:start + batch_size].to(device)
        obs = {cm.observed: yb}
        if cm.latent:
            lp = cm.model.trace(xb, observations=obs).sites[cm.observed].log_prob
        else:
            lp = cm.model.log_joint(xb, obs)
        total += -float(lp.sum())
        count += yb.numel()
    return math.exp(total / count)


# --------------------------------------------------------------------------- generation --

def generate(cm: CharModel, vocab: Vocab, prompt: str, num_chars: int) -> str:
    """`prompt` (preprocessed) followed by `num_chars` generated characters, as text."""
    return vocab.decode(generate_ids(cm, vocab, prompt, num_chars))


@torch.no_grad()
def generate_ids(cm: CharModel, vocab: Vocab, prompt: str, num_chars: int) -> list:
    """The prompt's indices followed by `num_chars` generated ones.

    Deterministic models decode greedily: the next character maximises the model's probability
    of it given the text so far. That probability is read off `log_joint` on 28 copies of the
    text that differ only in the last observed character, so any program qualifies, not only
    one whose head we could call. Models with latent sites sample the next character instead.
    """
    if num_chars < 0:
        raise CorpusError(f"the number of characters to generate must be ≥ 0, got {num_chars}")
    text = preprocess(prompt)
    if not text:
        raise CorpusError(f"the prompt {prompt!r} has no letters or spaces to start from")
    ids = vocab.encode(text).tolist()
    K = len(vocab)
    device = cm.model.device
    candidates = torch.arange(K, device=device)
    for _ in range(num_chars):
        x = torch.tensor(ids, device=device)
        if cm.latent:
            y = cm.model.rsample(x.unsqueeze(0))
            nxt = int(y.reshape(1, -1)[0, -1])
        else:
            # row k observes the true next characters and candidate k at the last position
            known = torch.tensor(ids[1:] + [0], device=device)
            Y = known.unsqueeze(0).repeat(K, 1)
            Y[:, -1] = candidates
            scores = cm.model.log_joint(x.unsqueeze(0).repeat(K, 1), {cm.observed: Y})
            nxt = int(torch.argmax(scores))
        ids.append(nxt)
    return ids


# ------------------------------------------------------------------------- `qvr run` ----

TENSOR_DATA_SUFFIXES = (".pt", ".npz", ".json")


TEXT_CORPUS_SUFFIXES = (".txt", ".text")


def is_text_corpus(path) -> bool:
    """`qvr run --data FILE`: a .txt/.text file is a text corpus for a character model.

    Other suffixes are not guessed at: a .csv or a misspelt tensor file gets the runner's
    "expected a .pt, .npz or .json file, or a .txt text corpus" error instead of being read as
    characters."""
    return Path(path).suffix.lower() in TEXT_CORPUS_SUFFIXES


class CorpusRun:
    """What `qvr run MODEL --svi --data corpus.txt` does, step by step: load and window the
    corpus for the model (`CorpusError` if they do not fit), train, evaluate, generate."""

    def __init__(self, model, path, *, num_steps: int = DEFAULT_NUM_STEPS, batch_size: int = 1024,
                 num_train: Optional[int] = None, num_val: Optional[int] = None):
        self.corpus = read_corpus(path)
        self.cm = char_model(model, len(self.corpus.vocab))
        X, Y = windows(self.corpus.indices, num_steps)
        self.train_set, self.val_set = split_windows(X, Y, num_train, num_val)
        self.num_steps = num_steps
        self.batch_size = batch_size
        self.history: Optional[History] = None

    @property
    def vocab(self) -> Vocab:
        return self.corpus.vocab

    def epochs_for(self, steps: int) -> int:
        return math.ceil(steps / steps_per_epoch(self.train_set[0].shape[0], self.batch_size))

    def train(self, steps: int, *, lr: float = 4.0, clip: float = 1.0, seed: int = 0,
              progress: Optional[Callable] = None) -> History:
        self.history = fit(self.cm, self.train_set, self.val_set, epochs=self.epochs_for(steps),
                           max_steps=steps, batch_size=self.batch_size, lr=lr, clip=clip,
                           seed=seed, progress=progress)
        return self.history

    def summary(self) -> dict:
        h = self.history
        return {
            "vocabulary": list(self.vocab.tokens),
            "num_steps": self.num_steps, "batch_size": self.batch_size,
            "train_windows": int(self.train_set[0].shape[0]), "val_windows": int(self.val_set[0].shape[0]),
            "train_perplexity": h.train_ppl[-1] if h and h.train_ppl else None,
            "val_perplexity": h.val_ppl[-1] if h and h.val_ppl else None,
            "train_perplexity_per_epoch": h.train_ppl if h else [],
            "val_perplexity_per_epoch": h.val_ppl if h else [],
            "latent_sites": list(self.cm.latent),
        }

    def generate(self, prompt: str, num_chars: int) -> str:
        return generate(self.cm, self.vocab, prompt, num_chars)
