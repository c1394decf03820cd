/**
 * Quota and orders: the balance, buying quota (the order page shows duty + fee before paying), paying on
 * the gateway's page, the credited balance after it, signed receipts, and refunds of unused quota.
 */
import { type FormEvent, useCallback, useEffect, useRef, useState } from 'react';
import { type Order, type Refund, api, errorText, newIdempotencyKey, saveFile } from './api.js';
import { useWords } from './language.js';
import { Link, navigate, paths } from './router.js';
import type { TextKey } from './texts.js';
import { Note, Problem, ScreenHeading, useSession } from './ui.js';

/** Orders are polled this often while one awaits payment (the gateway's notification credits it). */
const paymentPollMs = 2000;
const ordersPageSize = 10;

export function orderStatusKey(status: string): TextKey {
  switch (status) {
    case 'awaiting_payment':
      return 'statusAwaitingPayment';
    case 'paid':
      return 'statusPaid';
    case 'expired':
      return 'statusExpired';
    case 'partially_refunded':
      return 'statusPartiallyRefunded';
    case 'refunded':
      return 'statusRefunded';
    default:
      return 'statusAwaitingPayment';
  }
}

export function QuotaScreen() {
  const words = useWords();
  const { session, me, refreshMe } = useSession();
  const [quantity, setQuantity] = useState('1');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<unknown>(null);
  const [orders, setOrders] = useState<Order[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  // One key per order attempt: a retried tap after a lost answer never makes a second order.
  const orderKey = useRef(newIdempotencyKey('order'));

  const loadOrders = useCallback(
    async (after: string | null) => {
      const query = `?limit=${ordersPageSize}${after ? `&cursor=${encodeURIComponent(after)}` : ''}`;
      const page = await api<{ orders: Order[]; next_cursor: string | null }>(`/v1/orders${query}`, {
        token: session.token,
      });
      setOrders((previous) => (after && previous ? [...previous, ...page.orders] : page.orders));
      setCursor(page.next_cursor);
    },
    [session.token],
  );

  useEffect(() => {
    refreshMe().catch(() => {});
    loadOrders(null).catch((error: unknown) => setProblem(error));
  }, [refreshMe, loadOrders]);

  const count = Number(quantity);
  const valid = Number.isInteger(count) && count >= 1 && count <= 1000;

  const buy = async (event: FormEvent) => {
    event.preventDefault();
    if (!valid) {
      setProblem(null);
      return;
    }
    setBusy(true);
    setProblem(null);
    try {
      const order = await api<Order>('/v1/orders', {
        method: 'POST',
        token: session.token,
        body: { quantity: count },
        idempotencyKey: orderKey.current,
      });
      orderKey.current = newIdempotencyKey('order');
      navigate(paths.order(order.id));
    } catch (error) {
      setProblem(error);
      setBusy(false);
    }
  };

  return (
    <>
      <ScreenHeading>{words.t('quotaTitle')}</ScreenHeading>
      <section className="card quota" aria-labelledby="quota-available">
        <p className="quota-label" id="quota-available">
          {words.t('quotaAvailable')}
        </p>
        <p className="quota-number" data-testid="quota">
          {me ? words.t('quotaUnits', { count: words.number(me.quota.available) }) : words.t('loading')}
        </p>
        {me && me.quota.pending > 0 ? (
          <p className="hint">{words.t('quotaPending', { count: me.quota.pending })}</p>
        ) : null}
        <p className="hint">{words.t('signedInAs', { phone: session.phone })}</p>
        <Link className="button primary" to={paths.stamp}>
          {words.t('stampNow')}
        </Link>
      </section>

      <section className="card" aria-labelledby="buy-title">
        <h2 id="buy-title">{words.t('buyTitle')}</h2>
        <form onSubmit={buy} noValidate>
          <label htmlFor="quantity">{words.t('buyQuantityLabel')}</label>
          <input
            id="quantity"
            name="quantity"
            type="number"
            inputMode="numeric"
            min={1}
            max={1000}
            step={1}
            required
            aria-describedby="quantity-hint"
            aria-invalid={!valid}
            value={quantity}
            onChange={(event) => setQuantity(event.target.value)}
          />
          <p className="hint" id="quantity-hint">
            {words.t('buyQuantityHint')}
          </p>
          {!valid ? <Problem>{words.t('quantityInvalid')}</Problem> : null}
          <button type="submit" className="primary" disabled={busy || !valid}>
            {busy ? words.t('buying') : words.t('buySubmit')}
          </button>
        </form>
        {problem ? <Problem>{errorText(problem, words.language)}</Problem> : null}
      </section>

      <section className="card" aria-labelledby="orders-title">
        <h2 id="orders-title">{words.t('ordersTitle')}</h2>
        {orders === null ? (
          <Note>{words.t('loading')}</Note>
        ) : orders.length === 0 ? (
          <p>{words.t('ordersEmpty')}</p>
        ) : (
          <ul className="list">
            {orders.map((order) => (
              <li key={order.id}>
                <Link to={paths.order(order.id)}>
                  {words.t('orderSummary', {
                    quantity: words.number(order.quantity),
                    amount: words.rupiah(order.amount),
                    date: words.dateTime(order.created_at),
                  })}
                </Link>
                <span className={`badge ${order.status}`}>{words.t(orderStatusKey(order.status))}</span>
              </li>
            ))}
          </ul>
        )}
        {cursor ? (
          <button
            type="button"
            onClick={() => void loadOrders(cursor).catch((error: unknown) => setProblem(error))}
          >
            {words.t('loadMore')}
          </button>
        ) : null}
      </section>
    </>
  );
}

export function OrderScreen(props: { readonly orderId: string }) {
  const words = useWords();
  const { session, me, refreshMe } = useSession();
  const [order, setOrder] = useState<Order | null>(null);
  const [problem, setProblem] = useState<unknown>(null);
  const [refundQuantity, setRefundQuantity] = useState('1');
  const [refund, setRefund] = useState<Refund | null>(null);
  const [refunding, setRefunding] = useState(false);
  const refundKey = useRef(newIdempotencyKey('refund'));

  const load = useCallback(async () => {
    const fresh = await api<Order>(`/v1/orders/${encodeURIComponent(props.orderId)}`, {
      token: session.token,
    });
    setOrder(fresh);
    return fresh;
  }, [props.orderId, session.token]);

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      try {
        const fresh = await load();
        if (fresh.status !== 'awaiting_payment') {
          await refreshMe();
          return;
        }
      } catch (error) {
        if (!stopped) setProblem(error);
      }
      if (!stopped) timer = setTimeout(() => void tick(), paymentPollMs);
    };
    void tick();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }, [load, refreshMe]);

  const downloadReceipt = async () => {
    if (!order) return;
    try {
      const receipt = await api<unknown>(`/v1/orders/${encodeURIComponent(order.id)}/receipt`, {
        token: session.token,
      });
      saveFile(
        new Blob([JSON.stringify(receipt, null, 2)], { type: 'application/json' }),
        `bubuh-receipt-${order.id}.json`,
      );
    } catch (error) {
      setProblem(error);
    }
  };

  const requestRefund = async (event: FormEvent) => {
    event.preventDefault();
    if (!order) return;
    setRefunding(true);
    setProblem(null);
    try {
      const done = await api<Refund>('/v1/refunds', {
        method: 'POST',
        token: session.token,
        body: { order_id: order.id, quantity: Number(refundQuantity) },
        idempotencyKey: refundKey.current,
      });
      refundKey.current = newIdempotencyKey('refund');
      setRefund(done);
      await load();
      await refreshMe();
    } catch (error) {
      setProblem(error);
    } finally {
      setRefunding(false);
    }
  };

  if (!order) {
    return (
      <>
        <ScreenHeading>{words.t('orderTitle')}</ScreenHeading>
        {problem ? (
          <Problem>{errorText(problem, words.language)}</Problem>
        ) : (
          <Note>{words.t('loading')}</Note>
        )}
      </>
    );
  }

  const refundable = order.quantity - order.refunded_quantity;
  const paid = order.status === 'paid' || order.status === 'partially_refunded';
  const refundStatusKey: TextKey =
    refund?.status === 'succeeded'
      ? 'refundSucceeded'
      : refund?.status === 'failed'
        ? 'refundFailed'
        : 'refundRequested';

  return (
    <>
      <ScreenHeading>{words.t('orderTitle')}</ScreenHeading>
      <section className="card">
        <dl className="facts">
          <dt>{words.t('orderNumber')}</dt>
          <dd className="mono">{order.id}</dd>
          <dt>{words.t('orderStatus')}</dt>
          <dd>
            <span className={`badge ${order.status}`} data-testid="order-status">
              {words.t(orderStatusKey(order.status))}
            </span>
          </dd>
        </dl>
        <table className="breakdown">
          <caption>{words.t('breakdownCaption')}</caption>
          <tbody>
            <tr>
              <th scope="row">
                {words.t('breakdownDuty', {
                  quantity: words.number(order.quantity),
                  unit: words.rupiah(order.unit_price),
                })}
              </th>
              <td>{words.rupiah(order.quantity * order.unit_price)}</td>
            </tr>
            <tr>
              <th scope="row">
                {words.t('breakdownFee', {
                  quantity: words.number(order.quantity),
                  unit: words.rupiah(order.fee_per_unit),
                })}
              </th>
              <td>{words.rupiah(order.quantity * order.fee_per_unit)}</td>
            </tr>
          </tbody>
          <tfoot>
            <tr>
              <th scope="row">{words.t('breakdownTotal')}</th>
              <td data-testid="order-total">{words.rupiah(order.amount)}</td>
            </tr>
          </tfoot>
        </table>
        {order.status === 'awaiting_payment' && order.payment.redirect_url ? (
          <>
            <a
              className="button primary"
              href={order.payment.redirect_url}
              target="_blank"
              rel="noopener"
              data-testid="pay-link"
            >
              {words.t('payLink', { amount: words.rupiah(order.amount) })}{' '}
              <span className="visually-hidden">{words.t('payNewTab')}</span>
            </a>
            <p className="hint">{words.t('payBefore', { time: words.dateTime(order.payment.expires_at) })}</p>
            <Note>{words.t('payWaiting')}</Note>
          </>
        ) : null}
        {paid ? (
          <>
            <Note tone="good">
              {words.t('paidCredited', { count: words.number(me?.quota.available ?? 0) })}
            </Note>
            <button type="button" onClick={() => void downloadReceipt()}>
              {words.t('receiptDownload')}
            </button>
            <p className="hint">{words.t('receiptHint')}</p>
          </>
        ) : null}
      </section>
      {paid && refundable > 0 ? (
        <section className="card" aria-labelledby="refund-title">
          <h2 id="refund-title">{words.t('refundTitle')}</h2>
          <p className="hint">{words.t('refundIntro')}</p>
          <form onSubmit={requestRefund} noValidate>
            <label htmlFor="refund-quantity">{words.t('refundQuantityLabel')}</label>
            <input
              id="refund-quantity"
              type="number"
              inputMode="numeric"
              min={1}
              max={refundable}
              value={refundQuantity}
              onChange={(event) => setRefundQuantity(event.target.value)}
            />
            <button type="submit" disabled={refunding}>
              {refunding ? words.t('refunding') : words.t('refundSubmit')}
            </button>
          </form>
          {refund ? (
            <Note tone="good">
              {words.t('refundDone', {
                quantity: words.number(refund.quantity),
                amount: words.rupiah(refund.amount),
                status: words.t(refundStatusKey),
              })}
            </Note>
          ) : null}
        </section>
      ) : null}
      {problem ? <Problem>{errorText(problem, words.language)}</Problem> : null}
      <p>
        <Link to={paths.quota}>{words.t('backHome')}</Link>
      </p>
    </>
  );
}
