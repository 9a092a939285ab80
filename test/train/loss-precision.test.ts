/**
 * Reported bits/dim are exact to 1e-6 on every backend: with all-zero logits every subpixel's loss is
 * ln 256 nats, so a batch is exactly 8 bits/dim. The wasm backend's tf.mean adds a whole batch sequentially
 * in float32 and reported 8.00082 (64x28x28x1) and 8.0051 (64x32x32x3), as did the native backend built on it;
 * the cpu backend adds in float64. Each backend runs here (native where its addon is built), through the
 * trainer's own step and evaluation. On cpu the trainer runs on smaller images:
 * its pure-JS kernels take ~45 s (28x28x1) and ~3 min (32x32x3) per batch of 64 on this machine, and its own
 * sums are float64 anyway; the full-size constant means are checked there on the reduction itself.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { registerWasmGradientKernels } from '../../lib/backend';
import { registerNativeBackend } from '../../lib/backend/native';
import { Dataset } from '../../lib/data';
import { PixelVAE } from '../../lib/models/vae';
import { accurateMean, accurateSum, natsToBits } from '../../lib/train/loss';
import { disposeRun, Run, startRun } from '../../lib/train/run';
import { nativeOrSkip } from '../backend/native-require';

tf.enableProdMode();
registerWasmGradientKernels();
registerNativeBackend();

/** Reported values must equal the exact ones this closely (bits/dim). */
const EXACT = 1e-6;

/** A dataset of 64 training and 64 test images of the given shape, pixel values from a fixed LCG. */
function dataset(height: number, width: number, channels: number): Dataset {
  const split = (seed: number) => {
    const images = new Uint8Array(64 * height * width * channels);
    let s = seed;
    for (let i = 0; i < images.length; i++) images[i] = (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 24;
    return { images, labels: new Uint8Array(64), count: 64 };
  };
  return { name: `${height}x${width}x${channels}`, train: split(1), test: split(2), height, width, channels, classNames: [] };
}

/** Every weight zero: a PixelCNN then gives all-zero logits, a uniform 1/256 for every subpixel. */
function zeroWeights(run: Run): void {
  for (const v of run.model.params.list()) tf.tidy(() => v.assign(tf.zerosLike(v)));
}

async function trainerValues(run: Run): Promise<{ test: number; testParts?: Record<string, number>; train: number; trainParts?: Record<string, number> }> {
  const { dataset: data, trainer } = run;
  // Evaluate first: the step changes the weights.
  const evaluated = await trainer.evaluate(data.test);
  const { nats, parts } = await trainer.step(data.train.images, data.train.labels, 64);
  const trainParts = parts && Object.fromEntries(Object.entries(parts).map(([name, value]) => [name, natsToBits(value)]));
  return { test: evaluated.bitsPerDim, testParts: evaluated.parts, train: natsToBits(nats), trainParts };
}

function assertExact(got: number, want: number, what: string): void {
  assert.ok(Math.abs(got - want) <= EXACT, `${what}: ${got} bits/dim, exactly ${want} expected (off by ${(got - want).toExponential(2)})`);
}

const BACKENDS = [
  { backend: 'wasm', shapes: [[28, 28, 1], [32, 32, 3]], vaeSize: 28 },
  // The wasm backend with oneDNN kernels (lib/backend/native.ts), where its addon is built.
  { backend: 'native', shapes: [[28, 28, 1], [32, 32, 3]], vaeSize: 28 },
  { backend: 'cpu', shapes: [[14, 14, 1], [8, 8, 3]], vaeSize: 14 },
];

for (const { backend, shapes, vaeSize } of BACKENDS) {
  describe(`exact bits/dim on the ${backend} backend`, () => {
    /** Switches to this backend; false (the test skipped, saying why) where the native addon is not built. */
    const use = async (t: TestContext): Promise<boolean> => {
      if (backend === 'native' && !nativeOrSkip(t)) return false;
      assert.ok(await tf.setBackend(backend));
      return true;
    };

    test(`a PixelCNN with all-zero logits reports exactly 8 bits/dim for a train step and an evaluation, batch 64 of ${shapes.map((s) => s.join('x')).join(' and ')}`, async (t) => {
      if (!(await use(t))) return;
      for (const [h, w, c] of shapes) {
        const run = startRun(dataset(h, w, c), { kind: 'gated', layers: 1, kernelSize: 3, channels: c }, { batchSize: 64 });
        zeroWeights(run);
        const { test, train } = await trainerValues(run);
        assertExact(test, 8, `${h}x${w}x${c} evaluation`);
        assertExact(train, 8, `${h}x${w}x${c} train step`);
        disposeRun(run);
      }
    });

    test(`a PixelVAE with a constant posterior reports its KL and negative ELBO exactly, batch 64 of ${vaeSize}x${vaeSize}x1`, async (t) => {
      if (!(await use(t))) return;
      const z = 32;
      const run = startRun(dataset(vaeSize, vaeSize, 1), { kind: 'vae-straight', latentSize: z, layers: 1, kernelSize: 3, channels: 4, vaeChannels: 4 }, { batchSize: 64 });
      zeroWeights(run);
      // Every image's q(z|x) = N(0.7, exp(-1.5)) in each dimension: the encoder's output bias alone.
      const [mean, logVar] = [0.7, -1.5];
      const bias = (run.model as PixelVAE).encoderOutput.bias;
      tf.tidy(() => bias.assign(tf.concat([tf.fill([z], mean), tf.fill([z], logVar)])));
      const klBits = natsToBits((z * 0.5 * (Math.exp(logVar) + mean * mean - logVar - 1)) / (vaeSize * vaeSize));
      const { test, testParts, train, trainParts } = await trainerValues(run);
      for (const [what, total, parts] of [['evaluation', test, testParts], ['train step', train, trainParts]] as const) {
        // The decoder's weights are zero, so z changes nothing: the reconstruction is uniform.
        assertExact(parts!.reconstruction, 8, `${what}: reconstruction`);
        // The KL is small in bits/dim, so 1e-6 absolute would pass almost anything: ask for 1e-6 relative.
        assert.ok(Math.abs(parts!.kl - klBits) <= 1e-6 * klBits, `${what}: KL ${parts!.kl} bits/dim, exactly ${klBits} expected`);
        assertExact(total, 8 + klBits, `${what}: negative ELBO`);
      }
      disposeRun(run);
    });

    test('accurateSum and accurateMean: float32-exact on constants, tf.sum and tf.mean gradients', async (t) => {
      if (!(await use(t))) return;
      // Batches of the losses all-zero logits give, ln 256 nats each, at full size.
      for (const shape of [[64, 28, 28, 1], [64, 32, 32, 3]]) {
        const losses = tf.fill(shape, Math.log(256));
        const mean = accurateMean(losses);
        assertExact(natsToBits((await mean.data())[0]), 8, `mean of ${shape.join('x')} losses of ln 256`);
        tf.dispose([losses, mean]);
      }
      // 3 * 2^16 and an odd count: the halving pads with a zero.
      for (const n of [196_608, 100_003]) {
        const x = tf.fill([n], 0.1);
        const [sum, mean] = [accurateSum(x), accurateMean(x)];
        const exact = n * Math.fround(0.1);
        assert.ok(Math.abs((await sum.data())[0] - exact) <= 2e-7 * exact, `sum of ${n} x 0.1: ${(await sum.data())[0]} vs ${exact}`);
        assert.ok(Math.abs((await mean.data())[0] - Math.fround(0.1)) <= 2e-7 * 0.1, `mean of ${n} x 0.1: ${(await mean.data())[0]}`);
        tf.dispose([x, sum, mean]);
      }
      const x = tf.tensor([[1, 2, 3], [4, 5, 6]]);
      const dSum = tf.grad((t: tf.Tensor) => tf.mul(accurateSum(t), 3))(x);
      const dMean = tf.grad((t: tf.Tensor) => accurateMean(t))(x);
      assert.deepEqual(dSum.shape, [2, 3]);
      assert.deepEqual(Array.from(await dSum.data()), [3, 3, 3, 3, 3, 3]);
      assert.deepEqual(Array.from(await dMean.data()), Array(6).fill(Math.fround(1 / 6)));
      tf.dispose([x, dSum, dMean]);
    });
  });
}
