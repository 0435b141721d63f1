// A bounded map that forgets the least recently used entry first (a Map keeps insertion order; a hit re-inserts).
// Bounded by the number of entries, or by their total weight when given a `weigh` (texts by their length, say); an
// entry heavier than the whole bound is still kept, alone, until the next one comes.
export class LruCache<K, V> {
  readonly #max: number;
  readonly #weigh: ((value: V) => number) | undefined;
  readonly #map = new Map<K, V>();
  #weight = 0;

  constructor(max: number, weigh?: (value: V) => number) {
    this.#max = max;
    this.#weigh = weigh;
  }

  get(key: K): V | undefined {
    const v = this.#map.get(key);
    if (v !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, v);
    }
    return v;
  }

  set(key: K, value: V): void {
    this.delete(key);
    this.#map.set(key, value);
    this.#weight += this.#weightOf(value);
    while (this.#weight > this.#max && this.#map.size > 1) this.delete(this.#map.keys().next().value as K);
  }

  delete(key: K): void {
    const old = this.#map.get(key);
    if (old === undefined && !this.#map.has(key)) return;
    this.#map.delete(key);
    this.#weight -= this.#weightOf(old as V);
  }

  get size(): number {
    return this.#map.size;
  }

  #weightOf(value: V): number {
    return this.#weigh ? this.#weigh(value) : 1;
  }
}
