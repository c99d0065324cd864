// Footprint of onestep as a robot project installs it (npm pack → npm install into an empty project): how fast the
// CLI starts (`onestep --help`), how long `onestep serve` takes from a cold start to its first action, and how much
// memory a serving node holds, idle and at 100 Hz — against a plain Node process holding the same ONNX Runtime
// session (same model, same session options), measured in the same run. The checkout's CLI (TypeScript through
// tsx) is measured beside the installed one.
//
//   node --import tsx bench/footprint.ts [--runs 5] [--consumer DIR] [--json bench/out/footprint.json] [--cli-only]
//
// --cli-only measures the CLI start alone (no serve runs, no network namespace). Besides `onestep --help` (answered
// without yargs) it times `onestep --help --help`, which goes through the yargs program and prints the same text:
// what `--help` cost before it skipped yargs, in the same run.
// --consumer reuses a project installed by an earlier run (its path is printed); otherwise one is packed and
// installed into a temporary folder first. The serve measurements run inside a private network namespace
// (unshare -n, lo with multicast): the fake robot (onestep's own RTPS participant in this process) and the node
// talk over loopback only.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { REPO_ROOT, cycloneConfig } from '../test/helpers/netns.ts';
import { installConsumer, packOnestep } from '../test/helpers/pack.ts';

const argv = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : def;
};
const runs = Number(opt('runs', '5'));
const cliOnly = argv.includes('--cli-only');
const jsonOut = opt('json', 'bench/out/footprint.json');
const DOMAIN = 42;

interface Stat { min: number; median: number; n: number }
function stat(xs: number[]): Stat {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0] ?? NaN, median: s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN, n: s.length };
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rssMiB = (pid: number, field = 'VmRSS') => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

// ---------------------------------------------------------------------------------------------------------------
// inside the network namespace: serve and the plain-ORT reference

interface ServeRun { readyS: number; firstActionS?: number; idleMiB?: number; servingMiB?: number; servingPeakMiB?: number }

async function inner(consumer: string): Promise<void> {
  const { RtpsTransport } = await import('../src/ros/rtps/transport.ts');
  const pkg = join(consumer, 'node_modules/onestep');
  const model = join(pkg, 'models/untrained-arm_reach/policy.onnx');
  const params = join(pkg, 'launch/arm_policy.yaml');
  const variants = { installed: join(pkg, 'bin/onestep.js'), checkout: join(REPO_ROOT, 'bin/onestep.js') };

  const robot = await RtpsTransport.create({ node: { name: 'fake_robot', namespace: '/' }, domainId: DOMAIN, interfaces: ['lo'] });
  const joints = ['joint1', 'joint2', 'joint3', 'joint4', 'joint5', 'joint6', 'joint7'];
  const jointStates = robot.advertise('/joint_states', 'sensor_msgs/msg/JointState', 'sensor_data');
  const tip = robot.advertise('/tool_tip', 'geometry_msgs/msg/PointStamped');
  const target = robot.advertise('/target', 'geometry_msgs/msg/PointStamped');
  let onCommand: (() => void) | null = null;
  robot.subscribe('/forward_position_controller/commands', 'std_msgs/msg/Float64MultiArray', 'default', () => onCommand?.());
  let traffic: NodeJS.Timeout | null = null;
  const startTraffic = () => {
    let tick = 0;
    traffic = setInterval(() => {
      const stamp = { sec: Math.floor(tick / 100), nanosec: (tick % 100) * 10_000_000 };
      tick++;
      jointStates.publish({ header: { stamp, frame_id: '' }, name: joints, position: joints.map((_, j) => 0.1 * j), velocity: joints.map(() => 0), effort: [] });
      tip.publish({ header: { stamp, frame_id: 'base' }, point: { x: 0.4, y: 0, z: 0.5 } });
      target.publish({ header: { stamp, frame_id: 'base' }, point: { x: 0.5, y: 0.1, z: 0.4 } });
    }, 10);
  };
  const stopTraffic = () => {
    if (traffic) clearInterval(traffic);
    traffic = null;
  };

  const waitFor = (child: ChildProcess, re: RegExp, what: string): Promise<void> => {
    let text = '';
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${what}: timed out; output: ${text.slice(-2000)}`)), 60_000);
      const onData = (d: Buffer) => {
        text += d.toString();
        if (re.test(text)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.on('close', (code) => reject(new Error(`${what}: exited with ${code}; output: ${text.slice(-2000)}`)));
    });
  };
  const stop = async (child: ChildProcess) => {
    const closed = new Promise((r) => child.on('close', r));
    child.kill('SIGTERM');
    await closed;
  };
  const serve = (bin: string) =>
    spawn(process.execPath, [bin, 'serve', '--model', model, '--params-file', params, '--transport', 'rtps', '--domain-id', String(DOMAIN)], { cwd: consumer, stdio: ['ignore', 'pipe', 'pipe'] });

  const results: Record<string, ServeRun[]> = { installed: [], checkout: [], plain: [] };
  for (let r = 0; r < runs; r++) {
    for (const [name, bin] of Object.entries(variants)) {
      // idle, then serving: ready → 2 s without observations → RSS; then 100 Hz of observations for 5 s → RSS
      const t0 = performance.now();
      const idle = serve(bin);
      await waitFor(idle, /policy node started/, `${name} serve`);
      const run: ServeRun = { readyS: (performance.now() - t0) / 1000 };
      await sleep(2000);
      run.idleMiB = rssMiB(idle.pid!);
      startTraffic();
      await sleep(5000);
      run.servingMiB = rssMiB(idle.pid!);
      run.servingPeakMiB = rssMiB(idle.pid!, 'VmHWM');
      stopTraffic();
      await stop(idle);
      // cold start to first action: the robot is already publishing when the node is spawned
      startTraffic();
      const t1 = performance.now();
      const first = new Promise<void>((resolve) => (onCommand = resolve));
      const cold = serve(bin);
      await Promise.race([first, waitFor(cold, /(?!)/, `${name} serve (cold start)`)]);
      run.firstActionS = (performance.now() - t1) / 1000;
      onCommand = null;
      stopTraffic();
      await stop(cold);
      results[name].push(run);
    }
    // the reference: a plain Node process with the same ORT session, idle, then running it at 100 Hz
    const plain = spawn(process.execPath, [join(consumer, 'plain-ort.cjs'), model], { cwd: consumer, stdio: ['ignore', 'pipe', 'pipe'] });
    const t0 = performance.now();
    await waitFor(plain, /^ready$/m, 'plain ORT process');
    const run: ServeRun = { readyS: (performance.now() - t0) / 1000 };
    await sleep(2000);
    run.idleMiB = rssMiB(plain.pid!);
    plain.kill('SIGUSR2'); // start running the session at 100 Hz
    await sleep(5000);
    run.servingMiB = rssMiB(plain.pid!);
    run.servingPeakMiB = rssMiB(plain.pid!, 'VmHWM');
    await stop(plain);
    results.plain.push(run);
    process.stderr.write(`footprint: serve run ${r + 1}/${runs} done\n`);
  }
  await robot.close();
  process.stdout.write(`FOOTPRINT ${JSON.stringify(results)}\n`);
}

// The plain process: onnxruntime-node from the robot project, the same session options PolicyRuntime uses, the
// same warm-up; nothing else.
const PLAIN_ORT = `const ort = require('onnxruntime-node');
const fs = require('node:fs');
(async () => {
  const session = await ort.InferenceSession.create(fs.readFileSync(process.argv[2]), { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential' });
  const [obs, noise] = session.inputNames.map((n, i) => {
    const dims = session.inputMetadata[i].shape.map((d) => (typeof d === 'number' ? d : 1));
    return new ort.Tensor('float32', new Float32Array(dims.reduce((a, b) => a * b, 1)), dims);
  });
  const feeds = { [session.inputNames[0]]: obs, [session.inputNames[1]]: noise };
  for (let i = 0; i < 50; i++) await session.run(feeds);
  process.stdout.write('ready\\n');
  process.on('SIGUSR2', () => setInterval(() => void session.run(feeds), 10));
  setInterval(() => {}, 1 << 30);
  process.on('SIGTERM', () => process.exit(0));
})();
`;

// ---------------------------------------------------------------------------------------------------------------
// outside: pack + install, CLI start, then the serve part in a network namespace

function cliStart(consumer: string): Record<string, { seconds: Stat; peakMiB: Stat }> {
  const peakHook = join(consumer, 'peak-rss.mjs');
  writeFileSync(peakHook, `import { readFileSync } from 'node:fs';\nprocess.on('exit', () => process.stderr.write('PEAK ' + /VmHWM:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1] + '\\n'));\n`);
  const cases: Record<string, string[]> = {
    'node -e 0 (bare Node)': ['-e', '0'],
    'onestep --help (installed: dist/)': [join(consumer, 'node_modules/onestep/bin/onestep.js'), '--help'],
    'onestep --help --help (installed, via yargs)': [join(consumer, 'node_modules/onestep/bin/onestep.js'), '--help', '--help'],
    'onestep --version (installed)': [join(consumer, 'node_modules/onestep/bin/onestep.js'), '--version'],
    // dist/ when it is current (the pack above just built it), else the sources through tsx
    'onestep --help (checkout)': [join(REPO_ROOT, 'bin/onestep.js'), '--help'],
    'onestep --help --help (checkout: tsx, yargs)': [join(REPO_ROOT, 'bin/onestep.js'), '--help', '--help'],
  };
  const out: Record<string, { seconds: Stat; peakMiB: Stat }> = {};
  const times: Record<string, number[]> = {};
  const peaks: Record<string, number[]> = {};
  for (let r = 0; r < Math.max(runs * 2, 5); r++) {
    for (const [name, args] of Object.entries(cases)) {
      const t0 = performance.now();
      const res = spawnSync(process.execPath, ['--import', peakHook, ...args], { cwd: consumer, encoding: 'utf8' });
      const s = (performance.now() - t0) / 1000;
      if (res.status !== 0) throw new Error(`${name}: exit ${res.status}: ${res.stderr}`);
      (times[name] ??= []).push(s);
      (peaks[name] ??= []).push(Number(/PEAK (\d+)/.exec(res.stderr)![1]) / 1024);
    }
  }
  for (const name of Object.keys(cases)) out[name] = { seconds: stat(times[name]), peakMiB: stat(peaks[name]) };
  return out;
}

async function outer(): Promise<void> {
  const loadStart = loadavg();
  let consumer = opt('consumer', '');
  let install: { packS: number; installS: number; tarballKiB: number } | null = null;
  if (consumer === '' || !existsSync(join(consumer, 'node_modules/onestep'))) {
    const dir = mkdtempSync(join(tmpdir(), 'onestep-footprint-'));
    const packed = packOnestep(dir);
    const installed = installConsumer(packed.tarball, dir);
    consumer = installed.dir;
    install = { packS: packed.seconds, installS: installed.seconds, tarballKiB: readFileSync(packed.tarball).length / 1024 };
    process.stderr.write(`footprint: packed in ${packed.seconds.toFixed(1)} s, installed in ${installed.seconds.toFixed(1)} s into ${consumer} (reuse it with --consumer ${consumer})\n`);
  }
  writeFileSync(join(consumer, 'plain-ort.cjs'), PLAIN_ORT);
  const duBytes = Number(spawnSync('du', ['-sb', join(consumer, 'node_modules')], { encoding: 'utf8' }).stdout.split('\t')[0]);
  const cli = cliStart(consumer);
  const f = (x: Stat, d = 2) => `${x.min.toFixed(d)} / ${x.median.toFixed(d)}`;
  const bare = cli['node -e 0 (bare Node)'].seconds.median;
  const printCli = () => {
    process.stdout.write(`\nCLI start (min / median of ${cli['node -e 0 (bare Node)'].seconds.n}, seconds; peak RSS MiB; median / bare Node's median)\n`);
    for (const [name, c] of Object.entries(cli)) process.stdout.write(`  ${name.padEnd(44)} ${f(c.seconds, 3)} s   ${f(c.peakMiB, 0)} MiB   ${(c.seconds.median / bare).toFixed(2)}×\n`);
  };
  if (cliOnly) {
    printCli();
    process.stdout.write(`load average ${loadStart.map((l) => l.toFixed(2)).join(' ')} → ${loadavg().map((l) => l.toFixed(2)).join(' ')}; ${cpus().length} × ${cpus()[0]?.model}; node ${process.version}\n`);
    mkdirSync(dirname(jsonOut), { recursive: true });
    writeFileSync(jsonOut, JSON.stringify({ runs, cli, loadavg: { start: loadStart, end: loadavg() }, node: process.version, date: new Date().toISOString() }, null, 2));
    process.stderr.write(`footprint: wrote ${jsonOut}\n`);
    return;
  }

  const child = spawn(
    'unshare',
    ['-n', 'sh', '-c', 'ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo && exec "$@"', 'sh',
      process.execPath, ...process.execArgv, process.argv[1], '--inner', consumer, '--runs', String(runs)],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ONESTEP_NETNS_MULTICAST: '1', CYCLONEDDS_URI: cycloneConfig(true), ROS_DOMAIN_ID: undefined } },
  );
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  const code = await new Promise<number | null>((r) => child.on('close', r));
  const line = stdout.split('\n').find((l) => l.startsWith('FOOTPRINT '));
  if (code !== 0 || !line) throw new Error(`serve measurements failed (exit ${code}): ${stdout.slice(-2000)}`);
  const serve = JSON.parse(line.slice(10)) as Record<string, ServeRun[]>;
  const s = (name: string, key: keyof ServeRun) => stat(serve[name].map((r) => r[key]).filter((v): v is number => v !== undefined));
  const summary = Object.fromEntries(Object.keys(serve).map((name) => [name, {
    readyS: s(name, 'readyS'), firstActionS: s(name, 'firstActionS'), idleMiB: s(name, 'idleMiB'), servingMiB: s(name, 'servingMiB'), servingPeakMiB: s(name, 'servingPeakMiB'),
  }]));
  const ratio = (name: string, key: 'idleMiB' | 'servingMiB') => summary[name][key].median / summary.plain[key].median;
  const ratios = {
    installedIdleOverPlain: ratio('installed', 'idleMiB'),
    installedServingOverPlain: ratio('installed', 'servingMiB'),
    checkoutIdleOverPlain: ratio('checkout', 'idleMiB'),
    checkoutServingOverPlain: ratio('checkout', 'servingMiB'),
    helpInstalledOverBareNode: cli['onestep --help (installed: dist/)'].seconds.median / cli['node -e 0 (bare Node)'].seconds.median,
  };

  printCli();
  process.stdout.write(`\nserve (min / median of ${runs}): ready = spawn → "policy node started"; first action = spawn → first command at the robot (robot already publishing)\n`);
  for (const [name, x] of Object.entries(summary)) {
    process.stdout.write(`  ${name.padEnd(10)} ready ${f(x.readyS)} s  first action ${name === 'plain' ? '—' : `${f(x.firstActionS)} s`}  idle ${f(x.idleMiB, 1)} MiB  serving ${f(x.servingMiB, 1)} MiB (peak ${f(x.servingPeakMiB, 1)})\n`);
  }
  process.stdout.write(`\nratios (medians): serve installed / plain ORT process: idle ${ratios.installedIdleOverPlain.toFixed(2)}, serving ${ratios.installedServingOverPlain.toFixed(2)}; ` +
    `checkout (tsx): idle ${ratios.checkoutIdleOverPlain.toFixed(2)}, serving ${ratios.checkoutServingOverPlain.toFixed(2)}; --help installed / bare node ${ratios.helpInstalledOverBareNode.toFixed(2)}\n`);
  process.stdout.write(`robot project node_modules: ${(duBytes / 2 ** 20).toFixed(0)} MiB${install ? `; npm pack ${install.packS.toFixed(1)} s, npm install ${install.installS.toFixed(1)} s, tarball ${install.tarballKiB.toFixed(0)} KiB` : ''}\n`);
  process.stdout.write(`load average ${loadStart.map((l) => l.toFixed(2)).join(' ')} → ${loadavg().map((l) => l.toFixed(2)).join(' ')}; ${cpus().length} × ${cpus()[0]?.model}; node ${process.version}\n`);
  mkdirSync(dirname(jsonOut), { recursive: true });
  writeFileSync(jsonOut, JSON.stringify({ runs, cli, serve: summary, raw: serve, ratios, install, nodeModulesMiB: duBytes / 2 ** 20, loadavg: { start: loadStart, end: loadavg() }, node: process.version, date: new Date().toISOString() }, null, 2));
  process.stderr.write(`footprint: wrote ${jsonOut}\n`);
}

if (argv.includes('--inner')) await inner(opt('inner', ''));
else await outer();
