/**
 * The curve of a run's metric (SVI's loss, the log joint of Sample and NUTS draws) as an inline
 * SVG string, drawn from the values in a run result. Inline SVG
 * needs neither scripts nor network in the results webview, so its CSP can forbid both.
 */
import { formatNumber } from "./runResult";

export interface CurveSize {
  width: number;
  height: number;
}

const MARGIN = { left: 64, right: 16, top: 16, bottom: 36 };

function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** The polyline points for `losses` inside the plot area (x: step, y: loss, larger loss higher). */
export function curvePoints(losses: number[], size: CurveSize): Array<[number, number]> {
  const plotW = size.width - MARGIN.left - MARGIN.right;
  const plotH = size.height - MARGIN.top - MARGIN.bottom;
  const lo = Math.min(...losses);
  const hi = Math.max(...losses);
  const span = hi - lo || 1; // a flat curve is drawn through the middle
  const steps = Math.max(losses.length - 1, 1);
  return losses.map((loss, i) => {
    const x = MARGIN.left + (plotW * i) / steps;
    const y = hi === lo ? MARGIN.top + plotH / 2 : MARGIN.top + plotH * (1 - (loss - lo) / span);
    return [Number(x.toFixed(2)), Number(y.toFixed(2))];
  });
}

/**
 * An SVG of the curve with axes and min/max labels, named `title` ("loss", "log joint"); a short
 * note when there is no data.
 */
export function lossCurveSvg(losses: number[], size: CurveSize = { width: 640, height: 280 }, title = "loss"): string {
  const { width, height } = size;
  const open = `<svg xmlns="http://www.w3.org/2000/svg" class="loss-curve" role="img" ` +
    `aria-label="${escapeXml(title)} curve" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">`;
  if (losses.length === 0) {
    return `${open}<text x="${width / 2}" y="${height / 2}" text-anchor="middle">no ${escapeXml(title)} recorded</text></svg>`;
  }
  const points = curvePoints(losses, size);
  const bottom = height - MARGIN.bottom;
  const right = width - MARGIN.right;
  const lo = Math.min(...losses);
  const hi = Math.max(...losses);
  return [
    open,
    `<line class="axis" x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${bottom}"/>`,
    `<line class="axis" x1="${MARGIN.left}" y1="${bottom}" x2="${right}" y2="${bottom}"/>`,
    `<text class="tick" x="${MARGIN.left - 6}" y="${MARGIN.top + 4}" text-anchor="end">${escapeXml(formatNumber(hi))}</text>`,
    `<text class="tick" x="${MARGIN.left - 6}" y="${bottom}" text-anchor="end">${escapeXml(formatNumber(lo))}</text>`,
    `<text class="tick" x="${MARGIN.left}" y="${bottom + 16}" text-anchor="start">1</text>`,
    `<text class="tick" x="${right}" y="${bottom + 16}" text-anchor="end">${losses.length}</text>`,
    `<text class="label" x="${(MARGIN.left + right) / 2}" y="${height - 4}" text-anchor="middle">step</text>`,
    `<polyline class="curve" fill="none" points="${points.map(([x, y]) => `${x},${y}`).join(" ")}"/>`,
    `</svg>`,
  ].join("");
}
