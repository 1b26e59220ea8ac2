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
    src = ctx.src
    if isinstance(d, A.ObjectDecl) and isinstance(d.value, A.TypeCard):
        span = Span(d.keyword.span.start, d.value.span.end)
        names = ", ".join(n.text for n in d.names)
        ctx.deprecated("QVR090", src(span), f"object {names} : FinSet {d.value.value.text}", span,
                       [(d.value.span, f"FinSet {d.value.value.text}")])
    elif isinstance(d, (A.TypeDecl, A.SpaceDecl)):
        span = Span(d.keyword.span.start, d.value.span.start)
        gap = Span(d.name.span.end, d.value.span.start)
        ctx.deprecated("QVR091", f"{d.keyword.text} {d.name.text} {'=' if isinstance(d, A.TypeDecl) else ':'} …",
                       f"object {d.name.text} : …", span,
                       [(d.keyword.span, "object"), (gap, " : ")])
    elif isinstance(d, A.EmbedDecl):
        opts = ["role=embed"] + _items(ctx, d.options) + _rep(d)
        _whole(ctx, d, "QVR093", f"morphism {d.name.text} : {src(d.sig.span)}{_block(opts)}")
    elif isinstance(d, A.ContinuousDecl):
        opts = _items(ctx, d.options, d.init_options) + _rep(d)
        _whole(ctx, d, "QVR094",
               f"morphism {d.name.text} : {src(d.sig.span)}{_block(opts)} ~ {src(d.init.span)}")
    elif isinstance(d, A.StochasticDecl):
        opts = _items(ctx, d.options) + _rep(d)
        _whole(ctx, d, "QVR095",
               f"morphism {d.name.text} : {src(d.sig.span)}{_block(opts)} ~ Categorical")
    elif isinstance(d, A.LatentDecl):
        opts = ["role=latent"] + _items(ctx, d.options)
        init = f" ~ {src(d.init.span)}" if d.init is not None else ""
        _whole(ctx, d, "QVR096", f"morphism {d.name.text} : {src(d.sig.span)}{_block(opts)}{init}")
    elif isinstance(d, A.ObservedDecl):
        opts = ["role=observed"] + _items(ctx, d.options)
        init = f" ~ {src(d.init.span)}" if d.init is not None else ""
        _whole(ctx, d, "QVR097", f"morphism {d.name.text} : {src(d.sig.span)}{_block(opts)}{init}")
    elif isinstance(d, A.DiscretizeDecl):
        opts = ["role=discretize"] + _items(ctx, d.options)
        _whole(ctx, d, "QVR098", f"morphism {d.name.text} : {src(d.domain.span)} -> FinSet "
               f"{d.bins.text}{_block(opts)}")
    elif isinstance(d, A.MorphismDecl) and d.init_options is not None and d.init is not None:
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
    elif isinstance(d, A.DefineDecl) and d.keyword.text == "let":
        ctx.deprecated("QVR099", f"let {d.name.text} = …", f"define {d.name.text} = …",
                       d.keyword.span, [(d.keyword.span, "define")])
    elif isinstance(d, A.ExportDecl) and d.keyword.text == "output":
        ctx.deprecated("QVR100", f"output {src(d.expr.span)}", f"export {src(d.expr.span)}",
                       d.keyword.span, [(d.keyword.span, "export")])
