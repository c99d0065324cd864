// The service interop peers (service_peer_cyclone, service_peer_fastdds): built once per test run by
// service-build.sh into the peers directory; returns that directory.
import { execFileSync } from 'node:child_process';
import { REPO_ROOT } from '../helpers/netns.ts';

let built: string | undefined;

export function servicePeersDir(): string {
  built ??= execFileSync('bash', [`${REPO_ROOT}test/peers/service-build.sh`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
    .trim()
    .split('\n')
    .pop()!;
  return built;
}
