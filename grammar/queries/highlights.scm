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
  "embed" "latent" "observed" "discretize"
] @keyword

"return" @keyword.return

[
  "->" "<-" ">>" "<<" ">=>" "@" "~" "*" "+" "-" "/" "\\" "="
] @operator

(rule_arrow) @operator

[ "(" ")" "[" "]" "{" "}" ] @punctuation.bracket

[ "," ":" "." ] @punctuation.delimiter

;; ---------- literals and comments ----------

[ (integer) (float) ] @number

(negative_number "-" @number)

[ (comment) (block_comment) ] @comment

(doc_comment) @comment.documentation

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

(ref name: (identifier) @function)
(target name: (identifier) @function.call)
(call function: (identifier) @function.call)
(family_call family: (identifier) @function.call)

;; distribution families (spec §5.2) wherever a morphism or draw target may stand
(ref name: (identifier) @type.builtin
  (#any-of? @type.builtin
    ; BEGIN GENERATED families
    "Normal" "LogitNormal" "LogNormal" "Laplace" "Cauchy" "StudentT" "HalfNormal" "HalfCauchy" "Exponential" "Gamma" "Beta" "Uniform" "TruncatedNormal" "Dirichlet" "MultivariateNormal" "Bernoulli" "Categorical"
    ; END GENERATED families
    ))
(target name: (identifier) @type.builtin
  (#any-of? @type.builtin
    ; BEGIN GENERATED families
    "Normal" "LogitNormal" "LogNormal" "Laplace" "Cauchy" "StudentT" "HalfNormal" "HalfCauchy" "Exponential" "Gamma" "Beta" "Uniform" "TruncatedNormal" "Dirichlet" "MultivariateNormal" "Bernoulli" "Categorical"
    ; END GENERATED families
    ))
(family_call family: (identifier) @type.builtin
  (#any-of? @type.builtin
    ; BEGIN GENERATED families
    "Normal" "LogitNormal" "LogNormal" "Laplace" "Cauchy" "StudentT" "HalfNormal" "HalfCauchy" "Exponential" "Gamma" "Beta" "Uniform" "TruncatedNormal" "Dirichlet" "MultivariateNormal" "Bernoulli" "Categorical"
    ; END GENERATED families
    ))

;; builtin functions (spec §5.7) in `let` and argument calls
(call function: (identifier) @function.builtin
  (#any-of? @function.builtin
    ; BEGIN GENERATED builtins
    "sigmoid" "tanh" "exp" "log" "abs" "softplus" "relu" "sqrt" "logit" "softmax"
    ; END GENERATED builtins
    ))

;; ---------- program variables ----------

(params parameter: (identifier) @variable.parameter)
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
