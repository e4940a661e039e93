import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isVigilError } from '../../src/errors.js';
import { assignTasks } from '../../src/sources/task-assignment.js';
import type { TaskMember } from '../../src/sources/task-assignment.js';

const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => `member-${String(i).padStart(2, '0')}`);
const fresh = (memberIds: readonly string[]): TaskMember[] => memberIds.map((memberId) => ({ memberId, owned: [] }));
const asMembers = (tasks: Map<string, number[]>): TaskMember[] => [...tasks].map(([memberId, owned]) => ({ memberId, owned }));
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** Asserts every task 0…taskCount−1 is assigned exactly once, counts differ by ≤ 1, lists sorted. */
function assertValid(tasks: Map<string, number[]>, taskCount: number): void {
  const all = [...tasks.values()].flat().sort((a, b) => a - b);
  assert.deepEqual(all, range(taskCount), 'every task exactly once');
  const counts = [...tasks.values()].map((t) => t.length);
  if (counts.length > 0) assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `balanced: ${counts.join(',')}`);
  for (const list of tasks.values()) assert.deepEqual(list, [...list].sort((a, b) => a - b), 'each list sorted');
}

/** A deterministic shuffle (a fixed LCG), so the test is the same on every run. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

describe('assignTasks', () => {
  it('assigns every task exactly once with counts differing by at most one, for 1–12 members and 0–40 tasks', () => {
    for (let n = 1; n <= 12; n++) {
      for (let t = 0; t <= 40; t++) {
        const tasks = assignTasks(fresh(ids(n)), t);
        assert.equal(tasks.size, n);
        assertValid(tasks, t);
        for (const list of tasks.values()) assert.ok(list.length === Math.floor(t / n) || list.length === Math.ceil(t / n));
      }
    }
  });

  it('keeps every member with its tasks when nothing changed', () => {
    const first = assignTasks(fresh(ids(4)), 10);
    assert.deepEqual(assignTasks(asMembers(first), 10), first);
  });

  it('lets the remaining members keep every task they had when a member leaves', () => {
    for (let n = 2; n <= 8; n++) {
      for (let t = 0; t <= 30; t++) {
        const before = assignTasks(fresh(ids(n)), t);
        for (let leaver = 0; leaver < n; leaver++) {
          const remaining = asMembers(before).filter((_, i) => i !== leaver);
          const after = assignTasks(remaining, t);
          assertValid(after, t);
          for (const { memberId, owned } of remaining) {
            const now = after.get(memberId) ?? [];
            for (const task of owned) assert.ok(now.includes(task), `n=${n} t=${t}: ${memberId} kept task ${task}`);
          }
        }
      }
    }
  });

  it('moves only the minimum when a member joins: the newcomer takes floor(tasks/members), the others lose only their excess', () => {
    for (let n = 1; n <= 8; n++) {
      for (let t = n + 1; t <= 30; t++) {
        const before = assignTasks(fresh(ids(n)), t);
        const after = assignTasks([...asMembers(before), { memberId: 'member-zz-new', owned: [] }], t);
        assertValid(after, t);
        const members = n + 1;
        assert.equal(after.get('member-zz-new')?.length, Math.floor(t / members), `n=${n} t=${t}: newcomer's share`);
        let moved = 0;
        for (const [memberId, owned] of before) {
          const now = after.get(memberId) ?? [];
          // Nothing new for an old member, and it keeps as many of its tasks as its quota allows.
          assert.ok(now.every((task) => owned.includes(task)), `n=${n} t=${t}: ${memberId} gained nothing`);
          assert.ok(now.length >= Math.floor(t / members));
          moved += owned.length - now.length;
        }
        assert.equal(moved, Math.floor(t / members), `n=${n} t=${t}: only the newcomer's share moved`);
      }
    }
  });

  it('stays balanced and sticky through a long run of joins and leaves', () => {
    const taskCount = 24;
    let current = assignTasks(fresh(['m-00', 'm-01', 'm-02']), taskCount);
    let nextId = 3;
    let s = 7;
    for (let step = 0; step < 200; step++) {
      s = (s * 1103515245 + 12345) % 2 ** 31;
      const members = asMembers(current);
      const leave = members.length > 1 && (members.length >= 10 || s % 2 === 0);
      if (leave) {
        const leaver = members[s % members.length].memberId;
        const remaining = members.filter((m) => m.memberId !== leaver);
        const after = assignTasks(remaining, taskCount);
        assertValid(after, taskCount);
        for (const { memberId, owned } of remaining) assert.ok(owned.every((t) => after.get(memberId)?.includes(t)), `step ${step}: ${memberId} kept its tasks`);
        current = after;
      } else {
        const newcomer = `m-${String(nextId++).padStart(2, '0')}`;
        const after = assignTasks([...members, { memberId: newcomer, owned: [] }], taskCount);
        assertValid(after, taskCount);
        for (const { memberId, owned } of members) assert.ok(after.get(memberId)?.every((t) => owned.includes(t)), `step ${step}: ${memberId} only lost tasks`);
        current = after;
      }
    }
  });

  it('takes the tasks of a joining member only from the most loaded members', () => {
    // 7 tasks on 2 members (4 and 3); a third joins: quotas 3, 2, 2.
    const after = assignTasks(
      [
        { memberId: 'a', owned: [0, 1, 2, 3] },
        { memberId: 'b', owned: [4, 5, 6] },
        { memberId: 'c', owned: [] },
      ],
      7,
    );
    assert.deepEqual(Object.fromEntries(after), { a: [0, 1, 2], b: [4, 5], c: [3, 6] });
  });

  it('gives the same result whatever the order of the members', () => {
    const members: TaskMember[] = [
      { memberId: 'consumer-b', owned: [0, 1, 2] },
      { memberId: 'consumer-a', owned: [2, 3] },
      { memberId: 'consumer-d', owned: [] },
      { memberId: 'consumer-c', owned: [7, 8, 9, 10, 11] },
      { memberId: 'Consumer-e', owned: [4] },
    ];
    const expected = assignTasks(members, 12);
    assertValid(expected, 12);
    for (let seed = 1; seed <= 20; seed++) {
      const result = assignTasks(shuffled(members, seed), 12);
      assert.deepEqual([...result], [...expected], `seed ${seed}`);
    }
    // Keys come out in code-unit order ('C' < 'c'), not the locale's.
    assert.deepEqual([...expected.keys()], ['Consumer-e', 'consumer-a', 'consumer-b', 'consumer-c', 'consumer-d']);
  });

  it('gives a task claimed by two members to exactly one of them, the one holding fewer', () => {
    const after = assignTasks(
      [
        { memberId: 'a', owned: [0, 1, 2] },
        { memberId: 'b', owned: [2, 3] },
        { memberId: 'c', owned: [4, 5] },
      ],
      6,
    );
    assertValid(after, 6);
    // a holds 0 and 1 uncontested, b holds 3: task 2 goes to b, the claimant holding fewer.
    assert.deepEqual(Object.fromEntries(after), { a: [0, 1], b: [2, 3], c: [4, 5] });
  });

  it('gives a contested task to the claimant holding fewer tasks, and fills the rest up to the quotas', () => {
    const after = assignTasks(
      [
        { memberId: 'a', owned: [0, 1, 2, 5] },
        { memberId: 'b', owned: [5] },
      ],
      6,
    );
    assertValid(after, 6);
    assert.deepEqual(Object.fromEntries(after), { a: [0, 1, 2], b: [3, 4, 5] });
  });

  it('ignores claims outside 0…taskCount−1, negative or fractional', () => {
    const after = assignTasks(
      [
        { memberId: 'a', owned: [0, 6, 99, -1, 1.5, Number.NaN] },
        { memberId: 'b', owned: [5, 5, 5] },
      ],
      6,
    );
    assertValid(after, 6);
    assert.deepEqual(Object.fromEntries(after), { a: [0, 1, 2], b: [3, 4, 5] });
  });

  it('merges entries with the same member id', () => {
    const after = assignTasks(
      [
        { memberId: 'a', owned: [3] },
        { memberId: 'b', owned: [] },
        { memberId: 'a', owned: [4] },
      ],
      5,
    );
    assertValid(after, 5);
    assert.deepEqual(Object.fromEntries(after), { a: [0, 3, 4], b: [1, 2] });
  });

  it('returns an empty map for no members and empty lists for no tasks', () => {
    assert.equal(assignTasks([], 6).size, 0);
    assert.equal(assignTasks([], 0).size, 0);
    assert.deepEqual(Object.fromEntries(assignTasks([{ memberId: 'a', owned: [0, 1] }, { memberId: 'b', owned: [] }], 0)), { a: [], b: [] });
  });

  it('gives some members nothing when there are fewer tasks than members', () => {
    const after = assignTasks(
      [
        { memberId: 'a', owned: [] },
        { memberId: 'b', owned: [1] },
        { memberId: 'c', owned: [] },
      ],
      2,
    );
    assertValid(after, 2);
    assert.deepEqual(after.get('b'), [1]);
  });

  it('rejects a task count that is not a non-negative integer', () => {
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => assignTasks(fresh(['a']), bad), (err: unknown) => isVigilError(err, 'VIGIL_CONFIG_INVALID'));
    }
  });
});
