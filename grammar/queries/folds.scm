;; QVR folds: declarations that usually span lines, long argument lists and block comments,
;; tier-3 blocks and `marginalize` steps with their bodies (part 2 §2.2, §2.3).

[
  (program_decl)
  (rule_decl)
  (morphism_decl)
  (continuous_decl)
  (define_decl)
  (export_decl)
  (opaque_decl)
  (marginalize_step)
  (factor_cases)
  (options)
  (fan)
  (scan)
  (parser)
  (args)
  (block_comment)
] @fold
