// onestep as a package a robot project installs: `npm pack` (the build runs as prepack) → `npm install` of the
// tarball into an empty project, from the npm cache (the registry at most for metadata) → the CLI
// (`npx onestep --help`) and the library (`import { PolicyRuntime } from 'onestep'`, acting on the shipped
// model) work there, from the compiled JavaScript, with the TypeScript types, and without the checkout's tsx.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PolicyRuntime } from '../src/runtime/policy-runtime.ts';
import { commands } from '../src/cli/commands.ts';
import { topLevelHelp } from '../src/cli/help.ts';
import { REPO_ROOT } from './helpers/netns.ts';
import { type Consumer, type Packed, consumerEnv, installConsumer, packOnestep } from './helpers/pack.ts';

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  exports: Record<string, string | Record<string, string>>;
  files: string[];
  bin: Record<string, string>;
  dependencies: Record<string, string>;
};
const ENTRIES = ['.', './ros', './sim', './data', './train'];
// tsconfig.json holds comments: strip them before JSON.parse
const tsconfigPaths = (JSON.parse(readFileSync(join(REPO_ROOT, 'tsconfig.json'), 'utf8').replace(/^\s*\/\/.*$/gm, '')) as { compilerOptions: { paths: Record<string, string[]> } }).compilerOptions.paths;

test('package.json exports exactly the library entries in src/api/, each as compiled JS with types', () => {
  assert.deepEqual(Object.keys(pkg.exports).sort(), [...ENTRIES, './package.json'].sort());
  for (const entry of ENTRIES) {
    const name = entry === '.' ? 'index' : entry.slice(2);
    assert.deepEqual(pkg.exports[entry], {
      types: `./dist/api/${name}.d.ts`,
      default: `./dist/api/${name}.js`,
    });
    assert.ok(existsSync(join(REPO_ROOT, 'src/api', `${name}.ts`)), `src/api/${name}.ts`);
    // the checkout resolves the same names to the sources (tsconfig paths, for tsc and tsx): examples/ use them
    assert.deepEqual(tsconfigPaths[entry === '.' ? 'onestep' : 'onestep/*'], [entry === '.' ? './src/api/index.ts' : './src/api/*.ts']);
  }
  assert.ok(!('tsx' in pkg.dependencies), 'tsx is a development dependency: the installed CLI runs compiled code');
});

const dir = mkdtempSync(join(tmpdir(), 'onestep-pack-'));
let packed: Packed;
let consumer: Consumer;
before(() => {
  packed = packOnestep(dir);
  consumer = installConsumer(packed.tarball, dir);
  process.stderr.write(`# npm pack ${packed.seconds.toFixed(1)} s, npm install ${consumer.seconds.toFixed(1)} s\n`);
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('the tarball holds the compiled library and CLI, MJCF, messages, models, launch files, README and LICENSE; no sources, tests or outputs', () => {
  const files = new Set(packed.files);
  for (const f of ['package.json', 'README.md', 'LICENSE', 'bin/onestep.js', 'dist/cli/main.js', 'dist/api/index.js', 'dist/api/index.d.ts', 'dist/api/ros.d.ts',
    'dist/runtime/policy-runtime.js', 'sim/arm_reach.xml', 'msgs/onestep_msgs/msg/Action.msg', 'models/untrained-arm_reach/policy.onnx', 'launch/arm_policy.yaml']) {
    assert.ok(files.has(f), `missing ${f}`);
  }
  const unwanted = packed.files.filter((f) => /^(src|test|bench|runs|scratch|scripts|\.test-out)\//.test(f) || f.endsWith('.tsbuildinfo') || f === '.npmrc');
  assert.deepEqual(unwanted, []);
  // every non-TypeScript file of src/ (e.g. a worker script) is in dist/ too
  assert.ok(files.has('dist/data/hdf5-worker.mjs') || !existsSync(join(REPO_ROOT, 'src/data/hdf5-worker.mjs')));
});

test('npx onestep --help in the robot project runs the compiled CLI, without tsx installed', () => {
  const help = execFileSync('npx', ['--no', '--', 'onestep', '--help'], { cwd: consumer.dir, encoding: 'utf8', env: consumerEnv() });
  // read from the build's command list (dist/cli/commands.json): the same text the checkout's modules give
  assert.ok(existsSync(join(consumer.dir, 'node_modules/onestep/dist/cli/commands.json')), 'the command list is in the package');
  assert.equal(help, topLevelHelp(commands, 110));
  assert.ok(!existsSync(join(consumer.dir, 'node_modules/tsx')), 'tsx must not be installed for a consumer');
  assert.ok(!existsSync(join(consumer.dir, 'node_modules/onestep/src')), 'no TypeScript sources in the package');
  // onestep bench finds its default model inside the package
  const check = execFileSync('npx', ['--no', '--', 'onestep', 'serve', '--model', 'node_modules/onestep/models/untrained-arm_reach/policy.onnx',
    '--params-file', 'node_modules/onestep/launch/arm_policy.yaml', '--check'], { cwd: consumer.dir, encoding: 'utf8', env: consumerEnv() });
  assert.match(check, /\nok\n$/);
});

test("import { PolicyRuntime } from 'onestep' acts on the shipped model exactly as the checkout does; internals stay unreachable", async () => {
  const script = join(consumer.dir, 'act.mjs');
  writeFileSync(script, `
import { PolicyRuntime, readModelSpec } from 'onestep';
import { createRequire } from 'node:module';
const model = createRequire(import.meta.url).resolve('onestep/package.json').replace(/package\\.json$/, 'models/untrained-arm_reach/policy.onnx');
const spec = await readModelSpec(model);
const policy = await PolicyRuntime.load(model, { deterministic: true });
const action = Array.from(policy.act(Float32Array.from(spec.observation.mean)));
policy.close();
let internal = 'reachable';
try { await import('onestep/dist/runtime/policy-runtime.js'); } catch (err) { internal = err.code; }
const ros = await import('onestep/ros');
process.stdout.write(JSON.stringify({ task: spec.task, synchronous: true, action, internal, ros: typeof ros.PolicyNode }));
`);
  const out = JSON.parse(execFileSync('node', [script], { cwd: consumer.dir, encoding: 'utf8', env: consumerEnv() })) as { task: string; action: number[]; internal: string; ros: string };
  assert.equal(out.task, 'arm_reach');
  assert.equal(out.internal, 'ERR_PACKAGE_PATH_NOT_EXPORTED');
  assert.equal(out.ros, 'function');
  const here = await PolicyRuntime.load(join(REPO_ROOT, 'models/untrained-arm_reach/policy.onnx'), { deterministic: true });
  try {
    assert.deepEqual(out.action, Array.from(here.act(Float32Array.from(here.spec.observation.mean))));
  } finally {
    here.close();
  }
});

test('a TypeScript robot project type-checks against the package types (and a type error is caught)', () => {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  writeFileSync(join(consumer.dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true, skipLibCheck: true, typeRoots: [join(REPO_ROOT, 'node_modules/@types')], types: ['node'] },
    include: ['*.ts'],
  }));
  const good = `import { PolicyRuntime, type PolicySpec } from 'onestep';
import { PolicyNode, buildConfig, createTransport, type Transport } from 'onestep/ros';
const policy: PolicyRuntime = await PolicyRuntime.load('policy.onnx');
const spec: PolicySpec = policy.spec;
const action: Float32Array = policy.act(new Float32Array(spec.observation.size));
const transport: Transport = await createTransport({ node: '/arm/policy', kind: 'inproc' });
const node: PolicyNode = await PolicyNode.start({ transport, config: buildConfig(new Map([['model', 'policy.onnx']])), loadPolicy: (p) => PolicyRuntime.load(p) });
await node.shutdown();
export { action };
`;
  writeFileSync(join(consumer.dir, 'serve.ts'), good);
  execFileSync('node', [tsc, '-p', consumer.dir], { cwd: consumer.dir, encoding: 'utf8' });
  writeFileSync(join(consumer.dir, 'serve.ts'), good.replace("policy.act(new Float32Array(spec.observation.size))", "policy.act('not an observation')"));
  assert.throws(() => execFileSync('node', [tsc, '-p', consumer.dir], { cwd: consumer.dir, encoding: 'utf8', stdio: 'pipe' }), (err: { stdout: string }) => {
    assert.match(err.stdout, /serve\.ts\(5,.*not assignable/);
    return true;
  });
});
