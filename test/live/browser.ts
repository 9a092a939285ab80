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

type Browser = import('playwright-core').Browser;
type BrowserContext = import('playwright-core').BrowserContext;

/**
 * An offline browser context that lets pages load only file:, data: and blob: URLs: every other request is
 * aborted and its URL pushed to `blocked` (a self-contained report must make none).
 */
export async function offlineContext(browser: Browser, blocked: string[]): Promise<BrowserContext> {
  const context = await browser.newContext({ offline: true });
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:') || url.startsWith('data:') || url.startsWith('blob:')) return route.continue();
    blocked.push(url);
    return route.abort();
  });
  return context;
}
