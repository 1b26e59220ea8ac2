// Finding the program under the cursor from the document text alone.
import { test } from "node:test";
import assert from "node:assert/strict";
import { entryAt, exportedName, findPrograms } from "../src/programs";

// Seed 002 (spec §7.3), 0.11 dialect, indentation removed on purpose.
const SEED_002 = `object Token : FinSet 256
object Embedded : Real 64
object Hidden : Real 128
morphism tok_embed : Token -> Embedded [role=embed]
morphism cell : Embedded * Hidden -> Hidden [role=kernel, scale=0.1] ~ Normal
morphism lm_head : Hidden -> Token [role=kernel] ~ Categorical
let backbone = tok_embed >> scan(cell)
program vanilla_rnn_lm : Token -> Token
sample h <- backbone
observe next_token : Token <- lm_head(h)
return next_token
export vanilla_rnn_lm
`;

const TWO_PROGRAMS = `# program commented_out : A -> A
program first(x) : A -> A
    let y = x  # return z in a comment does not end the program
    return y
#{ program hidden : A -> A return q }#
program second(x, s) : A * S -> S
    draw a ~ f(x, s)
    return (a, s)
define after = second
`;

const offsetOf = (text: string, needle: string, delta = 0) => {
  const i = text.indexOf(needle);
  assert.ok(i >= 0, needle);
  return i + delta;
};

test("programs are found with their extent, comments ignored", () => {
  const programs = findPrograms(TWO_PROGRAMS);
  assert.deepEqual(programs.map((p) => p.name), ["first", "second"]);
  assert.equal(TWO_PROGRAMS.slice(programs[0].start, programs[0].end), TWO_PROGRAMS.slice(offsetOf(TWO_PROGRAMS, "program first"), offsetOf(TWO_PROGRAMS, "return y", 8)));
  assert.ok(TWO_PROGRAMS.slice(programs[1].start, programs[1].end).endsWith("return (a, s)"));
});

test("the cursor anywhere in a program selects it", () => {
  assert.equal(entryAt(TWO_PROGRAMS, offsetOf(TWO_PROGRAMS, "let y")), "first");
  assert.equal(entryAt(TWO_PROGRAMS, offsetOf(TWO_PROGRAMS, "program first")), "first");
  assert.equal(entryAt(TWO_PROGRAMS, offsetOf(TWO_PROGRAMS, "draw a")), "second");
  assert.equal(entryAt(TWO_PROGRAMS, offsetOf(TWO_PROGRAMS, "(a, s)", 3)), "second");
});

test("outside every program: no single answer when there are several", () => {
  assert.equal(entryAt(TWO_PROGRAMS, offsetOf(TWO_PROGRAMS, "define after")), undefined);
  assert.equal(entryAt(TWO_PROGRAMS, 0), undefined);
});

test("outside every program: the export, else the only program", () => {
  assert.equal(exportedName(SEED_002), "vanilla_rnn_lm");
  assert.equal(entryAt(SEED_002, 0), "vanilla_rnn_lm");
  assert.equal(entryAt(SEED_002, offsetOf(SEED_002, "sample h")), "vanilla_rnn_lm");
  const noExport = SEED_002.replace("export vanilla_rnn_lm", "");
  assert.equal(entryAt(noExport, 0), "vanilla_rnn_lm");
});

test("a composite export has no single entry name", () => {
  assert.equal(exportedName("output lstm >> head"), undefined);
  assert.equal(exportedName("output lstm"), "lstm");
});

test("a program without return ends where the next begins", () => {
  const text = "program broken : A -> A\n  draw a ~ f\nprogram ok : A -> A\n  return a\n";
  const programs = findPrograms(text);
  assert.deepEqual(programs.map((p) => p.name), ["broken", "ok"]);
  assert.equal(programs[0].end, offsetOf(text, "program ok"));
  assert.equal(entryAt(text, offsetOf(text, "return a")), "ok");
});
