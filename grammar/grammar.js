/**
 * Tree-sitter grammar for QVR (spec §3.1), the editor's grammar.
 *
 * It mirrors the normative lark grammar rule by rule so that the two accept the same language
 * (tests/grammar/test_conformance.py checks this).  Node names are the lark alias names
 * (`object_decl`, `draw_step`, `compose`, `family_call`, ...); lark's inlined `?rules` become
 * hidden rules (`_mexpr`, `_arith`, ...), so parentheses produce no nodes, as in the AST.
 *
 * It covers the current forms of spec part 2 §3.1 too.  Layout is insignificant (spec §2.2):
 * newlines are ordinary whitespace and a program body ends with its `return` step; the one
 * exception is the opaque (tier-3) block of part 2 §2.2, which starts at column 0 and ends by
 * indentation, and which the scanner lexes (see `externals`), and the body of a `marginalize`
 * step (part 2 §2.3), which the scanner delimits by columns (lark's tree is flat there).
 * Soft keywords (`composition`, `score`, `in`) are plain identifiers here, as in lark; the
 * checker requires the exact word.  Words are lexed by the external scanner (src/scanner.c), which
 * makes reserved words unconditional keywords exactly as lark's basic lexer does (so, unlike
 * the latitude spec §3.5 allows, a reserved word in a name position is a syntax error here
 * too) and lets error recovery resynchronise at the next statement keyword.
 *
 * Keywords are written with `kw(...)`, which checks them against vocabulary.json (generated
 * from qvr.syntax.vocabulary by gen_vocabulary.py); generation fails if the grammar's keywords
 * and the reserved words of the spec ever diverge.
 */

const VOCABULARY = require('./vocabulary.json');
const RESERVED = new Set(VOCABULARY.RESERVED);
const usedKeywords = new Set();

/** A reserved word of QVR; fails generation if it is not in the vocabulary. */
function kw(word) {
  if (!RESERVED.has(word)) {
    throw new Error(`grammar.js: keyword '${word}' is not a reserved word in vocabulary.json`);
  }
  usedKeywords.add(word);
  return word;
}

/** `rule ("," rule)*` */
function sep1(rule) {
  return seq(rule, repeat(seq(',', rule)));
}

/** `rule ("," rule)* ","?` */
function sep1Trailing(rule) {
  return seq(sep1(rule), optional(','));
}

const grammar_definition = {
  name: 'qvr',

  // Every word is lexed by src/scanner.c so that a reserved word is never an identifier
  // (see the comment there); it also emits the zero-width `missing_return` and `_statement_end`
  // markers, and `_error_sentinel` tells it when tree-sitter is recovering from an error.  The order
  // must match the scanner's token indices.
  //
  // Opaque (tier-3) blocks, spec part 2 §2.2, are lexed by the scanner too.  Lark reads a block
  // as one token; here the scanner emits the block as a flat run of small tokens so that
  // editors can highlight inside it: `block_head` (the head word, only at column 0 and only
  // when the rest of the head matches), `_block_name` (the name after the head, any word),
  // then `word`, `number`, `string`, comment and `punctuation` tokens up to the zero-width
  // `_block_end`, which the scanner emits where the extent rule of §2.2 ends the block (before
  // the first line that neither is indented nor starts with a closing bracket; trailing blank
  // lines stay outside).  The scanner knows it is inside a block because `_block_end` is
  // valid there and nowhere else, so it needs no state.  `_body_continues` is a zero-width
  // marker between program steps: it says "the word at column 0 that looks like a block head
  // is not one, the body goes on" (see src/scanner.c).
  externals: $ => [
    ...VOCABULARY.RESERVED, $.identifier, $.missing_return, $._statement_end, $._error_sentinel,
    $.block_head, $._block_name, $._block_end, $._body_continues,
    $.word, $.number, $.string, $._block_comment_line, $.punctuation,
    $._marginalize_body_start, $._marginalize_body_end,
  ],

  // The conventional word token.  Keyword extraction has nothing to do here (the keywords are
  // external tokens, lexed by the scanner), but tools and queries expect `identifier` as the word.
  word: $ => $.identifier,

  extras: $ => [/[ \t\f\r\n\uFEFF]/, $.comment, $.doc_comment, $.block_comment],

  supertypes: $ => [$._statement, $._step],

  rules: {
    // `_statement_end` is a zero-width marker from the scanner (see src/scanner.c): it only
    // makes unchanged statements reusable by incremental parsing.  Optional so that error
    // recovery may resume at a statement keyword without it.
    source_file: $ => repeat(seq($._statement, optional($._statement_end))),

    _statement: $ => choice(
      $.object_decl, $.type_decl, $.space_decl,
      $.quantale_decl, $.category_decl, $.rule_decl,
      $.morphism_decl, $.continuous_decl, $.stochastic_decl,
      $.latent_decl, $.observed_decl, $.embed_decl, $.discretize_decl,
      $.program_decl, $.define_decl, $.export_decl,
      $.composition_decl, $.opaque_decl,
    ),

    // ---------- objects and spaces ----------
    object_decl: $ => seq(
      kw('object'), sep1(field('name', $.identifier)), ':', field('value', $._object_value),
    ),
    type_decl: $ => seq(kw('type'), field('name', $.identifier), '=', field('value', $._object_value)),
    space_decl: $ => seq(kw('space'), field('name', $.identifier), ':', field('value', $._object_value)),

    _object_value: $ => choice($._type_expr, $.bracket_ctor, $.enum_set),
    enum_set: $ => seq('{', sep1Trailing(field('label', $.identifier)), '}'),
    bracket_ctor: $ => seq(
      field('constructor', $.identifier), repeat1(field('argument', $._number)),
      '[', sep1Trailing(field('option', $.kwarg)), ']',
    ),

    _type_expr: $ => choice($._type_prod, $.coproduct),
    coproduct: $ => seq(
      field('left', $._type_expr), field('operator', '+'), field('right', $._type_prod),
    ),
    _type_prod: $ => choice($._type_atom, $.product),
    product: $ => seq(
      field('left', $._type_prod), field('operator', '*'), field('right', $._type_atom),
    ),
    _type_atom: $ => choice(
      $.type_ref, $.type_card, $.type_ctor, $.type_call, seq('(', $._type_expr, ')'),
    ),
    type_ref: $ => field('name', $.identifier),
    type_card: $ => $.integer,
    type_ctor: $ => seq(
      field('constructor', $.identifier), repeat1(field('argument', $._number)),
      optional(field('options', $.brace_opts)),
    ),
    type_call: $ => seq(
      field('constructor', $.identifier),
      '(', optional(sep1(field('argument', choice($._signed_number, $.kwarg, $.ctor_name)))), ')',
      optional(field('options', $.brace_opts)),
    ),
    brace_opts: $ => seq('{', sep1Trailing(field('option', $.kwarg)), '}'),
    ctor_name: $ => field('name', $.identifier),
    kwarg: $ => seq(field('key', $.identifier), '=', field('value', $._kw_value)),
    _kw_value: $ => choice($._signed_number, $.kw_name, $.kw_list),
    kw_name: $ => field('name', $.identifier),
    kw_list: $ => seq('[', sep1Trailing(field('item', $.identifier)), ']'),

    // ---------- grammar-world declarations ----------
    quantale_decl: $ => seq(kw('quantale'), field('name', $.identifier)),
    category_decl: $ => seq(kw('category'), sep1(field('name', $.identifier))),
    rule_decl: $ => seq(
      kw('rule'), field('name', $.identifier),
      '(', sep1Trailing(field('variable', $.identifier)), ')',
      ':', sep1(field('premise', $._cat_pat)),
      field('arrow', $.rule_arrow), field('conclusion', $._cat_pat),
    ),
    rule_arrow: $ => choice('=>', '|-', '⊢'),
    _cat_pat: $ => choice($._cat_prod, $.cat_over, $.cat_under),
    cat_over: $ => seq(field('left', $._cat_pat), field('operator', '/'), field('right', $._cat_prod)),
    cat_under: $ => seq(field('left', $._cat_pat), field('operator', '\\'), field('right', $._cat_prod)),
    _cat_prod: $ => choice($._cat_atom, $.cat_product),
    cat_product: $ => seq(field('left', $._cat_prod), field('operator', '*'), field('right', $._cat_atom)),
    _cat_atom: $ => choice($.cat_ref, seq('(', $._cat_pat, ')')),
    cat_ref: $ => field('name', $.identifier),

    // ---------- morphism declarations ----------
    morphism_decl: $ => seq(
      kw('morphism'), sep1(field('name', $.identifier)), ':', field('signature', $.sig),
      optional(field('options', $.options)),
      optional(seq('~', field('init', $._init), optional(field('init_options', $.options)))),
    ),
    continuous_decl: $ => seq(
      kw('continuous'), field('name', $.identifier), optional(field('replication', $.replication)),
      ':', field('signature', $.sig), optional(field('options', $.options)),
      '~', field('init', $._init), optional(field('init_options', $.options)),
    ),
    stochastic_decl: $ => seq(
      kw('stochastic'), field('name', $.identifier), optional(field('replication', $.replication)),
      ':', field('signature', $.sig), optional(field('options', $.options)),
    ),
    latent_decl: $ => seq(
      kw('latent'), field('name', $.identifier), ':', field('signature', $.sig),
      optional(field('options', $.options)), optional(seq('=', field('init', $._mexpr))),
    ),
    observed_decl: $ => seq(
      kw('observed'), field('name', $.identifier), ':', field('signature', $.sig),
      optional(field('options', $.options)), optional(seq('=', field('init', $._mexpr))),
    ),
    embed_decl: $ => seq(
      kw('embed'), field('name', $.identifier), optional(field('replication', $.replication)),
      ':', field('signature', $.sig), optional(field('options', $.options)),
    ),
    discretize_decl: $ => seq(
      kw('discretize'), field('name', $.identifier), ':', field('domain', $._type_expr),
      '->', field('bins', $.integer), optional(field('options', $.options)),
    ),
    sig: $ => seq(field('domain', $._type_expr), '->', field('codomain', $._type_expr)),
    replication: $ => seq('[', field('count', $.integer), ']'),
    _init: $ => $._mexpr,
    family_call: $ => seq(field('family', $.identifier), '(', optional(field('arguments', $.args)), ')'),
    options: $ => seq('[', optional(sep1Trailing(field('option', $.option))), ']'),
    option: $ => seq(field('key', $.identifier), optional(seq('=', field('value', $._opt_value)))),
    _opt_value: $ => choice($._signed_number, $.identifier, $.role_word, $.opt_list, $.opt_call),
    opt_list: $ => seq('[', optional(sep1(field('item', $._opt_value))), ']'),
    opt_call: $ => seq(
      field('function', $.identifier), '(', optional(sep1(field('argument', $._opt_value))), ')',
    ),
    role_word: $ => choice(kw('embed'), kw('latent'), kw('observed'), kw('discretize')),

    // ---------- top-level bindings ----------
    define_decl: $ => seq(
      field('keyword', choice(kw('let'), kw('define'))), field('name', $.identifier),
      '=', field('value', $._mexpr), optional(field('where', kw('where'))),
    ),
    export_decl: $ => seq(field('keyword', choice(kw('output'), kw('export'))), field('value', $._mexpr)),

    // ---------- algebra selector and opaque (tier-3) blocks (part 2 §2.2, §5.10) ----------
    // `composition NAME [options]`; the first word must be `composition`, which the checker
    // (not the grammar, as in lark) enforces: it is a soft keyword, an ordinary identifier.
    composition_decl: $ => seq(
      field('keyword', $.identifier), field('name', $.identifier),
      optional(field('options', $.options)),
    ),
    opaque_decl: $ => seq(
      field('head', $.block_head),
      field('name', alias($._block_name, $.identifier)),
      repeat(choice(
        $.word, $.number, $.string, alias($._block_comment_line, $.comment), $.punctuation,
      )),
      $._block_end,
    ),

    // ---------- morphism expressions ----------
    _mexpr: $ => choice($._mtensor, $.compose),
    compose: $ => seq(
      field('left', $._mexpr), field('operator', choice('>>', '<<', '>=>')), field('right', $._mtensor),
    ),
    _mtensor: $ => choice($._mpost, $.tensor),
    tensor: $ => seq(field('left', $._mtensor), field('operator', '@'), field('right', $._mpost)),
    _mpost: $ => choice($._matom, $.marginalize, $.method),
    marginalize: $ => seq(
      field('operand', $._mpost), '.', kw('marginalize'),
      '(', sep1Trailing(field('factor', $.identifier)), ')',
    ),
    // `e.dagger`, `e.trace(A)`, ...
    method: $ => seq(
      field('receiver', $._mpost), '.', field('method', $.identifier),
      optional(seq('(', optional(field('arguments', $.args)), ')')),
    ),
    _matom: $ => choice(
      $.ref, $.family_call, $.identity, $.fan, $.repeat, $.stack, $.scan, $.parser, seq('(', $._mexpr, ')'),
    ),
    ref: $ => field('name', $.identifier),
    identity: $ => seq(kw('identity'), '(', field('object', $.identifier), ')'),
    fan: $ => seq(kw('fan'), '(', sep1Trailing(field('component', $._mexpr)), ')'),
    repeat: $ => seq(
      kw('repeat'), '(', field('body', $._mexpr), optional(seq(',', field('count', $.integer))), ')',
    ),
    stack: $ => seq(kw('stack'), '(', field('body', $._mexpr), ',', field('count', $.integer), ')'),
    scan: $ => seq(kw('scan'), '(', field('cell', $._mexpr), repeat(seq(',', field('option', $.scan_opt))), ')'),
    parser: $ => seq(
      field('kind', choice(kw('parser'), kw('ccg'), kw('lambek'))),
      '(',
      optional(seq(
        field('argument', $.parser_arg),
        repeat(seq(optional(','), field('argument', $.parser_arg))),
        optional(','),
      )),
      ')',
    ),
    scan_opt: $ => seq(field('key', $.identifier), '=', field('value', $.identifier)),
    parser_arg: $ => seq(
      field('key', $.identifier), '=', field('value', choice($.id_list, $.identifier, $.integer)),
    ),
    id_list: $ => seq('[', optional(sep1Trailing(field('item', $.identifier))), ']'),

    // ---------- programs ----------
    // prec.right: a `let` after a step continues the body (a let step), as in lark.
    program_decl: $ => prec.right(seq(
      kw('program'), field('name', $.identifier), optional(field('params', $.params)),
      ':', field('signature', $.sig), optional(field('options', $.options)),
      repeat(seq(optional($._body_continues), field('step', $._step))),
      // The return step is mandatory (QVR005), but a body that lacks it must end where the next
      // statement begins, not swallow the rest of the file.  So a program may end after any
      // step: before a top-level keyword or at the end of the file the scanner inserts the
      // zero-width `missing_return` node (a syntax error, like ERROR/MISSING; see
      // tree_sitter_qvr.syntax_errors), and error recovery can resume at the next statement
      // keyword after a half-typed step.
      optional(choice(field('return', $.return_step), field('missing_return', $.missing_return))),
    )),
    params: $ => seq('(', sep1Trailing(field('parameter', choice($.identifier, $.typed_param))), ')'),
    typed_param: $ => seq(field('name', $.identifier), ':', field('kind', $._param_kind)),
    _param_kind: $ => choice($.kind_ref, $.kind_mor),
    kind_ref: $ => field('name', $.identifier),
    kind_mor: $ => seq(
      field('name', $.identifier), '[', field('domain', $._type_expr), ',',
      field('codomain', $._type_expr), ']',
    ),
    _step: $ => choice(
      $.draw_step, $.bind_step, $.sample_step, $.observe_tilde_step, $.observe_step, $.let_step,
      $.call_step, $.marginalize_step, $.score_step,
    ),
    draw_step: $ => seq(kw('draw'), field('pattern', $._pattern), '~', field('target', $.target)),
    bind_step: $ => seq(field('pattern', $.identifier), field('arrow', '<-'), field('target', $.target)),
    sample_step: $ => seq(
      kw('sample'), field('pattern', $._pattern), optional(seq(':', field('annotation', $._type_expr))),
      '<-', field('target', $.target), optional(field('options', $.options)),
    ),
    observe_tilde_step: $ => seq(
      kw('observe'), field('pattern', $._pattern), '~', field('target', $.target),
    ),
    observe_step: $ => seq(
      kw('observe'), field('pattern', $._pattern), optional(seq(':', field('annotation', $._type_expr))),
      '<-', field('target', $.target), optional(field('options', $.options)),
    ),
    let_step: $ => seq(kw('let'), field('name', $.identifier), '=', field('value', $._let_rhs)),
    _let_rhs: $ => choice($._arith, $.factor_expr, $.lambda),
    call_step: $ => seq(
      kw('let'), field('name', $.identifier), '<-', field('target', $.target),
      optional(field('options', $.options)),
    ),
    // The body (the steps right after it that start in a deeper column, part 2 §2.3) is
    // delimited by zero-width scanner tokens, so editors can fold it; lark's tree is flat
    // here and the checker groups the steps by the same rule.
    marginalize_step: $ => seq(
      kw('marginalize'), field('name', $.identifier),
      optional(seq(':', field('annotation', $._type_expr))),
      '<-', field('target', $.target), optional(field('options', $.options)),
      optional(field('body', $.marginalize_body)),
    ),
    marginalize_body: $ => seq(
      $._marginalize_body_start, repeat1(field('step', $._step)), $._marginalize_body_end,
    ),
    // `score NAME = e`: the first word must be `score` (a soft keyword, checked by the checker).
    score_step: $ => seq(
      field('keyword', $.identifier), field('name', $.identifier), '=', field('value', $._arith),
    ),
    return_step: $ => seq(kw('return'), field('pattern', $._return_pattern)),
    _pattern: $ => choice($.pat_var, $.pat_tuple, $.pat_bracket),
    pat_var: $ => field('name', $.identifier),
    pat_tuple: $ => seq('(', sep1Trailing(field('name', $.identifier)), ')'),
    pat_bracket: $ => seq('[', sep1Trailing(field('name', $.identifier)), ']'),
    _return_pattern: $ => choice($.ret_var, $.ret_tuple),
    ret_var: $ => field('name', $.identifier),
    ret_tuple: $ => seq('(', sep1Trailing(field('item', $.ret_item)), ')'),
    ret_item: $ => seq(field('name', $.identifier), optional(seq(':', field('label', $.identifier)))),
    target: $ => seq(
      field('name', $.identifier), optional(seq('(', optional(field('arguments', $.args)), ')')),
    ),
    args: $ => sep1Trailing(field('argument', $._arg)),
    _arg: $ => choice($._arith, $.named_arg, $.lambda),
    named_arg: $ => seq(field('key', $.identifier), '=', field('value', $._arith)),

    // ---------- arithmetic (program let, arguments) ----------
    _arith: $ => choice($._term, $.add, $.sub),
    add: $ => seq(field('left', $._arith), field('operator', '+'), field('right', $._term)),
    sub: $ => seq(field('left', $._arith), field('operator', '-'), field('right', $._term)),
    _term: $ => choice($._unary, $.mul, $.div),
    mul: $ => seq(field('left', $._term), field('operator', '*'), field('right', $._unary)),
    div: $ => seq(field('left', $._term), field('operator', '/'), field('right', $._unary)),
    _unary: $ => choice($._atom, $.neg),
    neg: $ => seq(field('operator', '-'), field('operand', $._unary)),
    _atom: $ => choice(
      $.lit, $.var, $.call, $.index, $.method_call, $.vec,
      seq('(', $._arith, ')'), seq('(', $.lambda, ')'),
    ),
    lit: $ => $._number,
    var: $ => field('name', $.identifier),
    call: $ => seq(
      field('function', $.identifier), '(', optional(sep1Trailing(field('argument', $._arg))), ')',
    ),
    index: $ => seq(
      field('name', $.identifier), '[', sep1Trailing(field('index', $._arith)), ']',
    ),
    method_call: $ => seq(
      field('receiver', $.identifier), '.', field('method', $.identifier),
      '(', optional(sep1Trailing(field('argument', $._arg))), ')',
    ),
    vec: $ => seq('[', sep1Trailing(field('element', $._arith)), ']'),

    // `factor v : K, c : L in e` and `factor c : K in { 0 -> e, ... }`; the word before the
    // body must be `in` (a soft keyword, checked by the checker).
    factor_expr: $ => seq(
      kw('factor'), sep1(field('binder', $.factor_binder)), field('in', $.identifier),
      field('body', $._factor_body),
    ),
    factor_binder: $ => seq(field('name', $.identifier), ':', field('type', $._type_expr)),
    _factor_body: $ => choice($._arith, $.factor_cases),
    factor_cases: $ => seq('{', sep1Trailing(field('case', $.factor_case)), '}'),
    factor_case: $ => seq(field('key', $.integer), '->', field('value', $._arith)),
    lambda: $ => seq(
      field('parameter', $.identifier), '->', field('body', choice($.lambda, $._arith)),
    ),

    // ---------- shared ----------
    _number: $ => choice($.integer, $.float),
    _signed_number: $ => choice($._number, $.negative_number),
    negative_number: $ => seq('-', $._number),

    // ---------- terminals ----------
    // identifier (§2.4) is an external token, see src/scanner.c.
    integer: _ => /[0-9]+/,
    // §2.6: D.D[exp], D exp, .D[exp], D. ; longest match keeps `2.5` whole.
    float: _ => token(choice(
      /[0-9]+\.[0-9]+([eE][+-]?[0-9]+)?/,
      /[0-9]+[eE][+-]?[0-9]+/,
      /\.[0-9]+([eE][+-]?[0-9]+)?/,
      /[0-9]+\./,
    )),

    // §2.3 comments.  `#!` starts a doc comment except `#![`, which is a plain comment; `#{`
    // starts a block comment that must be closed by `}#` (an unclosed one is a syntax error,
    // the checker's QVR003), so a line comment never starts with `#{`.  Line comments stop at
    // `\r` too: every line terminator of spec §2.1 ends them, even in un-normalised text.
    comment: _ => token(seq('#', optional(choice(/![\[][^\r\n]*/, /[^!{\r\n][^\r\n]*/)))),
    doc_comment: _ => token(seq('#!', optional(/[^\[\r\n][^\r\n]*/))),
    block_comment: _ => token(seq('#{', /([^}]|\}+[^}#])*/, /\}+#/)),
  },
};

const result = grammar(grammar_definition);

// Every reserved word must appear as a keyword somewhere in the grammar.
const unused = [...RESERVED].filter(w => !usedKeywords.has(w));
if (unused.length) {
  throw new Error(`grammar.js: reserved words never used as keywords: ${unused.join(', ')}`);
}

module.exports = result;
