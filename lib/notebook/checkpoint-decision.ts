/**
 * Whether a notebook trains from scratch, resumes its checkpoint or loads it finished: a pure decision over what
 * was found on disk, so every case is tested without files (test/notebooks/checkpoint-decision.test.ts).
 */
import { decodeModelConfig } from '../models';
import type { Checkpoint } from '../train/checkpoint';
import type { TrainConfig } from '../train/config';
import { identityDifferences, RunIdentity } from './config';

/** What `prepare` found at the checkpoint path. */
export type FoundCheckpoint =
  | { status: 'missing' }
  | { status: 'unreadable'; error: Error }
  | { status: 'read'; checkpoint: Checkpoint };

export type CheckpointDecision =
  | { start: 'new'; note: string }
  /** 'reused': finished, loaded and not trained; 'resumed': an unfinished run continues. */
  | { start: 'reused' | 'resumed'; note: string; checkpoint: Checkpoint };

/**
 * The configuration a notebook recorded in its checkpoint (undefined when another tool saved it), in today's
 * form, so that the same settings compare equal whenever they were saved: the recorded model config is decoded
 * like the checkpoint's own (lib/models decodeModelConfig: older notebooks recorded a flat config with every
 * kind's fields, and a PixelVAE's KL options in the train config, whence they move into the model config).
 * Throws, naming the field, when the recorded model config cannot be decoded.
 */
export function savedIdentity(checkpoint: Checkpoint): RunIdentity | undefined {
  const identity = checkpoint.meta?.notebookIdentity as RunIdentity | undefined;
  if (!identity || typeof identity !== 'object' || !identity.model || !identity.train) return undefined;
  const train: Record<string, unknown> = { ...identity.train };
  const { config: model, moved } = decodeModelConfig(identity.model, 'the recorded configuration', train);
  for (const field of moved) delete train[field];
  return { dataset: identity.dataset, model, train: train as unknown as TrainConfig };
}

/**
 * `name` is the checkpoint path as the configuration gives it (for the notes); `identity` the run this notebook
 * is configured for. A checkpoint is used only when it records exactly that configuration.
 */
export function decideCheckpointUse(reuseCheckpoint: boolean, name: string, found: FoundCheckpoint, identity: RunIdentity): CheckpointDecision {
  const fromScratch = (why: string): CheckpointDecision => ({ start: 'new', note: `reuseCheckpoint is true, but ${name} ${why}: training from scratch.` });
  if (!reuseCheckpoint) return { start: 'new', note: 'reuseCheckpoint is false: training from scratch (the checkpoint file is overwritten after every epoch).' };
  if (found.status === 'missing') return fromScratch('does not exist yet');
  if (found.status === 'unreadable') return fromScratch(`could not be read (${found.error.message})`);
  const { checkpoint } = found;
  let saved: RunIdentity | undefined;
  try {
    saved = savedIdentity(checkpoint);
  } catch (error) {
    return fromScratch(`records a configuration this version cannot read (${(error as Error).message})`);
  }
  if (!saved) return fromScratch('was not saved by a notebook (no configuration recorded)');
  const differences = identityDifferences(saved, identity);
  if (differences.length > 0) return fromScratch(`was saved from a different configuration (${differences.join('; ')})`);
  const done = checkpoint.trainerState?.position.epoch ?? 0;
  const savedAt = typeof checkpoint.meta?.savedAt === 'string' ? `, saved ${checkpoint.meta.savedAt}` : '';
  if (done >= identity.train.epochs) {
    return {
      start: 'reused', checkpoint,
      note: `Loaded ${name} (same configuration, ${checkpoint.trainerState?.step ?? 0} steps${savedAt}): not training. Set reuseCheckpoint: false to train again.`,
    };
  }
  // An interrupted run stopped mid-epoch (lib/notebook/train.ts): its data position and running sums resume exactly.
  const batch = checkpoint.trainerState?.position.batchIndex ?? 0;
  const stopped = batch > 0 ? `stopped at step ${checkpoint.trainerState?.step}, batch ${batch} of epoch ${done + 1} of ${identity.train.epochs}`
    : `stopped after epoch ${done} of ${identity.train.epochs}`;
  return { start: 'resumed', checkpoint, note: `Resuming ${name} (same configuration, ${stopped}${savedAt}).` };
}
