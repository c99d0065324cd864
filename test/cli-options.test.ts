// The strict option parser `onestep serve` uses instead of yargs (src/cli/options.ts): for the forms yargs accepts
// it gives what yargs gives (checked against yargs itself on the same declarations), and it rejects what yargs'
// strict mode rejects, with the same "Unknown argument" message; a bad choice is one line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Options } from 'yargs';
import yargs from 'yargs';
import { parseCommandOptions } from '../src/cli/options.ts';

const OPTIONS = {
  model: { type: 'string', default: '' },
  'params-file': { type: 'string', array: true, default: [] as string[] },
  transport: { type: 'string', choices: ['auto', 'rtps', 'inproc'], default: 'auto' },
  'domain-id': { type: 'number', default: undefined as number | undefined },
  deterministic: { type: 'boolean', default: undefined as boolean | undefined },
  check: { type: 'boolean', default: false },
} satisfies Record<string, Options>;

async function viaYargs(args: string[]): Promise<Record<string, unknown>> {
  const parsed = (await yargs(args).options(OPTIONS).strict().help(false).version(false).fail((msg, err) => {
    throw err ?? new Error(msg);
  }).parseAsync()) as Record<string, unknown>;
  // keep the declared names only (yargs adds camelCase copies and $0)
  return Object.fromEntries([...Object.keys(OPTIONS), '_'].map((k) => [k, parsed[k]]));
}

test('agrees with yargs on the forms a launch file or a user writes', async () => {
  const lines = [
    [],
    ['--model', 'm.onnx'],
    ['--model=m.onnx', '--check'],
    ['--params-file', 'a.yaml', 'b.yaml', '--transport', 'inproc'],
    ['--params-file=a.yaml', '--params-file', 'b.yaml'],
    ['--domain-id', '7', '--deterministic'],
    ['--domain-id=12', '--no-deterministic', '--check', 'false'],
    ['--domainId', '3', '--paramsFile', 'p.yaml'],
    ['--check', '--model', 'x.onnx'],
    ['--domain-id', '-1'],
    ['--deterministic=false', '--', '--model', 'y'],
  ];
  for (const args of lines) {
    const ours = parseCommandOptions(args, OPTIONS);
    assert.deepEqual(Object.fromEntries(Object.entries(ours).map(([k, v]) => [k, v])), await viaYargs(args), args.join(' '));
  }
});

test('unknown options fail as yargs strict mode does; a bad choice or number is reported on one line', async () => {
  assert.throws(() => parseCommandOptions(['--bogus'], OPTIONS), /^Error: Unknown argument: bogus$/);
  await assert.rejects(viaYargs(['--bogus']), /^Error: Unknown argument: bogus$/);
  assert.throws(() => parseCommandOptions(['--bogus', '1', '--frob=2', '-x'], OPTIONS), /^Error: Unknown arguments: bogus, frob, x$/);
  assert.throws(() => parseCommandOptions(['--check', 'extra'], OPTIONS), /^Error: Unknown argument: extra$/);
  await assert.rejects(viaYargs(['--check', 'extra']), /^Error: Unknown argument: extra$/);
  assert.throws(() => parseCommandOptions(['--transport', 'zmq'], OPTIONS), /^Error: --transport must be one of auto, rtps, inproc \(got "zmq"\)$/);
  assert.ok(Number.isNaN(parseCommandOptions(['--domain-id', 'abc'], OPTIONS)['domain-id']));
});
