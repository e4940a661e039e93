/**
 * Balanced, sticky assignment of numbered tasks to consumer-group members: the pure core of the
 * co-partitioned assigner (see `copartitioned-assigner.ts`). Task `p` stands for partition `p` of
 * every subscribed topic. No I/O; the same input gives the same output on any machine.
 */
import { VigilError } from '../errors.js';

/** A group member as the assignment sees it: its id and the tasks it owned in the previous generation. */
export interface TaskMember {
  /** The member's id in the consumer group (kafkajs' `memberId`). */
  memberId: string;
  /**
   * The tasks the member claims to own from the previous generation. Claims need not be sorted or
   * unique; claims that are not integers in `[0, taskCount)` are ignored.
   */
  owned: readonly number[];
}

/** Code-unit order, independent of the locale (unlike `localeCompare`). */
function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Assigns the tasks `0 … taskCount − 1` to `members`, returning each member's tasks (sorted
 * ascending) by member id, with every member present (possibly with no tasks) and the map's keys in
 * member-id order. Every task goes to exactly one member.
 *
 * - **Balanced**: the members' task counts differ by at most 1 — each gets `floor(taskCount / n)`
 *   or `ceil(taskCount / n)` tasks for `n` members.
 * - **Sticky**: a member keeps the tasks it owned in the previous generation as long as it stays
 *   within its quota. The larger (ceil) quotas go to the members that kept the most tasks, so after
 *   a member leaves the others keep everything they had, and a joining member takes its tasks only
 *   from the members holding more than their quota; each of those loses only its excess (its
 *   highest-numbered tasks).
 * - **Deterministic**: members are handled in member-id order (code-unit order, not locale), so
 *   the input order of `members` does not matter.
 * - **Tolerant of bad claims**: a task claimed by several members goes to one of them (in task
 *   order, to the claimant holding the fewest tasks so far, then the lowest member id); claims that
 *   are not integers in `[0, taskCount)` are ignored. Entries with the same member id are merged.
 *
 * Tasks nobody keeps go, lowest first, to the members below their quota in member-id order.
 *
 * @throws VigilError `VIGIL_CONFIG_INVALID` (not retriable) when `taskCount` is not a non-negative
 *   integer.
 */
export function assignTasks(members: readonly TaskMember[], taskCount: number): Map<string, number[]> {
  if (!Number.isSafeInteger(taskCount) || taskCount < 0) {
    throw new VigilError('VIGIL_CONFIG_INVALID', `taskCount: must be a non-negative integer, got ${String(taskCount)}`, {
      details: { field: 'taskCount' },
    });
  }

  // Valid claims per member, merged by id; ids in code-unit order.
  const claimsById = new Map<string, Set<number>>();
  for (const { memberId, owned } of members) {
    let claims = claimsById.get(memberId);
    if (claims === undefined) claimsById.set(memberId, (claims = new Set()));
    for (const task of owned) {
      if (Number.isInteger(task) && task >= 0 && task < taskCount) claims.add(task);
    }
  }
  const ids = [...claimsById.keys()].sort(compareIds);
  const result = new Map<string, number[]>(ids.map((id) => [id, []]));
  const n = ids.length;
  if (n === 0 || taskCount === 0) return result;

  // Claimants per task, in member-id order.
  const claimants: string[][] = Array.from({ length: taskCount }, () => []);
  for (const id of ids) {
    for (const task of claimsById.get(id) ?? []) claimants[task].push(id);
  }

  // Each member keeps its uncontested claims; a contested task goes to the claimant holding the
  // fewest tasks so far (uncontested ones included), ties to the lowest member id.
  const kept = new Map<string, number[]>(ids.map((id) => [id, []]));
  const contested: number[] = [];
  for (let task = 0; task < taskCount; task++) {
    const who = claimants[task];
    if (who.length === 1) kept.get(who[0])?.push(task);
    else if (who.length > 1) contested.push(task);
  }
  for (const task of contested) {
    let winner = claimants[task][0];
    for (const id of claimants[task]) {
      if ((kept.get(id)?.length ?? 0) < (kept.get(winner)?.length ?? 0)) winner = id;
    }
    kept.get(winner)?.push(task);
  }

  // Quotas: `extra` members get one more than `base`; those are the ones keeping the most tasks
  // (ties to the lowest member id), which maximises what stays where it was.
  const base = Math.floor(taskCount / n);
  const extra = taskCount % n;
  const byKept = [...ids].sort((a, b) => (kept.get(b)?.length ?? 0) - (kept.get(a)?.length ?? 0) || compareIds(a, b));
  const quota = new Map<string, number>(byKept.map((id, i) => [id, i < extra ? base + 1 : base]));

  // Keep the lowest-numbered kept tasks up to the quota; the excess is freed.
  const taken = new Array<boolean>(taskCount).fill(false);
  for (const id of ids) {
    const mine = (kept.get(id) ?? []).sort((a, b) => a - b).slice(0, quota.get(id));
    for (const task of mine) taken[task] = true;
    result.set(id, mine);
  }

  // Free tasks, lowest first, fill the members below quota in member-id order.
  let next = 0;
  for (const id of ids) {
    const mine = result.get(id) ?? [];
    const want = quota.get(id) ?? 0;
    while (mine.length < want) {
      while (taken[next]) next++;
      taken[next] = true;
      mine.push(next);
    }
    mine.sort((a, b) => a - b);
  }
  return result;
}
