#!/usr/bin/env node
/**
 * Builds the native CPU backend's addon (native/: C++ over oneDNN, see lib/backend/native.ts) as part of
 * `npm install` / `npm ci` (package.json "install"). Nothing is downloaded: node-gyp gets Node's own headers
 * (`--nodedir`, the prefix Node runs from), oneDNN comes from the system (Debian `libdnnl-dev`, installed by
 * `npm run setup:system`).
 *
 * A machine that cannot build it (no compiler, no oneDNN, no Node headers, another OS) must still install:
 * the script then prints one line saying why, records the reason in <build dir>/status.json (backend
 * selection reports it and falls back to wasm) and exits 0. With PIXEL_REQUIRE_NATIVE=1 (CI) it exits 1.
 *
 *   node scripts/build-native.js [--build-dir DIR]
 *
 * Environment: PIXEL_DNNL_INCLUDE / PIXEL_DNNL_LIB (directories holding dnnl.hpp / libdnnl.so, when not in the
 * compiler's default paths), CXX (compiler, default c++), PIXEL_SKIP_NATIVE=1 (do not build).
 * --build-dir builds a copy of native/ elsewhere (default: native/build, where lib/backend/native.ts looks;
 * PIXEL_NATIVE_DIR points it elsewhere).
 */
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.join(__dirname, '..');
const sourceDir = path.join(root, 'native');

function parseArgs(argv) {
  let buildDir = path.join(sourceDir, 'build');
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--build-dir' && i + 1 < argv.length) buildDir = path.resolve(argv[++i]);
    else throw new Error(`build-native: unknown argument ${argv[i]} (usage: node scripts/build-native.js [--build-dir DIR])`);
  }
  return { buildDir };
}

class Unbuildable extends Error {}

/** The first line of a failed command's output that says what went wrong (later errors tend to follow from it). */
function errorLine(text) {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  const hit = lines.find((l) => /(error|cannot find|not found|No such file)/i.test(l) && !/^gyp (ERR|info)/.test(l) && !/^make: \*\*\*/.test(l));
  return (hit ?? lines.at(-1) ?? 'no output').slice(0, 300);
}

function run(command, args, options = {}) {
  const r = spawnSync(command, args, { encoding: 'utf8', ...options });
  return { ok: !r.error && r.status === 0, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? r.error.message : ''}` };
}

function resolveFrom(request) {
  try {
    return require.resolve(request, { paths: [root] });
  } catch {
    return undefined;
  }
}

function check(buildDir) {
  if (process.platform !== 'linux') throw new Unbuildable(`the native backend is built on Linux only (this is ${process.platform})`);
  const nodeGyp = resolveFrom('node-gyp/bin/node-gyp.js') ?? (process.env.npm_config_node_gyp && fs.existsSync(process.env.npm_config_node_gyp) ? process.env.npm_config_node_gyp : undefined);
  if (!nodeGyp) throw new Unbuildable('node-gyp is not installed (a devDependency: npm install without --omit=dev)');
  const napi = resolveFrom('node-addon-api');
  if (!napi) throw new Unbuildable('node-addon-api is not installed (a devDependency: npm install without --omit=dev)');
  const nodedir = path.dirname(path.dirname(process.execPath));
  if (!fs.existsSync(path.join(nodedir, 'include', 'node', 'node_api.h'))) {
    throw new Unbuildable(`Node's headers are not in ${path.join(nodedir, 'include', 'node')} (node-gyp would download them)`);
  }
  const cxx = process.env.CXX || 'c++';
  if (!run(cxx, ['--version']).ok) throw new Unbuildable(`no C++ compiler (${cxx}; Debian: apt-get install g++)`);
  const include = process.env.PIXEL_DNNL_INCLUDE || '';
  const lib = process.env.PIXEL_DNNL_LIB || '';
  for (const [name, dir] of [['PIXEL_DNNL_INCLUDE', include], ['PIXEL_DNNL_LIB', lib]]) {
    if (dir && !fs.existsSync(dir)) throw new Unbuildable(`${name}=${dir} does not exist`);
  }
  // Compile, link and run a program against oneDNN: finds missing headers, libraries and loader paths alike.
  const probeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixel-dnnl-probe-'));
  try {
    const src = path.join(probeDir, 'probe.cc');
    fs.writeFileSync(src, '#include <dnnl.hpp>\n#include <cstdio>\nint main() { const dnnl_version_t* v = dnnl_version(); std::printf("%d.%d.%d", v->major, v->minor, v->patch); }\n');
    const exe = path.join(probeDir, 'probe');
    const flags = [...(include ? [`-I${include}`] : []), ...(lib ? [`-L${lib}`, `-Wl,-rpath,${lib}`] : [])];
    const compiled = run(cxx, ['-std=c++17', src, '-o', exe, ...flags, '-ldnnl']);
    if (!compiled.ok) {
      const why = errorLine(compiled.output);
      const hint = /dnnl\.hpp: No such file/.test(why) ? 'oneDNN headers not found' : /cannot find -ldnnl/.test(why) ? 'oneDNN library not found' : 'cannot compile against oneDNN';
      throw new Unbuildable(`${hint} (${why}; Debian: npm run setup:system installs libdnnl-dev)`);
    }
    const probed = run(exe, []);
    if (!probed.ok) throw new Unbuildable(`a program linked with oneDNN does not run: ${errorLine(probed.output)}`);
    if (!/^[0-9]+\./.test(probed.output) || Number(probed.output.split('.')[0]) < 2) {
      throw new Unbuildable(`oneDNN ${probed.output} is too old (the addon uses the 2.x API)`);
    }
  } finally {
    fs.rmSync(probeDir, { recursive: true, force: true });
  }
  return { nodeGyp, nodedir, include, lib, napiInclude: path.dirname(napi) };
}

function build(buildDir, tools) {
  // node-gyp builds in <project>/build: build a copy of native/ when another directory is asked for.
  const defaultBuild = path.join(sourceDir, 'build');
  let project = sourceDir;
  if (buildDir !== defaultBuild) {
    project = path.join(buildDir, 'source');
    fs.rmSync(project, { recursive: true, force: true });
    fs.mkdirSync(project, { recursive: true });
    fs.cpSync(path.join(sourceDir, 'binding.gyp'), path.join(project, 'binding.gyp'));
    fs.cpSync(path.join(sourceDir, 'src'), path.join(project, 'src'), { recursive: true });
  }
  const args = [tools.nodeGyp, 'rebuild', `--nodedir=${tools.nodedir}`, `--jobs=${os.availableParallelism()}`,
    '--', `-Dnapi_include=${tools.napiInclude}`, `-Ddnnl_include=${tools.include}`, `-Ddnnl_lib=${tools.lib ? `-L${tools.lib} -Wl,-rpath,${tools.lib}` : ''}`];
  const r = run(process.execPath, args, { cwd: project, env: { ...process.env, npm_config_nodedir: tools.nodedir } });
  if (!r.ok) throw new Unbuildable(`compiling the addon failed: ${errorLine(r.output)}`);
  const built = path.join(project, 'build', 'Release', 'pixel_native.node');
  const target = path.join(buildDir, 'Release', 'pixel_native.node');
  if (built !== target) {
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.copyFileSync(built, target);
  }
  // Loading can still fail (libdnnl or libgomp missing at run time): try it in a fresh process.
  const loaded = run(process.execPath, ['-e', `process.stdout.write(JSON.stringify(require(${JSON.stringify(target)}).info()))`]);
  if (!loaded.ok) throw new Unbuildable(`the built addon does not load: ${errorLine(loaded.output)}`);
  return { target, info: JSON.parse(loaded.output) };
}

function main() {
  const { buildDir } = parseArgs(process.argv.slice(2));
  const statusFile = path.join(buildDir, 'status.json');
  const write = (status) => {
    fs.mkdirSync(buildDir, { recursive: true });
    fs.writeFileSync(statusFile, JSON.stringify({ ...status, date: new Date().toISOString() }, null, 2) + '\n');
  };
  const t0 = Date.now();
  try {
    if (process.env.PIXEL_SKIP_NATIVE === '1') throw new Unbuildable('skipped (PIXEL_SKIP_NATIVE=1)');
    // A failed build must not leave an older addon behind for selection to pick up.
    fs.rmSync(path.join(buildDir, 'Release', 'pixel_native.node'), { force: true });
    const tools = check(buildDir);
    const { target, info } = build(buildDir, tools);
    write({ ok: true, addon: target, ...info });
    console.log(`pixel-notebooks: native backend built (oneDNN ${info.onednn}, ${info.threads} threads, ${info.isa}) in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  } catch (e) {
    const reason = e instanceof Unbuildable ? e.message : `unexpected error: ${e.message}`;
    write({ ok: false, reason });
    console.log(`pixel-notebooks: native backend not built: ${reason}; training uses the wasm backend instead`);
    if (process.env.PIXEL_REQUIRE_NATIVE === '1') process.exit(1);
  }
}

main();
