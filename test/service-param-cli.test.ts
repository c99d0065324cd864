// `onestep service` and `onestep param` as a user runs them: bad input fails with one line naming what was wrong
// (the working paths run against real Cyclone DDS and Fast DDS peers and onestep serve in interop-services.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { onestep, onestepInProcess } from './helpers/cli.ts';

test('service and param: bad input and absent servers fail with one line naming what was wrong (in process)', async () => {
  const cases: [string[], RegExp][] = [
    [['service', 'call', '/x', 'std_srvs/srv/SetBool', '{dat: 1}', '--transport', 'inproc'], /^onestep: dat: no such field in std_srvs\/srv\/SetBool_Request \(fields: data\)\n$/],
    [['service', 'call', '/x', 'std_srvs/srv/SetBool', '{data: 7}', '--transport', 'inproc'], /^onestep: cannot encode std_srvs\/srv\/SetBool_Request field "data": expected a boolean, got number 7\n$/],
    [['service', 'call', '/x', 'std_srvs/srv/Nope', '--transport', 'inproc'], /^onestep: unknown service type "std_srvs\/srv\/Nope"/],
    [['service', 'call', '/x', 'std_srvs/srv/Trigger', '--timeout', '0.3', '--transport', 'inproc'], /^onestep: service \/x: no server of std_srvs\/srv\/Trigger became available within 300 ms\n$/],
    [['service', 'type', '/x', '--wait', '0.2', '--transport', 'inproc'], /^onestep: no server or client of \/x was discovered within 0\.2 s/],
    [['param', 'get', 'bad..name', 'x', '--transport', 'inproc'], /^onestep: "bad\.\.name" is not a node name/],
    [['param', 'get', '/nobody', 'x', '--timeout', '0.3', '--transport', 'inproc'], /^onestep: node \/nobody not found: no \/nobody\/get_parameters service within 0\.3 s/],
    [['param', 'set', '/nobody', 'x', '[1, a]', '--transport', 'inproc'], /^onestep: the value \[1, a\] is not a bool, number, string or a list of one of them\n$/],
  ];
  for (const [args, expected] of cases) {
    const r = await onestepInProcess(...args);
    assert.equal(r.code, 1, `${args.join(' ')}: exit ${r.code}, stderr ${r.stderr}`);
    assert.match(r.stderr, expected, args.join(' '));
  }
});

test('the CLI itself prints the one line and exits 1, once per command', async () => {
  const service = await onestep('service', 'call', '/x', 'std_srvs/srv/Nope', '--transport', 'inproc');
  assert.equal(service.code, 1);
  assert.match(service.stderr, /^onestep: unknown service type "std_srvs\/srv\/Nope"[^\n]*\n$/);
  const param = await onestep('param', 'get', 'bad..name', 'x', '--transport', 'inproc');
  assert.equal(param.code, 1);
  assert.match(param.stderr, /^onestep: "bad\.\.name" is not a node name[^\n]*\n$/);
});
