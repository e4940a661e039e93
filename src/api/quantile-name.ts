/** Name of a quantile for JSON keys and stats: 0.5 → `p50`, 0.99 → `p99`, 0.999 → `p99.9`. */
export function quantileName(q: number): string {
  return 'p' + String(Math.round(q * 100 * 1e6) / 1e6);
}
