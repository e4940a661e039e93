/**
 * The aggregates of one closed sub-window of a `FamilyWindowStore`, as plain data: what a
 * task publishes for two-stage aggregation (`FamilyWindowStore.exportSubWindow`) and what a
 * global store adds up (`FamilyWindowStore.mergeSubWindow`). Encoded on the wire by
 * `src/codec/sub-window-partial-codec.ts` (`schemas/sub-window-partial.avsc`).
 *
 * @packageDocumentation
 */
/** One fine key's aggregate in a {@link SubWindowPartial}. */
export interface PartialEntry {
  /**
   * The fine key: the values of the family's dimensions, in the family's dimension order, exactly
   * as the store keeps them — `(none)` for a null value, and every value `(overflow)` for the
   * aggregate of the keys beyond the store's `maxKeysPerSubWindow`.
   */
  values: readonly string[];
  /** Events counted under the key in the sub-window. */
  count: number;
  /** Sums of the family's counters, in the family's counter layout (one per counter of every counter signal). */
  counters: readonly number[] | Float64Array;
  /**
   * One per distribution of the family, in order: the key's digest as `TDigest.toBytes()`, or null
   * when the key had no value of that distribution in the sub-window.
   */
  digests: readonly (Uint8Array | null)[];
}

/** The aggregates of one sub-window of one family, from `FamilyWindowStore.exportSubWindow`. */
export interface SubWindowPartial {
  /** Name of the family (`SignalFamily.name`). */
  family: string;
  /** Sub-window length of the store that produced it, ms. */
  subWindowMs: number;
  /** Start of the sub-window, epoch ms: a multiple of `subWindowMs`. */
  start: number;
  /** One per fine key, sorted by the store's fine key string (deterministic). */
  entries: readonly PartialEntry[];
}
