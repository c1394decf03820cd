/**
 * The surge chart, written by hand as SVG (no chart library): offered load, goodput and refusals per
 * second on the left axis (requests/s), admitted p99 on the right axis (ms), time in seconds below.
 */

export interface ChartSeries {
  readonly label: string;
  readonly color: string;
  /** One value per second; null leaves a gap. */
  readonly values: readonly (number | null)[];
  readonly axis: 'left' | 'right';
}

export interface ChartOptions {
  readonly title: string;
  readonly leftLabel: string;
  readonly rightLabel: string;
  readonly xLabel: string;
  readonly width?: number;
  readonly height?: number;
}

const margin = { left: 70, right: 70, top: 40, bottom: 60 };

/** A "nice" upper bound for an axis: 1, 2 or 5 times a power of ten, at least `value`. */
export function niceCeiling(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function round(value: number): string {
  return String(Math.round(value * 10) / 10);
}

/** The `points` of polylines for one series: one polyline per run of non-null values. */
export function polylinePoints(
  values: readonly (number | null)[],
  x: (index: number) => number,
  y: (value: number) => number,
): string[] {
  const runs: string[] = [];
  let current: string[] = [];
  values.forEach((value, index) => {
    if (value === null) {
      if (current.length) runs.push(current.join(' '));
      current = [];
      return;
    }
    current.push(`${round(x(index))},${round(y(value))}`);
  });
  if (current.length) runs.push(current.join(' '));
  return runs;
}

export function lineChartSvg(series: readonly ChartSeries[], options: ChartOptions): string {
  const width = options.width ?? 960;
  const height = options.height ?? 480;
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const length = Math.max(2, ...series.map((one) => one.values.length));
  const maxOf = (axis: 'left' | 'right') =>
    niceCeiling(
      Math.max(
        0,
        ...series.filter((one) => one.axis === axis).flatMap((one) => one.values.filter((v) => v !== null)),
      ),
    );
  const leftMax = maxOf('left');
  const rightMax = maxOf('right');
  const x = (index: number) => margin.left + (index / (length - 1)) * plotWidth;
  const yFor = (max: number) => (value: number) => margin.top + plotHeight - (value / max) * plotHeight;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15">${escapeXml(options.title)}</text>`,
  ];
  const ticks = 5;
  for (let tick = 0; tick <= ticks; tick += 1) {
    const fraction = tick / ticks;
    const y = margin.top + plotHeight - fraction * plotHeight;
    parts.push(
      `<line x1="${margin.left}" y1="${round(y)}" x2="${margin.left + plotWidth}" y2="${round(y)}" stroke="#ddd"/>`,
      `<text x="${margin.left - 6}" y="${round(y + 4)}" text-anchor="end">${round(leftMax * fraction)}</text>`,
      `<text x="${margin.left + plotWidth + 6}" y="${round(y + 4)}">${round(rightMax * fraction)}</text>`,
    );
    const seconds = (length - 1) * fraction;
    parts.push(
      `<text x="${round(x(seconds))}" y="${margin.top + plotHeight + 18}" text-anchor="middle">${Math.round(seconds)}</text>`,
    );
  }
  parts.push(
    `<rect x="${margin.left}" y="${margin.top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#333"/>`,
    `<text x="${margin.left + plotWidth / 2}" y="${height - 22}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`,
    `<text transform="translate(18 ${margin.top + plotHeight / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.leftLabel)}</text>`,
    `<text transform="translate(${width - 14} ${margin.top + plotHeight / 2}) rotate(90)" text-anchor="middle">${escapeXml(options.rightLabel)}</text>`,
  );
  series.forEach((one, index) => {
    const y = yFor(one.axis === 'left' ? leftMax : rightMax);
    for (const points of polylinePoints(one.values, x, y)) {
      parts.push(
        `<polyline fill="none" stroke="${one.color}" stroke-width="1.5"${one.axis === 'right' ? ' stroke-dasharray="4 3"' : ''} points="${points}"/>`,
      );
    }
    const legendX = margin.left + 10 + index * 190;
    parts.push(
      `<line x1="${legendX}" y1="${height - 8}" x2="${legendX + 20}" y2="${height - 8}" stroke="${one.color}" stroke-width="2"/>`,
      `<text x="${legendX + 25}" y="${height - 4}">${escapeXml(one.label)}</text>`,
    );
  });
  parts.push('</svg>', '');
  return parts.join('\n');
}
