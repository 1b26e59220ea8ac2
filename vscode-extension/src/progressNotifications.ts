/**
 * The server's work-done progress (model runs: "QVR: Run SVI lm — step 40/200, loss 12.3")
 * shown in the notification area with a Cancel button. vscode-languageclient on its own shows
 * server progress only in the status bar, so its `window/workDoneProgress/create` handler is
 * replaced by this one; Cancel sends `window/workDoneProgress/cancel`, which the server turns
 * into cancelling the run.
 */
import * as vscode from "vscode";
import { LanguageClient, WorkDoneProgress, WorkDoneProgressCancelNotification } from "vscode-languageclient/node";
import { ProgressState, ProgressValue } from "./progressState";

type Token = string | number;

/** One progress token's notification. */
class ProgressNotification {
  private readonly state = new ProgressState();
  private reporter: vscode.Progress<{ message?: string; increment?: number }> | undefined;
  private finish: (() => void) | undefined;
  private ended = false;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly client: LanguageClient, private readonly token: Token) {
    this.subscription = client.onProgress(WorkDoneProgress.type, token, (value) => this.handle(value as ProgressValue & { title?: string; cancellable?: boolean }));
  }

  private handle(value: ProgressValue & { title?: string; cancellable?: boolean }): void {
    if (value.kind === "begin") {
      void vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: value.title, cancellable: value.cancellable === true },
        (progress, cancellation) => {
          this.reporter = progress;
          cancellation.onCancellationRequested(() => {
            void this.client.sendNotification(WorkDoneProgressCancelNotification.type, { token: this.token });
          });
          progress.report(this.state.update(value));
          // `end` may already have arrived if the task started late.
          return this.ended ? Promise.resolve() : new Promise<void>((resolve) => (this.finish = resolve));
        },
      );
    } else if (value.kind === "report") {
      this.reporter?.report(this.state.update(value));
    } else {
      this.ended = true;
      this.subscription.dispose();
      this.finish?.();
    }
  }
}

/**
 * The handler for `window/workDoneProgress/create`: each token gets a notification. Installed
 * by `QvrLanguageClient` (client.ts) in place of vscode-languageclient's own handler.
 */
export function progressCreateHandler(client: LanguageClient): (params: { token: Token }) => null {
  return ({ token }) => {
    new ProgressNotification(client, token);
    return null;
  };
}
