/** Debian's Chromium and playwright-core for the live-sampler tests; `skip` says why a test cannot run. */
import * as fs from 'fs';

export const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => fs.existsSync(p));
let loaded: typeof import('playwright-core') | undefined;
try {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  loaded = require('playwright-core') as typeof import('playwright-core');
} catch {
  loaded = undefined;
}
export const playwright = loaded;
export const skip: string | false = !CHROMIUM ? 'chromium is not installed' : !playwright ? 'playwright-core is not installed' : false;
