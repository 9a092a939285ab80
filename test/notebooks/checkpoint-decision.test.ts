/** A notebook's choice between training from scratch, resuming its checkpoint and loading it finished. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { modelConfig } from '../../lib/models';
import { decideCheckpointUse, savedIdentity } from '../../lib/notebook/checkpoint-decision';
import type { RunIdentity } from '../../lib/notebook/config';
import { Checkpoint, decodeCheckpoint, encodeCheckpoint } from '../../lib/train/checkpoint';
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

  test('a checkpoint saved before the model configs were split by kind, from the same settings: reused', () => {
    // Notebook 04 as it was configured then: a flat model config with every kind's fields, the KL options in the
    // train config; today the same settings are the vae-up model's own fields.
    const flatModel = {
      kind: 'vae-up', height: 28, width: 28, colours: 1, layers: 3, kernelSize: 5, channels: 30, conditionSize: 0, conditionMapChannels: 16,
      latentSize: 16, vaeDepth: 0, vaeChannels: 32, posteriorLogVarInit: -4, leak: false, seed: 0,
    };
    const oldTrain = { ...trainConfig({ epochs: 3, batchSize: 32, limit: 3200, testLimit: 512 }), freeBits: 0.5 };
    const vaeUp = { kind: 'vae-up', layers: 3, kernelSize: 5, channels: 30, latentSize: 16, vaeChannels: 32, conditionMapChannels: 16, posteriorLogVarInit: -4 } as const;
    const now: RunIdentity = {
      dataset: 'mnist',
      model: modelConfig({ ...vaeUp, freeBits: 0.5 }),
      train: trainConfig({ epochs: 3, batchSize: 32, limit: 3200, testLimit: 512 }),
    };
    const state = initialTrainerState();
    state.step = 300;
    state.position = { epoch: 3, batchIndex: 0 };
    const old = {
      modelConfig: flatModel, trainConfig: oldTrain, trainerState: state, weights: new Map([['w', { shape: [1], values: new Float32Array([1]) }]]),
      meta: { dataset: 'mnist', notebookIdentity: { dataset: 'mnist', model: flatModel, train: oldTrain } },
    } as unknown as Checkpoint;
    // Read back as a notebook reads the file (lib/train/checkpoint.ts moves the checkpoint's own KL options).
    const read = decodeCheckpoint(encodeCheckpoint(old), NAME);
    assert.deepEqual(savedIdentity(read), now);
    const decision = decideCheckpointUse(true, NAME, { status: 'read', checkpoint: read }, now);
    assert.equal(decision.start, 'reused', decision.note);
    // The same for a plain PixelCNN's flat config (the latent fields it never used are dropped).
    const flatGated = { ...identity.model, conditionSize: 0, conditionMapChannels: 0, latentSize: 32, vaeDepth: 0, vaeChannels: 128, posteriorLogVarInit: 0 };
    const oldGated = { ...checkpointOf(undefined, 3), meta: { notebookIdentity: { ...identity, model: flatGated } } };
    assert.equal(decideCheckpointUse(true, NAME, { status: 'read', checkpoint: oldGated }, identity).start, 'reused');
    // Different KL settings are a different configuration, wherever they were recorded.
    const warmer: RunIdentity = { ...now, model: modelConfig({ ...vaeUp, freeBits: 0.25 }) };
    assert.deepEqual(decideCheckpointUse(true, NAME, { status: 'read', checkpoint: read }, warmer), {
      start: 'new', note: `reuseCheckpoint is true, but ${NAME} was saved from a different configuration (model.freeBits: 0.5 -> 0.25): training from scratch.`,
    });
  });

  test('a recorded model config that cannot be decoded: from scratch, saying why', () => {
    const odd = { ...checkpointOf(undefined, 3), meta: { notebookIdentity: { ...identity, model: { ...identity.model, kind: 'pixelrnn' } } } };
    const decision = decideCheckpointUse(true, NAME, { status: 'read', checkpoint: odd }, identity);
    assert.equal(decision.start, 'new');
    assert.match(decision.note, /records a configuration this version cannot read \(the recorded configuration: the checkpoint's model config has no known kind .*"pixelrnn"\)/);
  });

  test('savedIdentity ignores meta that is not a notebook identity', () => {
    assert.equal(savedIdentity({ ...checkpointOf(undefined, 0), meta: { notebookIdentity: 'gated' } }), undefined);
    assert.equal(savedIdentity({ ...checkpointOf(undefined, 0), meta: { notebookIdentity: { model: identity.model } } }), undefined);
    assert.deepEqual(savedIdentity(checkpointOf(identity, 0)), identity);
  });
});
