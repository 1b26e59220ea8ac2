// Reads the QVR vocabulary (reserved words, family names, builtins, ...) that the tree-sitter
// grammar is generated from, so that the TextMate grammar colours exactly the same words.
//
// The single source of truth is runtime/qvr/syntax/vocabulary.py; grammar/vocabulary.json is
// generated from it. This module only reads that JSON: there is no second, hand-kept word list.
import { readFileSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));

/** Where the vocabulary lives unless QVR_VOCABULARY names another file. */
export const defaultVocabularyPath = path.resolve(here, "..", "..", "grammar", "vocabulary.json");

// The categories the TextMate grammar colours, and the names the JSON may use for each
// (vocabulary.py's tuple names in any case, with or without a plural "s").
const CATEGORIES = {
  reserved: ["reserved", "reserved_words", "keywords"],
  families: ["families", "family_names", "distribution_families"],
  builtins: ["builtins", "builtin_functions"],
  typeConstructors: ["type_constructors", "constructors"],
  optionKeys: ["option_keys", "options"],
  optionValues: ["option_values"],
};
const REQUIRED = ["reserved", "families"];

/** A list of names from a JSON value: a list of strings, a list of {name}, or an object's keys. */
function names(value) {
  if (Array.isArray(value)) {
    return value.map((item) => (typeof item === "string" ? item : item && item.name)).filter(Boolean);
  }
  if (value && typeof value === "object") return Object.keys(value);
  return [];
}

/** Normalise a parsed vocabulary.json into {reserved, families, builtins, ...} (string arrays). */
export function normalizeVocabulary(raw, source = "vocabulary.json") {
  const byLowerKey = new Map(Object.entries(raw).map(([k, v]) => [k.toLowerCase(), v]));
  const vocab = {};
  for (const [category, aliases] of Object.entries(CATEGORIES)) {
    const key = aliases.find((alias) => byLowerKey.has(alias));
    vocab[category] = key ? [...new Set(names(byLowerKey.get(key)))] : [];
  }
  for (const category of REQUIRED) {
    if (vocab[category].length === 0) {
      throw new Error(`${source}: no ${CATEGORIES[category][0]} list (expected one of: ${CATEGORIES[category].join(", ")})`);
    }
  }
  return vocab;
}

/** Load and normalise the vocabulary; a clear error (not a stack trace) when it is missing. */
export function loadVocabulary(file = process.env.QVR_VOCABULARY || defaultVocabularyPath) {
  if (!existsSync(file)) {
    throw new Error(
      `${file}: not found. It is generated from runtime/qvr/syntax/vocabulary.py with the grammar ` +
        `(see grammar/); set QVR_VOCABULARY to use another file.`,
    );
  }
  let raw;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new Error(`${file}: not valid JSON: ${err.message}`);
  }
  return normalizeVocabulary(raw, file);
}
