import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NetnsHostRef, NetnsLab } from './netns-lab.js';
import { eventually } from './eventually.js';
import { createNetnsLab } from './netns-lab.js';
import { runCommand } from './netns-exec.js';
import { sweepStaleLabs } from './netns-teardown.js';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Exit status of a TCP connect from inside `from` to address:port (0 = connected), with a short timeout. */
async function connectFrom(lab: NetnsLab, from: NetnsHostRef, address: string, port: number): Promise<'connected' | 'failed'> {
  const script = `
    const socket = require('node:net').connect({ host: ${JSON.stringify(address)}, port: ${port}, timeout: 1500 });
    socket.on('connect', () => process.exit(0));
    socket.on('timeout', () => process.exit(1));
    socket.on('error', () => process.exit(1));`;
  try {
    await lab.exec(from, [process.execPath, '-e', script], { timeoutMs: 20_000 });
    return 'connected';
  } catch {
    return 'failed';
  }
}

/** A TCP server inside `host` on `port`; resolves once it listens, returns a stopper. */
async function listenIn(lab: NetnsLab, host: NetnsHostRef, port: number): Promise<() => Promise<void>> {
  const child = lab.spawn(
    host,
    [process.execPath, '-e', `require('node:net').createServer((s) => s.end()).listen(${port}, () => console.log('listening'))`],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('listening')) resolve();
    });
    child.once('exit', (code) => {
      reject(new Error(`server in ${lab.host(host).name} exited early (${String(code)})`));
    });
  });
  return async () => {
    child.kill('SIGKILL');
    if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
  };
}

/** Whether `pid` runs (a zombie, killed and not yet reaped, does not). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Everything a lab could have left on the machine, as text to search for its names. */
async function machineState(): Promise<string> {
  const parts = await Promise.all([
    runCommand(['ip', 'netns', 'list']),
    runCommand(['ip', '-br', 'link']),
    runCommand(['iptables', '-w', '-S', 'FORWARD']),
    runCommand(['iptables', '-w', '-S', 'DOCKER-USER']).catch(() => ({ stdout: '' })),
    runCommand(['iptables', '-w', '-S', 'INPUT']),
    runCommand(['iptables', '-w', '-S', 'OUTPUT']),
  ]);
  return parts.map((part) => part.stdout).join('\n');
}

/** A node process (TypeScript sources, like jest) that runs `body` with createNetnsLab and startNetnsDockerd imported. */
function labProcess(body: string): ReturnType<typeof spawn> {
  const code = `import { createNetnsLab, startNetnsDockerd } from '@kraken/testing';\n${body}`;
  return spawn(
    process.execPath,
    ['--conditions=@kraken/source', '--import', '@swc-node/register/esm-register', '--input-type=module', '-e', code],
    {
      cwd: packageDir,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
}

async function firstLine(child: ReturnType<typeof spawn>): Promise<string> {
  let buffered = '';
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const newline = buffered.indexOf('\n');
      if (newline >= 0) resolve(buffered.slice(0, newline));
    });
    child.once('exit', (code) => {
      reject(new Error(`lab process exited (${String(code)}) before printing a line`));
    });
  });
}

describe('createNetnsLab', () => {
  let lab: NetnsLab;

  beforeAll(async () => {
    lab = await createNetnsLab({ name: 'lab-test', hosts: 3 });
  });

  afterAll(async () => {
    await lab.destroy();
  });

  it('gives each host its own address on eth0 in the lab subnet, with loopback up and IPv6 off', async () => {
    const prefix = lab.subnet.replace(/\.0\/24$/, '.');
    expect(lab.hostAddress).toBe(`${prefix}1`);
    expect(lab.hosts.map((host) => host.address)).toEqual([`${prefix}2`, `${prefix}3`, `${prefix}4`]);
    for (const host of lab.hosts) {
      const { stdout } = await lab.exec(host, ['ip', '-o', 'addr', 'show']);
      expect(stdout).toContain(`inet ${host.address}/24`);
      expect(stdout).toContain('inet 127.0.0.1/8');
      expect(stdout).not.toContain('inet6');
    }
    const routes = await lab.exec('h1', ['ip', 'route', 'show']);
    expect(routes.stdout).toContain('224.0.0.0/4 dev eth0');
    expect(routes.stdout).not.toContain('default');
  });

  it('lets hosts reach each other', async () => {
    const stop = await listenIn(lab, 'h2', 7001);
    try {
      expect(await connectFrom(lab, 'h1', lab.host('h2').address, 7001)).toBe('connected');
      expect(await connectFrom(lab, 3, lab.host(2).address, 7001)).toBe('connected');
    } finally {
      await stop();
    }
  });

  it("keeps the host machine's services out of the lab, on any address, but the ports a test opens", async () => {
    // as a Kraken of the machine's own would listen: every address, the bridge's included
    const machineWide = createServer((socket) => socket.end()).listen(0, '0.0.0.0');
    const onBridge = createServer((socket) => socket.end()).listen(0, lab.hostAddress);
    await Promise.all([once(machineWide, 'listening'), once(onBridge, 'listening')]);
    const portOf = (server: typeof machineWide) => (server.address() as AddressInfo).port;
    try {
      expect(await connectFrom(lab, 'h3', lab.hostAddress, portOf(machineWide))).toBe('failed');
      expect(await connectFrom(lab, 'h3', lab.hostAddress, portOf(onBridge))).toBe('failed');

      await lab.allowHostPort(portOf(onBridge));

      expect(await connectFrom(lab, 'h3', lab.hostAddress, portOf(onBridge))).toBe('connected');
      expect(await connectFrom(lab, 'h3', lab.hostAddress, portOf(machineWide))).toBe('failed');
    } finally {
      machineWide.close();
      onBridge.close();
    }
  });

  it('lets the host machine connect to the hosts (their answers come back)', async () => {
    const stop = await listenIn(lab, 'h2', 7003);
    try {
      const socket = createConnection({ host: lab.host('h2').address, port: 7003 });
      await once(socket, 'connect');
      socket.destroy();
    } finally {
      await stop();
    }
  });

  it('cut takes a host off the lab and restore brings it back', async () => {
    const stop = await listenIn(lab, 'h2', 7002);
    try {
      await lab.cut('h2');
      expect(await connectFrom(lab, 'h1', lab.host('h2').address, 7002)).toBe('failed');
      await lab.restore('h2');
      expect(await connectFrom(lab, 'h1', lab.host('h2').address, 7002)).toBe('connected');
    } finally {
      await lab.restore('h2');
      await stop();
    }
  });

  it('killHost kills every process of one host, children included, and leaves the other hosts and the namespace alone', async () => {
    // a shell whose child sleeps: killing the spawned process alone would leave the sleep running
    const victim = lab.spawn('h2', ['sh', '-c', 'sleep 600 & echo $!; wait'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const bystander = lab.spawn('h3', ['sleep', '600'], { stdio: 'ignore' });
    const victimExited = once(victim, 'exit');
    const [grandchild] = (await once(victim.stdout as NodeJS.ReadableStream, 'data')) as [Buffer];
    const sleepPid = Number(grandchild.toString().trim());
    try {
      await lab.killHost('h2');
      await victimExited;
      await eventually(() => !alive(sleepPid), 5_000, 'the sleep started by the killed shell gone');
      expect(bystander.exitCode).toBeNull();
      expect(bystander.signalCode).toBeNull();
      // the host can run again at its address
      const stop = await listenIn(lab, 'h2', 7003);
      try {
        expect(await connectFrom(lab, 'h1', lab.host('h2').address, 7003)).toBe('connected');
      } finally {
        await stop();
      }
    } finally {
      bystander.kill('SIGKILL');
    }
  });

  it('names an unknown host and the hosts that exist', () => {
    expect(() => lab.host('h9')).toThrow(/no host h9 \(hosts: h1, h2, h3\)/);
  });
});

describe('createNetnsLab cleanup', () => {
  it('destroy kills what runs in the lab and removes namespaces, links, bridge and iptables rules; a second destroy is a no-op', async () => {
    const lab = await createNetnsLab({ name: 'lab-destroy', hosts: 2 });
    const names = [lab.bridge, ...lab.hosts.map((host) => host.netns)];
    const before = await machineState();
    for (const name of names) expect(before).toContain(name);
    expect(before).toContain(`kraken-netns-lab:${lab.bridge}`);
    // the rules that close the host machine to the lab go with it too
    expect(before).toMatch(new RegExp(`-A INPUT -i ${lab.bridge} .*kraken-netns-lab:${lab.bridge}`));
    expect(before).toMatch(new RegExp(`-A OUTPUT -o ${lab.bridge} .*kraken-netns-lab:${lab.bridge}`));
    const sleeper = lab.spawn('h1', ['sleep', '600'], { stdio: 'ignore' });
    const exited = once(sleeper, 'exit');

    await lab.destroy();
    await lab.destroy();

    await exited;
    const after = await machineState();
    for (const name of names) expect(after).not.toContain(name);
  });

  it('gives labs created at the same time different subnets and bridges', async () => {
    const labs = await Promise.all([1, 2, 3].map((n) => createNetnsLab({ name: `lab-par${n}`, hosts: 1 })));
    try {
      expect(new Set(labs.map((lab) => lab.subnet)).size).toBe(3);
      expect(new Set(labs.map((lab) => lab.bridge)).size).toBe(3);
    } finally {
      await Promise.all(labs.map((lab) => lab.destroy()));
    }
  });

  it('refuses a subnet another lab holds, and public subnets', async () => {
    const lab = await createNetnsLab({ name: 'lab-taken', hosts: 1 });
    try {
      await expect(createNetnsLab({ name: 'lab-taken2', hosts: 1, subnet: lab.subnet })).rejects.toThrow(
        /overlaps the route|taken by another lab/,
      );
      await expect(createNetnsLab({ name: 'lab-public', hosts: 1, subnet: '8.8.8.0/24' })).rejects.toThrow(/not private/);
    } finally {
      await lab.destroy();
    }
  });

  it('removes the lab when its process exits without calling destroy', async () => {
    const child = labProcess(
      `const lab = await createNetnsLab({ name: 'lab-exit', hosts: 1 }); console.log(lab.bridge + ' ' + lab.hosts[0].netns); process.exit(0);`,
    );
    const [bridge = '', netns = ''] = (await firstLine(child)).split(' ');
    if (child.exitCode === null) await once(child, 'exit');
    const after = await machineState();
    expect(after).not.toContain(netns);
    expect(after).not.toContain(bridge);
  });

  it('removes the lab and the Docker engines in it when its process gets SIGTERM (Ctrl-C) without calling destroy', async () => {
    const child = labProcess(
      `const lab = await createNetnsLab({ name: 'lab-term', hosts: 1 }); const engine = await startNetnsDockerd(lab, 1);
       console.log(lab.bridge + ' ' + lab.hosts[0].netns + ' ' + engine.socketPath); setInterval(() => {}, 1000);`,
    );
    const [bridge = '', netns = '', socketPath = ''] = (await firstLine(child)).split(' ');
    const engineDir = path.dirname(socketPath);
    expect(existsSync(socketPath)).toBe(true);
    child.kill('SIGTERM');
    const [, signal] = (await once(child, 'exit')) as [number | null, string | null];
    expect(signal).toBe('SIGTERM');

    const after = await machineState();
    expect(after).not.toContain(netns);
    expect(after).not.toContain(bridge);
    expect(existsSync(engineDir)).toBe(false);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(engineDir);
    const engineProcesses = (await runCommand(['ps', '-eo', 'args'])).stdout.split('\n').filter((line) => line.includes(engineDir));
    expect(engineProcesses).toEqual([]);
  });

  it('sweepStaleLabs removes a lab whose process was killed with SIGKILL', async () => {
    const child = labProcess(
      `const lab = await createNetnsLab({ name: 'lab-killed', hosts: 1 }); console.log(lab.bridge + ' ' + lab.hosts[0].netns); setInterval(() => {}, 1000);`,
    );
    const [bridge = '', netns = ''] = (await firstLine(child)).split(' ');
    const before = await machineState();
    expect(before).toContain(netns);
    expect(before).toContain(bridge);
    child.kill('SIGKILL');
    await once(child, 'exit');

    await sweepStaleLabs();

    const after = await machineState();
    expect(after).not.toContain(netns);
    expect(after).not.toContain(bridge);
  });
});
