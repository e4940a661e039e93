/**
 * Strict query strings for routes that take few or no parameters: an unknown one is a 400 naming it
 * and the parameters the route does take.
 */
import type { FastifySchemaValidationError } from 'fastify';
import { VigilError } from '../errors.js';

/** The querystring schema of a route that takes no parameters. */
export const NO_PARAMS = { type: 'object', additionalProperties: false, properties: {} } as const;

/**
 * A route-level `schemaErrorFormatter` for `route`, which takes the parameters `allowed`: an unknown
 * parameter gets `VIGIL_QUERY_INVALID` (400) `<name>: unknown parameter (<route> takes …)`; any other
 * schema error names the parameter and the problem.
 */
export function paramErrors(route: string, allowed: readonly string[]): (errors: FastifySchemaValidationError[], dataVar: string) => Error {
  return (errors, dataVar) => {
    const e = errors[0];
    const params = e.params as { additionalProperty?: string; allowedValues?: unknown[] };
    const name = params.additionalProperty ?? (e.instancePath.replace(/^\//, '') || dataVar);
    const takes = allowed.length === 0 ? 'takes no parameters' : `takes ${allowed.join(', ')}`;
    const problem = params.additionalProperty
      ? `unknown parameter (${route} ${takes})`
      : params.allowedValues
        ? `must be one of ${params.allowedValues.join(', ')}`
        : (e.message ?? 'is invalid');
    return new VigilError('VIGIL_QUERY_INVALID', `${name}: ${problem}`, { details: { parameter: name } });
  };
}
