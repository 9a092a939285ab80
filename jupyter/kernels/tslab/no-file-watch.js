/*
 * Preloaded into the tslab kernel (see kernel.json): turns off the file and directory watchers of tslab's
 * TypeScript compiler.
 *
 * Why: tslab keeps one watch program over every source a notebook imports (here all of lib/) and runs the
 * compiler's debounce timers itself, with room for only one pending timer. When files under the project
 * change while a kernel runs (someone edits or creates a .ts file, an editor saves), the compiler schedules
 * a second timer and the next cell fails with "Unexpected pending rebuildTimer" (tslab 1.0.22, TypeScript
 * 5.0) — e.g. the last cell of a 20-minute training run. Without watchers no change on disk reaches the
 * compiler; tslab's own notifications for the cell being compiled do not use the file system and still work.
 *
 * The cost: edits to lib/ are not seen by a running kernel (the modules are cached anyway): restart the
 * kernel after editing lib/.
 */
'use strict';
const path = require('path');

const tslabDir = path.dirname(require.resolve('tslab/package.json', { paths: [process.cwd()] }));
const ts = require(require.resolve('@tslab/typescript-for-tslab', { paths: [tslabDir] }));
const noWatcher = () => ({ close() {} });
ts.sys.watchFile = noWatcher;
ts.sys.watchDirectory = noWatcher;
