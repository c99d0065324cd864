// A real headless browser for checking pages onestep writes: Debian's chromium driven over the DevTools protocol on
// a pipe (--remote-debugging-pipe: no port, no network), collecting console errors, uncaught exceptions and log
// entries, evaluating an expression in the page, and taking a PNG screenshot.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

export function chromiumPath(): string | null {
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    const r = spawnSync('which', [name], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
  }
  return null;
}

export interface PageResult {
  /** console.error / console.assert calls, uncaught exceptions and error-level log entries (failed loads, CSP, ...) */
  errors: string[];
  /** The value of `expression`, evaluated after the load event and `settleMs`. */
  value: unknown;
}

export async function renderPage(url: string, opts: { expression: string; screenshot?: string; width?: number; height?: number; settleMs?: number; timeoutMs?: number }): Promise<PageResult> {
  const bin = chromiumPath();
  if (!bin) throw new Error('chromium is not installed (apt-get install chromium; scripts/setup.sh does)');
  const profile = mkdtempSync(join(tmpdir(), 'onestep-chromium-'));
  const child = spawn(bin, [
    '--headless=new', '--remote-debugging-pipe', '--no-sandbox', '--disable-gpu', '--no-first-run', '--no-default-browser-check',
    '--disable-extensions', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--mute-audio',
    `--user-data-dir=${profile}`, 'about:blank',
  ], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
  const toBrowser = child.stdio[3] as Writable;
  const fromBrowser = child.stdio[4] as Readable;
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  const listeners: ((m: any) => void)[] = [];
  let buffer = '';
  fromBrowser.setEncoding('utf8').on('data', (d: string) => {
    buffer += d;
    let end: number;
    while ((end = buffer.indexOf('\0')) >= 0) {
      const msg = JSON.parse(buffer.slice(0, end));
      buffer = buffer.slice(end + 1);
      if (msg.id !== undefined && pending.has(msg.id)) {
        const p = pending.get(msg.id)!;
        pending.delete(msg.id);
        if (msg.error) p.reject(new Error(`${msg.error.message} (${msg.error.code})`));
        else p.resolve(msg.result);
      } else {
        for (const l of listeners) l(msg);
      }
    }
  });
  const send = (method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<any> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      toBrowser.write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const timeout = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60000);
  try {
    const errors: string[] = [];
    const { targetId } = await send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await send('Target.attachToTarget', { targetId, flatten: true });
    let loaded: () => void = () => {};
    const load = new Promise<void>((r) => (loaded = r));
    listeners.push((m) => {
      if (m.sessionId !== sessionId) return;
      if (m.method === 'Runtime.consoleAPICalled' && (m.params.type === 'error' || m.params.type === 'assert')) {
        errors.push(`console.${m.params.type}: ${m.params.args.map((a: any) => a.value ?? a.description).join(' ')}`);
      } else if (m.method === 'Runtime.exceptionThrown') {
        errors.push(`exception: ${m.params.exceptionDetails.exception?.description ?? m.params.exceptionDetails.text}`);
      } else if (m.method === 'Log.entryAdded' && m.params.entry.level === 'error') {
        errors.push(`log: ${m.params.entry.text} ${m.params.entry.url ?? ''}`);
      } else if (m.method === 'Page.loadEventFired') {
        loaded();
      }
    });
    await send('Runtime.enable', {}, sessionId);
    await send('Log.enable', {}, sessionId);
    await send('Page.enable', {}, sessionId);
    await send('Emulation.setDeviceMetricsOverride', { width: opts.width ?? 1400, height: opts.height ?? 1000, deviceScaleFactor: 1, mobile: false }, sessionId);
    await send('Page.navigate', { url }, sessionId);
    await load;
    await new Promise((r) => setTimeout(r, opts.settleMs ?? 300));
    const evaluated = await send('Runtime.evaluate', { expression: opts.expression, returnByValue: true, awaitPromise: true }, sessionId);
    if (evaluated.exceptionDetails) errors.push(`evaluate: ${evaluated.exceptionDetails.exception?.description ?? evaluated.exceptionDetails.text}`);
    if (opts.screenshot) {
      const shot = await send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true }, sessionId);
      writeFileSync(opts.screenshot, Buffer.from(shot.data, 'base64'));
    }
    await send('Browser.close').catch(() => undefined);
    return { errors, value: evaluated.result?.value };
  } catch (err) {
    throw new Error(`chromium: ${(err as Error).message}; stderr: ${stderr.trim().slice(-1000)}`);
  } finally {
    clearTimeout(timeout);
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
    // chromium's helper processes may still be writing the profile for a moment after the browser exits
    for (let i = 0; i < 10; i++) {
      try {
        rmSync(profile, { recursive: true, force: true });
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 300));
      }
    }
  }
}
