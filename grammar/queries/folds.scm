;; QVR folds: declarations that usually span lines, long argument lists and block comments.
;; A `marginalize` body is the run of deeper-indented steps after it (part 2 §2.3), decided by
;; columns as for `where`; the tree is flat (as lark's), so only the step itself can fold.

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
