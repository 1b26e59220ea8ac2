// The generated TextMate grammar: it is built from grammar/vocabulary.json (every reserved word
// and family is coloured), and tokenising real QVR with VS Code's own TextMate engine
// (vscode-textmate + oniguruma) gives the expected scopes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import vsctm from "vscode-textmate";
import oniguruma from "vscode-oniguruma";
import { buildGrammar } from "../scripts/gen-tmlanguage.mjs";
import { loadVocabulary, normalizeVocabulary } from "../scripts/vocabulary.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

let onigLoaded;
async function loadGrammar(grammarJson) {
  if (!onigLoaded) {
    const wasm = readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm")).buffer;
    onigLoaded = oniguruma.loadWASM(wasm);
  }
  await onigLoaded;
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (sources) => new oniguruma.OnigScanner(sources),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async () => vsctm.parseRawGrammar(JSON.stringify(grammarJson), "qvr.tmLanguage.json"),
  });
  return registry.loadGrammar("source.qvr");
}

/** [text, innermost scope] for every token of every line. */
function tokenize(grammar, source) {
  let state = vsctm.INITIAL;
  const out = [];
  for (const line of source.split("\n")) {
    const result = grammar.tokenizeLine(line, state);
    for (const token of result.tokens) {
      // Unscoped text keeps its surrounding spaces in one token; compare words, not spacing.
      const text = line.slice(token.startIndex, token.endIndex).trim();
      if (text) out.push([text, token.scopes[token.scopes.length - 1]]);
    }
    state = result.ruleStack;
  }
  return out;
}

function scopeOf(tokens, text) {
  const hit = tokens.find(([t]) => t === text);
  assert.ok(hit, `no token ${JSON.stringify(text)} in ${JSON.stringify(tokens.map(([t]) => t))}`);
  return hit[1];
}

const vocabulary = loadVocabulary();
const grammar = buildGrammar(vocabulary);

test("every reserved word is coloured as a keyword", async () => {
  const g = await loadGrammar(grammar);
  assert.equal(vocabulary.reserved.length, 33, "the 32 reserved words of spec §2.5 and `factor`");
  for (const word of vocabulary.reserved) {
    // After `(` so that declaration heads do not apply: the word alone must be a keyword.
    const tokens = tokenize(g, `(${word} x`);
    assert.equal(scopeOf(tokens, word), "keyword.other.qvr", word);
  }
});

test("every family, builtin and type constructor from the vocabulary is coloured", async () => {
  const g = await loadGrammar(grammar);
  for (const family of vocabulary.families) {
    assert.equal(scopeOf(tokenize(g, `~ ${family}`), family), "support.type.builtin.qvr", family);
  }
  for (const builtin of vocabulary.builtins) {
    assert.equal(scopeOf(tokenize(g, `let y = ${builtin}(x)`), builtin), "support.function.builtin.qvr", builtin);
  }
  for (const ctor of vocabulary.typeConstructors) {
    assert.equal(scopeOf(tokenize(g, `: ${ctor} 3`), ctor), "support.type.constructor.qvr", ctor);
  }
});

test("keywords are whole words only", async () => {
  const g = await loadGrammar(grammar);
  const tokens = tokenize(g, "let objects = scanner >> object_x");
  for (const name of ["objects", "scanner", "object_x"]) {
    assert.notEqual(scopeOf(tokens, name), "keyword.other.qvr", name);
  }
});

test("a seed program gets declaration, comment, number and operator scopes", async () => {
  const g = await loadGrammar(grammar);
  const seed = [
    "#! A doc comment",
    "# a plain comment",
    "object Token : FinSet 256",
    "morphism cell : Embedded * Hidden -> Hidden [role=kernel, scale=0.1] ~ Normal",
    "#{ block",
    "   comment }# program vanilla_rnn_lm : Token -> Token",
    "    sample h <- backbone",
    "    return h",
  ].join("\n");
  const tokens = tokenize(g, seed);
  assert.equal(scopeOf(tokens, "#! A doc comment"), "comment.line.documentation.qvr");
  assert.equal(scopeOf(tokens, "# a plain comment"), "comment.line.number-sign.qvr");
  assert.equal(scopeOf(tokens, "Token"), "entity.name.type.qvr");
  assert.equal(scopeOf(tokens, "cell"), "entity.name.function.qvr");
  assert.equal(scopeOf(tokens, "256"), "constant.numeric.qvr");
  assert.equal(scopeOf(tokens, "0.1"), "constant.numeric.qvr");
  assert.equal(scopeOf(tokens, "->"), "keyword.operator.qvr");
  assert.equal(scopeOf(tokens, "<-"), "keyword.operator.qvr");
  assert.equal(scopeOf(tokens, "Normal"), "support.type.builtin.qvr");
  assert.equal(scopeOf(tokens, "comment"), "comment.block.qvr");
  assert.equal(scopeOf(tokens, "vanilla_rnn_lm"), "entity.name.function.qvr");
  assert.equal(scopeOf(tokens, "sample"), "keyword.other.qvr");
});

test("option keys are properties only in key= position, when the vocabulary lists them", async () => {
  const g = await loadGrammar(
    buildGrammar(normalizeVocabulary({ RESERVED: ["morphism"], FAMILIES: ["Normal"], OPTION_KEYS: ["role", "scale"], OPTION_VALUES: ["kernel"] })),
  );
  const tokens = tokenize(g, "[role=kernel, scale=0.1] role");
  assert.equal(tokens.find(([t]) => t === "role")[1], "variable.other.property.qvr");
  assert.equal(scopeOf(tokens, "scale"), "variable.other.property.qvr");
  assert.equal(scopeOf(tokens, "kernel"), "constant.language.qvr");
  assert.notEqual(tokens.filter(([t]) => t === "role")[1][1], "variable.other.property.qvr");
});

test("a vocabulary without reserved words is a clear error", () => {
  assert.throws(() => normalizeVocabulary({ FAMILIES: ["Normal"] }, "v.json"), /v\.json: no reserved list/);
  assert.throws(() => loadVocabulary(path.join(here, "does-not-exist.json")), /not found/);
});
