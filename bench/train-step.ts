/**
 * End-to-end training speed on the wasm backend: images/s of forward + backward + Adam for a plain conv net
 * shaped like the "simple MNIST 5x30 k5" PixelCNN of /work/shared/STACK.md (7x7 1->30, five 5x5 30->30 with
 * ReLU, 1x1 30->256 logits, softmax cross-entropy over 256 intensities), written with plain tf ops and
 * tf.grads: our kernels make it fast without custom gradients.
 * Run: `node --import tsx bench/train-step.ts [--batch 64] [--steps 5] [--stock-dx]`
 * (--stock-dx puts tfjs-backend-wasm's own Conv2DBackpropInput back, for comparison).
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelFunc } from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend';
import { stockWasmKernel } from '../lib/backend/wasm-kernels';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

async function main(): Promise<void> {
  const B = arg('--batch', 64), steps = arg('--steps', 5);
  const info = await initBackend();
  console.log(info.description);
  if (process.argv.includes('--stock-dx')) {
    const stock = stockWasmKernel('Conv2DBackpropInput')!;
    const ours = tf.getKernel('Conv2DBackpropInput', 'wasm')!;
    tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
    tf.registerKernel({ ...ours, kernelFunc: stock as KernelFunc });
    console.log('using the stock wasm Conv2DBackpropInput');
  }
  const shapes: [number, number, number, number][] = [[7, 7, 1, 30], ...Array(5).fill([5, 5, 30, 30]), [1, 1, 30, 256]];
  const weights = shapes.map((s) => tf.variable(tf.randomNormal(s, 0, Math.sqrt(2 / (s[0] * s[1] * s[2])))));
  const biases = shapes.map((s) => tf.variable(tf.zeros([s[3]])));
  const x = tf.randomUniform([B, 28, 28, 1]);
  const labels = tf.oneHot(tf.randomUniform([B * 28 * 28], 0, 256, 'int32') as tf.Tensor1D, 256);
  const opt = tf.train.adam(1e-3);
  const step = () => {
    const loss = opt.minimize(() => {
      let h: tf.Tensor4D = x as tf.Tensor4D;
      weights.forEach((w, i) => {
        h = tf.add(tf.conv2d(h, w as tf.Variable<tf.Rank.R4>, 1, 'same'), biases[i]);
        if (i < weights.length - 1) h = tf.relu(h);
      });
      return tf.losses.softmaxCrossEntropy(labels, tf.reshape(h, [-1, 256])) as tf.Scalar;
    }, true);
    const v = loss!.dataSync()[0];
    loss!.dispose();
    return v;
  };
  step(); // warm-up
  const times: number[] = [];
  for (let s = 0; s < steps; s++) {
    const t0 = process.hrtime.bigint();
    step();
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  const best = Math.min(...times), median = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)];
  console.log(`batch ${B}: best ${(best * 1e3).toFixed(0)} ms/step = ${(B / best).toFixed(1)} images/s; ` +
    `median ${(B / median).toFixed(1)} images/s`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
