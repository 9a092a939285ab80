/** Odd model options are rejected with errors that name the field and what was expected. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildModel, decodeModelConfig, describeModel, MODEL_KINDS, MODEL_SPECS, modelConfig, modelOptions, parameterCount } from '../../lib/models';
import { setUpBackend } from '../helpers';

test('bad model options name the field', () => {
  assert.throws(() => modelConfig({ kernelSize: 4 }), /kernelSize \(-k\) must be odd.*got 4/);
  assert.throws(() => modelConfig({ colours: 3, channels: 31 }), /channels \(-c\) must be divisible by colours \(3\).*got 31/);
  assert.throws(() => modelConfig({ layers: 0 }), /layers \(-x\) must be a positive integer, got 0/);
  assert.throws(() => modelConfig({ kind: 'pixelrnn' as never }), /kind must be one of simple, gated, gated-blindspot, conditional/);
  assert.throws(() => modelConfig({ kind: 'conditional' }), /conditional model needs conditionSize/);
  assert.throws(() => buildModel(modelConfig({ kind: 'gated-blindspot', kernelSize: 1 })), /at least 3 for gated-blindspot/);
});

test('parameter counts match the architecture, counted by hand', async () => {
  await setUpBackend();
  // simple, 1 colour, k=3, c=6, 2 layers: 3*3*1*6+6, 3*3*6*6+6, output 1x1 6*256+256
  const simple = buildModel(modelConfig({ kind: 'simple', kernelSize: 3, channels: 6, layers: 2 }));
  assert.equal(parameterCount(simple), (9 * 6 + 6) + (9 * 36 + 6) + (6 * 256 + 256));
  // gated, 1 colour, k=3 (p=1), c=4, 2 layers. Layer 0: vertical 2x3x1x8+8, horizontal 1x2x1x8+8, link 8x8+8,
  // output 4x4+4. Layer 1: vertical 2x3x4x8+8, horizontal 1x2x4x8+8, link 8x8+8, output 4x4+4. Head 4*256+256.
  const gated = buildModel(modelConfig({ kind: 'gated', kernelSize: 3, channels: 4, layers: 2 }));
  const layer0 = (6 * 8 + 8) + (2 * 8 + 8) + (64 + 8) + (16 + 4);
  const layer1 = (24 * 8 + 8) + (8 * 8 + 8) + (64 + 8) + (16 + 4);
  assert.equal(parameterCount(gated), layer0 + layer1 + 4 * 256 + 256);
  // conditional with 10 classes adds 10x8 per projection: vertical (not in the last layer) and horizontal.
  const conditional = buildModel(modelConfig({ kind: 'conditional', kernelSize: 3, channels: 4, layers: 2, conditionSize: 10 }));
  assert.equal(parameterCount(conditional), parameterCount(gated) + 3 * 80);
  for (const m of [simple, gated, conditional]) m.params.dispose();
});

test('a kind takes only its own fields; flat configs of older checkpoints still decode', () => {
  // A field of another kind is refused by name, with the kind's own fields listed.
  assert.throws(() => modelConfig({ kind: 'gated', latentSize: 16 } as never), /a gated model has no latentSize \(got 16\); its fields are kind, height, width, colours, seed, layers, kernelSize, channels, leak/);
  assert.throws(() => modelConfig({ kind: 'simple', conditionSize: 10 } as never), /a simple model has no conditionSize \(got 10\)/);
  assert.throws(() => modelConfig({ kind: 'vae-up', leak: true } as never), /a vae-up model has no leak/);
  // The flat config every kind was saved with before (all fields, the others' at their defaults).
  const flat = {
    kind: 'gated', height: 28, width: 28, colours: 1, layers: 5, kernelSize: 5, channels: 30, conditionSize: 0, conditionMapChannels: 0,
    latentSize: 32, vaeDepth: 0, vaeChannels: 128, posteriorLogVarInit: 0, leak: false, seed: 3,
  };
  assert.deepEqual(decodeModelConfig(flat, 'old.ckpt').config, {
    kind: 'gated', height: 28, width: 28, colours: 1, layers: 5, kernelSize: 5, channels: 30, leak: false, seed: 3,
  });
  // A PixelVAE saved before posteriorLogVarInit existed, with its KL options in the train config: they move over.
  const { posteriorLogVarInit: _absent, ...oldVae } = { ...flat, kind: 'vae-straight', conditionSize: 32, latentSize: 32 };
  const decoded = decodeModelConfig(oldVae, 'vae.ckpt', { epochs: 3, klWarmupSteps: 500, freeBits: 0.25 });
  assert.deepEqual(decoded.moved, ['klWarmupSteps', 'freeBits']);
  assert.deepEqual(decoded.config, {
    kind: 'vae-straight', height: 28, width: 28, colours: 1, layers: 5, kernelSize: 5, channels: 30, seed: 3,
    latentSize: 32, vaeDepth: 0, vaeChannels: 128, posteriorLogVarInit: 0, klWarmupSteps: 500, freeBits: 0.25,
  });
  assert.throws(() => decodeModelConfig({ ...flat, kind: 'pixelrnn' }, 'x.ckpt'), /x\.ckpt: the checkpoint's model config has no known kind .*got "pixelrnn"/);
  assert.throws(() => decodeModelConfig({ ...flat, conditionSize: 10 }, 'x.ckpt'), /x\.ckpt: model config: a gated model has no conditionSize \(got 10\)/);
});

test('a conditional model takes its classes from the data; each kind describes itself', () => {
  const data = { name: 'mnist', height: 28, width: 28, channels: 1, classes: 10 };
  const conditional = modelConfig({ kind: 'conditional', layers: 2 }, data);
  assert.equal(conditional.kind === 'conditional' && conditional.conditionSize, 10);
  assert.throws(() => modelConfig({ kind: 'conditional' }, { ...data, name: 'cifar-gs-unlabelled', classes: 0 }), /dataset cifar-gs-unlabelled has no class labels/);
  assert.equal(describeModel(conditional), 'conditional: 2 layers, kernel 5, 30 channels, conditioned on 10 classes');
  assert.equal(describeModel(modelConfig({ kind: 'gated-blindspot' })), 'gated-blindspot: 5 layers, kernel 5, 30 channels');
  assert.equal(describeModel(modelConfig({ kind: 'vae-up', vaeDepth: 1 })),
    'vae-up: latent z of 32, encoder/decoder widths up to 128 (+1 deep blocks), a 64-channel condition map; gated PixelCNN 5 layers, kernel 5, 30 channels');
  assert.deepEqual(MODEL_KINDS, MODEL_SPECS.map((spec) => spec.kind));
  // Every kind-specific flag once, with the kinds that have it; only the KL options may change on --resume.
  const options = modelOptions();
  assert.deepEqual(options.map(({ option }) => option.flag.split(' ')[0]), ['--zsize', '--vae-depth', '--vae-channels', '--posterior-logvar-init', '--kl-warmup', '--free-bits']);
  assert.deepEqual(options[0].kinds, ['vae-up', 'vae-straight']);
  assert.deepEqual(options.filter(({ option }) => option.resumable).map(({ option }) => option.field), ['klWarmupSteps', 'freeBits']);
});

test('every registered kind builds a model whose interface answers for it', async () => {
  await setUpBackend();
  const expected: Record<string, { condition: [number, number]; classes: number; latent: number }> = {
    simple: { condition: [0, 0], classes: 0, latent: 0 },
    gated: { condition: [0, 0], classes: 0, latent: 0 },
    'gated-blindspot': { condition: [0, 0], classes: 0, latent: 0 },
    conditional: { condition: [10, 0], classes: 10, latent: 0 },
    'vae-up': { condition: [0, 64], classes: 0, latent: 2 },
    'vae-straight': { condition: [32, 0], classes: 0, latent: 2 },
  };
  assert.deepEqual(Object.keys(expected), [...MODEL_KINDS]);
  for (const kind of MODEL_KINDS) {
    const model = buildModel(modelConfig({ kind, layers: 1, kernelSize: 3, channels: 4, height: 8, width: 8 }, { name: 'tiny', height: 8, width: 8, channels: 1, classes: 10 }));
    const want = expected[kind];
    assert.deepEqual([model.conditionShape.vector, model.conditionShape.map, model.classes, model.latentSources.length],
      [...want.condition, want.classes, want.latent], kind);
    assert.ok(model.objective().variables.length > 0, kind);
    model.params.dispose();
  }
});
