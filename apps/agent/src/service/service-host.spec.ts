import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { systemServiceHost } from './service-host.js';

describe('the machine seen by kraken service', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kraken-service-host-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('has systemd only when its runtime directory exists and systemctl is on the PATH', () => {
    const runtimeDir = path.join(dir, 'run-systemd-system');
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin);
    const host = (PATH: string) => systemServiceHost({ PATH }, { systemdRuntimeDir: runtimeDir });
    expect(host(bin).systemd()).toEqual({ running: false, reason: `systemd is not running on this machine (no ${runtimeDir})` });
    fs.mkdirSync(runtimeDir);
    expect(host(bin).systemd()).toEqual({ running: false, reason: 'systemctl is not on the PATH' });
    fs.writeFileSync(path.join(bin, 'systemctl'), '#!/bin/sh\n', { mode: 0o755 });
    expect(host(`/nonexistent${path.delimiter}${bin}`).systemd()).toEqual({ running: true });
  });

  it('reads a missing unit as undefined, and writes and removes one', () => {
    const host = systemServiceHost({});
    const file = path.join(dir, 'kraken.service');
    expect(host.readFile(file)).toBeUndefined();
    host.writeFile(file, '[Unit]\n', 0o644);
    expect(host.readFile(file)).toBe('[Unit]\n');
    host.removeFile(file);
    expect(fs.existsSync(file)).toBe(false);
  });

  it('finds the home of an existing user and nothing for an unknown one', async () => {
    const host = systemServiceHost({});
    await expect(host.homeOf(os.userInfo().username)).resolves.toBe(os.userInfo().homedir);
    await expect(host.homeOf('no-such-user-kraken')).resolves.toBeUndefined();
  });
});
