/**
 * `GET /v1/operator/dashboard` (role `platform_operator`): the live figures the web app's operator
 * dashboard polls every two seconds, as one JSON answer, so the dashboard needs neither `/metrics`
 * (which may sit behind BUBUH_METRICS_TOKEN) nor a Prometheus parser:
 *
 * - stamps and refunds: this node's counters (`bubuh_stamps_total` by outcome, `bubuh_stamp_refunds_total`
 *   by reason); the dashboard turns two readings into stamps per second;
 * - admission: the overload layer's snapshot — admitted and refused (by reason) per priority class,
 *   queue depth, queue wait p50/p99, the current limit and requests in flight;
 * - the stamp workers' queue: stamps waiting for a worker and stamps being made;
 * - commerce, from the database: each channel's available stock (its ledger account) and the operator's
 *   unallocated stock, and the orders still awaiting payment (count and units, per channel) in one
 *   grouped aggregate over `orders`;
 * - the waiting room, when it is on: visitors waiting and admissions not yet run out.
 *
 * Everything but commerce is this node's own view; stock and orders are the whole platform's.
 */
import { authenticate, type Principal, requireRole } from '../accounts/index.js';
import { accountIds } from '../ledger/chart.js';
import type { RouteModule } from '../http/routes/index.js';
import type { BubuhNode } from '../node.js';
import { available } from '../commerce/stock.js';
import { admissionOf } from '../overload/hooks.js';
import { PRIORITY_CLASSES } from '../overload/priority.js';
import { REFUSAL_REASONS } from '../overload/refusal-reasons.js';
import type { OperatorDashboard } from './operator-dashboard-types.js';
import { waitingRoomOf } from '../waiting-room/room.js';

export type { OperatorDashboard } from './operator-dashboard-types.js';

export const operatorDashboardPath = '/v1/operator/dashboard';
/** Channels listed at most (the platform has a handful; the bound keeps one answer small). */
export const dashboardChannelsMax = 200;

/** The samples of one metric in the node's registry, or null when nothing registered it. */
async function metricValues(
  node: BubuhNode,
  name: string,
): Promise<ReadonlyArray<{ labels: Record<string, string | number>; value: number }> | null> {
  const metric = node.metrics.registry.getSingleMetric(name);
  if (metric === undefined) return null;
  const read = await metric.get();
  return read.values.map((sample) => {
    const labels: Record<string, string | number> = {};
    for (const [name, value] of Object.entries(sample.labels)) if (value !== undefined) labels[name] = value;
    return { labels, value: sample.value };
  });
}

async function gaugeValue(node: BubuhNode, name: string): Promise<number | null> {
  const values = await metricValues(node, name);
  if (values === null || values.length === 0) return null;
  return values.reduce((sum, sample) => sum + sample.value, 0);
}

async function commerceFigures(node: BubuhNode): Promise<OperatorDashboard['commerce']> {
  const db = node.storage.db;
  const channels = await db
    .selectFrom('channels')
    .select(['id', 'name'])
    .orderBy('id')
    .limit(dashboardChannelsMax)
    .execute();
  // One grouped aggregate; orders past their payment window no longer hold stock, so they are left out.
  const awaiting = await db
    .selectFrom('orders')
    .select((eb) => [
      'channel_id',
      eb.fn.countAll<number | string>().as('orders'),
      eb.fn.sum<number | string | null>('quantity').as('units'),
    ])
    .where('status', '=', 'awaiting_payment')
    .where('expires_at', '>', node.clock())
    .groupBy('channel_id')
    .execute();
  const awaitingBy = new Map(
    awaiting.map((row) => [row.channel_id, { orders: Number(row.orders), units: Number(row.units ?? 0) }]),
  );
  const accounts = await node.ledger.lookupAccounts([
    accountIds.operatorStock,
    ...channels.map((channel) => accountIds.channelStock(channel.id)),
  ]);
  const stockOf = new Map(accounts.map((account) => [account.id, available(account)]));
  return {
    operator_stock: stockOf.get(accountIds.operatorStock) ?? 0,
    channels: channels.map((channel) => ({
      id: channel.id,
      name: channel.name,
      stock: stockOf.get(accountIds.channelStock(channel.id)) ?? 0,
      orders_awaiting_payment: awaitingBy.get(channel.id)?.orders ?? 0,
      units_awaiting_payment: awaitingBy.get(channel.id)?.units ?? 0,
    })),
    orders_awaiting_payment: [...awaitingBy.values()].reduce((sum, entry) => sum + entry.orders, 0),
    units_awaiting_payment: [...awaitingBy.values()].reduce((sum, entry) => sum + entry.units, 0),
  };
}

/** The dashboard's figures now; the caller has checked the role. */
export async function operatorDashboard(node: BubuhNode): Promise<OperatorDashboard> {
  const stampsBy = new Map<string, number>();
  for (const sample of (await metricValues(node, 'bubuh_stamps_total')) ?? []) {
    const outcome = String(sample.labels['outcome'] ?? '');
    stampsBy.set(outcome, (stampsBy.get(outcome) ?? 0) + sample.value);
  }
  const refunds: Record<string, number> = {};
  for (const sample of (await metricValues(node, 'bubuh_stamp_refunds_total')) ?? []) {
    const reason = String(sample.labels['reason'] ?? '');
    refunds[reason] = (refunds[reason] ?? 0) + sample.value;
  }
  const snapshot = admissionOf(node).snapshot();
  const classes = PRIORITY_CLASSES.map((name) => {
    const refused = snapshot.refused[name];
    return {
      class: name,
      admitted: snapshot.admitted[name],
      refused,
      refused_total: REFUSAL_REASONS.reduce((sum, reason) => sum + refused[reason], 0),
      queued: snapshot.queued[name],
    };
  });
  const room = waitingRoomOf(node);
  let waitingRoom: OperatorDashboard['waiting_room'] = null;
  if (room.on) {
    const waiting = await gaugeValue(node, 'bubuh_waiting_room_waiting');
    const admitted = await gaugeValue(node, 'bubuh_waiting_room_admitted');
    waitingRoom = { waiting: waiting ?? 0, admitted: admitted ?? 0, capacity: room.rules.capacity };
  }
  return {
    at: new Date(node.clock()).toISOString(),
    stamps: { stamped: stampsBy.get('stamped') ?? 0, refunded: stampsBy.get('refunded') ?? 0 },
    refunds,
    admission: {
      limit: snapshot.limit,
      in_flight: snapshot.inFlight,
      shedding: snapshot.shedding,
      queue_depth: classes.reduce((sum, entry) => sum + entry.queued, 0),
      queue_wait_ms: { p50: snapshot.queueWaitMs.p50, p99: snapshot.queueWaitMs.p99 },
      classes,
    },
    stamp_queue: {
      waiting: await gaugeValue(node, 'bubuh_stamp_queue_depth'),
      running: await gaugeValue(node, 'bubuh_stamp_running'),
    },
    commerce: await commerceFigures(node),
    waiting_room: waitingRoom,
  };
}

const errorBody = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        message_id: { type: 'string' },
        details: { type: 'object', additionalProperties: true },
      },
      required: ['code', 'message', 'message_id', 'details'],
    },
  },
  required: ['error'],
} as const;

const count = { type: 'number', minimum: 0 } as const;
const byReason = {
  type: 'object',
  properties: Object.fromEntries(REFUSAL_REASONS.map((reason) => [reason, count])),
  required: [...REFUSAL_REASONS],
} as const;

const dashboardSchema = {
  type: 'object',
  properties: {
    at: { type: 'string', format: 'date-time' },
    stamps: {
      type: 'object',
      description: "This node's stamp counters since it started (two readings give stamps per second).",
      properties: { stamped: count, refunded: count },
      required: ['stamped', 'refunded'],
    },
    refunds: {
      type: 'object',
      description: 'Automatic refunds since this node started, by reason code.',
      additionalProperties: count,
    },
    admission: {
      type: 'object',
      properties: {
        limit: count,
        in_flight: count,
        shedding: { type: 'boolean' },
        queue_depth: count,
        queue_wait_ms: {
          type: 'object',
          properties: { p50: count, p99: count },
          required: ['p50', 'p99'],
        },
        classes: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              class: { type: 'string', enum: [...PRIORITY_CLASSES] },
              admitted: count,
              refused: byReason,
              refused_total: count,
              queued: count,
            },
            required: ['class', 'admitted', 'refused', 'refused_total', 'queued'],
          },
        },
      },
      required: ['limit', 'in_flight', 'shedding', 'queue_depth', 'queue_wait_ms', 'classes'],
    },
    stamp_queue: {
      type: 'object',
      description: 'Stamps waiting for a worker and being made; null before the stamp service started.',
      properties: {
        waiting: { type: ['number', 'null'] },
        running: { type: ['number', 'null'] },
      },
      required: ['waiting', 'running'],
    },
    commerce: {
      type: 'object',
      properties: {
        operator_stock: count,
        channels: {
          type: 'array',
          maxItems: dashboardChannelsMax,
          items: {
            type: 'object',
            properties: {
              id: { type: 'string' },
              name: { type: 'string' },
              stock: count,
              orders_awaiting_payment: count,
              units_awaiting_payment: count,
            },
            required: ['id', 'name', 'stock', 'orders_awaiting_payment', 'units_awaiting_payment'],
          },
        },
        orders_awaiting_payment: count,
        units_awaiting_payment: count,
      },
      required: ['operator_stock', 'channels', 'orders_awaiting_payment', 'units_awaiting_payment'],
    },
    waiting_room: {
      type: ['object', 'null'],
      description: 'null when the waiting room is off (BUBUH_WAITING_ROOM_CAPACITY=0).',
      properties: { waiting: count, admitted: count, capacity: count },
      required: ['waiting', 'admitted', 'capacity'],
    },
  },
  required: ['at', 'stamps', 'refunds', 'admission', 'stamp_queue', 'commerce', 'waiting_room'],
} as const;

export const operatorDashboardRoutes: RouteModule = (app, node) => {
  app.get(
    operatorDashboardPath,
    {
      schema: {
        summary: "The operator dashboard's live figures (role platform_operator)",
        description:
          "This node's stamps, refunds, admission by priority class, queues and waiting room, and the " +
          "platform's stock per channel and orders awaiting payment. 401 AUTH_REQUIRED without a session, " +
          '403 FORBIDDEN without the platform_operator role.',
        tags: ['operator'],
        security: [{ bearerAuth: [] }],
        response: { 200: dashboardSchema, 401: errorBody, 403: errorBody },
      },
    },
    async (request, reply) => {
      const principal: Principal = await authenticate(request, node);
      requireRole(principal, 'platform_operator');
      reply.header('cache-control', 'no-store');
      return operatorDashboard(node);
    },
  );
};
