;; QVR text objects (nvim-treesitter-textobjects captures).
;; A program is the "function"; its parameters, and the arguments of draws and calls, are the
;; "parameters"; declarations and program steps are "statements".

(program_decl) @function.outer
(program_decl step: (_) @function.inner)
(program_decl return: (return_step) @function.inner)

(morphism_decl) @class.outer
(define_decl value: (_) @class.inner) @class.outer

(params parameter: (identifier) @parameter.inner)
(params parameter: (identifier) @parameter.outer)
(params parameter: (typed_param) @parameter.inner)
(params parameter: (typed_param) @parameter.outer)
(args argument: (_) @parameter.inner)
(args argument: (_) @parameter.outer)
(call argument: (_) @parameter.inner)
(method_call argument: (_) @parameter.inner)

(target) @call.outer
(target arguments: (args) @call.inner)
(call) @call.outer
(family_call) @call.outer
(method_call) @call.outer
(opaque_decl) @class.outer

(_statement) @statement.outer
(_step) @statement.outer
(return_step) @statement.outer

(return_step) @return.outer
(return_step pattern: (_) @return.inner)

[ (comment) (doc_comment) (block_comment) ] @comment.outer
