// Keystroke -> diagnostics as a Node client sees it: the QVR language server driven through
// vscode-jsonrpc, the library VS Code's language client reads and writes LSP messages with
// (its framing and its JSON.parse), from the extension's node_modules.
//
// Run by bench/lsp_latency.py (see its docstring); by hand:
//   node bench/node_keystrokes.mjs PYTHON TEXT_FILE LINE[:COLUMN] ROUNDS [--last] [--type C] [--canned | --pull]
// opens TEXT_FILE, then types C (default `x`) at LINE:COLUMN (default column 3) and deletes it
// again, ROUNDS times in all, each keystroke followed by the semantic tokens delta request VS
// Code sends while typing.
// Prints one JSON object: the milliseconds from each didChange being written to its
// publishDiagnostics having been parsed (`keystrokes`), how many diagnostics the last one
// held and, with --last, those diagnostics (`last`).
// What VS Code then does with the diagnostics (its own objects, the Problems panel) is not
// in the figure. With --canned the server is bench/canned_server.py, which does no work and
// answers each keystroke at once with the diagnostics the QVR server publishes for TEXT_FILE:
// the client's (and the pipe's) share of the figure for messages of that size. With --pull the
// client pulls its diagnostics (LSP 3.17, as VS Code's language client does when the server
// offers it): after each didChange it asks textDocument/diagnostic with the last result id,
// and the figure runs until that answer is parsed; `kinds` lists the kinds of the answers
// (`full`, or `unchanged` when the diagnostics are those the client has).
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { performance } from "node:perf_hooks";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, "..", "vscode-extension", "package.json"));
const rpc = require("vscode-jsonrpc/node");

const [python, textFile, lineArg, roundsArg, ...flags] = process.argv.slice(2);
const lastFlag = flags.includes("--last") ? "--last" : undefined;
const insert = flags.includes("--type") ? flags[flags.indexOf("--type") + 1] : "x";
const text = readFileSync(textFile, "utf8");
const [line, column] = lineArg.includes(":") ? lineArg.split(":").map(Number) : [Number(lineArg), 3];
const rounds = Number(roundsArg);
const uri = pathToFileURL(textFile).href;

const serverArgs = flags.includes("--canned") ? [join(here, "canned_server.py"), textFile] : ["-m", "qvr_lsp"];
const server = spawn(python, serverArgs, { stdio: ["pipe", "pipe", "inherit"] });
const connection = rpc.createMessageConnection(
  new rpc.StreamMessageReader(server.stdout), new rpc.StreamMessageWriter(server.stdin));

// version -> whoever waits for its publish; a publish nobody waits for yet is kept until read
const waiting = new Map();
const published = new Map();
connection.onNotification("textDocument/publishDiagnostics", (params) => {
  if (params.uri !== uri) return;
  const at = performance.now();
  published.set(params.version, { at, diagnostics: params.diagnostics });
  const resolve = waiting.get(params.version);
  if (resolve) resolve(published.get(params.version));
});
connection.onRequest(() => null);  // configuration, registrations: nothing to say
connection.listen();

function whenPublished(version) {
  if (published.has(version)) return Promise.resolve(published.get(version));
  return new Promise((resolve) => waiting.set(version, resolve));
}

const pull = flags.includes("--pull");
const capabilities = pull ? { textDocument: { diagnostic: { dynamicRegistration: false } } } : {};
const initialized = await connection.sendRequest("initialize",
  { processId: process.pid, rootUri: null, capabilities });
if (pull && !initialized.capabilities.diagnosticProvider) throw new Error("the server offers no pull diagnostics");
connection.sendNotification("initialized", {});
connection.sendNotification("textDocument/didOpen",
  { textDocument: { uri, languageId: "qvr", version: 1, text } });
// pulled diagnostics: the last result id and what the client holds
let pulled = pull ? await connection.sendRequest("textDocument/diagnostic", { textDocument: { uri } }) : null;
const kinds = new Set();
if (!pull) await whenPublished(1);
let { resultId } = await connection.sendRequest("textDocument/semanticTokens/full",
  { textDocument: { uri } });

const keystrokes = [];
let typed = false;
let last = [];
for (let version = 2; version < rounds + 2; version++) {
  const start = { line, character: column };
  const end = { line, character: typed ? column + insert.length : column };
  const sent = performance.now();
  connection.sendNotification("textDocument/didChange", {
    textDocument: { uri, version },
    contentChanges: [{ range: { start, end }, text: typed ? "" : insert }],
  });
  typed = !typed;
  if (pull) {
    const report = await connection.sendRequest("textDocument/diagnostic",
      { textDocument: { uri }, previousResultId: pulled.resultId });
    keystrokes.push(performance.now() - sent);
    kinds.add(report.kind);
    pulled = report.kind === "full" ? report : { ...pulled, resultId: report.resultId };
    last = pulled.items;
  } else {
    const got = await whenPublished(version);
    keystrokes.push(got.at - sent);
    last = got.diagnostics;
    published.delete(version);
  }
  const delta = await connection.sendRequest("textDocument/semanticTokens/full/delta",
    { textDocument: { uri }, previousResultId: resultId });
  resultId = delta.resultId;
}

await connection.sendRequest("shutdown");
connection.sendNotification("exit");
await new Promise((resolve) => server.on("exit", resolve));
connection.dispose();
const report = { keystrokes, diagnostics: last.length };
if (pull) report.kinds = [...kinds].sort();
if (lastFlag === "--last") report.last = last;
process.stdout.write(JSON.stringify(report) + "\n");
