/**
 * Where the waiting room keeps its queue and admissions. Two implementations with one contract
 * (store.contract.ts): this node's memory, and Redis shared by every node (redis-store.ts).
 *
 * The model: `capacity` visitors are admitted at once, each for `admittedMs`. Everyone else waits in
 * one queue ordered by a key: arrivals before the opening get a random key in [0, 1), arrivals after
 * it `1 + n` for the n-th arrival, so at the opening the early crowd is in random order and everyone
 * later is strictly behind it in FIFO order. Nobody is admitted before the opening. Each call first
 * fills free capacity from the head of the queue (skipping visitors who stopped polling for
 * `abandonMs`), so with free capacity and nobody waiting a new visitor is admitted by its own join.
 * An admission that ran out stays known as `expired` for `graceMs`, then the visitor is forgotten.
 */

export type VisitorState = 'waiting' | 'admitted' | 'expired' | 'absent';

export interface RoomRules {
  readonly capacity: number;
  readonly admittedMs: number;
  /** Milliseconds since the epoch, or null when the room has no opening time. */
  readonly opensAt: number | null;
  readonly windowMs: number;
  readonly abandonMs: number;
  readonly graceMs: number;
}

export interface VisitorStatus {
  readonly state: VisitorState;
  /** 1-based place in the queue while waiting; 0 otherwise. */
  readonly position: number;
  /** When the admission ends (or ended), for admitted and expired visitors; null otherwise. */
  readonly admittedUntil: number | null;
  /** Admissions in the last `windowMs` (the measured admission rate times the window). */
  readonly admissionsInWindow: number;
  /** Visitors in the queue (those who stopped polling count until they reach the head). */
  readonly waiting: number;
  /** Admissions not yet run out. */
  readonly admitted: number;
  /** Admissions made by this very call. */
  readonly admittedNow: number;
}

export interface WaitingRoomStore {
  /** Puts the visitor in the queue unless it is already waiting or admitted; `randomKey` in [0, 1). */
  join(visitor: string, now: number, randomKey: number): Promise<VisitorStatus>;
  /** The visitor's state now; a waiting visitor's poll keeps its place. */
  status(visitor: string, now: number): Promise<VisitorStatus>;
  /** Gives up the place or the admission, freeing capacity at once. */
  release(visitor: string, now: number): Promise<VisitorStatus>;
}

interface Entry {
  readonly id: string;
  readonly key: number;
}

function compare(left: Entry, right: Entry): number {
  if (left.key !== right.key) return left.key < right.key ? -1 : 1;
  return left.id < right.id ? -1 : left.id > right.id ? 1 : 0;
}

/** The room in this node's memory: one node, or the fallback while Redis is away. */
export class MemoryWaitingRoomStore implements WaitingRoomStore {
  private queue: Entry[] = [];
  private head = 0;
  private readonly keys = new Map<string, number>();
  private readonly seen = new Map<string, number>();
  /** Admissions by end time; inserted in end order (a constant lifetime), so expiry scans from the front. */
  private readonly active = new Map<string, number>();
  private readonly expired = new Map<string, number>();
  private admissions: number[] = [];
  private admissionsHead = 0;
  private arrivals = 0;

  constructor(private readonly rules: RoomRules) {}

  async join(visitor: string, now: number, randomKey: number): Promise<VisitorStatus> {
    this.housekeep(now);
    if (!this.keys.has(visitor) && !this.active.has(visitor)) {
      this.expired.delete(visitor);
      const opensAt = this.rules.opensAt;
      const key = opensAt !== null && now < opensAt ? randomKey : 1 + ++this.arrivals;
      this.insert({ id: visitor, key });
    }
    return this.answer(visitor, now);
  }

  async status(visitor: string, now: number): Promise<VisitorStatus> {
    this.housekeep(now);
    return this.answer(visitor, now);
  }

  async release(visitor: string, now: number): Promise<VisitorStatus> {
    this.housekeep(now);
    this.active.delete(visitor);
    this.expired.delete(visitor);
    const key = this.keys.get(visitor);
    if (key !== undefined) {
      const index = this.indexOf({ id: visitor, key });
      if (index >= 0) this.queue.splice(index, 1);
      this.keys.delete(visitor);
      this.seen.delete(visitor);
    }
    return this.answer(visitor, now);
  }

  private answer(visitor: string, now: number): VisitorStatus {
    if (this.keys.has(visitor)) this.seen.set(visitor, now);
    const admittedNow = this.promote(now);
    const until = this.active.get(visitor) ?? this.expired.get(visitor);
    const key = this.keys.get(visitor);
    let state: VisitorState = 'absent';
    let position = 0;
    if (this.active.has(visitor)) state = 'admitted';
    else if (key !== undefined) {
      state = 'waiting';
      position = this.indexOf({ id: visitor, key }) - this.head + 1;
    } else if (until !== undefined) state = 'expired';
    return {
      state,
      position,
      admittedUntil: state === 'admitted' || state === 'expired' ? (until ?? null) : null,
      admissionsInWindow: this.admissions.length - this.admissionsHead,
      waiting: this.queue.length - this.head,
      admitted: this.active.size,
      admittedNow,
    };
  }

  private housekeep(now: number): void {
    for (const [id, until] of this.active) {
      if (until > now) break;
      this.active.delete(id);
      this.expired.set(id, until);
    }
    for (const [id, until] of this.expired) {
      if (until > now - this.rules.graceMs) break;
      this.expired.delete(id);
    }
    while (
      this.admissionsHead < this.admissions.length &&
      this.admissions[this.admissionsHead]! <= now - this.rules.windowMs
    )
      this.admissionsHead += 1;
    if (this.admissionsHead > 1024 && this.admissionsHead * 2 > this.admissions.length) {
      this.admissions = this.admissions.slice(this.admissionsHead);
      this.admissionsHead = 0;
    }
  }

  private promote(now: number): number {
    const { opensAt, capacity } = this.rules;
    if (opensAt !== null && now < opensAt) return 0;
    let admitted = 0;
    while (this.active.size < capacity && this.head < this.queue.length) {
      const entry = this.queue[this.head]!;
      this.head += 1;
      this.keys.delete(entry.id);
      const lastSeen = this.seen.get(entry.id);
      this.seen.delete(entry.id);
      if (lastSeen === undefined || lastSeen <= now - this.rules.abandonMs) continue;
      this.active.set(entry.id, now + this.rules.admittedMs);
      this.admissions.push(now);
      admitted += 1;
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return admitted;
  }

  /** First index at or after `head` whose entry is not before `entry`. */
  private lowerBound(entry: Entry): number {
    let low = this.head;
    let high = this.queue.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (compare(this.queue[middle]!, entry) < 0) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  private indexOf(entry: Entry): number {
    const index = this.lowerBound(entry);
    return index < this.queue.length && this.queue[index]!.id === entry.id ? index : -1;
  }

  private insert(entry: Entry): void {
    this.keys.set(entry.id, entry.key);
    const last = this.queue[this.queue.length - 1];
    if (this.queue.length === this.head || (last && compare(last, entry) < 0)) this.queue.push(entry);
    else this.queue.splice(this.lowerBound(entry), 0, entry);
  }
}
