/**
 * The keys of a Map, oldest first, handed out one at a time across calls — for maps that forget their
 * oldest entry to stay bounded (a Map iterates in insertion order, and re-inserting a key makes it the
 * newest). Each deleted or re-inserted key leaves a hole that the engine skips when it iterates, until
 * it next compacts the map, so `map.keys().next()` for each eviction walks past every hole left since
 * then: under a steady stream of new keys each eviction cost more than the last (tens of microseconds
 * in the memory rate limiter, docs/overload.md). One iterator kept between calls passes each hole once.
 *
 * Contract: the caller deletes every key it is given before it asks again. Then no live key lies
 * behind the iterator (those behind it were all given out, or deleted), and keys are only ever added
 * at the end, so the next key it meets is always the oldest.
 */
export class OldestKeys<K> {
  #iterator: Iterator<K> | null = null;

  constructor(private readonly map: Map<K, unknown>) {}

  /** The map's oldest key (which the caller then deletes), or undefined when the map is empty. */
  next(): K | undefined {
    let step = this.#iterator?.next();
    if (step === undefined || step.done === true) {
      this.#iterator = this.map.keys();
      step = this.#iterator.next();
    }
    return step.done === true ? undefined : step.value;
  }
}
