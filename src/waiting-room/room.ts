/**
 * One node's waiting room: the rules from the configuration, the store (Redis when present, memory
 * otherwise), the ticket signer, the metrics, and the translation of a visitor's place into what the
 * browser sees (position, estimated wait, when to ask again).
 */
import { randomBytes } from 'node:crypto';
import { Counter, Gauge } from 'prom-client';
import type { Config } from '../config.js';
import type { BubuhNode } from '../node.js';
import { RedisWaitingRoomStore, FallbackWaitingRoomStore } from './redis-store.js';
import {
  MemoryWaitingRoomStore,
  type RoomRules,
  type VisitorStatus,
  type WaitingRoomStore,
} from './store.js';
import { TicketSigner, ticketSecretOf } from './tickets.js';
import type { WaitingRoomStatus } from './types.js';

/** How long an expired admission is still reported as `expired` before the visitor is forgotten. */
const graceMs = 3_600_000;
/** The visitor id the metrics ask about: never a real one (those are 22 base64url characters). */
const nobody = '-';

export function roomRulesOf(config: Config): RoomRules {
  const opensAt = config.waitingRoomOpensAt === undefined ? null : Date.parse(config.waitingRoomOpensAt);
  return {
    capacity: config.waitingRoomCapacity,
    admittedMs: config.waitingRoomAdmittedMinutes * 60_000,
    opensAt: opensAt === null || Number.isNaN(opensAt) ? null : opensAt,
    windowMs: config.waitingRoomRateWindowSeconds * 1000,
    abandonMs: config.waitingRoomAbandonSeconds * 1000,
    graceMs,
  };
}

/** A uniformly random order key in [0, 1) that nobody outside can predict. */
export function randomOrderKey(): number {
  return randomBytes(6).readUIntBE(0, 6) / 2 ** 48;
}

/** What the browser sees of a place: estimated wait from the measured admission rate, and when to ask again. */
export function viewOf(status: VisitorStatus, now: number, rules: RoomRules): WaitingRoomStatus {
  const opensAt = rules.opensAt !== null && now < rules.opensAt ? rules.opensAt : null;
  const base = { opensAt: opensAt === null ? null : new Date(opensAt).toISOString(), roomOn: true };
  const pollMax = Math.max(1, Math.min(20, Math.floor(rules.abandonMs / 3000)));
  if (status.state === 'admitted' || status.state === 'expired' || status.state === 'absent') {
    const until = status.admittedUntil;
    const left = status.state === 'admitted' && until !== null ? Math.ceil((until - now) / 1000) : 60;
    return {
      state: status.state === 'admitted' ? 'admitted' : 'expired',
      position: 0,
      estimatedWaitSeconds: 0,
      admittedUntil: until === null ? null : new Date(until).toISOString(),
      pollAfterSeconds: Math.max(1, Math.min(60, left)),
      ...base,
    };
  }
  const untilOpening = opensAt === null ? 0 : Math.ceil((opensAt - now) / 1000);
  const ratePerSecond = status.admissionsInWindow / (rules.windowMs / 1000);
  const admittedSeconds = rules.admittedMs / 1000;
  let turnover: number;
  if (opensAt === null && ratePerSecond > 0) turnover = status.position / ratePerSecond;
  else {
    // No measurement yet (or not open): the first `capacity` go in at once, then at worst each place
    // turns over once per admission period.
    const ahead =
      opensAt === null
        ? status.position - Math.max(0, rules.capacity - status.admitted)
        : status.position - rules.capacity;
    turnover = ahead <= 0 ? 0 : Math.ceil(ahead / rules.capacity) * admittedSeconds;
  }
  const estimatedWaitSeconds = untilOpening + Math.ceil(turnover);
  const pollAfterSeconds =
    opensAt === null
      ? Math.max(2, Math.min(pollMax, Math.ceil(estimatedWaitSeconds / 10)))
      : Math.max(1, Math.min(pollMax, untilOpening));
  return {
    state: 'waiting',
    position: status.position,
    estimatedWaitSeconds,
    admittedUntil: null,
    pollAfterSeconds,
    ...base,
  };
}

export interface WaitingRoom {
  readonly on: boolean;
  readonly rules: RoomRules;
  readonly signer: TicketSigner | null;
  readonly store: WaitingRoomStore;
  join(visitor: string): Promise<VisitorStatus>;
  status(visitor: string): Promise<VisitorStatus>;
  release(visitor: string): Promise<VisitorStatus>;
}

const perNode = new WeakMap<BubuhNode, WaitingRoom>();

/** The node's room (one per node, shared by every app built on it). */
export function waitingRoomOf(node: BubuhNode): WaitingRoom {
  const existing = perNode.get(node);
  if (existing) return existing;
  const { config, metrics, logger, clock } = node;
  const rules = roomRulesOf(config);
  const on = rules.capacity > 0;
  const link = node.redis;
  const store = new FallbackWaitingRoomStore(
    new MemoryWaitingRoomStore(rules),
    link && on ? { store: new RedisWaitingRoomStore(link, rules), ready: () => link.ready } : null,
    (backend, error) => {
      if (backend === 'memory')
        logger.warn(
          { err: error },
          'waiting room: Redis unavailable; this node keeps its own room until it is back',
        );
      else logger.info('waiting room: shared through Redis again');
    },
  );
  const admissions = new Counter({
    name: 'bubuh_waiting_room_admissions_total',
    help: 'Visitors admitted from the waiting room by this node.',
    registers: [metrics.registry],
  });
  let last = { waiting: 0, admitted: 0 };
  const track = (status: VisitorStatus): VisitorStatus => {
    if (status.admittedNow > 0) admissions.inc(status.admittedNow);
    last = { waiting: status.waiting, admitted: status.admitted };
    return status;
  };
  const refresh = async (): Promise<void> => {
    if (!on) return;
    try {
      track(await store.status(nobody, clock()));
    } catch {
      // keep the last known counts
    }
  };
  new Gauge({
    name: 'bubuh_waiting_room_waiting',
    help: 'Visitors waiting in the waiting room (the whole room when it is shared through Redis).',
    registers: [metrics.registry],
    async collect() {
      await refresh();
      this.set(last.waiting);
    },
  });
  new Gauge({
    name: 'bubuh_waiting_room_admitted',
    help: 'Admissions from the waiting room that have not run out (at most BUBUH_WAITING_ROOM_CAPACITY).',
    registers: [metrics.registry],
    collect() {
      this.set(last.admitted);
    },
  });
  const room: WaitingRoom = {
    on,
    rules,
    signer: on ? new TicketSigner(ticketSecretOf(config)) : null,
    store,
    async join(visitor) {
      return track(await store.join(visitor, clock(), randomOrderKey()));
    },
    async status(visitor) {
      return track(await store.status(visitor, clock()));
    },
    async release(visitor) {
      return track(await store.release(visitor, clock()));
    },
  };
  perNode.set(node, room);
  return room;
}
