"""The finite world (spec §5.9): finite-world expressions as `(|A|, |B|)` tensors over a
quantale, computed exactly by `finite_tensor(module)` (`Program.forward`).

Modules here are also runtime modules: a `latent` relation has its `raw` parameter
(init N(0, s²)); identity and observed relations hold fixed tensors; `marginalize` drops
codomain factors. Sampling (`rsample`) is defined for Markov relations, which are Categorical
kernels; fuzzy relations in other quantales are rejected by the checker (QVR050).
"""
from __future__ import annotations

import torch
from torch import nn

from ..errors import NotSupportedError, QvrError
from ..semantics.types import ObjType, elem_of
from . import combinators as C
from . import kernels as K
from . import values as V
from .base import RuntimeModule

QUANTALES = ("product_fuzzy", "markov", "boolean", "godel", "lukasiewicz", "tropical",
             "real", "log_prob", "max_plus", "probability", "counting")  # + part 2 §5.10
# Algebras whose ⊗ is the product and ⨁ the plain sum: composition is a matrix product.
_SUM_PRODUCT = ("markov", "real", "counting")


# ------------------------------------------------------------------------- quantales ----
def q_tensor(q: str, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """⊗"""
    if q in ("product_fuzzy", "markov", "real", "probability", "counting"):
        return a * b
    if q in ("boolean", "godel"):
        return torch.minimum(a, b)
    if q == "lukasiewicz":
        return (a + b - 1).clamp_min(0)
    if q in ("tropical", "log_prob", "max_plus"):
        return a + b
    raise QvrError(f"unknown quantale `{q}`")


def q_join(q: str, x: torch.Tensor, dim) -> torch.Tensor:
    """⨁ over `dim` (an int or a tuple of ints)."""
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    if not dims:
        return x
    if q == "product_fuzzy":
        return 1 - torch.prod(torch.flatten(1 - x.movedim(dims, tuple(range(-len(dims), 0))), -len(dims)), -1)
    if q in _SUM_PRODUCT:
        return x.sum(dims)
    if q in ("boolean", "godel", "max_plus"):
        return x.amax(dims)
    if q in ("lukasiewicz", "probability"):
        return x.sum(dims).clamp_max(1)
    if q == "tropical":
        return x.amin(dims)
    if q == "log_prob":
        return torch.logsumexp(x, dims)
    raise QvrError(f"unknown quantale `{q}`")


def q_unit(q: str) -> float:
    return 0.0 if q in ("tropical", "log_prob", "max_plus") else 1.0


def q_zero(q: str) -> float:
    if q == "tropical":
        return float("inf")
    return float("-inf") if q in ("log_prob", "max_plus") else 0.0


def q_compose(q: str, f: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """(f;g)[a,c] = ⨁_b f[a,b] ⊗ g[b,c]"""
    if q in _SUM_PRODUCT:
        return f @ g
    return q_join(q, q_tensor(q, f.unsqueeze(-1), g.unsqueeze(0)), 1)


def q_product(q: str, f: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """(f @ g)[(a,c),(b,d)] = f[a,b] ⊗ g[c,d]"""
    A_, B_ = f.shape
    C_, D_ = g.shape
    t = q_tensor(q, f[:, None, :, None], g[None, :, None, :])
    return t.reshape(A_ * C_, B_ * D_)


def identity_tensor(q: str, n: int, dtype=torch.float32, device=None) -> torch.Tensor:
    out = torch.full((n, n), q_zero(q), dtype=dtype, device=device)
    out.fill_diagonal_(q_unit(q))
    return out


# -------------------------------------------------------------------- finite modules ----
class LatentRelation(RuntimeModule):
    """`latent f : A -> B [scale=s]`: the relation sigmoid(raw), raw ~ N(0, s²)."""

    label = "latent"

    def __init__(self, dom, cod, scale: float, quantale: str):
        super().__init__(dom, cod)
        self.quantale = quantale
        self.init_scale = float(scale)
        self.raw = nn.Parameter(torch.empty(elem_of(dom).cardinality, elem_of(cod).cardinality))
        self.reset_parameters()
        self.is_random = quantale == "markov"

    def reset_parameters(self):
        with torch.no_grad():
            self.raw.normal_(0.0, self.init_scale)

    def tensor(self, n_steps=None):
        return torch.sigmoid(self.raw)

    def run(self, x, rec, path, target=None):
        return _sample_rows(self, self.tensor(), x, target)


class FixedRelation(RuntimeModule):
    """`identity(X)` on a finite object, or an observed relation given by a fixed tensor."""

    label = "identity"

    def __init__(self, dom, cod, table: torch.Tensor, quantale: str):
        super().__init__(dom, cod)
        self.quantale = quantale
        self.register_buffer("relation", table)

    def tensor(self, n_steps=None):
        return self.relation

    def run(self, x, rec, path, target=None):
        if self.label == "identity":
            return x, None
        return _sample_rows(self, self.relation, x, target)


def FiniteIdentity(builder, obj: ObjType, quantale: str = "markov"):
    return FixedRelation(obj, obj, identity_tensor(quantale, obj.cardinality), quantale)


def _sample_rows(module, table, x, target):
    """Sample a Markov relation as a Categorical over (normalised) rows."""
    from . import families as FAM
    spec = FAM.FAMILIES["Categorical"]
    probs = table / table.sum(-1, keepdim=True).clamp_min(1e-30)
    rows = probs[V.joint_index(x, elem_of(module.dom))]
    dist = FAM.make_distribution(spec, {"probs": rows.clamp_min(1e-30)})
    return K.sample_or_score(spec, dist, module.cod, target)


class Marginalized(RuntimeModule):
    """`e.marginalize(N, …)`: ⨁-reduce the named codomain factors."""

    label = "marginalize"

    def __init__(self, builder, node):
        inner = builder.expr(node.expr)
        t = builder.a.type_of(node)
        super().__init__(t.dom, t.cod)
        self.inner = inner
        facts = elem_of(inner.cod).factor_types
        names = [n.text for n in node.names]
        self._sizes = [f.cardinality for f in facts]
        self._widths = [f.width for f in facts]
        drop, seen = [], set()
        for name in names:
            for i, f in enumerate(facts):
                if f.name == name and i not in seen:
                    drop.append(i)
                    seen.add(i)
                    break
        self._drop = drop
        self.quantale = quantale_of(inner)
        self.is_random = inner.is_random

    def tensor(self, n_steps=None):
        full = finite_tensor(self.inner, n_steps)
        t = full.reshape(full.shape[0], *self._sizes)
        return q_join(self.quantale, t, tuple(1 + i for i in self._drop)).reshape(full.shape[0], -1)

    def run(self, x, rec, path, target=None):
        if target is not None:
            raise NotSupportedError("a marginalized relation has no closed-form density here; use forward()")
        y, _ = self.inner.run(x, rec, path, None)
        cols = V.split_factors(y, self._widths, [0] * len(self._widths)) if len(self._widths) > 1 else [y]
        keep = [c for i, c in enumerate(cols) if i not in self._drop]
        out = keep[0] if len(keep) == 1 else torch.stack(keep, -1)
        return out, None


class Dagger(RuntimeModule):
    """`e.dagger`: the transpose of a finite-world expression without kernels (spec part 2
    §5.10): its tensor is `e`'s with rows and columns swapped."""

    label = "dagger"

    def __init__(self, builder, node):
        inner = builder.expr(node.expr)
        t = builder.a.type_of(node)
        super().__init__(t.dom, t.cod)
        self.inner = inner
        self.quantale = quantale_of(inner)
        self.is_random = inner.is_random

    def tensor(self, n_steps=None):
        return finite_tensor(self.inner, n_steps).transpose(0, 1)

    def run(self, x, rec, path, target=None):
        return _sample_rows(self, self.tensor(), x, target)


def finite_morphism(builder, info):
    """Runtime module of a declared `latent` or `observed` morphism."""
    t = info.type
    if info.role == "latent":
        return LatentRelation(t.dom, t.cod, (info.options or {}).get("scale") or 0.5, info.quantale)
    # observed: its initializer expression (not trained) is the morphism
    inner = builder.expr(info.init)
    if elem_of(t.dom).is_finite and elem_of(t.cod).is_finite:
        table = finite_tensor(inner).detach()
        # the relation is the initializer's tensor at load time, fixed (not trained)
        rel = FixedRelation(t.dom, t.cod, table, info.quantale)
        rel.label = "observed"
        rel.is_random = info.quantale == "markov"
        return rel
    return inner


def _kernel_tensor(k: K.Kernel) -> torch.Tensor:
    if k.spec.name != "Categorical":
        raise NotSupportedError("only Categorical kernels between finite objects have a finite tensor")
    dom = elem_of(k.dom)
    idx = torch.arange(dom.cardinality, device=k.device)
    x = V.unravel_index(idx, dom)
    return torch.softmax(k.raw(x), dim=-1)


def finite_tensor(module, n_steps=None) -> torch.Tensor:
    """The exact `(|A|, |B|)` tensor of a finite-world module."""
    if hasattr(module, "tensor") and not isinstance(module, C.Composite):
        return module.tensor(n_steps)
    if isinstance(module, K.Kernel):
        return _kernel_tensor(module)
    q = quantale_of(module)
    if isinstance(module, C.Composite):
        out = finite_tensor(module.parts[0], n_steps)
        for part in module.parts[1:]:
            out = q_compose(q, out, finite_tensor(part, n_steps))
        return out
    if isinstance(module, C.Parallel):
        return q_product(q, finite_tensor(module.parts[0], n_steps), finite_tensor(module.parts[1], n_steps))
    if isinstance(module, C.Stack):
        out = finite_tensor(module.copies[0], n_steps)
        for c in module.copies[1:]:
            out = q_compose(q, out, finite_tensor(c, n_steps))
        return out
    if isinstance(module, C.Repeat):
        n = module.n if module.n is not None else (n_steps or 1)
        base = finite_tensor(module.inner, n_steps)
        out = base
        for _ in range(n - 1):
            out = q_compose(q, out, base)
        return out
    raise NotSupportedError(f"{type(module).__name__} is not a finite-world expression")


def quantale_of(module) -> str:
    q = getattr(module, "quantale", None)
    if q is not None:
        return q
    for child in module.modules():
        q = getattr(child, "quantale", None)
        if q is not None and q != "markov":
            return q
    return "markov"
