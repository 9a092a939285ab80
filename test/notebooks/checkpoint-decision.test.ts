/** A notebook's choice between training from scratch, resuming its checkpoint and loading it finished. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { modelConfig } from '../../lib/models';
import { decideCheckpointUse, savedIdentity } from '../../lib/notebook/checkpoint-decision';
import type { RunIdentity } from '../../lib/notebook/config';
import type { Checkpoint } from '../../lib/train/checkpoint';
import { trainConfig } from '../../lib/train/config';
import { initialTrainerState } from '../../lib/train/trainer';

const NAME = 'runs/notebooks/02-gated.ckpt';
const identity: RunIdentity = {
  dataset: 'mnist',
  model: modelConfig({ kind: 'gated', height: 28, width: 28, colours: 1, layers: 5, kernelSize: 5, channels: 30 }),
  train: trainConfig({ epochs: 3, limit: 1920, testLimit: 500 }),
};

/** A checkpoint as a notebook saves it: its identity in meta, `epochs` epochs (and 30 steps each) done. */
function checkpointOf(saved: RunIdentity | undefined, epochs: number, savedAt?: string): Checkpoint {
  const state = initialTrainerState();
  state.step = epochs * 30;
  state.position = { epoch: epochs, batchIndex: 0 };
  return {
    modelConfig: identity.model, trainConfig: identity.train, trainerState: state, weights: new Map(),
    meta: { dataset: 'mnist', ...(saved ? { notebookIdentity: saved } : {}), ...(savedAt ? { savedAt } : {}) },
  };
}

describe('decideCheckpointUse', () => {
  test('reuseCheckpoint false: from scratch, whatever is on disk', () => {
    const decision = decideCheckpointUse(false, NAME, { status: 'read', checkpoint: checkpointOf(identity, 3) }, identity);
    assert.deepEqual(decision, { start: 'new', note: 'reuseCheckpoint is false: training from scratch (the checkpoint file is overwritten after every epoch).' });
  });

  test('a missing, unreadable or foreign checkpoint: from scratch, saying why', () => {
    assert.deepEqual(decideCheckpointUse(true, NAME, { status: 'missing' }, identity),
      { start: 'new', note: `reuseCheckpoint is true, but ${NAME} does not exist yet: training from scratch.` });
    assert.deepEqual(decideCheckpointUse(true, NAME, { status: 'unreadable', error: new Error('bad magic') }, identity),
      { start: 'new', note: `reuseCheckpoint is true, but ${NAME} could not be read (bad magic): training from scratch.` });
    assert.deepEqual(decideCheckpointUse(true, NAME, { status: 'read', checkpoint: checkpointOf(undefined, 3) }, identity),
      { start: 'new', note: `reuseCheckpoint is true, but ${NAME} was not saved by a notebook (no configuration recorded): training from scratch.` });
  });

  test('another configuration: from scratch, listing each difference', () => {
    const other: RunIdentity = { ...identity, model: { ...identity.model, layers: 7 }, train: { ...identity.train, learningRate: 0.0003 } };
    const decision = decideCheckpointUse(true, NAME, { status: 'read', checkpoint: checkpointOf(other, 3) }, identity);
    assert.deepEqual(decision, {
      start: 'new',
      note: `reuseCheckpoint is true, but ${NAME} was saved from a different configuration (model.layers: 7 -> 5; train.learningRate: 0.0003 -> 0.001): training from scratch.`,
    });
  });

  test('the same configuration: loaded when finished, resumed when not', () => {
    const finished = checkpointOf(identity, 3, '2026-11-30T06:00:00Z');
    assert.deepEqual(decideCheckpointUse(true, NAME, { status: 'read', checkpoint: finished }, identity), {
      start: 'reused', checkpoint: finished,
      note: `Loaded ${NAME} (same configuration, 90 steps, saved 2026-11-30T06:00:00Z): not training. Set reuseCheckpoint: false to train again.`,
    });
    const unfinished = checkpointOf(identity, 1);
    assert.deepEqual(decideCheckpointUse(true, NAME, { status: 'read', checkpoint: unfinished }, identity), {
      start: 'resumed', checkpoint: unfinished, note: `Resuming ${NAME} (same configuration, stopped after epoch 1 of 3).`,
    });
    // More epochs configured than the finished checkpoint has: identity differs (train.epochs), so from scratch.
    const longer: RunIdentity = { ...identity, train: { ...identity.train, epochs: 5 } };
    assert.equal(decideCheckpointUse(true, NAME, { status: 'read', checkpoint: finished }, longer).start, 'new');
  });

  test('savedIdentity ignores meta that is not a notebook identity', () => {
    assert.equal(savedIdentity({ ...checkpointOf(undefined, 0), meta: { notebookIdentity: 'gated' } }), undefined);
    assert.equal(savedIdentity({ ...checkpointOf(undefined, 0), meta: { notebookIdentity: { model: identity.model } } }), undefined);
    assert.deepEqual(savedIdentity(checkpointOf(identity, 0)), identity);
  });
});
