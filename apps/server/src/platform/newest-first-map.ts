/**
 * Sets `key` as the newest entry of `map` (a Map iterates in insertion order) and drops the oldest
 * while it holds more than `max`: a process's memory of many keys seen once (addresses, cases,
 * tokens) stays bounded however many callers come.
 */
export function setNewest<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  while (map.size > Math.max(max, 1)) map.delete(map.keys().next().value as K);
}
