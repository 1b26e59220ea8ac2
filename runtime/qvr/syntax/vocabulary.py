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

#: Distribution families (§5.2; spec part 2 §5.9: tier 1, then tier 2): name -> parameter
#: names in positional order (an alternative group such as `probs | logits` by its first name).
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
    "Poisson": ("rate",),
    "NegativeBinomial": ("total_count", "probs"),
    "Geometric": ("probs",),
    "Binomial": ("total_count", "probs"),
    "BetaBinomial": ("total_count", "concentration1", "concentration0"),
    "ZeroInflatedPoisson": ("zero_prob", "rate"),
    "HurdlePoisson": ("zero_prob", "rate"),
    "Gumbel": ("loc", "scale"),
    "Logistic": ("loc", "scale"),
    "HalfStudentT": ("df", "scale"),
    "Chi2": ("df",),
    "InverseGamma": ("concentration", "rate"),
    "Weibull": ("scale", "concentration"),
    "Pareto": ("scale", "alpha"),
    "Kumaraswamy": ("concentration1", "concentration0"),
    "ContinuousBernoulli": ("probs",),
    "RelaxedBernoulli": ("temperature", "probs"),
    "FisherSnedecor": ("df1", "df2"),
    "VonMises": ("loc", "concentration"),
    "RelaxedOneHotCategorical": ("temperature", "probs"),
    "MixtureNormal": ("weights", "loc", "scale"),
    "LKJCholesky": ("concentration",),
    "OneHotCategorical": ("probs",),
    "OrderedLogistic": ("predictor", "cutpoints"),
    "OrderedProbit": ("predictor", "cutpoints"),
    "Horseshoe": ("scale",),
    "ZeroOneInflatedBeta": ("mu", "phi", "zoi", "coi"),
    "LogisticNormal": ("loc", "scale"),
    "LowRankMVN": ("loc", "cov_factor", "cov_diag"),
    "Wishart": ("df", "covariance_matrix"),
    "InverseWishart": ("df", "scale_tril"),
    "MatrixNormal": ("loc", "row_covariance", "col_covariance"),
    "GP": ("mean", "kernel"),
    "LKJCorrelationFactor": ("concentration",),
    "Mixture": ("weights", "components"),
    "Restrict": ("base", "low", "high"),
    "Truncate": ("base", "low", "high"),
    "Truncated": ("base", "low", "high"),
    "Normalize": ("base",),
    "PointMass": ("value",),
    "Transformed": ("base", "transforms"),
    "Pushforward": ("base", "transforms"),
    "Independent": ("base", "reinterpreted_batch_ndims"),
}

#: Alternative keyword names per family (§5.2 "alt. names"): alt -> canonical parameter.
FAMILY_ALIASES: dict[str, dict[str, str]] = {
    "LogitNormal": {"mu": "loc", "sigma": "scale"},
    "TruncatedNormal": {"mu": "loc", "sigma": "scale"},
    "Bernoulli": {"logits": "probs"},
    "Categorical": {"logits": "probs"},
    "MultivariateNormal": {"covariance_matrix": "scale_tril", "precision_matrix": "scale_tril"},
    **{name: {"logits": "probs"} for name in (
        "NegativeBinomial", "Geometric", "Binomial", "ContinuousBernoulli", "RelaxedBernoulli",
        "RelaxedOneHotCategorical", "OneHotCategorical")},
    "OrderedLogistic": {"eta": "predictor"},
    "OrderedProbit": {"eta": "predictor"},
}

#: Families with a `scale` parameter the `scale` option can fix (§5.2 last column).
SCALE_FAMILIES: tuple[str, ...] = (
    "Normal", "LogitNormal", "LogNormal", "Laplace", "Cauchy", "StudentT", "HalfNormal",
    "HalfCauchy", "TruncatedNormal", "MultivariateNormal",
)

#: Families that cannot be used inline in a program step (§5.2). Part 2 §5.9 makes
#: MultivariateNormal usable inline, so there are none.
KERNEL_ONLY_FAMILIES: tuple[str, ...] = ()

#: Builtin functions of program expressions (§5.7; spec part 2 §5.8), by what they do.
#: Elementwise, one argument (P1's nine first):
ELEMENTWISE_BUILTINS: tuple[str, ...] = (
    "sigmoid", "tanh", "exp", "log", "abs", "softplus", "relu", "sqrt", "logit",
    "log1p", "expm1", "square", "rsqrt", "reciprocal", "sign", "floor", "ceil", "round", "trunc",
    "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh",
    "erf", "erfc", "erfinv", "lgamma", "digamma", "log2", "log10", "logsigmoid", "softsign",
    "relu6", "elu", "selu", "gelu", "silu", "mish",
)
#: Over the last axis, width-preserving, one argument:
LAST_AXIS_BUILTINS: tuple[str, ...] = ("softmax", "log_softmax", "cumsum", "sort", "normalize")
#: Reductions of the last axis, one argument:
REDUCTION_BUILTINS: tuple[str, ...] = ("sum", "mean", "prod", "logsumexp", "min", "max")
#: Elementwise, two arguments (`min` and `max` take one or two):
BINARY_BUILTINS: tuple[str, ...] = ("pow", "min", "max")

#: Every builtin name (P1's ten first, in P1's order).
BUILTINS: tuple[str, ...] = tuple(dict.fromkeys((
    "sigmoid", "tanh", "exp", "log", "abs", "softplus", "relu", "sqrt", "logit", "softmax",
    *ELEMENTWISE_BUILTINS, *LAST_AXIS_BUILTINS, *REDUCTION_BUILTINS, *BINARY_BUILTINS,
)))

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

#: Quantales (`quantale NAME`, matched case-insensitively; §4.5), default first, then the
#: algebras spec part 2 §5.10 adds (also selected by `composition NAME [level=algebra]`).
QUANTALES: tuple[str, ...] = (
    "product_fuzzy", "boolean", "lukasiewicz", "godel", "tropical", "markov",
    "real", "log_prob", "max_plus", "probability", "counting",
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
