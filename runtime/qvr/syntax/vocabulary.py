"""The words of QVR as plain data (spec §2.5, §4.3–§4.5, §5.2, §5.7).

Torch-free and import-free on purpose: the checker, the completion provider, the tree-sitter
grammar generator and the VS Code TextMate grammar all read these tuples, so the editor
grammars and the runtime agree on one vocabulary.
"""
from __future__ import annotations

#: The 33 reserved words (§2.5, and `factor` of part 2 §2.1); never identifiers (QVR004).
RESERVED: tuple[str, ...] = (
    "object", "type", "space", "quantale", "category", "rule", "morphism", "continuous",
    "stochastic", "latent", "observed", "embed", "discretize", "program", "let", "define",
    "where", "output", "export", "draw", "sample", "observe", "return", "identity",
    "marginalize", "fan", "repeat", "stack", "scan", "parser", "ccg", "lambek", "factor",
)

#: Keywords that begin a top-level statement (where `parse_module` splits chunks).
#: `let` is also a program step; the splitter only splits on it outside program bodies.
STATEMENT_KEYWORDS: tuple[str, ...] = (
    "object", "type", "space", "quantale", "category", "rule", "morphism", "continuous",
    "stochastic", "latent", "observed", "embed", "discretize", "program", "define", "export",
    "output", "let",
)

#: What a statement keyword declares: the kind of the names it introduces (`export`/`output`
#: introduce none). Used where only the keyword is known (a declaration with a syntax error,
#: the outline).
DECLARATION_KINDS: dict[str, str] = {
    "object": "object", "type": "object", "space": "object",
    "quantale": "quantale", "category": "category", "rule": "rule",
    "morphism": "morphism", "continuous": "morphism", "stochastic": "morphism",
    "latent": "morphism", "observed": "morphism", "embed": "morphism", "discretize": "morphism",
    "program": "program", "let": "define", "define": "define", "output": "export",
    "export": "export",
}

#: Keywords that begin a program step.
STEP_KEYWORDS: tuple[str, ...] = ("draw", "sample", "observe", "let", "return")

#: Expression keywords (morphism-expression combinators and grammar parsers).
EXPRESSION_KEYWORDS: tuple[str, ...] = (
    "identity", "marginalize", "fan", "repeat", "stack", "scan", "parser", "ccg", "lambek",
)

#: Reserved words that are also option values, only after `role=` (§2.5).
ROLE_WORDS: tuple[str, ...] = ("embed", "latent", "observed", "discretize")

#: Every value `role=` accepts (§4.4).
ROLES: tuple[str, ...] = ("kernel", "deterministic", "embed", "latent", "observed", "discretize")

#: Object type constructors (§4.3). `DEPRECATED_TYPE_CONSTRUCTORS` are accepted with QVR092.
TYPE_CONSTRUCTORS: tuple[str, ...] = (
    "FinSet", "Real", "Simplex", "Euclidean", "PositiveReals", "UnitInterval",
)
DEPRECATED_TYPE_CONSTRUCTORS: tuple[str, ...] = ("Euclidean", "PositiveReals", "UnitInterval")

#: Distribution families (§5.2): name -> parameter names in positional order.
FAMILIES: dict[str, tuple[str, ...]] = {
    "Normal": ("loc", "scale"),
    "LogitNormal": ("loc", "scale"),
    "LogNormal": ("loc", "scale"),
    "Laplace": ("loc", "scale"),
    "Cauchy": ("loc", "scale"),
    "StudentT": ("df", "loc", "scale"),
    "HalfNormal": ("scale",),
    "HalfCauchy": ("scale",),
    "Exponential": ("rate",),
    "Gamma": ("concentration", "rate"),
    "Beta": ("concentration1", "concentration0"),
    "Uniform": ("low", "high"),
    "TruncatedNormal": ("loc", "scale", "low", "high"),
    "Dirichlet": ("concentration",),
    "MultivariateNormal": ("loc", "scale_tril"),
    "Bernoulli": ("probs",),
    "Categorical": ("probs",),
}

#: Alternative keyword names per family (§5.2 "alt. names"): alt -> canonical parameter.
FAMILY_ALIASES: dict[str, dict[str, str]] = {
    "LogitNormal": {"mu": "loc", "sigma": "scale"},
    "TruncatedNormal": {"mu": "loc", "sigma": "scale"},
    "Bernoulli": {"logits": "probs"},
    "Categorical": {"logits": "probs"},
}

#: Families with a `scale` parameter the `scale` option can fix (§5.2 last column).
SCALE_FAMILIES: tuple[str, ...] = (
    "Normal", "LogitNormal", "LogNormal", "Laplace", "Cauchy", "StudentT", "HalfNormal",
    "HalfCauchy", "TruncatedNormal", "MultivariateNormal",
)

#: Families that cannot be used inline in a program step (§5.2).
KERNEL_ONLY_FAMILIES: tuple[str, ...] = ("MultivariateNormal",)

#: The 10 builtin functions callable in program `let` steps and arguments (§5.7).
BUILTINS: tuple[str, ...] = (
    "sigmoid", "tanh", "exp", "log", "abs", "softplus", "relu", "sqrt", "logit", "softmax",
)

#: Option keys (§4.4): key -> short description of the expected value.
OPTION_KEYS: dict[str, str] = {
    "role": "kernel | deterministic | embed | latent | observed | discretize",
    "scale": "number > 0",
    "param_source": "affine | mlp",
    "hidden_dim": "integer >= 1",
    "n_layers": "integer >= 1",
    "replicate": "integer >= 1",
    "temperature": "number > 0",
}

#: Keyword arguments of type constructors (`Real n {low=…, high=…}`).
CONSTRUCTOR_KEYS: tuple[str, ...] = ("low", "high")

#: `scan(...)` options and their allowed values, first is the default (§5.6).
SCAN_OPTIONS: dict[str, tuple[str, ...]] = {
    "init": ("zeros", "learned"),
    "states": ("last", "all"),
    "direction": ("forward", "backward"),
}

#: Quantales (`quantale NAME`, matched case-insensitively; §4.5). Default first.
QUANTALES: tuple[str, ...] = (
    "product_fuzzy", "boolean", "lukasiewicz", "godel", "tropical", "markov",
)

#: Built-in rule schemas for grammar parsers (§4.5).
BUILTIN_SCHEMAS: tuple[str, ...] = (
    "evaluation", "harmonic_composition", "crossed_composition", "adjunction_units",
    "tensor_introduction", "tensor_projection", "modal_introduction", "modal_elimination",
)

#: Arguments of `parser(...)`, `ccg(...)`, `lambek(...)` (§4.5).
PARSER_ARGS: tuple[str, ...] = ("rules", "categories", "terminal", "start", "depth", "constructors")
PARSER_CONSTRUCTORS: tuple[str, ...] = ("slash", "diamond", "box", "unit")


#: Head words of opaque (tier-3) blocks besides `define NAME (`/`[` and `composition` with an
#: indented body (spec part 2 §2.2).
OPAQUE_HEADS: tuple[str, ...] = (
    "deduction", "signature", "encoder", "decoder", "loss", "index", "family", "effect",
    "instance", "handler", "schema", "bundle", "contraction",
)

#: The OPAQUE_BLOCK terminal of qvr.lark (part 2 §3.1), for scanners that work without lark;
#: tests/syntax/test_syntax_vocabulary.py checks that it is the grammar's pattern.
OPAQUE_BLOCK: str = (
    r"(?<![^\n])(?:(?:" + "|".join(OPAQUE_HEADS) + r")[ \t]+(?!\d)\w"
    r"|define[ \t]+(?!\d)\w+[ \t]*[\[(]"
    r"|composition[ \t]+(?!\d)\w[^\n]*(?=(?:\n[ \t]*(?=\n))*\n[ \t]+[^\s#]))"
    r"[^\n]*(?:\n(?:[ \t]*\n)*(?:[ \t]+\S|[)\]}])[^\n]*)*"
)
