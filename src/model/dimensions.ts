import type { LlmSpan } from './llm-span.js';

/** The dimensions every signal can be grouped and filtered by. `tenant` reads the span's `tenantId`. */
export const DIMENSIONS = ['service', 'operation', 'model', 'provider', 'tenant'] as const;

/** One groupable dimension. */
export type Dimension = (typeof DIMENSIONS)[number];

/** The value a group shows for a span whose dimension is null. */
export const NONE_VALUE = '(none)';

/**
 * Dimension values by dimension name, e.g. `{ model: 'gpt-4o' }`. Keys are strings because signals
 * other than span signals have dimensions of their own (e.g. `evaluator`, `user`).
 */
export type GroupLabels = Record<string, string>;

/** True when `name` is one of {@link DIMENSIONS}. */
export function isDimension(name: string): name is Dimension {
  return (DIMENSIONS as readonly string[]).includes(name);
}

/** The span's value for one dimension; null becomes {@link NONE_VALUE}. */
export function dimensionValue(span: LlmSpan, dimension: Dimension): string {
  switch (dimension) {
    case 'service':
      return span.service;
    case 'operation':
      return span.operation;
    case 'model':
      return span.model ?? NONE_VALUE;
    case 'provider':
      return span.provider ?? NONE_VALUE;
    case 'tenant':
      return span.tenantId ?? NONE_VALUE;
  }
}

/**
 * Canonical key of a group: `dim=value` pairs in the order of `groupBy`, joined by commas; `*` for
 * the single group of an empty `groupBy`. Values are URI-encoded so a comma in a value cannot collide.
 */
export function groupKeyOf(labels: GroupLabels, groupBy: readonly string[]): string {
  if (groupBy.length === 0) return '*';
  let key = '';
  for (let i = 0; i < groupBy.length; i++) {
    const d = groupBy[i];
    if (i > 0) key += ',';
    key += d + '=' + encodeURIComponent(labels[d] ?? NONE_VALUE);
  }
  return key;
}
