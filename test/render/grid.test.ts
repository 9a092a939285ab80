/** The grid renderer: geometry, cell contents, separators, section breaks and labels, read back from the PNG. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PNG } from 'pngjs';
import { composeGrid, gridGeometry, gridPng, GridLayout, textWidth } from '../../lib/render/grid';

function decode(bytes: Uint8Array): PNG {
  return PNG.sync.read(Buffer.from(bytes));
}

function rgbaAt(png: PNG, x: number, y: number): number[] {
  const o = (y * png.width + x) * 4;
  return Array.from(png.data.subarray(o, o + 4));
}

// 5 grey images of 2x3 in a 2x3 grid (the sixth cell stays empty).
const grey = { images: Uint8Array.from({ length: 5 * 6 }, (_, k) => (k * 37 + 5) % 256), count: 5, height: 2, width: 3, colours: 1 };
const layout: GridLayout = { rows: 2, cols: 3, scale: 2, separator: 1, sectionBreaks: [0], sectionSeparator: 3, rowLabels: ['A1', 'B'], labelScale: 1 };

describe('grid rendering', () => {
  test('geometry: label margin, cells, separators, section break', () => {
    const g = gridGeometry(grey, layout);
    assert.equal(textWidth('A1', 1), 7);
    assert.equal(g.labelWidth, 11);
    assert.deepEqual([g.cellWidth, g.cellHeight], [6, 4]);
    assert.deepEqual(g.cellX, [12, 19, 26]);
    assert.deepEqual(g.cellY, [1, 8]);
    assert.deepEqual([g.width, g.height], [33, 13]);
  });

  test('the PNG decodes to the expected size and pixels', () => {
    const png = decode(gridPng(grey, layout));
    assert.deepEqual([png.width, png.height], [33, 13]);
    // Every pixel of image 4 (row 1, column 1), scaled 2x.
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) {
      const v = grey.images[4 * 6 + i * 3 + j];
      for (let dy = 0; dy < 2; dy++) for (let dx = 0; dx < 2; dx++) assert.deepEqual(rgbaAt(png, 19 + 2 * j + dx, 8 + 2 * i + dy), [v, v, v, 255]);
    }
    assert.deepEqual(rgbaAt(png, 12, 1), [5, 5, 5, 255]); // image 0, pixel (0, 0)
    assert.deepEqual(rgbaAt(png, 11, 3), [128, 128, 128, 255]); // outer border
    assert.deepEqual(rgbaAt(png, 18, 2), [128, 128, 128, 255]); // between columns 0 and 1
    assert.deepEqual(rgbaAt(png, 20, 0), [128, 128, 128, 255]); // top border
    assert.deepEqual(rgbaAt(png, 20, 12), [128, 128, 128, 255]); // bottom border
    for (const y of [5, 6, 7]) assert.deepEqual(rgbaAt(png, 20, y), [220, 40, 40, 255]); // section break after row 0
    assert.deepEqual(rgbaAt(png, 27, 9), [128, 128, 128, 255]); // the empty sixth cell
    // Label 'A1' right-aligned in the margin, 2 px from the cells: 'A' starts at x = 2, row 0's text at y = 0.
    assert.deepEqual(rgbaAt(png, 3, 0), [0, 0, 0, 255]); // top of the A
    assert.deepEqual(rgbaAt(png, 2, 0), [255, 255, 255, 255]);
    assert.deepEqual(rgbaAt(png, 2, 2), [0, 0, 0, 255]); // the A's bar
    assert.deepEqual(rgbaAt(png, 0, 12), [255, 255, 255, 255]); // margin background
  });

  test('colour images keep their channels; default scale 3', () => {
    const rgb = { images: Uint8Array.from([10, 20, 30, 40, 50, 60]), count: 2, height: 1, width: 1, colours: 3 };
    const image = composeGrid(rgb, { rows: 1, cols: 2 });
    assert.deepEqual([image.width, image.height], [1 + 2 * 4, 5]);
    const png = decode(gridPng(rgb, { rows: 1, cols: 2 }));
    assert.deepEqual(rgbaAt(png, 1, 1), [10, 20, 30, 255]);
    assert.deepEqual(rgbaAt(png, 3, 3), [10, 20, 30, 255]);
    assert.deepEqual(rgbaAt(png, 5, 2), [40, 50, 60, 255]);
    assert.deepEqual(rgbaAt(png, 4, 2), [128, 128, 128, 255]);
  });

  test('bad input is refused', () => {
    assert.throws(() => composeGrid({ ...grey, colours: 2 }, layout), /1 or 3 colours/);
    assert.throws(() => composeGrid({ ...grey, count: 6 }, layout), /values for 6 images/);
    assert.throws(() => composeGrid(grey, { ...layout, scale: 0 }), /scale/);
  });
});
