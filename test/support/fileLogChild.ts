// Crash-test child: `node --import tsx test/support/fileLogChild.ts DIR` appends to run `crash` under load until
// killed, printing the last seq of every append as soon as it resolves (stdout to a pipe is synchronous on Linux).
import { createFileLog } from '../../src/store/fileLog.js';

const dir = process.argv[2];
if (dir === undefined) {
  console.error('usage: fileLogChild.ts DIR');
  process.exit(2);
}
const log = await createFileLog({ dir, durability: 'batch' });
let nextSeq = ((await log.runs()).find((run) => run.runId === 'crash')?.lastSeq ?? 0) + 1;
process.stdout.write(`ready ${nextSeq - 1}\n`);

const appender = async (): Promise<void> => {
  for (;;) {
    const count = 1 + (nextSeq % 4);
    const events = Array.from({ length: count }, () => {
      const seq = nextSeq;
      nextSeq += 1;
      return {
        v: 1,
        id: `crash-${seq}`,
        runId: 'crash',
        actorId: 'crash/appender',
        seq,
        ts: Date.now(),
        type: 'toolcall.attempt.started',
        data: { payload: 'x'.repeat(seq % 300) },
      };
    });
    await log.append(events);
    process.stdout.write(`${events.at(-1)?.seq}\n`);
  }
};
await Promise.all(Array.from({ length: 8 }, appender));
