/**
 * Run records (Node only): every training run, from `npm run train` or a notebook, writes `run.json` in its folder
 * as it goes (recorder.ts); store.ts lists, finds and removes them under the runs root (location.ts: PIXEL_RUNS_DIR,
 * runs/, and runs/smoke/ for PIXEL_SMOKE=1); diff.ts and compare.ts put runs side by side. The format is record.ts.
 */
export * from './record';
export * from './location';
export * from './recorder';
export * from './store';
export * from './diff';
export * from './compare';
export * from './listing';
export * from './thumbnail';
export * from './interrupt';
