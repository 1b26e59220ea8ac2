/**
 * Turning LSP work-done progress values (begin/report/end, percentage 0–100 as a running
 * total) into VS Code `Progress.report` calls (message, increment since the last call).
 */

export interface ProgressValue {
  kind: "begin" | "report" | "end";
  message?: string;
  percentage?: number;
}

export interface ProgressStep {
  message?: string;
  increment?: number;
}

export class ProgressState {
  private reported = 0;

  /** The report for one value; percentages never go backwards and never pass 100. */
  update(value: ProgressValue): ProgressStep {
    const step: ProgressStep = {};
    if (typeof value.message === "string") step.message = value.message;
    if (typeof value.percentage === "number" && Number.isFinite(value.percentage)) {
      const total = Math.max(0, Math.min(100, value.percentage));
      const increment = Math.max(0, total - this.reported);
      this.reported += increment;
      if (increment > 0) step.increment = increment;
    }
    return step;
  }
}
