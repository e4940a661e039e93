/**
 * Demo traffic as live services would produce it: generated ten seconds at a time, so each topic's
 * events are in event-time order (one `eventsUntil` over a long span appends the planted user burst
 * after everything else, which a consumer would rightly count as late).
 */
import { TrafficGenerator, type DemoEvents, type TrafficOptions } from '../../src/demo/traffic-generator.js';

/** The events of `[options.startTime, options.startTime + durationMs)` in ten-second steps. */
export function liveDemoEvents(options: TrafficOptions, durationMs: number): DemoEvents {
  const generator = new TrafficGenerator(options);
  const events: DemoEvents = { spans: [], feedback: [], evals: [] };
  for (let t = options.startTime + 10_000; t <= options.startTime + durationMs; t += 10_000) {
    const step = generator.eventsUntil(t);
    events.spans.push(...step.spans);
    events.feedback.push(...step.feedback);
    events.evals.push(...step.evals);
  }
  return events;
}
