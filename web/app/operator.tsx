/**
 * The operator dashboard (role `platform_operator`): reads this node's `GET /metrics` every two seconds
 * and shows stamps per second (with a chart of the last two minutes), admitted vs refused requests by
 * class, queue depth and mean wait, and refunds by reason, updating without a reload. Figures the node
 * does not export are shown as "not reported".
 */
import { useEffect, useRef, useState } from 'react';
import { errorText } from './api.js';
import { reasonKey } from './history.js';
import { useWords } from './language.js';
import { Note, Problem, ScreenHeading, useSession } from './ui.js';

export const pollMs = 2000;
const historyLength = 60;

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** The samples of a Prometheus text exposition (comments skipped; label values unescaped). */
export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1]!] = pair[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    }
    samples.push({ name: match[1]!, labels, value: Number(match[4]) });
  }
  return samples;
}

function total(
  samples: readonly Sample[],
  name: string,
  filter: (labels: Record<string, string>) => boolean = () => true,
) {
  let sum = 0;
  let found = false;
  for (const sample of samples) {
    if (sample.name === name && filter(sample.labels)) {
      sum += sample.value;
      found = true;
    }
  }
  return found ? sum : null;
}

function byLabel(samples: readonly Sample[], name: string, label: string): Map<string, number> {
  const result = new Map<string, number>();
  for (const sample of samples) {
    if (sample.name !== name) continue;
    const key = sample.labels[label] ?? '—';
    result.set(key, (result.get(key) ?? 0) + sample.value);
  }
  return result;
}

interface Reading {
  readonly at: number;
  readonly samples: Sample[];
}

function Sparkline(props: { readonly values: readonly number[]; readonly label: string }) {
  const width = 300;
  const height = 60;
  const max = Math.max(1, ...props.values);
  const points = props.values
    .map(
      (value, index) =>
        `${(index / Math.max(1, historyLength - 1)) * width},${height - (value / max) * (height - 4) - 2}`,
    )
    .join(' ');
  return (
    <svg
      className="sparkline"
      viewBox={`0 0 ${width} ${height}`}
      role="img"
      aria-label={props.label}
      preserveAspectRatio="none"
    >
      <polyline points={points} fill="none" strokeWidth="2" />
    </svg>
  );
}

export function OperatorScreen() {
  const words = useWords();
  const { me } = useSession();
  const [reading, setReading] = useState<Reading | null>(null);
  const [rates, setRates] = useState<number[]>([]);
  const [problem, setProblem] = useState<unknown>(null);
  const previous = useRef<Reading | null>(null);

  useEffect(() => {
    let stopped = false;
    const read = async () => {
      try {
        const response = await fetch('/metrics', { headers: { accept: 'text/plain' }, credentials: 'omit' });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        const now: Reading = { at: Date.now(), samples: parseMetrics(await response.text()) };
        if (stopped) return;
        const before = previous.current;
        if (before) {
          const stampsNow = total(now.samples, 'bubuh_stamps_total') ?? 0;
          const stampsBefore = total(before.samples, 'bubuh_stamps_total') ?? 0;
          const rate = Math.max(0, (stampsNow - stampsBefore) / ((now.at - before.at) / 1000));
          setRates((list) => [...list, rate].slice(-historyLength));
        }
        previous.current = now;
        setReading(now);
        setProblem(null);
      } catch (error) {
        if (!stopped) setProblem(error);
      }
    };
    void read();
    const timer = setInterval(() => void read(), pollMs);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, []);

  if (me && !me.roles.includes('platform_operator')) {
    return (
      <>
        <ScreenHeading>{words.t('operatorTitle')}</ScreenHeading>
        <Problem>{words.t('operatorOnly')}</Problem>
      </>
    );
  }

  const reasonText = (code: string) => {
    const key = reasonKey(code);
    return key ? `${words.t(key)} (${code})` : code;
  };
  const samples = reading?.samples ?? [];
  const number = (value: number | null, digits = 0) =>
    value === null ? words.t('operatorNotReported') : words.number(Number(value.toFixed(digits)));
  const admitted = byLabel(samples, 'bubuh_admission_admitted_total', 'class');
  const refused = byLabel(samples, 'bubuh_admission_refused_total', 'class');
  const classes = [...new Set([...admitted.keys(), ...refused.keys()])].sort();
  const refunds = byLabel(samples, 'bubuh_stamp_refunds_total', 'reason');
  const waitSum = total(samples, 'bubuh_admission_queue_wait_seconds_sum');
  const waitCount = total(samples, 'bubuh_admission_queue_wait_seconds_count');
  const meanWaitMs = waitSum !== null && waitCount ? (waitSum / waitCount) * 1000 : null;
  const currentRate = rates.length > 0 ? rates[rates.length - 1]! : null;

  return (
    <>
      <ScreenHeading>{words.t('operatorTitle')}</ScreenHeading>
      <p className="hint">{words.t('operatorIntro', { seconds: pollMs / 1000 })}</p>
      {reading === null && !problem ? <Note>{words.t('loading')}</Note> : null}
      <div className="tiles">
        <section className="card tile" aria-labelledby="tile-rate">
          <h2 id="tile-rate">{words.t('operatorStampsRate')}</h2>
          <p className="tile-number" data-testid="stamps-rate">
            {number(currentRate, 1)}
          </p>
          <Sparkline values={rates} label={words.t('operatorChartLabel')} />
        </section>
        <section className="card tile" aria-labelledby="tile-queue">
          <h2 id="tile-queue">{words.t('operatorQueue')}</h2>
          <dl className="facts">
            <dt>{words.t('operatorQueueAdmission')}</dt>
            <dd>{number(total(samples, 'bubuh_admission_queue_depth'))}</dd>
            <dt>{words.t('operatorQueueStamp')}</dt>
            <dd>{number(total(samples, 'bubuh_stamp_queue_depth'))}</dd>
            <dt>{words.t('operatorQueueWait')}</dt>
            <dd>
              {meanWaitMs === null
                ? words.t('operatorNotReported')
                : `${words.number(Math.round(meanWaitMs))} ms`}
            </dd>
            <dt>{words.t('operatorRunning')}</dt>
            <dd>{number(total(samples, 'bubuh_stamp_running'))}</dd>
          </dl>
        </section>
        <section className="card tile" aria-labelledby="tile-classes">
          <h2 id="tile-classes">{words.t('operatorClasses')}</h2>
          {classes.length === 0 ? (
            <p>{words.t('operatorNotReported')}</p>
          ) : (
            <table className="breakdown">
              <thead>
                <tr>
                  <th scope="col">{words.t('operatorClass')}</th>
                  <th scope="col">{words.t('operatorAdmitted')}</th>
                  <th scope="col">{words.t('operatorRefused')}</th>
                </tr>
              </thead>
              <tbody>
                {classes.map((name) => (
                  <tr key={name}>
                    <th scope="row">{name}</th>
                    <td>{words.number(admitted.get(name) ?? 0)}</td>
                    <td>{words.number(refused.get(name) ?? 0)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
        <section className="card tile" aria-labelledby="tile-refunds">
          <h2 id="tile-refunds">{words.t('operatorRefunds')}</h2>
          {refunds.size === 0 ? (
            <p>{words.t('operatorNoRefunds')}</p>
          ) : (
            <dl className="facts">
              {[...refunds].map(([reason, count]) => (
                <div key={reason}>
                  <dt>{reasonText(reason)}</dt>
                  <dd>{words.number(count)}</dd>
                </div>
              ))}
            </dl>
          )}
        </section>
        <section className="card tile" aria-labelledby="tile-commerce">
          <h2 id="tile-commerce">{words.t('operatorCommerce')}</h2>
          <dl className="facts">
            <dt>{words.t('operatorStock')}</dt>
            <dd>{number(total(samples, 'bubuh_channel_stock'))}</dd>
            <dt>{words.t('operatorAwaiting')}</dt>
            <dd>{number(total(samples, 'bubuh_orders_awaiting_payment'))}</dd>
          </dl>
        </section>
      </div>
      {problem ? <Problem>{errorText(problem, words.language)}</Problem> : null}
    </>
  );
}
