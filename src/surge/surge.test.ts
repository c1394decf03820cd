import assert from 'node:assert/strict';
import { test } from 'node:test';
import { arrivalTimes, arrivalsBefore, deadlineCurve, phaseAt, rateAt } from './curve.js';
import { bucketHigh, bucketOf, Histogram } from './histogram.js';
import { goodputAtPeakRatio, recovery, type SeriesRow, seriesRows, SurgeSeries } from './report.js';
import { lineChartSvg, niceCeiling, polylinePoints } from './svg.js';

const curve = deadlineCurve({
  capacityRps: 10,
  baselineFactor: 0.5,
  peakFactor: 10,
  baselineS: 2,
  rampS: 2,
  holdS: 3,
  afterS: 3,
});

test('the deadline curve: phases, rates, and arrivals scheduled from the rate alone', () => {
  assert.deepEqual(
    curve.phases.map((phase) => [phase.name, phase.startS, phase.endS, phase.fromRps, phase.toRps]),
    [
      ['baseline', 0, 2, 5, 5],
      ['ramp', 2, 4, 5, 100],
      ['hold', 4, 7, 100, 100],
      ['after', 7, 10, 5, 5],
    ],
  );
  assert.equal(curve.durationS, 10);
  assert.equal(rateAt(curve, 3), 52.5);
  assert.equal(rateAt(curve, 10), 0);
  assert.equal(phaseAt(curve, 7)?.name, 'after');
  assert.equal(arrivalsBefore(curve, 2), 10);
  assert.equal(arrivalsBefore(curve, 4), 115);
  assert.equal(arrivalsBefore(curve, 10), 430);
  const first = arrivalTimes(curve, 0, 1).map((t) => Math.round(t * 1000));
  assert.deepEqual(first, [200, 400, 600, 800]);
  assert.equal(arrivalTimes(curve, 0, 10).length, 429); // the 430th falls on t = 10, outside
  assert.equal(arrivalTimes(curve, 4, 5).length, 100);
  assert.deepEqual(
    arrivalTimes(curve, 1, 2).map((t) => Math.round(t * 1000)),
    [1000, 1200, 1400, 1600, 1800],
  );
});

test('histogram: exact below 128 µs, never under and at most 1/64 over above it', () => {
  assert.equal(bucketOf(127), 127);
  assert.equal(bucketOf(128), 128);
  assert.equal(bucketOf(129), 128);
  assert.equal(bucketHigh(128), 129);
  assert.equal(bucketOf(255), 191);
  assert.equal(bucketHigh(191), 255);
  assert.equal(bucketOf(256), 192);
  assert.equal(bucketHigh(192), 259);
  assert.equal(bucketHigh(bucketOf(1_000_000)), 1_007_615);
  const histogram = new Histogram();
  for (let value = 1; value <= 100; value += 1) histogram.record(value);
  assert.equal(histogram.percentile(50), 50);
  assert.equal(histogram.percentile(99), 99);
  assert.equal(histogram.percentile(100), 100);
  const slow = new Histogram();
  slow.recordMs(1000);
  slow.recordMs(2);
  assert.equal(slow.percentileMs(99), 1000);
  assert.equal(slow.percentileMs(50), 2.015);
  histogram.add(slow);
  assert.equal(histogram.count, 102);
  assert.equal(new Histogram().percentile(99), null);
});

test('series: refusals, errors and admitted latency per second', () => {
  const series = new SurgeSeries();
  series.offer(0.2);
  series.offer(0.7);
  series.offer(1.1);
  assert.equal(series.complete(0.5, 12, 201, true, 'stamp'), 'ok');
  assert.equal(series.complete(1.2, 3, 503, false, 'stamp'), 'refused');
  assert.equal(series.complete(1.3, 40, 500, false, 'order'), 'error');
  assert.equal(series.complete(1.4, 9000, 0, false, 'order'), 'error');
  assert.deepEqual(seriesRows(series), [
    {
      t: 0,
      offered: 2,
      goodput: 1,
      refused_429: 0,
      refused_503: 0,
      errors: 0,
      admitted_p99_ms: 12,
      refusal_p99_ms: null,
      rss_mb: null,
    },
    {
      t: 1,
      offered: 1,
      goodput: 0,
      refused_429: 0,
      refused_503: 1,
      errors: 2,
      admitted_p99_ms: 40,
      refusal_p99_ms: 3,
      rss_mb: null,
    },
  ]);
  assert.equal(series.totalErrors(), 2);
  assert.deepEqual([...series.errorsByKind], [['order', 2]]);
  series.complete(2.1, 5, 429, false, 'otp:429:RATE_LIMITED');
  series.complete(2.2, 7, 429, false, 'otp:429:RATE_LIMITED');
  assert.deepEqual(series.refusalLatencyByKind(), {
    // 5 ms falls in the histogram bucket whose top is 5.055 ms (never under, at most 1/64 over).
    'otp:429:RATE_LIMITED': { count: 2, p50_ms: 5.055, p99_ms: 7 },
    stamp: { count: 1, p50_ms: 3, p99_ms: 3 },
  });
});

function row(t: number, offered: number, goodput: number, refused: number, p99: number | null): SeriesRow {
  return {
    t,
    offered,
    goodput,
    refused_429: 0,
    refused_503: refused,
    errors: 0,
    admitted_p99_ms: p99,
    refusal_p99_ms: null,
    rss_mb: null,
  };
}

test('goodput at peak and recovery time', () => {
  const rows = [
    row(0, 5, 5, 0, 10),
    row(1, 5, 5, 0, 12),
    row(2, 30, 10, 0, 100),
    row(3, 80, 10, 20, 900),
    row(4, 100, 9, 80, 1500),
    row(5, 100, 10, 90, 1500),
    row(6, 100, 11, 90, 1500),
    row(7, 5, 5, 10, 800),
    row(8, 5, 5, 0, 70),
    row(9, 5, 5, 0, 11),
  ];
  assert.equal(goodputAtPeakRatio(rows, curve, 10), 1);
  assert.deepEqual(recovery(rows, curve, 10), {
    seconds: 2,
    recovered: true,
    baselineP99Ms: 12,
    baselineRefusalShare: 0,
  });
  const stuck = rows.map((one) => (one.t === 9 ? row(9, 5, 5, 3, 11) : one));
  assert.deepEqual(recovery(stuck, curve, 10).seconds, 3);
  assert.deepEqual(recovery(stuck, curve, 10).recovered, false);
});

test('the chart: nice axes, gaps in series, labelled axes', () => {
  assert.equal(niceCeiling(0), 1);
  assert.equal(niceCeiling(7), 10);
  assert.equal(niceCeiling(101), 200);
  assert.equal(niceCeiling(450), 500);
  assert.deepEqual(
    polylinePoints(
      [1, 2, null, 4],
      (index) => index * 10,
      (value) => 100 - value,
    ),
    ['0,99 10,98', '30,96'],
  );
  const svg = lineChartSvg(
    [
      { label: 'offered', color: '#000', values: [0, 50, 100], axis: 'left' },
      { label: 'p99', color: '#f00', values: [10, null, 20], axis: 'right' },
    ],
    {
      title: 'Surge',
      leftLabel: 'requests/s',
      rightLabel: 'p99 ms',
      xLabel: 'seconds',
      width: 240,
      height: 200,
    },
  );
  assert.equal(svg.match(/<polyline /g)?.length, 3);
  assert.ok(svg.includes('points="70,140 120,90 170,40"'), svg);
  assert.ok(svg.includes('>requests/s</text>'));
  assert.ok(svg.includes('>p99 ms</text>'));
  assert.ok(svg.includes('>seconds</text>'));
  assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="240" height="200"'));
});
