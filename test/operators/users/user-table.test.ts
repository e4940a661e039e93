import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UserTable, mapBytes, stringBytes } from '../../../operators/users/user-table.js';
import { isVigilError } from '../../../src/errors.js';

function table(maxUsers: number, initialCapacity = 2): { t: UserTable; grown: number[]; evicted: string[] } {
  const grown: number[] = [];
  const evicted: string[] = [];
  const t = new UserTable({
    maxUsers,
    initialCapacity,
    onGrow: (cap) => grown.push(cap),
    onEvict: (slot, id) => evicted.push(`${id}@${slot}`),
  });
  return { t, grown, evicted };
}

describe('UserTable', () => {
  it('maps ids to dense slots and back', () => {
    const { t } = table(10);
    assert.equal(t.admit('a', 1), 0);
    assert.equal(t.admit('b', 2), 1);
    assert.equal(t.slotOf('a'), 0);
    assert.equal(t.slotOf('zzz'), -1);
    assert.equal(t.idOf(1), 'b');
    assert.equal(t.size, 2);
  });

  it('doubles its capacity up to maxUsers and tells the owner', () => {
    const { t, grown } = table(5);
    for (const id of ['a', 'b', 'c', 'd', 'e']) t.admit(id, 0);
    assert.deepEqual(grown, [4, 5]);
    assert.equal(t.capacity, 5);
  });

  it('evicts the least recently promoted user when full and reuses its slot', () => {
    const { t, evicted } = table(3);
    t.admit('a', 1);
    t.admit('b', 2);
    t.admit('c', 3);
    t.touch(t.slotOf('b'), 4);
    t.promote(t.slotOf('a'));
    assert.equal(t.admit('d', 5), 1);
    assert.deepEqual(evicted, ['b@1']);
    assert.equal(t.slotOf('b'), -1);
    assert.equal(t.leastRecent(), t.slotOf('c'));
  });

  it('evicts idle users in promotion order and stops at the first recent one', () => {
    const { t, evicted } = table(10);
    t.admit('a', 100);
    t.admit('b', 200);
    t.admit('c', 300);
    t.promote(t.slotOf('a'));
    t.touch(t.slotOf('a'), 50);
    assert.equal(t.lastSeen[t.slotOf('a')], 100, 'a late touch does not age the user');
    // a is idle too but waits behind c, promoted before it.
    assert.equal(t.evictIdle(250), 1);
    assert.deepEqual(evicted, ['b@1']);
    assert.equal(t.evictIdle(300), 2);
    assert.equal(t.size, 0);
    assert.equal(t.leastRecent(), -1);
    // Freed slots come back last-freed first, before the table grows.
    assert.equal(t.admit('x', 400), 0);
    assert.equal(t.admit('y', 400), 2);
    assert.equal(t.admit('z', 400), 1);
    assert.equal(t.capacity, 4);
  });

  it('visits slots least recently promoted first, whatever their touches', () => {
    const { t } = table(10);
    for (const id of ['a', 'b', 'c']) t.admit(id, 0);
    t.touch(t.slotOf('b'), 5);
    t.promote(t.slotOf('a'));
    const order: string[] = [];
    t.forEachSlot((s) => order.push(t.idOf(s)));
    assert.deepEqual(order, ['b', 'c', 'a']);
  });

  it('estimates its memory from the slots, the hash index and the id strings', () => {
    const { t } = table(10, 8);
    t.admit('user-1', 0);
    assert.equal(stringBytes(6), 24);
    // 8 slots of 24 bytes, an index of 16 entries (at most half full) of 4 bytes, one id string.
    assert.equal(t.memoryBytes(), 8 * 24 + 16 * 4 + 24);
    assert.equal(mapBytes(1_000_000), 2 ** 20 * 28 + 64);
  });

  it('finds every held id and none of the evicted ones across index growth and deletions', () => {
    const held = new Map<string, number>();
    const t = new UserTable({ maxUsers: 3000, initialCapacity: 1, onEvict: (_slot, id) => held.delete(id) });
    let x = 7;
    const next = (): number => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return x >>> 0;
    };
    for (let i = 0; i < 40_000; i++) {
      // 8 000 ids for 3 000 slots: admissions evict at the limit, explicit and idle evictions
      // delete from the middle of probe runs.
      const id = `id-${next() % 8000}`;
      const slot = t.slotOf(id);
      assert.equal(slot, held.get(id) ?? -1, id);
      if (slot < 0) held.set(id, t.admit(id, i));
      else if (next() % 4 === 0) t.evict(slot);
      else t.touch(slot, i);
      if (i % 5000 === 4999) t.evictIdle(i - 2500);
    }
    assert.equal(t.size, held.size);
    for (const [id, slot] of held) {
      assert.equal(t.slotOf(id), slot);
      assert.equal(t.idOf(slot), id);
    }
    for (let k = 0; k < 8000; k++) if (!held.has(`id-${k}`)) assert.equal(t.slotOf(`id-${k}`), -1);
  });

  it('rejects a maxUsers below one', () => {
    assert.throws(() => new UserTable({ maxUsers: 0 }), (err: unknown) => isVigilError(err, 'VIGIL_CONFIG_INVALID'));
  });
});
