;; QVR scopes, definitions and references (nvim-treesitter `@local.*` captures).
;; Top-level names share one namespace (spec §4.2); program parameters and step variables are
;; local to their program; rule variables are local to their rule; the binders of a `factor`
;; comprehension and a lambda's parameter are local to that expression.

;; ---------- scopes ----------

(source_file) @local.scope
(program_decl) @local.scope
(rule_decl) @local.scope
(factor_expr) @local.scope
(lambda) @local.scope

;; ---------- top-level definitions (they belong to the file, not to their own node) ----------

(object_decl name: (identifier) @local.definition.type)
(type_decl name: (identifier) @local.definition.type)
(space_decl name: (identifier) @local.definition.type)
(category_decl name: (identifier) @local.definition.type)

(morphism_decl name: (identifier) @local.definition.function)
(continuous_decl name: (identifier) @local.definition.function)
(stochastic_decl name: (identifier) @local.definition.function)
(latent_decl name: (identifier) @local.definition.function)
(observed_decl name: (identifier) @local.definition.function)
(embed_decl name: (identifier) @local.definition.function)
(discretize_decl name: (identifier) @local.definition.function)
(define_decl name: (identifier) @local.definition.function)
(opaque_decl name: (identifier) @local.definition.function)

;; a program's and a rule's name live in the enclosing (file) scope
(program_decl
  name: (identifier) @local.definition.function
  (#set! definition.function.scope "parent"))
(rule_decl
  name: (identifier) @local.definition.function
  (#set! definition.function.scope "parent"))

;; ---------- program-local definitions ----------

(params parameter: (identifier) @local.definition.parameter)
(typed_param name: (identifier) @local.definition.parameter)
(rule_decl variable: (identifier) @local.definition.parameter)
(pat_var name: (identifier) @local.definition.var)
(pat_tuple name: (identifier) @local.definition.var)
(pat_bracket name: (identifier) @local.definition.var)
(bind_step pattern: (identifier) @local.definition.var)
(let_step name: (identifier) @local.definition.var)
(call_step name: (identifier) @local.definition.var)
(marginalize_step name: (identifier) @local.definition.var)
(score_step name: (identifier) @local.definition.var)
(factor_binder name: (identifier) @local.definition.var)
(lambda parameter: (identifier) @local.definition.parameter)

;; ---------- references ----------

(var name: (identifier) @local.reference)
(ret_var name: (identifier) @local.reference)
(ret_item name: (identifier) @local.reference)
(target name: (identifier) @local.reference)
(call function: (identifier) @local.reference)
(ref name: (identifier) @local.reference)
(type_ref name: (identifier) @local.reference)
(cat_ref name: (identifier) @local.reference)
(identity object: (identifier) @local.reference)
(marginalize factor: (identifier) @local.reference)
(index name: (identifier) @local.reference)
(method_call receiver: (identifier) @local.reference)
(kw_name name: (identifier) @local.reference)
(ctor_name name: (identifier) @local.reference)
