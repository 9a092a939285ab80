/** Small datasets for training tests: real MNIST digits, cropped and subsampled so tests stay fast. */
import { Dataset, loadDataset } from '../../lib/data';

let mnist: Promise<Dataset> | undefined;

export function loadMnist(): Promise<Dataset> {
  mnist ??= loadDataset('mnist');
  return mnist;
}

/** The first `train` / `test` MNIST digits, downsampled 2x to 14x14 (every other row and column). */
export async function tinyMnist(train: number, test: number): Promise<Dataset> {
  const full = await loadMnist();
  const shrink = (images: Uint8Array, count: number) => {
    const out = new Uint8Array(count * 14 * 14);
    for (let n = 0; n < count; n++) for (let r = 0; r < 14; r++) for (let c = 0; c < 14; c++) {
      out[(n * 14 + r) * 14 + c] = images[(n * 28 + 2 * r) * 28 + 2 * c];
    }
    return out;
  };
  return {
    ...full, name: 'mnist-14', height: 14, width: 14,
    train: { images: shrink(full.train.images, train), labels: full.train.labels.slice(0, train), count: train },
    test: { images: shrink(full.test.images, test), labels: full.test.labels.slice(0, test), count: test },
  };
}
