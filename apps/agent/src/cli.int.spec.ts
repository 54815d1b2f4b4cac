// The `kraken` binary end to end: an agent process leading a one-node cluster on the real RabbitMQ
// and Docker engine, driven by the client verbs a user types.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';
import Docker from 'dockerode';
import { eventually, eventuallyPasses, freePort, gitFixtureRepo, isolatedVhost, manifestToml, requireRabbit, tempDir } from '@kraken/testing';
import type { IsolatedVhost, TempDir } from '@kraken/testing';
import type { WatchedProcess } from '@kraken/testing';
import { CLI, listedAppAnswer, runKraken, spawnLongRunning } from '../test/cli-process.js';

const docker = new Docker();
const appServer = `require('http').createServer((q, s) => { console.log('hit ' + q.url); s.end('hello ' + process.env.GREETING); }).listen(process.env.PORT || 3000, () => console.log('listening'));`;

describe('kraken CLI against a running agent', () => {
  let dir: TempDir;
  // its own vhost: heartbeats another suite left in the shared one would show up as extra nodes
  let vhost: IsolatedVhost | undefined;
  let agent: WatchedProcess;
  let api: string;
  let dataDir: string;
  let repo: string;
  const deployed: string[] = [];
  const kraken = (...args: string[]) => runKraken([...args, '--api', api, '--data-dir', dataDir]);
  const krakenWithInput = (input: string, ...args: string[]) => runKraken([...args, '--api', api, '--data-dir', dataDir], { input });

  beforeAll(async () => {
    await requireRabbit();
    vhost = await isolatedVhost('kraken-cli');
    dir = await tempDir('kraken-cli-');
    dataDir = path.join(dir.path, 'data');
    repo = await gitFixtureRepo(path.join(dir.path, 'app'), {
      'shipwreck.toml': manifestToml('port = 3000\nlang = "node"\nrun = "node server.js"\ntest = ""', 'cli-app'),
      'server.js': appServer,
    });
    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    agent = spawnLongRunning(process.execPath, [
      CLI, 'agent', '--data-dir', dataDir, '--api-port', String(port), '--api-host', '127.0.0.1',
      '--broker-url', vhost.url, '--runtime', 'docker', '--no-mdns', '--public-host', '127.0.0.1', '--log-level', 'debug',
    ]);
    await agent.waitFor(/Deploy an app: kraken deploy/, 60_000);
  }, 90_000);

  afterAll(async () => {
    agent.kill('SIGTERM');
    await agent.exited;
    for (const id of deployed) {
      const containers = await docker.listContainers({ all: true, filters: { label: [`org.kraken.deployment=${id}`] } });
      await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true })));
    }
    await dir[Symbol.asyncDispose]();
    await vhost?.remove();
  }, 60_000);

  it('prints the API URL and a one-time token at first start, and why others cannot join a loopback broker', () => {
    expect(agent.output()).toMatch(/UI and API: http:\/\/127\.0\.0\.1:\d+\//);
    expect(agent.output()).toMatch(/API token \(shown once; kept in .*secrets\.json\): \S{16,}/);
    expect(agent.output()).toMatch(/other machines can join once .* --broker-url/);
    expect(agent.output()).toMatch(/guest user only works over loopback/);
  });

  it('deploys with live status steps, ends with the app URL, and the app answers', async () => {
    const result = await kraken('deploy', repo, '--env', 'GREETING=from-cli');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    const id = /^deployment (\S+)$/.exec(lines[0] ?? '')?.[1];
    expect(id).toBeDefined();
    deployed.push(id ?? '');
    expect(result.stdout).toMatch(/\d+\.\ds\s+building deployment/);
    expect(result.stdout).toMatch(/\d+\.\ds\s+running/);
    const url = /running at (http:\/\/\S+) after/.exec(result.stdout)?.[1];
    expect(url).toBeDefined();
    const response = await fetch(url ?? '');
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('hello from-cli');
  }, 240_000);


  it('changes settings with kraken env: set (from stdin too) restarts the app with the value, unset removes it, values never shown', async () => {
    const id = deployed[0] ?? '';
    const appAnswer = () => listedAppAnswer(kraken, id);
    const listed = await kraken('env', id);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/GREETING\s+\*\*\*/);
    expect(listed.stdout).not.toContain('from-cli');

    const set = await krakenWithInput('from-stdin\n', 'env', 'set', id, 'GREETING');
    expect(set.stderr).toBe('');
    expect(set.stdout).toContain('restarting with changed settings: set GREETING');
    await eventually(async () => (await appAnswer()) === 'hello from-stdin', 120_000, 'the app answers with the value from stdin', 500);
    const restarted = (JSON.parse((await kraken('ls', '--json')).stdout) as { id: string; statusMessage: string | null }[]).find((d) => d.id === id);
    expect(restarted?.statusMessage).toMatch(/^restarted with the changed settings from the build of [0-9a-f]{7}; nothing was rebuilt$/);

    const unset = await kraken('env', 'unset', id, 'GREETING');
    expect(unset.code).toBe(0);
    await eventually(async () => (await appAnswer()) === 'hello undefined', 120_000, 'the app answers without GREETING', 500);
    expect(JSON.parse((await kraken('env', id, '--json')).stdout)).toEqual({ id, env: [] });

    const again = await kraken('env', 'set', id, 'GREETING=from-cli');
    expect(again.code).toBe(0);
    await eventually(async () => (await appAnswer()) === 'hello from-cli', 120_000, 'the app answers with the value again', 500);
    // the agent's log names the variables, never their values
    expect(agent.output()).not.toContain('from-stdin');
    const bad = await kraken('env', 'unset', id, 'NOT_THERE');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('NOT_THERE is not set on deployment');
  }, 400_000);

  it('keeps its data dir private: another user can read nothing in it, not even its names', async () => {
    // the temp dir around it is 0700 too: open it up, so that only the data dir's own mode stands in the way
    await chmod(dir.path, 0o755);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    const files = readdirSync(dataDir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile());
    expect(files.map((entry) => entry.name)).toEqual(expect.arrayContaining(['node-id', 'secrets.json', 'orchestrator.db']));
    const asNobody = (...args: string[]) => {
      try {
        execFileSync('runuser', ['-u', 'nobody', '--', ...args], { stdio: 'pipe' });
        return 'allowed';
      } catch (error) {
        return String((error as { stderr?: Buffer }).stderr ?? '');
      }
    };
    expect(asNobody('ls', dataDir)).toMatch(/Permission denied/);
    for (const entry of files) expect(asNobody('cat', path.join(entry.parentPath, entry.name))).toMatch(/Permission denied/);
  });

  it('lists deployments and nodes as tables and as JSON', async () => {
    const table = await kraken('ls');
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^ID\s+STATUS\s+RESTARTS\s+NODE\s+URL/);
    expect(table.stdout).toContain('running');
    const json = await kraken('ls', '--json');
    const list = JSON.parse(json.stdout) as { id: string; status: string; srcUrl: string }[];
    expect(list).toEqual([expect.objectContaining({ id: deployed[0], status: 'RUNNING', srcUrl: repo })]);
    const nodes = JSON.parse((await kraken('nodes', '--json')).stdout) as { state: string; runtimes: string[] }[];
    expect(nodes).toEqual([expect.objectContaining({ state: 'ALIVE', runtimes: ['docker'] })]);
    const status = await kraken('status');
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/deployments\s+1 running/);
  }, 60_000);

  it('redraws the node table with nodes --watch, with CPU, memory and disk now and over the last minutes, until Ctrl-C', async () => {
    const plain = await kraken('nodes');
    expect(plain.stdout).toMatch(/LOAD\s+CPU\s+DISK\s+APPS/);
    // CPU busy time needs two readings: wait for a heartbeat that carries it (run alone, this test can come first)
    await eventually(async () => ((JSON.parse((await kraken('nodes', '--json')).stdout) as { cpuPercent: number | null }[])[0]?.cpuPercent ?? null) !== null, 30_000, 'a heartbeat with CPU busy percent');
    const watch = spawnLongRunning(process.execPath, [CLI, 'nodes', '--watch', '--interval', '1', '--api', api, '--data-dir', dataDir]);
    const redraws = () => watch.output().split('kraken nodes, every 1 s (Ctrl-C to stop)').slice(1);
    await eventually(() => redraws().length >= 2, 30_000, 'two redraws of kraken nodes --watch');
    watch.kill('SIGINT');
    expect(await watch.exited).toBe(0);
    // not a terminal: no screen clearing, each redraw a table of its own
    expect(watch.output()).not.toContain('\u001b[2J');
    for (const redraw of redraws().slice(0, 2)) {
      expect(redraw).toMatch(/ID\s+STATE\s+CPU\s+CPU \(last 3 min\)\s+MEMORY\s+MEMORY \(last 3 min\)\s+DISK\s+DISK \(last 3 min\)\s+LOAD/);
      // this agent reports CPU busy time and its data dir's disk: numbers, each with blocks for its recent samples
      const blocks = '[▁▂▃▄▅▆▇█ ]*[▁▂▃▄▅▆▇█][▁▂▃▄▅▆▇█ ]*';
      const usedOfTotal = '[\\d.]+\\/[\\d.]+ [MG]B \\(\\d+%\\)';
      expect(redraw).toMatch(new RegExp(`\\salive\\s+\\d+%\\s+${blocks}\\s+${usedOfTotal}\\s+${blocks}\\s+${usedOfTotal}\\s+${blocks}\\s+\\d+\\.\\d\\d`));
    }
    const bad = await kraken('nodes', '--watch', '--interval', '0.1');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--interval: expected a number of seconds >= 0.5, got "0.1"');
    const json = await kraken('nodes', '--watch', '--json');
    expect(json.code).toBe(2);
    expect(json.stderr).toContain('poll kraken nodes --json');
  }, 60_000);

  it('prints the app log', async () => {
    const result = await kraken('logs', deployed[0] ?? '');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('listening');
  }, 60_000);

  it('follows the log with -f until interrupted, printing lines that arrive later', async () => {
    const follower = spawnLongRunning(process.execPath, [CLI, 'logs', '-f', deployed[0] ?? '', '--api', api, '--data-dir', dataDir]);
    await follower.waitFor(/listening/, 30_000);
    const [deployment] = JSON.parse((await kraken('ls', '--json')).stdout) as { deploymentUrl: string }[];
    await fetch(`${deployment?.deploymentUrl ?? ''}/followed`);
    await follower.waitFor(/hit \/followed/, 30_000);
    follower.kill('SIGINT');
    await expect(follower.exited).resolves.toBe(0);
  }, 90_000);

  it('redeploys the branch head on request: the new commit is built and answers', async () => {
    const id = deployed[0] ?? '';
    // a new commit on the branch: the running container must be replaced, not reported as running
    await writeFile(path.join(repo, 'server.js'), appServer.replace("'hello '", "'hello again '"));
    execFileSync('git', ['-c', 'user.name=Kraken Test', '-c', 'user.email=test@kraken.invalid', 'commit', '--quiet', '--all', '--message', 'v2'], { cwd: repo });
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim();
    const result = await kraken('redeploy', id);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`redeploy requested for ${id}`));
    const current = await eventually(
      async () => {
        const list = JSON.parse((await kraken('ls', '--json')).stdout) as { id: string; status: string; commit: string | null; deploymentUrl: string | null }[];
        return list.find((d) => d.id === id && d.status === 'RUNNING' && d.commit === head);
      },
      180_000,
      `${id} running ${head}`,
      500,
    );
    const response = await fetch(current.deploymentUrl ?? '');
    expect(await response.text()).toBe('hello again from-cli');
  }, 200_000);

  it('a redeploy that cannot be built leaves the running version serving and says why', async () => {
    const id = deployed[0] ?? '';
    const before = (JSON.parse((await kraken('ls', '--json')).stdout) as { id: string; commit: string; deploymentUrl: string }[]).find((d) => d.id === id);
    await writeFile(path.join(repo, 'shipwreck.toml'), '[app]\nname = "cli-app"\n[config\n');
    execFileSync('git', ['-c', 'user.name=Kraken Test', '-c', 'user.email=test@kraken.invalid', 'commit', '--quiet', '--all', '--message', 'broken'], { cwd: repo });
    expect((await kraken('redeploy', id)).code).toBe(0);
    const current = await eventually(
      async () =>
        (JSON.parse((await kraken('ls', '--json')).stdout) as { id: string; status: string; statusMessage: string | null; commit: string }[]).find(
          (d) => d.id === id && d.status === 'RUNNING' && (d.statusMessage ?? '').startsWith('redeploy failed'),
        ),
      120_000,
      `${id} reporting the failed redeploy`,
      500,
    );
    expect(current).toMatchObject({ status: 'RUNNING', commit: before?.commit, statusMessage: expect.stringMatching(/^redeploy failed: .*shipwreck\.toml.*keeps running$/s) as unknown });
    expect(await (await fetch(before?.deploymentUrl ?? '')).text()).toBe('hello again from-cli');
  }, 200_000);

  it('lists every build and settings change as a release, each with its own log: kraken releases, kraken logs --release and the API', async () => {
    const id = deployed[0] ?? '';
    // every line of the log belongs to exactly one release
    const token = (JSON.parse(readFileSync(path.join(dataDir, 'secrets.json'), 'utf8')) as { apiToken: string }).apiToken;
    const response = await fetch(`${api}/graphql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        query: `{ getReleases(deploymentId: "${id}") { number trigger result timeline { status } logs(limit: 5000) { lines { seq release } } }
          logs(deploymentId: "${id}", limit: 5000) { lines { seq } } }`,
      }),
    });
    const { data } = (await response.json()) as {
      data: { getReleases: { number: number; trigger: string; result: string; timeline: { status: string }[]; logs: { lines: { seq: number; release: number }[] } }[]; logs: { lines: { seq: number }[] } };
    };
    // the first deploy, the settings changes of the env test (each a restart from the build), the redeploy, the redeploy that failed
    const releases = data.getReleases;
    const triggers = releases.map((r) => r.trigger);
    expect(triggers[0]).toBe('deploy by API');
    const settings = triggers.slice(1, -2);
    expect(settings.length).toBeGreaterThan(0);
    for (const trigger of settings) expect(trigger).toMatch(/^settings changed: (set|unset) GREETING$/);
    expect(triggers.slice(-2)).toEqual(['redeploy', 'redeploy']);
    expect(releases.map((r) => r.result)).toEqual([...releases.slice(0, -1).map(() => 'SUCCEEDED'), 'FAILED']);
    expect(releases.map((r) => r.number)).toEqual(releases.map((_r, index) => index + 1));
    const redeployed = releases.at(-2);
    expect(redeployed?.timeline[0]?.status).toBe('UPDATE_REQUESTED');
    for (const release of releases) expect(release.logs.lines.every((line) => line.release === release.number)).toBe(true);
    const perRelease = releases.flatMap((r) => r.logs.lines.map((line) => line.seq)).sort((a, b) => a - b);
    expect(perRelease).toEqual(data.logs.lines.map((line) => line.seq));

    const table = await kraken('releases', id);
    expect(table.code).toBe(0);
    const rows = table.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^#\s+COMMIT\s+TRIGGER\s+STARTED\s+DURATION\s+RESULT$/);
    expect(rows[1]).toMatch(/^1\s+[0-9a-f]{8}\s+deploy by API\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\s+\S+\s+succeeded$/);
    expect(rows[releases.length]).toMatch(new RegExp(`^${String(releases.length)}\\s+\\S+\\s+redeploy\\s+.+\\s+failed$`));
    expect(table.stdout).toMatch(new RegExp(`^#${String(releases.length)} failed: redeploy failed: .*shipwreck\\.toml`, 'm'));

    // the -f test's request was served by the release current then (the last settings change); the redeploy started a new container
    const servedIt = await kraken('logs', id, '--release', String(releases.length - 2));
    const redeploy = await kraken('logs', id, '--release', String(releases.length - 1));
    expect({ servedIt: servedIt.stdout.includes('hit /followed'), redeploy: redeploy.stdout.includes('hit /followed') }).toEqual({ servedIt: true, redeploy: false });
    expect(redeploy.stdout).toContain('listening');
    expect((await kraken('logs', id, '--release', '99')).code).toBe(4);
  }, 60_000);

  it('rolls back to the previous successful commit with kraken rollback: the old text answers, with no build or test status', async () => {
    const id = deployed[0] ?? '';
    type Listed = { id: string; status: string; deploymentUrl: string; commit: string };
    const view = async () => (JSON.parse((await kraken('ls', '--json')).stdout) as Listed[]).find((d) => d.id === id);
    const before = await view();
    expect(await (await fetch(before?.deploymentUrl ?? '')).text()).toBe('hello again from-cli');
    const first = (JSON.parse((await kraken('releases', id, '--json')).stdout) as { commit: string }[])[0]?.commit ?? '';

    const startedAt = Date.now();
    const result = await kraken('rollback', id);
    console.log(`kraken rollback: the old version answered ${String(Date.now() - startedAt)} ms after the command started`);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    const short = first.slice(0, 7);
    expect(result.stdout.trim()).toMatch(new RegExp(`^rolled back ${id} to ${short} \\(running the kept build of ${short}; nothing was rebuilt\\)`));
    const after = await view();
    expect(after).toMatchObject({ status: 'RUNNING', commit: first });
    expect(await (await fetch(after?.deploymentUrl ?? '')).text()).toBe('hello from-cli');

    const releases = JSON.parse((await kraken('releases', id, '--json')).stdout) as { trigger: string; result: string }[];
    expect(releases.at(-1)).toMatchObject({ trigger: `rollback to ${short}`, result: 'SUCCEEDED' });
    // no clone, build or test ran: the rollback's statuses go from the request straight to the start
    const token = (JSON.parse(readFileSync(path.join(dataDir, 'secrets.json'), 'utf8')) as { apiToken: string }).apiToken;
    const response = await fetch(`${api}/graphql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ getReleases(deploymentId: "${id}") { timeline { status } } }` }),
    });
    const { data } = (await response.json()) as { data: { getReleases: { timeline: { status: string }[] }[] } };
    expect(data.getReleases.at(-1)?.timeline.map((entry) => entry.status)).toEqual(['UPDATE_REQUESTED', 'VALIDATING_DEPLOYMENT_DATA', 'DEPLOYING', 'RUNNING']);

    const again = await kraken('rollback', id, '--to', short);
    expect({ code: again.code, stderr: again.stderr.trim() }).toEqual({ code: 1, stderr: expect.stringContaining(`already runs ${short}`) as unknown });
  }, 120_000);

  it('stops, starts and restarts a deployment without a build, and says why it cannot stop a stopped one', async () => {
    const id = deployed[0] ?? '';
    type Listed = { id: string; status: string; deploymentUrl: string; commit: string; port: string };
    const view = async () => (JSON.parse((await kraken('ls', '--json')).stdout) as Listed[]).find((d) => d.id === id);
    const before = await view();
    const answers = async (): Promise<string | undefined> => {
      try {
        return await (await fetch(before?.deploymentUrl ?? '')).text();
      } catch {
        return undefined;
      }
    };
    const served = await answers();
    expect(served).toMatch(/^hello/);

    const stopped = await kraken('stop', id);
    expect({ code: stopped.code, stdout: stopped.stdout.trim() }).toEqual({ code: 0, stdout: `stopped ${id}` });
    expect((await view())?.status).toBe('STOPPED');
    expect(await answers()).toBeUndefined();
    const again = await kraken('stop', id);
    expect({ code: again.code, stderr: again.stderr.trim() }).toEqual({ code: 1, stderr: expect.stringContaining(`cannot stop deployment ${id}: it is already stopped`) as unknown });

    const started = await kraken('start', id);
    expect(started.code).toBe(0);
    expect(started.stdout).toMatch(new RegExp(`^started ${id} without a build`));
    expect(await answers()).toBe(served);

    const restarted = await kraken('restart', id);
    expect(restarted.code).toBe(0);
    expect(restarted.stdout).toMatch(new RegExp(`^restarted ${id} without a build`));
    expect(await answers()).toBe(served);
    // the same build throughout: commit and port unchanged
    expect(await view()).toMatchObject({ status: 'RUNNING', commit: before?.commit, port: before?.port });
  }, 200_000);

  it('exits with the documented codes: 4 unknown id, 5 bad token, 3 unreachable API, 2 bad input', async () => {
    const unknown = await kraken('logs', 'no-such-deployment');
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toMatch(/no-such-deployment/);
    const badToken = await runKraken(['ls', '--api', api, '--token', 'wrong-token-123']);
    expect(badToken.code).toBe(5);
    expect(badToken.stderr).toMatch(/token/i);
    const unreachable = await runKraken(['ls', '--api', `http://127.0.0.1:${await freePort()}`, '--token', 'x']);
    expect(unreachable.code).toBe(3);
    expect(unreachable.stderr).toMatch(/cannot reach the Kraken API/);
    const badEnv = await kraken('deploy', repo, '--env', '1X=y');
    expect(badEnv.code).toBe(2);
    expect(badEnv.stderr).toMatch(/NAME=value/);
  }, 60_000);

  it('reports a deployment that cannot be built with exit 1 and the reason', async () => {
    const result = await kraken('deploy', path.join(dir.path, 'not-a-repo'));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/errored: .*(not a git repository|unreachable)/);
    const id = /^deployment (\S+)$/m.exec(result.stdout)?.[1];
    if (id !== undefined) deployed.push(id);
  }, 120_000);

  it('never shows the credentials of a git URL: not in the CLI, the API, the export or the agent log', async () => {
    const secret = 'pw-never-shown';
    // nothing listens there: the clone fails, and its error quotes the URL
    const url = `https://kraken-user:${secret}@127.0.0.1:${String(await freePort())}/team/app.git`;
    const deploy = await kraken('deploy', url);
    expect(deploy.code).toBe(1);
    const id = /^deployment (\S+)$/m.exec(deploy.stdout)?.[1] ?? '';
    expect(id).not.toBe('');
    deployed.push(id);
    const token = (JSON.parse(readFileSync(path.join(dataDir, 'secrets.json'), 'utf8')) as { apiToken: string }).apiToken;
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const graphql = await fetch(`${api}/graphql`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ query: `{ getDeployment(deploymentId: "${id}") { srcUrl status statusMessage statusHistory { message } } }` }),
    });
    const answers = {
      cli: `${deploy.stdout}${deploy.stderr}${JSON.stringify(await kraken('ls', '--json'))}${JSON.stringify(await kraken('logs', id))}`,
      graphql: await graphql.text(),
      export: await (await fetch(`${api}/export`, { headers })).text(),
      log: await (await fetch(`${api}/log/${id}`, { headers })).text(),
      agent: agent.output(),
    };
    for (const [where, text] of Object.entries(answers)) expect({ where, leaks: text.includes(secret) }).toEqual({ where, leaks: false });
    // shown, with the password hidden: the user still sees which URL and account it was
    expect(JSON.parse(answers.graphql)).toMatchObject({
      data: { getDeployment: { srcUrl: `https://kraken-user:***@${url.slice(url.indexOf('@') + 1)}`, status: 'ERRORED', statusMessage: expect.stringContaining('kraken-user:***@') as unknown } },
    });
  }, 120_000);

  it('cancels a deployment: its container goes away', async () => {
    const id = deployed[0] ?? '';
    const result = await kraken('cancel', id);
    expect(result.code).toBe(0);
    await eventuallyPasses(async () => {
      expect(await docker.listContainers({ all: true, filters: { label: [`org.kraken.deployment=${id}`] } })).toEqual([]);
    }, 60_000, 500);
  }, 90_000);

  it('removes the destroyed deployment with kraken rm: kraken ls leaves it out, kraken logs still reads it', async () => {
    const id = deployed[0] ?? '';
    const listed = async () => JSON.parse((await kraken('ls', '--json')).stdout) as { id: string; status: string }[];
    await eventually(async () => ((await listed()).find((d) => d.id === id)?.status === 'DESTROYED' ? true : undefined), 60_000, `${id} Destroyed`);
    const removed = await kraken('rm', id);
    expect({ code: removed.code, stdout: removed.stdout.trim() }).toEqual({
      code: 0,
      stdout: `removed ${id} (destroyed); its log stays readable with kraken logs ${id} for a while`,
    });
    expect((await listed()).map((d) => d.id)).not.toContain(id);
    const logs = await kraken('logs', id);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(/listening/);
    // an unknown id exits 4
    expect((await kraken('rm', 'no-such-app')).code).toBe(4);
  }, 90_000);

  it('stops gracefully on SIGTERM with exit code 0', async () => {
    agent.kill('SIGTERM');
    await expect(agent.exited).resolves.toBe(0);
    expect(agent.output()).toMatch(/agent stopped/);
  }, 60_000);
});

describe('kraken agent with a directory where its database goes', () => {
  it('exits 2 (configuration), naming the directory, not 3 (unreachable)', async () => {
    await requireRabbit();
    const vhost = await isolatedVhost('kraken-db-dir');
    await using dir = await tempDir('kraken-db-dir-');
    const dataDir = path.join(dir.path, 'data');
    mkdirSync(path.join(dataDir, 'orchestrator.db'), { recursive: true });
    let result;
    try {
      result = await runKraken([
        'agent', '--data-dir', dataDir, '--api-port', String(await freePort()), '--api-host', '127.0.0.1',
        '--broker-url', vhost.url, '--runtime', 'process', '--no-mdns',
      ]);
    } finally {
      await vhost.remove();
    }
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`kraken: orchestrator database ${path.join(dataDir, 'orchestrator.db')} is a directory, not a database file`);
  }, 60_000);
});

describe('kraken on a Node.js older than its engines.node', () => {
  it('kraken agent says what it needs and exits 2 before loading anything else', async () => {
    const { engines } = JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { engines: { node: string } };
    // this node reports an older version before kraken loads: the machine need not have an old Node
    const olderNode = `--import=data:text/javascript,Object.defineProperty(process.versions,%22node%22,{value:%2220.0.0%22})`;
    // --help: were the check broken, this prints help and exits 0 instead of starting an agent
    const result = await runKraken(['agent', '--help'], { env: { NODE_OPTIONS: olderNode } });
    expect(result).toEqual({
      code: 2,
      stdout: '',
      stderr: expect.stringMatching(
        new RegExp(`^kraken: Node\\.js ${engines.node.slice(2).replaceAll('.', '\\.')} or newer is needed \\(engines ${engines.node}\\); this is Node\\.js 20\\.0\\.0 \\(.+\\)\\. Install Node\\.js 24 LTS`),
      ) as unknown,
    });
  });
});
