;; QVR indentation (nvim-treesitter `@indent.*` captures).  Layout carries no meaning in QVR
;; (spec §2.2); these follow the house style of the examples: program steps one level in,
;; continuation lines of bracketed lists one level in, closing brackets back out.

(program_decl) @indent.begin

;; a tier-3 block: its lines after the head are indented (part 2 §2.2); so is the body of a
;; `marginalize` step (§2.3)
(opaque_decl) @indent.begin
(marginalize_step) @indent.begin

[
  (options)
  (params)
  (args)
  (fan)
  (scan)
  (parser)
  (opt_list)
  (id_list)
  (brace_opts)
  (vec)
  (enum_set)
  (kw_list)
  (opt_call)
  (factor_cases)
] @indent.begin

[ ")" "]" "}" ] @indent.branch
[ ")" "]" "}" ] @indent.end

(block_comment) @indent.ignore
