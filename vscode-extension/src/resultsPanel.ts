/** The results webview: one panel, reused, showing the most recent run result. */
import * as vscode from "vscode";
import { randomBytes } from "crypto";
import { renderResultsHtml } from "./resultsHtml";
import { KIND_TITLES, RunResult } from "./runResult";

export class ResultsPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;

  show(result: RunResult, reveal = true): void {
    const title = `QVR ${KIND_TITLES[result.kind] ?? result.kind}: ${result.entry}`;
    if (!this.panel) {
      this.panel = vscode.window.createWebviewPanel(
        "qvrResults",
        title,
        { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
        // No scripts and no local files: everything is inline in the HTML.
        { enableScripts: false, localResourceRoots: [] },
      );
      this.panel.onDidDispose(() => (this.panel = undefined));
    } else if (reveal) {
      this.panel.reveal(undefined, true);
    }
    this.panel.title = title;
    this.panel.webview.html = renderResultsHtml(result, { nonce: randomBytes(16).toString("base64") });
  }

  /** Refresh the panel if it is open (a newer result arrived) without stealing focus. */
  update(result: RunResult): void {
    if (this.panel) this.show(result, false);
  }

  dispose(): void {
    this.panel?.dispose();
  }
}
