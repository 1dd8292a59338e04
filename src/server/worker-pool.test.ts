/**
 * The worker pool: jobs run on more than one worker (a job that blocks its worker does not hold
 * up the next one), jobs beyond the free workers wait their turn, and a worker that crashes fails
 * only its own job and is replaced.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WorkerPool, WorkerStoppedError } from './worker-pool.js';
import type { PoolTestJob } from '../../test/fixtures/pool-worker.js';

const script = new URL('../../test/fixtures/pool-worker.ts', import.meta.url);
type Reply = { threadId: number; value: number };

describe('WorkerPool', () => {
  it('serves a quick job on another worker while one is blocked, and queues beyond the free workers', async () => {
    const pool = new WorkerPool<PoolTestJob, Reply>({ size: 2, script });
    try {
      await pool.ready();
      const flag = new Int32Array(new SharedArrayBuffer(4));
      const held = pool.run({ kind: 'hold', flag });
      // With one queue behind one worker this would wait for the held job forever (the test would time out).
      const quick = await pool.run({ kind: 'echo', value: 7 });
      assert.equal(quick.value, 7);
      assert.equal(pool.busy, 1, 'the held job still runs');
      // Both workers busy: a third job waits until one is free.
      const flag2 = new Int32Array(new SharedArrayBuffer(4));
      const held2 = pool.run({ kind: 'hold', flag: flag2 });
      const queued = pool.run({ kind: 'echo', value: 8 });
      assert.equal(pool.waiting, 1);
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
      const [a, c] = await Promise.all([held, queued]);
      Atomics.store(flag2, 0, 1);
      Atomics.notify(flag2, 0);
      const b = await held2;
      assert.notEqual(a.threadId, b.threadId, 'the two held jobs ran on two workers');
      assert.equal(c.value, 8);
      assert.deepEqual([...pool.served].sort(), [2, 2]);
    } finally {
      await pool.close();
    }
  });

  it('fails only the job of a worker that crashes or exits, replaces the worker, and keeps serving', async () => {
    const exits: string[] = [];
    const pool = new WorkerPool<PoolTestJob, Reply>({ size: 2, script, onWorkerExit: (slot, reason) => exits.push(`${slot}: ${reason}`) });
    try {
      await pool.ready();
      const before = await Promise.all([pool.run({ kind: 'echo', value: 1 }), pool.run({ kind: 'echo', value: 2 })]);
      await assert.rejects(
        pool.run({ kind: 'crash' }),
        (err: Error) => err instanceof WorkerStoppedError && /worker crashed on purpose.*replaced/.test(err.message),
      );
      await assert.rejects(pool.run({ kind: 'exit' }), /exit code 3/);
      assert.equal(exits.length, 2, exits.join('; '));
      // Still two workers, and new threads among them.
      const flag = new Int32Array(new SharedArrayBuffer(4));
      const held = pool.run({ kind: 'hold', flag });
      const after = await pool.run({ kind: 'echo', value: 3 });
      assert.equal(after.value, 3);
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
      const threads = new Set([(await held).threadId, after.threadId]);
      assert.equal(threads.size, 2);
      assert.ok(
        [...threads].some((t) => !before.some((b) => b.threadId === t)),
        'a crashed worker was replaced by a new thread',
      );
    } finally {
      await pool.close();
    }
    await assert.rejects(pool.run({ kind: 'echo', value: 4 }), /closed/);
  });

  it('stops with the reason when its workers cannot start', async () => {
    const pool = new WorkerPool<PoolTestJob, Reply>({ size: 1, script: new URL('./no-such-worker.ts', import.meta.url) });
    try {
      await pool.ready();
      await assert.rejects(pool.run({ kind: 'echo', value: 1 }), /cannot start: .*no-such-worker/);
    } finally {
      await pool.close();
    }
  });
});
