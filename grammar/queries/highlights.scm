;; QVR syntax highlighting (nvim-treesitter capture names).
;; Neovim gives later patterns precedence, so general captures come first and specific ones
;; after them.  The `#any-of?` lists between GENERATED markers are written by
;; grammar/gen_vocabulary.py from qvr.syntax.vocabulary; do not edit them by hand.

(identifier) @variable

;; ---------- keywords, operators, punctuation ----------

[
  "object"
  "type"
  "space"
  "quantale"
  "category"
  "rule"
  "morphism"
  "continuous"
  "stochastic"
  "program"
  "let"
  "define"
  "where"
  "output"
  "export"
  "draw"
  "sample"
  "observe"
  "identity"
  "marginalize"
  "fan"
  "repeat"
  "stack"
  "scan"
  "parser"
  "ccg"
  "lambek"
  "factor"
  "embed" "latent" "observed" "discretize"
] @keyword

;; soft keywords (part 2 §2.1): ordinary words that the checker requires in these positions
;; (any other word there is an error, so it is not shown as a keyword)
(composition_decl keyword: (identifier) @keyword (#eq? @keyword "composition"))
(score_step keyword: (identifier) @keyword (#eq? @keyword "score"))
(factor_expr in: (identifier) @keyword (#eq? @keyword "in"))

"return" @keyword.return

[
  "->" "<-" ">>" "<<" ">=>" "@" "~" "*" "+" "-" "/" "\\" "="
] @operator

(rule_arrow) @operator

(lambda "->" @operator)
(factor_case "->" @operator)

[ "(" ")" "[" "]" "{" "}" ] @punctuation.bracket

[ "," ":" "." ] @punctuation.delimiter

;; ---------- literals and comments ----------

[ (integer) (float) ] @number

(negative_number "-" @number)

[ (comment) (block_comment) ] @comment

(doc_comment) @comment.documentation

;; pragmas `#[...]` and `#![...]` (comments to the checker, part 1 §2.3), inside blocks too;
;; two patterns because Neovim's (vim) regexes and py-tree-sitter's read `?` differently
((comment) @attribute
  (#match? @attribute "^#\\["))
((comment) @attribute
  (#match? @attribute "^#!\\["))

;; ---------- types ----------

(type_ref name: (identifier) @type)
(cat_ref name: (identifier) @type)
(type_ctor constructor: (identifier) @type)
(type_call constructor: (identifier) @type)
(bracket_ctor constructor: (identifier) @type)
(identity object: (identifier) @type)
(object_decl name: (identifier) @type.definition)
(type_decl name: (identifier) @type.definition)
(space_decl name: (identifier) @type.definition)
(category_decl name: (identifier) @type.definition)
(rule_decl variable: (identifier) @type)
(enum_set label: (identifier) @constant)
(ctor_name name: (identifier) @type)
(kind_ref name: (identifier) @type)
(kind_mor name: (identifier) @type)

;; ---------- morphisms, programs, calls ----------

(morphism_decl name: (identifier) @function)
(continuous_decl name: (identifier) @function)
(stochastic_decl name: (identifier) @function)
(latent_decl name: (identifier) @function)
(observed_decl name: (identifier) @function)
(embed_decl name: (identifier) @function)
(discretize_decl name: (identifier) @function)
(program_decl name: (identifier) @function)
(define_decl name: (identifier) @function)
(rule_decl name: (identifier) @function)
(quantale_decl name: (identifier) @constant.builtin)
(composition_decl name: (identifier) @constant.builtin)

(ref name: (identifier) @function)
(target name: (identifier) @function.call)
(call function: (identifier) @function.call)
(family_call family: (identifier) @function.call)
(method method: (identifier) @function.method)
(method_call method: (identifier) @function.method.call)
(opt_call function: (identifier) @function.call)

;; distribution families (spec §5.2) wherever a morphism or draw target may stand
(ref name: (identifier) @type.builtin
  (#any-of? @type.builtin
    ; BEGIN GENERATED families
    "Normal" "LogitNormal" "LogNormal" "Laplace" "Cauchy" "StudentT" "HalfNormal" "HalfCauchy" "Exponential" "Gamma" "Beta" "Uniform" "TruncatedNormal" "Dirichlet" "MultivariateNormal" "Bernoulli" "Categorical" "Poisson" "NegativeBinomial" "Geometric" "Binomial" "BetaBinomial" "ZeroInflatedPoisson" "HurdlePoisson" "Gumbel" "Logistic" "HalfStudentT" "Chi2" "InverseGamma" "Weibull" "Pareto" "Kumaraswamy" "ContinuousBernoulli" "RelaxedBernoulli" "FisherSnedecor" "VonMises" "RelaxedOneHotCategorical" "MixtureNormal" "LKJCholesky" "OneHotCategorical" "OrderedLogistic" "OrderedProbit" "Horseshoe" "ZeroOneInflatedBeta" "LogisticNormal" "LowRankMVN" "Wishart" "InverseWishart" "MatrixNormal" "GP" "LKJCorrelationFactor" "Mixture" "Restrict" "Truncate" "Truncated" "Normalize" "PointMass" "Transformed" "Pushforward" "Independent"
    ; END GENERATED families
    ))
(target name: (identifier) @type.builtin
  (#any-of? @type.builtin
    ; BEGIN GENERATED families
    "Normal" "LogitNormal" "LogNormal" "Laplace" "Cauchy" "StudentT" "HalfNormal" "HalfCauchy" "Exponential" "Gamma" "Beta" "Uniform" "TruncatedNormal" "Dirichlet" "MultivariateNormal" "Bernoulli" "Categorical" "Poisson" "NegativeBinomial" "Geometric" "Binomial" "BetaBinomial" "ZeroInflatedPoisson" "HurdlePoisson" "Gumbel" "Logistic" "HalfStudentT" "Chi2" "InverseGamma" "Weibull" "Pareto" "Kumaraswamy" "ContinuousBernoulli" "RelaxedBernoulli" "FisherSnedecor" "VonMises" "RelaxedOneHotCategorical" "MixtureNormal" "LKJCholesky" "OneHotCategorical" "OrderedLogistic" "OrderedProbit" "Horseshoe" "ZeroOneInflatedBeta" "LogisticNormal" "LowRankMVN" "Wishart" "InverseWishart" "MatrixNormal" "GP" "LKJCorrelationFactor" "Mixture" "Restrict" "Truncate" "Truncated" "Normalize" "PointMass" "Transformed" "Pushforward" "Independent"
    ; END GENERATED families
    ))
(family_call family: (identifier) @type.builtin
  (#any-of? @type.builtin
    ; BEGIN GENERATED families
    "Normal" "LogitNormal" "LogNormal" "Laplace" "Cauchy" "StudentT" "HalfNormal" "HalfCauchy" "Exponential" "Gamma" "Beta" "Uniform" "TruncatedNormal" "Dirichlet" "MultivariateNormal" "Bernoulli" "Categorical" "Poisson" "NegativeBinomial" "Geometric" "Binomial" "BetaBinomial" "ZeroInflatedPoisson" "HurdlePoisson" "Gumbel" "Logistic" "HalfStudentT" "Chi2" "InverseGamma" "Weibull" "Pareto" "Kumaraswamy" "ContinuousBernoulli" "RelaxedBernoulli" "FisherSnedecor" "VonMises" "RelaxedOneHotCategorical" "MixtureNormal" "LKJCholesky" "OneHotCategorical" "OrderedLogistic" "OrderedProbit" "Horseshoe" "ZeroOneInflatedBeta" "LogisticNormal" "LowRankMVN" "Wishart" "InverseWishart" "MatrixNormal" "GP" "LKJCorrelationFactor" "Mixture" "Restrict" "Truncate" "Truncated" "Normalize" "PointMass" "Transformed" "Pushforward" "Independent"
    ; END GENERATED families
    ))

;; builtin functions (spec §5.7) in `let` and argument calls
(call function: (identifier) @function.builtin
  (#any-of? @function.builtin
    ; BEGIN GENERATED builtins
    "sigmoid" "tanh" "exp" "log" "abs" "softplus" "relu" "sqrt" "logit" "softmax" "log1p" "expm1" "square" "rsqrt" "reciprocal" "sign" "floor" "ceil" "round" "trunc" "sin" "cos" "tan" "asin" "acos" "atan" "sinh" "cosh" "asinh" "acosh" "atanh" "erf" "erfc" "erfinv" "lgamma" "digamma" "log2" "log10" "logsigmoid" "softsign" "relu6" "elu" "selu" "gelu" "silu" "mish" "log_softmax" "cumsum" "sort" "normalize" "sum" "mean" "prod" "logsumexp" "min" "max" "pow"
    ; END GENERATED builtins
    ))

;; ---------- program variables ----------

(params parameter: (identifier) @variable.parameter)
(typed_param name: (identifier) @variable.parameter)
(lambda parameter: (identifier) @variable.parameter)
(factor_binder name: (identifier) @variable.parameter)
(ret_item label: (identifier) @label)

;; ---------- options and keyword arguments ----------

(option key: (identifier) @property)
(kwarg key: (identifier) @property)
(scan_opt key: (identifier) @property)
(parser_arg key: (identifier) @property)
(named_arg key: (identifier) @variable.parameter)
(option value: (identifier) @constant)
(scan_opt value: (identifier) @constant)
(opt_list item: (identifier) @constant)
(role_word) @constant.builtin
(kw_name name: (identifier) @constant)
(kw_list item: (identifier) @constant)

;; ---------- opaque (tier-3) blocks: a flat run of tokens (part 2 §2.2, §3.3) ----------

(opaque_decl head: (block_head) @keyword)
(opaque_decl name: (identifier) @function)
(opaque_decl (word) @variable)
(opaque_decl (number) @number)
(opaque_decl (string) @string)
(opaque_decl (punctuation) @punctuation.delimiter)
;; family names written inside a block
(opaque_decl (word) @type.builtin
  (#any-of? @type.builtin
    ; BEGIN GENERATED families
    "Normal" "LogitNormal" "LogNormal" "Laplace" "Cauchy" "StudentT" "HalfNormal" "HalfCauchy" "Exponential" "Gamma" "Beta" "Uniform" "TruncatedNormal" "Dirichlet" "MultivariateNormal" "Bernoulli" "Categorical" "Poisson" "NegativeBinomial" "Geometric" "Binomial" "BetaBinomial" "ZeroInflatedPoisson" "HurdlePoisson" "Gumbel" "Logistic" "HalfStudentT" "Chi2" "InverseGamma" "Weibull" "Pareto" "Kumaraswamy" "ContinuousBernoulli" "RelaxedBernoulli" "FisherSnedecor" "VonMises" "RelaxedOneHotCategorical" "MixtureNormal" "LKJCholesky" "OneHotCategorical" "OrderedLogistic" "OrderedProbit" "Horseshoe" "ZeroOneInflatedBeta" "LogisticNormal" "LowRankMVN" "Wishart" "InverseWishart" "MatrixNormal" "GP" "LKJCorrelationFactor" "Mixture" "Restrict" "Truncate" "Truncated" "Normalize" "PointMass" "Transformed" "Pushforward" "Independent"
    ; END GENERATED families
    ))
