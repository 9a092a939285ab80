/** Shared by the native backend's tests: skip (saying why) when the addon is not built, fail under PIXEL_REQUIRE_NATIVE=1 (CI). */
import assert from 'node:assert/strict';
import { loadNativeAddon, NativeStatus } from '../../lib/backend/native';

export function nativeOrSkip(t: { skip(message: string): void }): NativeStatus | undefined {
  const s = loadNativeAddon();
  if (s.available) return s;
  if (process.env.PIXEL_REQUIRE_NATIVE === '1') assert.fail(`PIXEL_REQUIRE_NATIVE=1 but the native backend is unavailable: ${s.reason}`);
  t.skip(`native backend unavailable: ${s.reason}`);
  return undefined;
}
