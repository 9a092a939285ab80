/**
 * The wasm guard (lib/backend/wasm-guard.ts): XNNPACK failures and failed heap allocations must throw instead
 * of returning wrong numbers. Real failures are provoked: a convolution with zero input channels makes
 * XNNPACK refuse its operator (status 2, the same path as status 6 = out of memory), and 1 GiB tensors
 * exhaust the 4 GiB heap (address space only: the memory is never touched).
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend';
import { isXnnFailureMessage, WasmBackendError, wasmGuardStatus } from '../../lib/backend/wasm-guard';

interface Backend {
  makeOutput(shape: number[], dtype: string): tf.TensorInfo;
  disposeData(dataId: object): boolean;
  numDataIds(): number;
}

before(async () => {
  const info = await initBackend('wasm');
  assert.equal(info.name, 'wasm');
});

test('the guard is armed (installed before the wasm module was created)', () => {
  assert.deepEqual(wasmGuardStatus(), { installed: true, watchingXnnMessages: true });
  assert.ok(isXnnFailureMessage('XNN status for xnn_create_fully_connected_nc_f32 is not successful. Got status 6.'));
  assert.ok(!isXnnFailureMessage('some other warning'));
});

test('an XNNPACK failure inside a kernel throws WasmBackendError, and the backend keeps working', () => {
  const x = tf.zeros([1, 4, 4, 0]) as tf.Tensor4D, w = tf.zeros([3, 3, 0, 2]) as tf.Tensor4D;
  const ids = (tf.backend() as unknown as Backend).numDataIds();
  assert.throws(() => tf.conv2d(x, w, 1, 'same'), (e: unknown) => {
    assert.ok(e instanceof WasmBackendError);
    assert.match(e.message, /Conv2D: XNNPACK failed \(XNN status for xnn_create_convolution2d_nhwc_f32/);
    return true;
  });
  assert.equal((tf.backend() as unknown as Backend).numDataIds(), ids, 'the refused output was not disposed');
  const y = tf.conv2d(tf.ones([1, 3, 3, 1]) as tf.Tensor4D, tf.ones([3, 3, 1, 1]) as tf.Tensor4D, 1, 'same');
  assert.deepEqual(Array.from(y.dataSync()), [4, 6, 4, 6, 9, 6, 4, 6, 4]);
  tf.dispose([x, w, y]);
});

test('exhausting the 4 GiB wasm heap throws instead of handing out address 0', () => {
  const backend = tf.backend() as unknown as Backend;
  const held: tf.TensorInfo[] = [];
  try {
    assert.throws(() => {
      for (let i = 0; i < 8; i++) held.push(backend.makeOutput([1 << 28], 'float32')); // 1 GiB each
    }, (e: unknown) => e instanceof WasmBackendError && /out of memory: could not allocate 1073741824 bytes/.test(e.message));
    assert.ok(held.length >= 1 && held.length < 4, `allocated ${held.length} GiB before failing`);
  } finally {
    for (const t of held) backend.disposeData(t.dataId);
  }
  const z = tf.add(tf.ones([2, 2]), 1);
  assert.deepEqual(Array.from(z.dataSync()), [2, 2, 2, 2]);
  z.dispose();
});
