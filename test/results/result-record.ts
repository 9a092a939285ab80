/** A result.json record of gated-5x30 as the export writes one, every field set: tests of the table change what they need. */
import { ResultRecord } from '../../lib/results/result';
import { RUNS } from '../../lib/results/runs';

const gated = RUNS.find((run) => run.name === 'gated-5x30')!;

export function resultRecord(overrides: Partial<ResultRecord> = {}): ResultRecord {
  return {
    name: 'gated-5x30', summary: gated.summary, task: 'mnist', argv: [...gated.argv], model: 'gated', parameters: 162166, epochs: 15,
    imagesSeen: 900000, test: { images: 10000, bitsPerDim: 1.02346 }, subset: { images: 1000, batchSize: 64, bitsPerDim: 1.01 },
    wallSeconds: 7380, backend: { name: 'native', description: 'native (oneDNN 2.6.3, 2 threads, ...)', threads: 2, workers: 0 },
    date: '2026-11-30T10:11:12.000Z', commit: 'a'.repeat(40), dirty: false, source: { checkpointSha256: 'b'.repeat(64), steps: 14070 },
    ...overrides,
  };
}
