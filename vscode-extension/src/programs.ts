/**
 * Finding the program under the cursor by scanning the document text (spec §3.1, §3.3), so the
 * run commands work without a server round trip. A program runs from its `program` keyword to
 * the end of its mandatory `return` pattern; comments (spec §2.3) are skipped so that a
 * commented-out `program` or `return` does not count.
 */

export interface ProgramRange {
  name: string;
  /** Offset of the `program` keyword. */
  start: number;
  /** Offset one past the return pattern (or the end of the text when `return` is missing). */
  end: number;
}

interface Token {
  text: string;
  start: number;
  end: number;
}

const IDENT_START = /[\p{L}_]/u;
const IDENT_CONT = /[\p{L}\p{Nd}_]/u;

/** Identifier and punctuation tokens of `text`, comments and whitespace dropped. */
function tokens(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === "#") {
      if (text[i + 1] === "{") {
        const close = text.indexOf("}#", i + 2);
        i = close < 0 ? text.length : close + 2;
      } else {
        const newline = text.indexOf("\n", i);
        i = newline < 0 ? text.length : newline;
      }
    } else if (IDENT_START.test(ch)) {
      let j = i + 1;
      while (j < text.length && IDENT_CONT.test(text[j])) j++;
      out.push({ text: text.slice(i, j), start: i, end: j });
      i = j;
    } else if (/\s/.test(ch)) {
      i++;
    } else {
      out.push({ text: ch, start: i, end: i + 1 });
      i++;
    }
  }
  return out;
}

/** Every `program` in the text with its extent, in order. */
export function findPrograms(text: string): ProgramRange[] {
  const toks = tokens(text);
  const programs: ProgramRange[] = [];
  for (let i = 0; i < toks.length; i++) {
    if (toks[i].text !== "program" || !toks[i + 1] || !IDENT_START.test(toks[i + 1].text[0])) continue;
    const start = toks[i].start;
    const name = toks[i + 1].text;
    let j = i + 2;
    while (j < toks.length && toks[j].text !== "return" && toks[j].text !== "program") j++;
    let end = text.length;
    if (j < toks.length && toks[j].text === "return") {
      const next = toks[j + 1];
      if (next && next.text === "(") {
        let k = j + 1;
        while (k < toks.length && toks[k].text !== ")") k++;
        end = k < toks.length ? toks[k].end : text.length;
        j = k;
      } else {
        end = next ? next.end : toks[j].end;
        j = j + 1;
      }
    } else if (j < toks.length) {
      // No return before the next program (QVR005): the program ends where the next begins.
      end = toks[j].start;
      j = j - 1;
    }
    programs.push({ name, start, end });
    i = j;
  }
  return programs;
}

/** The name of the exported entry (`export name` / `output name`), when it is a plain name. */
export function exportedName(text: string): string | undefined {
  const toks = tokens(text);
  for (let i = toks.length - 2; i >= 0; i--) {
    if ((toks[i].text === "export" || toks[i].text === "output") && IDENT_START.test(toks[i + 1].text[0])) {
      const after = toks[i + 2];
      // Only a bare name: `export a >> b` has no single entry to run.
      if (!after || !/^[>@<.]$/.test(after.text)) return toks[i + 1].text;
    }
  }
  return undefined;
}

/**
 * The entry to run for a cursor at `offset`: the enclosing program, else the exported name,
 * else the only program in the file. `undefined` when there is no single answer.
 */
export function entryAt(text: string, offset: number): string | undefined {
  const programs = findPrograms(text);
  const enclosing = programs.find((p) => p.start <= offset && offset <= p.end);
  if (enclosing) return enclosing.name;
  const exported = exportedName(text);
  if (exported) return exported;
  return programs.length === 1 ? programs[0].name : undefined;
}
