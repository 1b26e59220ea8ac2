"""Statement-level deprecations (spec §4.8, QVR090/091/093–100/109): each classic or 0.11
declaration form gets a Hint with a fix that rewrites the statement to its current form.

Rewrites are built from the source slices of the parts that do not change (signature,
options, initializer), so a fix never reformats anything else; nested deprecated parts
(a `Euclidean` in the signature, a positional family argument) have their own fixes and
`migrate` applies them one after another."""
from __future__ import annotations

from ..syntax import ast as A
from ..syntax.span import Span
from .context import Context


def _items(ctx: Context, *blocks) -> list[str]:
    out = []
    for b in blocks:
        if b is not None:
            out.extend(ctx.src(o.span) for o in b.items)
    return out


def _block(parts: list[str]) -> str:
    return f" [{', '.join(parts)}]" if parts else ""


def _rep(d) -> list[str]:
    r = getattr(d, "replication", None)
    return [f"replicate={r.count.text}"] if r is not None else []


def _whole(ctx: Context, d, code: str, rewrite: str) -> None:
    span = Span(d.keyword.span.start, d.span.end)
    form = ctx.src(span)
    if "\n" in form:
        form = form.split("\n", 1)[0] + " …"
    ctx.deprecated(code, form, rewrite, span, [(span, rewrite)])


def statement_deprecations(ctx: Context, d) -> None:
    rule = _RULES.get(d.__class__)
    if rule is not None:
        rule(ctx, d)


def _object(ctx: Context, d) -> None:
    if isinstance(d.value, A.TypeCard):
        span = Span(d.keyword.span.start, d.value.span.end)
        names = ", ".join(n.text for n in d.names)
        ctx.deprecated("QVR090", ctx.src(span), f"object {names} : FinSet {d.value.value.text}",
                       span, [(d.value.span, f"FinSet {d.value.value.text}")])


def _type_or_space(ctx: Context, d) -> None:
    span = Span(d.keyword.span.start, d.value.span.start)
    gap = Span(d.name.span.end, d.value.span.start)
    ctx.deprecated("QVR091", f"{d.keyword.text} {d.name.text} {'=' if isinstance(d, A.TypeDecl) else ':'} …",
                   f"object {d.name.text} : …", span,
                   [(d.keyword.span, "object"), (gap, " : ")])


def _embed(ctx: Context, d) -> None:
    opts = ["role=embed"] + _items(ctx, d.options) + _rep(d)
    _whole(ctx, d, "QVR093", f"morphism {d.name.text} : {ctx.src(d.sig.span)}{_block(opts)}")


def _continuous(ctx: Context, d) -> None:
    src = ctx.src
    opts = _items(ctx, d.options, d.init_options) + _rep(d)
    _whole(ctx, d, "QVR094",
           f"morphism {d.name.text} : {src(d.sig.span)}{_block(opts)} ~ {src(d.init.span)}")


def _stochastic(ctx: Context, d) -> None:
    opts = _items(ctx, d.options) + _rep(d)
    _whole(ctx, d, "QVR095",
           f"morphism {d.name.text} : {ctx.src(d.sig.span)}{_block(opts)} ~ Categorical")


def _role_with_optional_init(role: str, code: str):
    """The rule for `latent`/`observed` statements: a morphism of that role, keeping its
    `~ init` when it has one."""
    def rule(ctx: Context, d) -> None:
        src = ctx.src
        opts = [f"role={role}"] + _items(ctx, d.options)
        init = f" ~ {src(d.init.span)}" if d.init is not None else ""
        _whole(ctx, d, code, f"morphism {d.name.text} : {src(d.sig.span)}{_block(opts)}{init}")
    return rule


_latent = _role_with_optional_init("latent", "QVR096")
_observed = _role_with_optional_init("observed", "QVR097")


def _discretize(ctx: Context, d) -> None:
    opts = ["role=discretize"] + _items(ctx, d.options)
    _whole(ctx, d, "QVR098", f"morphism {d.name.text} : {ctx.src(d.domain.span)} -> FinSet "
           f"{d.bins.text}{_block(opts)}")


def _morphism(ctx: Context, d) -> None:
    if d.init_options is None or d.init is None:
        return
    src = ctx.src
    moved = _items(ctx, d.init_options)
    span = Span(d.init.span.end, d.init_options.span.end)
    if d.options is not None:
        merged = _block(_items(ctx, d.options) + moved).lstrip()
        edits = [(d.options.span, merged), (span, "")]
    else:
        edits = [(Span(d.sig.span.end, d.sig.span.end), _block(moved)), (span, "")]
    form = f"~ {src(d.init.span)} {src(d.init_options.span)}"
    ctx.deprecated("QVR109", form, f"[{', '.join(moved)}] ~ {src(d.init.span)}",
                   Span(d.tilde.start if d.tilde else d.init.span.start, d.init_options.span.end),
                   edits)


def _define(ctx: Context, d) -> None:
    if d.keyword.text == "let":
        ctx.deprecated("QVR099", f"let {d.name.text} = …", f"define {d.name.text} = …",
                       d.keyword.span, [(d.keyword.span, "define")])


def _export(ctx: Context, d) -> None:
    if d.keyword.text == "output":
        src = ctx.src
        ctx.deprecated("QVR100", f"output {src(d.expr.span)}", f"export {src(d.expr.span)}",
                       d.keyword.span, [(d.keyword.span, "export")])


# The rule for each kind of statement, by class (one look-up per statement).
_RULES = {
    A.ObjectDecl: _object, A.TypeDecl: _type_or_space, A.SpaceDecl: _type_or_space,
    A.EmbedDecl: _embed, A.ContinuousDecl: _continuous, A.StochasticDecl: _stochastic,
    A.LatentDecl: _latent, A.ObservedDecl: _observed, A.DiscretizeDecl: _discretize,
    A.MorphismDecl: _morphism, A.DefineDecl: _define, A.ExportDecl: _export,
}
