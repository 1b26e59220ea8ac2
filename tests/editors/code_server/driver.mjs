// Drives the QVR extension inside a real VS Code (code-server) through Chromium with
// playwright-core, the way a user would: mouse, keyboard, the command palette. It records what
// the UI showed in a JSON file; tests/editors/test_vscode_real.py asserts on that record.
//
//   node driver.mjs config.json
//
// config.json (written by the test): url, trustedFolder, longFolder (trusted, many run steps),
// untrustedFolder, files (names in the folders), positions, longSteps, out (record path),
// screenshots (folder for the README images, or null), debug (folder for failure screenshots),
// modules (folder holding node_modules/playwright-core), chromium (executable path).
//
// Every wait is on a UI state (a selector, a text, a value); a step that fails records its
// error and a screenshot, and the later steps still run so one record shows every failure.
// Every request the browser makes is routed: only 127.0.0.1 is let through, any other host is
// recorded (and aborted), so the test can require that the editor stays local.
import { createRequire } from "module";
import * as fs from "fs";
import * as path from "path";

const cfg = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const require = createRequire(path.join(cfg.modules, "package.json"));
const { chromium } = require("playwright-core");

const WAIT = 60_000;
const RUN_WAIT = 240_000;
const out = { errors: [], foreign: [], timings: {}, shots: [] };
const save = () => fs.writeFileSync(cfg.out, JSON.stringify(out, null, 2));

const browser = await chromium.launch({
  executablePath: cfg.chromium,
  // Root in CI and containers: Chromium's sandbox needs user namespaces it may not have.
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
const isLocal = (u) => {
  try {
    const url = new URL(u);
    if (!/^(https?|wss?):$/.test(url.protocol)) return true; // data:, blob:, vscode-webview: ...
    return url.hostname === "127.0.0.1";
  } catch {
    return true;
  }
};
await context.route("**/*", (route) => {
  const url = route.request().url();
  if (isLocal(url)) return route.continue();
  out.foreign.push(url);
  return route.abort();
});
// Requests the router does not see (service workers) still show up here.
context.on("request", (req) => {
  if (!isLocal(req.url()) && !out.foreign.includes(req.url())) out.foreign.push(req.url());
});
context.on("websocket", (ws) => {
  if (!isLocal(ws.url())) out.foreign.push(ws.url());
});
const page = await context.newPage();
page.setDefaultTimeout(WAIT);
// Leaving a window with unsaved scratch edits must not block the next folder.
page.on("dialog", (d) => void d.accept());

async function shot(name, dir = cfg.screenshots) {
  if (!dir) return;
  // Finite animations (a hover fading in) end first; endless ones (progress bars) are left.
  await page.evaluate(() => Promise.all(document.getAnimations()
    .filter((a) => a.effect?.getComputedTiming().iterations !== Infinity)
    .map((a) => a.finished.catch(() => {}))));
  const file = path.join(dir, `${name}.png`);
  await page.screenshot({ path: file });
  out.shots.push(file);
}

async function step(name, fn) {
  const t0 = Date.now();
  try {
    out[name] = (await fn()) ?? true;
  } catch (err) {
    out[name] = null;
    out.errors.push(`${name}: ${String(err?.message ?? err).split("\n").slice(0, 3).join(" ")}`);
    await shot(`failed-${name}`, cfg.debug).catch(() => {});
  }
  out.timings[name] = Date.now() - t0;
  save();
}

const editor = () => page.locator(".editor-group-container.active .monaco-editor").first();

/** Run a command from the palette by its exact label. */
async function command(label) {
  await page.keyboard.press("F1");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor();
  await input.fill(`>${label}`);
  await page.locator(".quick-input-list .monaco-list-row.focused", { hasText: label }).first().waitFor();
  await page.keyboard.press("Enter");
  await page.locator(".quick-input-widget").waitFor({ state: "hidden" });
}

/** Put the cursor at a 1-based line and column (Go to Line). */
async function gotoLine(line, column) {
  await editor().click({ position: { x: 200, y: 10 } });
  await page.keyboard.press("Control+G");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor();
  await input.fill(`:${line}:${column}`);
  await page.keyboard.press("Enter");
  await page.locator(".quick-input-widget").waitFor({ state: "hidden" });
  await page.locator(".statusbar-item", { hasText: `Ln ${line}, Col ${column}` }).waitFor();
}

/** Open a file of the workspace from the Explorer (double click: a pinned editor). */
async function openFile(name) {
  await page.locator(".explorer-folders-view .monaco-list-row", { hasText: name }).first().dblclick();
  await page.locator(".tabs-container .tab.active", { hasText: name }).waitFor();
  await editor().locator(".view-line").first().waitFor();
}

/** Open a folder in the window and answer the workspace trust dialog. */
async function openFolder(folder, trust) {
  await page.goto(`${cfg.url}/?folder=${encodeURIComponent(folder)}`);
  const answer = trust ? "Yes, I trust the authors" : "No, I don't trust the authors";
  await page.getByRole("button", { name: answer }).click();
  await page.locator(".explorer-folders-view .monaco-list-row").first().waitFor();
}

const lensTexts = async () =>
  (await editor().locator(".codelens-decoration").allInnerTexts()).map((t) => t.replace(/\s+/g, " ").trim());
const notification = (text) => page.locator(".notifications-toasts .notification-toast", { hasText: text });
const viewText = async () => (await editor().locator(".view-lines").innerText()).replace(/\u00a0/g, " ");

// -- trusted folder: editing features and runs ----------------------------------------------
await step("trusted_open", async () => {
  await openFolder(cfg.trustedFolder, true);
  await openFile(cfg.files.model);
  await editor().locator(".codelens-decoration a", { hasText: "Run SVI" }).first().waitFor();
  // Inlay hints (types of let/sample/observe bindings) are injected text after the name.
  await editor().locator(".view-line", { hasText: cfg.inlayHint }).first().waitFor();
  const classes = await editor().locator(".view-lines span[class^=mtk]").evaluateAll((spans) =>
    Object.fromEntries(spans.map((s) => [s.textContent.replace(/\u00a0/g, " ").trim(), s.className.split(" ")[0]])));
  const colours = await editor().locator(".view-lines span[class^=mtk]").evaluateAll((spans) =>
    [...new Set(spans.map((s) => getComputedStyle(s).color))]);
  await shot("vscode-editor");
  return { lenses: await lensTexts(), text: await viewText(), classes, colours };
});

await step("hover", async () => {
  const token = editor().locator(".view-lines span[class^=mtk]", { hasText: new RegExp(`^${cfg.positions.hoverWord}$`) }).first();
  await token.hover();
  const hover = page.locator(".monaco-hover:not(.hidden) .monaco-hover-content").first();
  await hover.waitFor();
  await hover.getByText(cfg.positions.hoverWord, { exact: false }).first().waitFor();
  const text = await hover.innerText();
  await shot("vscode-hover");
  await page.keyboard.press("Escape");
  await page.mouse.move(5, 400);
  await page.locator(".monaco-hover:not(.hidden) .monaco-hover-content").waitFor({ state: "hidden" });
  return { text };
});

await step("problems", async () => {
  await openFile(cfg.files.broken);
  await command("View: Focus Problems (Errors, Warnings, Infos)");
  const row = page.locator(".markers-panel .monaco-list-row", { hasText: cfg.positions.brokenCode });
  await row.first().waitFor();
  return { rows: (await page.locator(".markers-panel .monaco-list-row").allInnerTexts()).map((t) => t.replace(/\s+/g, " ")) };
});

await step("completion", async () => {
  await page.locator(".part.panel .action-label[aria-label^='Hide Panel']").click();
  await page.locator(".part.panel").waitFor({ state: "hidden" });
  await openFile(cfg.files.complete);
  const [line, column] = cfg.positions.completeAt;
  await gotoLine(line, column);
  await page.keyboard.type("~");
  const rows = page.locator(".editor-widget.suggest-widget.visible .monaco-list-row");
  await rows.first().waitFor();
  const labels = await page.locator(".editor-widget.suggest-widget.visible .monaco-list-row .label-name").allInnerTexts();
  await page.keyboard.press("Escape");
  await command("File: Revert File");
  return { labels };
});

await step("rename", async () => {
  await openFile(cfg.files.rename);
  const [line, column] = cfg.positions.renameAt;
  await gotoLine(line, column);
  await page.keyboard.press("F2");
  const input = page.locator(".rename-box input");
  await input.waitFor();
  await input.fill(cfg.positions.renameTo);
  await page.keyboard.press("Enter");
  await input.waitFor({ state: "hidden" });
  await editor().locator(".view-line", { hasText: cfg.positions.renameTo }).first().waitFor();
  await page.keyboard.press("Control+S");
  await page.locator(".tabs-container .tab.active.dirty").waitFor({ state: "detached" });
});

await step("format", async () => {
  await openFile(cfg.files.format);
  await command("Format Document");
  await page.locator(".tabs-container .tab.active.dirty").waitFor();
  await page.keyboard.press("Control+S");
  await page.locator(".tabs-container .tab.active.dirty").waitFor({ state: "detached" });
});

await step("run_svi", async () => {
  await openFile(cfg.files.model);
  const t0 = Date.now();
  await editor().locator(".codelens-decoration a", { hasText: "Run SVI" }).first().click();
  const progress = notification("Run SVI");
  await progress.first().waitFor();
  const progressText = (await progress.first().innerText()).replace(/\s+/g, " ");
  const done = notification("finished");
  await done.first().waitFor({ timeout: RUN_WAIT });
  const finishedText = (await done.first().innerText()).replace(/\s+/g, " ");
  return { progressText, finishedText, seconds: (Date.now() - t0) / 1000 };
});

await step("results_view", async () => {
  await notification("finished").first().getByRole("button", { name: "Show Result" }).click();
  await page.locator(".tabs-container .tab", { hasText: "QVR SVI" }).first().waitFor();
  const frame = page.frameLocator("iframe.webview.ready").last().frameLocator("#active-frame");
  await frame.locator("svg.loss-curve polyline.curve").waitFor();
  const heading = await frame.locator("h2").innerText();
  const facts = await frame.locator("dl").innerText();
  const points = await frame.locator("svg.loss-curve polyline.curve").getAttribute("points");
  await shot("vscode-results");
  return { heading, facts, nPoints: points.trim().split(/\s+/).length };
});

await step("cancel", async () => {
  // A long run: a second trusted folder whose .vscode/settings.json asks for many steps.
  await openFolder(cfg.longFolder, true);
  await openFile(cfg.files.model);
  await editor().locator(".codelens-decoration a", { hasText: "Run SVI" }).first().click();
  const progress = notification(`/${cfg.longSteps}`);
  await progress.first().waitFor({ timeout: RUN_WAIT });
  const progressText = (await progress.first().innerText()).replace(/\s+/g, " ");
  await shot("vscode-progress");
  await progress.first().getByRole("button", { name: "Cancel" }).click();
  const outcome = page.locator(".notifications-toasts .notification-toast", { hasText: /cancel/i })
    .filter({ hasNotText: `/${cfg.longSteps}` });
  await outcome.first().waitFor({ timeout: RUN_WAIT });
  const outcomeText = (await outcome.first().innerText()).replace(/\s+/g, " ");
  await progress.first().waitFor({ state: "detached", timeout: RUN_WAIT });
  const status = (await page.locator(".statusbar-item", { hasText: "QVR" }).allInnerTexts()).join(" | ");
  return { progressText, outcomeText, status };
});

// -- untrusted folder: editing works, runs say why they are off -----------------------------
await step("untrusted", async () => {
  await openFolder(cfg.untrustedFolder, false);
  await page.locator(".statusbar-item", { hasText: "Restricted Mode" }).waitFor();
  await openFile(cfg.files.model);
  await editor().locator(".codelens-decoration a", { hasText: "disabled" }).first().waitFor();
  const lenses = await lensTexts();
  await editor().locator(".codelens-decoration a", { hasText: "Run SVI" }).first().click();
  const explained = notification("disabled");
  await explained.first().waitFor();
  return { lenses, message: (await explained.first().innerText()).replace(/\s+/g, " ") };
});

await browser.close();
save();
