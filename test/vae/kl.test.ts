/**
 * The PixelVAE's KL term and reparameterisation: the analytic KL(N(mean, exp(logVar)) || N(0, I)) against a
 * Monte Carlo estimate E_q[log q(z) - log p(z)] over z drawn by `reparameterise` itself.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { gaussianKl, reparameterise } from '../../lib/models';
import { setUpBackend } from '../helpers';

before(async () => { await setUpBackend(); });

// Four posteriors over a 4-dimensional z, from the prior itself to sharp and shifted ones.
const MEANS = [[0, 0, 0, 0], [1, -0.5, 0, 2], [-2, 0.3, 0.7, -1], [0.1, 0.2, -0.1, 0]];
const LOG_VARS = [[0, 0, 0, 0], [-1, 0.5, -2, 0], [1, -0.3, 0.2, -4], [-0.5, -0.5, 1.5, 0.3]];
const SAMPLES = 200_000;

test('analytic KL matches a Monte Carlo estimate within 4 standard errors', async () => {
  const mean = tf.tensor2d(MEANS);
  const logVar = tf.tensor2d(LOG_VARS);
  const klTensor = gaussianKl(mean, logVar);
  const analytic = Array.from(await klTensor.data());
  for (let e = 0; e < MEANS.length; e++) {
    const m = MEANS[e];
    const lv = LOG_VARS[e];
    const z = reparameterise({ mean: tf.tile(tf.tensor2d([m]), [SAMPLES, 1]) as tf.Tensor2D, logVar: tf.tile(tf.tensor2d([lv]), [SAMPLES, 1]) as tf.Tensor2D }, 100 + e);
    const values = await z.data();
    z.dispose();
    // log q(z) - log p(z) per sample, in float64: sum_d -logVar/2 - (z - m)^2 / (2 var) + z^2 / 2 (the 2 pi terms cancel).
    let sum = 0;
    let sumSquares = 0;
    for (let n = 0; n < SAMPLES; n++) {
      let ratio = 0;
      for (let d = 0; d < m.length; d++) {
        const v = values[n * m.length + d];
        ratio += -lv[d] / 2 - (v - m[d]) ** 2 / (2 * Math.exp(lv[d])) + v * v / 2;
      }
      sum += ratio;
      sumSquares += ratio * ratio;
    }
    const estimate = sum / SAMPLES;
    const standardError = Math.sqrt(Math.max(0, sumSquares / SAMPLES - estimate * estimate) / SAMPLES);
    // The MC mean is unbiased with standard error sd/sqrt(n): |error| > 4 SE happens with probability ~6e-5
    // per posterior. 1e-5 absolute covers float32 rounding of z (the prior's log ratio is exactly 0 per sample).
    const tolerance = 4 * standardError + 1e-5;
    assert.ok(Math.abs(estimate - analytic[e]) < tolerance, `posterior ${e}: analytic ${analytic[e]}, MC ${estimate} +- ${standardError}`);
    // The tolerance is tight enough to catch the usual slip: logVar read as log(sigma) instead of log(sigma^2).
    const wrong = m.reduce((s, mu, d) => s + 0.5 * (Math.exp(2 * lv[d]) + mu * mu - 1 - 2 * lv[d]), 0);
    if (Math.abs(wrong - analytic[e]) > 1e-3) assert.ok(Math.abs(estimate - wrong) > tolerance, `posterior ${e}: the test cannot tell the wrong KL ${wrong} from the MC estimate`);
    console.log(`posterior ${e}: analytic KL ${analytic[e].toFixed(5)} nats, MC ${estimate.toFixed(5)} +- ${standardError.toFixed(5)} (${SAMPLES} samples)`);
  }
  assert.equal(analytic[0], 0, 'KL of the prior from itself');
  tf.dispose([mean, logVar, klTensor]);
});

test('reparameterisation noise is deterministic given the seed, and differs between seeds', async () => {
  const posterior = { mean: tf.tensor2d([[0.5, -1], [2, 0]]), logVar: tf.tensor2d([[0, -1], [1, 0.5]]) };
  const [a, b, c] = [reparameterise(posterior, 7), reparameterise(posterior, 7), reparameterise(posterior, 8)];
  assert.deepEqual(await a.data(), await b.data());
  assert.notDeepEqual(await a.data(), await c.data());
  tf.dispose([a, b, c, posterior.mean, posterior.logVar]);
});

test('seed 0 draws the same noise every time (tfjs takes a zero seed for none)', async () => {
  const posterior = { mean: tf.zeros([3, 4]) as tf.Tensor2D, logVar: tf.zeros([3, 4]) as tf.Tensor2D };
  const [a, b, c] = [reparameterise(posterior, 0), reparameterise(posterior, 0), reparameterise(posterior, 1)];
  assert.deepEqual(Array.from(await a.data()), Array.from(await b.data()));
  assert.notDeepEqual(Array.from(await a.data()), Array.from(await c.data()));
  tf.dispose([a, b, c, posterior.mean, posterior.logVar]);
});
