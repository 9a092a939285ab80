/**
 * JPEG decoding with @napi-rs/canvas (skia), isolated in a child process (Node only).
 *
 * Skia's JPEG decoder crashes the whole process (SIGSEGV) on some damaged files: verified here with
 * @napi-rs/canvas 0.1.100 on truncated files and on files with a few random bytes changed. A crash in a
 * notebook kernel would kill the kernel, so JPEGs are decoded in a child Node process: if it dies, the file
 * it was decoding is reported as damaged and the next decode starts a fresh child.
 */
import { spawn, type ChildProcess } from 'child_process';

export interface RgbaImage {
  width: number;
  height: number;
  /** width * height * 4 bytes, RGBA, not premultiplied. */
  rgba: Uint8Array;
}

interface Reply {
  id: number;
  width?: number;
  height?: number;
  rgba?: Uint8Array;
  error?: string;
}

const WORKER_SOURCE = `
const canvas = require(process.env.PIXEL_CANVAS_MODULE);
process.on('disconnect', () => process.exit(0));
process.on('message', async (msg) => {
  try {
    const b = msg.bytes;
    const image = await canvas.loadImage(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
    const c = canvas.createCanvas(image.width, image.height);
    const ctx = c.getContext('2d');
    ctx.drawImage(image, 0, 0);
    const d = ctx.getImageData(0, 0, image.width, image.height).data;
    process.send({ id: msg.id, width: image.width, height: image.height, rgba: new Uint8Array(d.buffer, d.byteOffset, d.byteLength) });
  } catch (e) {
    process.send({ id: msg.id, error: String((e && e.message) || e) });
  }
});
`;

interface Pending {
  file: string;
  resolve: (image: RgbaImage) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** Decodes JPEGs in a child process. Call close() when done (an idle decoder does not keep Node alive). */
export class JpegDecoder {
  private child: ChildProcess | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private stderr = '';

  /** @param timeoutMs a decode taking longer than this kills the child and fails (default 30 s). */
  constructor(private readonly timeoutMs = 30_000) {}

  private start(): ChildProcess {
    const child = spawn(process.execPath, ['-e', WORKER_SOURCE], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'advanced',
      env: { ...process.env, PIXEL_CANVAS_MODULE: require.resolve('@napi-rs/canvas') },
    });
    this.stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-2000);
    });
    child.on('message', (m: Reply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.settle(m.id);
      if (m.error !== undefined || m.rgba === undefined || m.width === undefined || m.height === undefined) {
        p.reject(new Error(`${p.file}: cannot decode JPEG (${m.error ?? 'no pixels'})`));
      } else {
        p.resolve({ width: m.width, height: m.height, rgba: m.rgba });
      }
    });
    const fail = (why: string) => {
      if (this.child === child) this.child = undefined;
      for (const [id, p] of [...this.pending]) {
        this.settle(id);
        p.reject(new Error(`${p.file}: cannot decode JPEG (the decoder ${why} on this file: damaged data)`));
      }
    };
    child.on('exit', (code, signal) => fail(signal ? `crashed with ${signal}` : `exited with code ${code}${this.stderr ? `: ${this.stderr.trim()}` : ''}`));
    child.on('error', (e) => fail(`failed to start (${e.message})`));
    this.unrefIfIdle(child);
    return child;
  }

  private settle(id: number): void {
    const p = this.pending.get(id);
    if (p) clearTimeout(p.timer);
    this.pending.delete(id);
    if (this.child) this.unrefIfIdle(this.child);
  }

  /** Keeps Node alive only while decodes are in flight. */
  private unrefIfIdle(child: ChildProcess): void {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const channel = (child as any).channel as { ref(): void; unref(): void } | undefined;
    if (this.pending.size === 0) {
      child.unref();
      channel?.unref();
    } else {
      child.ref();
      channel?.ref();
    }
  }

  /** Decodes one JPEG's bytes; errors name `file`. */
  decode(bytes: Uint8Array, file: string): Promise<RgbaImage> {
    const child = (this.child ??= this.start());
    const id = this.nextId++;
    return new Promise<RgbaImage>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
      }, this.timeoutMs);
      this.pending.set(id, { file, resolve, reject, timer });
      this.unrefIfIdle(child);
      child.send({ id, bytes }, (e) => {
        if (e && this.pending.has(id)) {
          this.settle(id);
          reject(new Error(`${file}: cannot decode JPEG (could not reach the decoder process: ${e.message})`));
        }
      });
    });
  }

  /** Stops the child process. */
  close(): void {
    const child = this.child;
    this.child = undefined;
    if (child && child.exitCode === null && child.signalCode === null) child.kill();
  }
}
