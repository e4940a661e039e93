import { VigilError } from '../errors.js';
import type { AlertEvent, SignalSnapshot, SignalView } from '../model/index.js';
import type { RuleDefinition } from './rule-definition.js';
import { RuleStateMachine, type RuleState } from './rule-state-machine.js';
import { ruleViews } from './rule-views.js';
import { RingBuffer } from './ring-buffer.js';

/** Default number of emitted alerts {@link RuleSet.recent} remembers. */
export const DEFAULT_ALERT_HISTORY = 1000;

/** Options of a {@link RuleSet}. */
export interface RuleSetOptions {
  /** How many emitted alerts to remember for {@link RuleSet.recent}; default {@link DEFAULT_ALERT_HISTORY}. */
  historySize?: number;
}

/** Plain-data export of a {@link RuleSet}: one {@link RuleState} per rule, in rule order. */
export interface RuleSetState {
  rules: RuleState[];
}

/**
 * All rules of a rules file, evaluated together. Pure and synchronous: the engine registers
 * {@link views} with the signal operators and passes every resulting snapshot to {@link evaluate}.
 */
export class RuleSet {
  /** The rules, in file order. */
  readonly rules: readonly RuleDefinition[];
  /** The distinct views the rules read, in order of first use. */
  readonly views: readonly SignalView[];
  private readonly machines: RuleStateMachine[];
  private readonly byView = new Map<string, RuleStateMachine[]>();
  private readonly history: RingBuffer<AlertEvent>;

  /**
   * @throws VigilError `VIGIL_RULES_INVALID` when two rules share a name, `VIGIL_CONFIG_INVALID` when
   *   `historySize` is not a positive whole number.
   */
  constructor(rules: readonly RuleDefinition[], options: RuleSetOptions = {}) {
    const historySize = options.historySize ?? DEFAULT_ALERT_HISTORY;
    if (!Number.isSafeInteger(historySize) || historySize < 1) {
      throw new VigilError('VIGIL_CONFIG_INVALID', `alert history size must be a positive whole number, got ${historySize}`, {
        details: { key: 'historySize' },
      });
    }
    const names = new Set<string>();
    for (const rule of rules) {
      if (names.has(rule.name)) throw new VigilError('VIGIL_RULES_INVALID', `duplicate rule name "${rule.name}"`, { details: { ruleName: rule.name } });
      names.add(rule.name);
    }
    this.rules = [...rules];
    this.views = ruleViews(rules);
    this.machines = rules.map((rule) => new RuleStateMachine(rule));
    for (const machine of this.machines) {
      const list = this.byView.get(machine.rule.viewId);
      if (list === undefined) this.byView.set(machine.rule.viewId, [machine]);
      else list.push(machine);
    }
    this.history = new RingBuffer(historySize);
  }

  /**
   * Evaluates a snapshot with every rule on its view, in rule order, and returns the alerts they emit
   * (also kept for {@link recent}). Snapshots of views no rule reads yield nothing.
   */
  evaluate(snapshot: SignalSnapshot): AlertEvent[] {
    const machines = this.byView.get(snapshot.viewId);
    if (machines === undefined) return [];
    const out: AlertEvent[] = [];
    for (const machine of machines) {
      for (const alert of machine.evaluate(snapshot)) {
        out.push(alert);
        this.history.push(alert);
      }
    }
    return out;
  }

  /** The FIRING events of every alert currently firing, rules in order. */
  firing(): AlertEvent[] {
    return this.machines.flatMap((m) => m.activeAlerts());
  }

  /**
   * The last `limit` emitted alerts (FIRING and RESOLVED; default: all kept, at most `historySize`),
   * in emission order, oldest first.
   */
  recent(limit?: number): AlertEvent[] {
    return this.history.latest(limit).map((a) => ({ ...a, groupLabels: { ...a.groupLabels } }));
  }

  /** A JSON-safe copy of every rule's state. The alert history is not included. */
  getState(): RuleSetState {
    return { rules: this.machines.map((m) => m.getState()) };
  }

  /**
   * Restores rule states from {@link getState}, matched by rule name. Rules absent from `state` start
   * empty; states of rules no longer in the set are ignored.
   */
  restoreState(state: RuleSetState): void {
    const byName = new Map(state.rules.map((r) => [r.ruleName, r]));
    for (const machine of this.machines) {
      machine.restoreState(byName.get(machine.rule.name) ?? { ruleName: machine.rule.name, lastWindowEnd: null, groups: [] });
    }
  }
}
