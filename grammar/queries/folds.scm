;; QVR folds: declarations that usually span lines, long argument lists and block comments.

[
  (program_decl)
  (rule_decl)
  (morphism_decl)
  (continuous_decl)
  (define_decl)
  (export_decl)
  (options)
  (fan)
  (scan)
  (parser)
  (args)
  (block_comment)
] @fold
