/**
 * The operator dashboard (role `platform_operator`): reads `GET /v1/operator/dashboard` every two
 * seconds (src/web/operator-dashboard.ts; it works whether or not `/metrics` needs a token) and shows
 * stamps per second (with a chart of the last two minutes), admitted vs refused requests by class,
 * queue depth and wait, refunds by reason, stock per channel, orders awaiting payment and the waiting
 * room, updating without a reload.
 */
import { useEffect, useRef, useState } from 'react';
import type { OperatorDashboard } from '../../src/web/operator-dashboard-types.js';
import { api, errorText } from './api.js';
import { reasonKey } from './history.js';
import { useWords } from './language.js';
import { Note, Problem, ScreenHeading, useSession } from './ui.js';

export const pollMs = 2000;
const historyLength = 60;
export const dashboardPath = '/v1/operator/dashboard';

/** The answer of GET /v1/operator/dashboard: the server's own type. */
export type Dashboard = OperatorDashboard;

const classKeys = {
  finishing: 'operatorClassFinishing',
  stamp: 'operatorClassStamp',
  verify: 'operatorClassVerify',
  order: 'operatorClassOrder',
  signup: 'operatorClassSignup',
} as const;

/** The text key of a priority class's plain name (DESIGN §8). */
function classKey(name: string): (typeof classKeys)[keyof typeof classKeys] {
  return classKeys[name as keyof typeof classKeys] ?? 'operatorClassSignup';
}

interface Reading {
  readonly at: number;
  readonly dashboard: Dashboard;
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
  const { me, session } = useSession();
  const [reading, setReading] = useState<Reading | null>(null);
  const [rates, setRates] = useState<number[]>([]);
  const [problem, setProblem] = useState<unknown>(null);
  const previous = useRef<Reading | null>(null);
  const allowed = !me || me.roles.includes('platform_operator');

  useEffect(() => {
    if (!allowed) return undefined;
    let stopped = false;
    const read = async () => {
      try {
        const dashboard = await api<Dashboard>(dashboardPath, { token: session.token });
        const now: Reading = { at: Date.now(), dashboard };
        if (stopped) return;
        const before = previous.current;
        if (before) {
          const stampsNow = now.dashboard.stamps.stamped + now.dashboard.stamps.refunded;
          const stampsBefore = before.dashboard.stamps.stamped + before.dashboard.stamps.refunded;
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
  }, [allowed, session.token]);

  if (!allowed) {
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
  const dashboard = reading?.dashboard ?? null;
  const number = (value: number | null | undefined, digits = 0) =>
    value === null || value === undefined
      ? words.t('operatorNotReported')
      : words.number(Number(value.toFixed(digits)));
  const classes = dashboard?.admission.classes ?? [];
  const refunds = Object.entries(dashboard?.refunds ?? {}).filter(([, count]) => count > 0);
  const currentRate = rates.length > 0 ? rates[rates.length - 1]! : null;
  const room = dashboard?.waiting_room ?? null;

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
            <dd data-testid="queue-depth">{number(dashboard?.admission.queue_depth)}</dd>
            <dt>{words.t('operatorQueueStamp')}</dt>
            <dd>{number(dashboard?.stamp_queue.waiting)}</dd>
            <dt>{words.t('operatorQueueWait')}</dt>
            <dd>
              {dashboard === null
                ? words.t('operatorNotReported')
                : words.t('operatorWaitValue', {
                    p50: words.number(Math.round(dashboard.admission.queue_wait_ms.p50)),
                    p99: words.number(Math.round(dashboard.admission.queue_wait_ms.p99)),
                  })}
            </dd>
            <dt>{words.t('operatorRunning')}</dt>
            <dd>{number(dashboard?.stamp_queue.running)}</dd>
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
                {classes.map((entry) => (
                  <tr key={entry.class} data-class={entry.class}>
                    <th scope="row">{words.t(classKey(entry.class))}</th>
                    <td>{words.number(entry.admitted)}</td>
                    <td
                      title={words.t('operatorRefusedDetail', {
                        queue_full: entry.refused.queue_full,
                        deadline: entry.refused.deadline,
                        shed: entry.refused.shed,
                        busy: entry.refused.busy,
                      })}
                    >
                      {words.number(entry.refused_total)}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
        <section className="card tile" aria-labelledby="tile-refunds">
          <h2 id="tile-refunds">{words.t('operatorRefunds')}</h2>
          {refunds.length === 0 ? (
            <p>{words.t('operatorNoRefunds')}</p>
          ) : (
            <dl className="facts">
              {refunds.map(([reason, count]) => (
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
          {dashboard === null ? (
            <p>{words.t('operatorNotReported')}</p>
          ) : (
            <>
              <dl className="facts">
                <dt>{words.t('operatorAwaiting')}</dt>
                <dd data-testid="orders-awaiting">
                  {words.t('operatorAwaitingValue', {
                    orders: words.number(dashboard.commerce.orders_awaiting_payment),
                    units: words.number(dashboard.commerce.units_awaiting_payment),
                  })}
                </dd>
                <dt>{words.t('operatorStockUnallocated')}</dt>
                <dd>{words.number(dashboard.commerce.operator_stock)}</dd>
              </dl>
              <table className="breakdown" data-testid="channel-stock">
                <thead>
                  <tr>
                    <th scope="col">{words.t('operatorChannel')}</th>
                    <th scope="col">{words.t('operatorStock')}</th>
                    <th scope="col">{words.t('operatorAwaitingShort')}</th>
                  </tr>
                </thead>
                <tbody>
                  {dashboard.commerce.channels.map((channel) => (
                    <tr key={channel.id} data-channel={channel.id}>
                      <th scope="row">
                        {channel.name === channel.id ? channel.id : `${channel.name} (${channel.id})`}
                      </th>
                      <td>{words.number(channel.stock)}</td>
                      <td>{words.number(channel.orders_awaiting_payment)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
        </section>
        <section className="card tile" aria-labelledby="tile-room">
          <h2 id="tile-room">{words.t('operatorRoom')}</h2>
          {room === null ? (
            <p data-testid="waiting-room-off">{words.t('operatorRoomOff')}</p>
          ) : (
            <dl className="facts">
              <dt>{words.t('operatorRoomWaiting')}</dt>
              <dd>{words.number(room.waiting)}</dd>
              <dt>{words.t('operatorRoomAdmitted')}</dt>
              <dd>
                {words.t('operatorRoomAdmittedValue', {
                  admitted: words.number(room.admitted),
                  capacity: words.number(room.capacity),
                })}
              </dd>
            </dl>
          )}
        </section>
      </div>
      {problem ? <Problem>{errorText(problem, words.language)}</Problem> : null}
    </>
  );
}
