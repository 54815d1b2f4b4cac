import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { ErrorCode, KrakenError } from '@kraken/common';
import { tempDir, uniqueName } from '@kraken/testing';
import type { TempDir } from '@kraken/testing';
import type { DeployProgress } from '@kraken/runtime';
import { cleanupNode, containersOf, docker, gitRepo, manifest, templatesDir } from '../test/fixtures.js';
import { DockerDeployer } from './deployer.js';

const nodeId = uniqueName('errors-it');
let work: TempDir;
let deployer: DockerDeployer;

beforeAll(async () => {
  work = await tempDir('kraken-deployer-errors-');
  deployer = new DockerDeployer({ docker, nodeId, workDir: path.join(work.path, 'work'), templatesDir, readyTimeout: '4s' });
});

afterAll(async () => {
  await cleanupNode(nodeId);
  await work.remove();
});

let counter = 0;
function nextId(): string {
  counter += 1;
  return `err-${counter}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Deploys `files` and returns the error it must fail with, after checking nothing of it runs. */
async function failingDeploy(source: Record<string, string> | URL, extra: { hostPort?: number; branch?: string } = {}) {
  const deploymentId = nextId();
  const url = source instanceof URL ? source.pathname : await gitRepo(path.join(work.path, deploymentId), source);
  const events: DeployProgress[] = [];
  let caught: unknown;
  try {
    await deployer.deploy({ deploymentId, url, branch: extra.branch ?? 'main', onProgress: (event) => events.push(event), ...(extra.hostPort === undefined ? {} : { hostPort: extra.hostPort }) });
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(KrakenError);
  const error = caught as KrakenError;
  expect(error.deploymentId).toBe(deploymentId);
  expect(await containersOf(nodeId, deploymentId)).toEqual([]);
  return { error, events, deploymentId };
}

// A static site builds in one COPY on a 2 MB base: the cheapest image for the failing-run cases.
const site = { 'index.html': '<h1>site</h1>\n' };

describe('DockerDeployer.deploy failures', () => {
  it('refuses a path that does not exist with InvalidInput naming the URL', async () => {
    const missing = path.join('/nonexistent', 'repo');
    const { error } = await failingDeploy(new URL(`file://${missing}`));
    expect(error.code).toBe(ErrorCode.InvalidInput);
    expect(error.message).toContain(`cannot clone ${missing}`);
    expect(error.details).toMatchObject({ step: 'clone', field: 'url' });
  });

  it('refuses a folder that is not a git repository', async () => {
    const plain = path.join(work.path, 'plain');
    await mkdir(plain);
    const { error } = await failingDeploy(new URL(`file://${plain}`));
    expect(error.code).toBe(ErrorCode.InvalidInput);
    expect(error.message).toMatch(/unreachable or not a git repository/);
  });

  it('names a missing branch and the branches that exist', async () => {
    const { error } = await failingDeploy({ 'shipwreck.toml': manifest('lang = "static"'), ...site }, { branch: 'release' });
    expect(error.code).toBe(ErrorCode.InvalidInput);
    expect(error.message).toContain('branch "release" does not exist');
    expect(error.message).toContain('"main"');
  });

  it('reports a repository without shipwreck.toml as InvalidManifest', async () => {
    const { error } = await failingDeploy({ 'README.md': 'no manifest\n' });
    expect(error.code).toBe(ErrorCode.InvalidManifest);
    expect(error.message).toContain('has no shipwreck.toml');
    expect(error.details).toMatchObject({ step: 'manifest' });
  });

  it('passes the manifest parser message on for invalid TOML', async () => {
    const { error } = await failingDeploy({ 'shipwreck.toml': '[app\nname = "x"\n' });
    expect(error.code).toBe(ErrorCode.InvalidManifest);
    expect(error.message).toContain('shipwreck.toml');
  });

  it('refuses an unknown lang', async () => {
    const { error } = await failingDeploy({ 'shipwreck.toml': manifest('lang = "ruby"') });
    expect(error.code).toBe(ErrorCode.InvalidManifest);
    expect(error.message).toContain('"ruby" is not supported');
  });

  it('refuses a manifest port out of range', async () => {
    const { error } = await failingDeploy({ 'shipwreck.toml': manifest('lang = "static"\nport = 70000'), ...site });
    expect(error.code).toBe(ErrorCode.InvalidManifest);
    expect(error.message).toContain('config.port');
  });

  it('refuses a host port out of range before cloning', async () => {
    const { error, events } = await failingDeploy({ 'shipwreck.toml': manifest('lang = "static"'), ...site }, { hostPort: 70000 });
    expect(error.code).toBe(ErrorCode.InvalidInput);
    expect(error.message).toContain('hostPort must be a whole number from 1 to 65535; got 70000');
    expect(events).toEqual([]);
  });

  it('fails on a failing test command with its exit code and output kept', async () => {
    const { error, events } = await failingDeploy({
      'shipwreck.toml': manifest('lang = "static"\ntest = "echo checking-things; echo broken-assertion >&2; exit 3"'),
      ...site,
    });
    expect(error.code).toBe(ErrorCode.Internal);
    expect(error.details).toMatchObject({ step: 'test', exitCode: 3 });
    expect(error.message).toContain('exit code 3');
    expect(error.message).toContain('broken-assertion');
    const testLines = events.filter((event) => event.kind === 'line' && event.step === 'test').map((event) => (event.kind === 'line' ? event.text : ''));
    expect(testLines).toEqual(expect.arrayContaining(['checking-things', 'broken-assertion']));
    const testContainers = await docker.listContainers({ all: true, filters: { label: [`org.kraken.node=${nodeId}`, 'org.kraken.role=test'] } });
    expect(testContainers).toEqual([]);
  });

  it('reports an app that exits at once with its exit code and last log lines', async () => {
    const { error } = await failingDeploy({ 'shipwreck.toml': manifest('lang = "static"\nrun = "echo giving-up; exit 7"'), ...site });
    expect(error.message).toMatch(/app exited with code 7 right after start/);
    expect(error.message).toContain('giving-up');
    expect(error.details).toMatchObject({ step: 'ready', exitCode: 7 });
  });

  it('reports an app that never listens within the ready timeout', async () => {
    const { error } = await failingDeploy({ 'shipwreck.toml': manifest('lang = "static"\nrun = "echo sleeping; exec sleep 600"'), ...site });
    expect(error.message).toMatch(/app did not listen on port \d+ within 4 s/);
    expect(error.message).toContain('sleeping');
  });

  it('fails on a Dockerfile that does not build, with the last build lines', async () => {
    const { error } = await failingDeploy({
      'shipwreck.toml': manifest('lang = "custom"\nport = 8080'),
      Dockerfile: 'FROM kraken-base/static:1\nRUN echo about-to-fail && exit 5\n',
    });
    expect(error.code).toBe(ErrorCode.Internal);
    expect(error.details).toMatchObject({ step: 'build' });
    expect(error.message).toContain('image build failed');
    expect(error.message).toContain('about-to-fail');
  });

  it('refuses to stop, follow or sample an unknown deployment with NotFound naming it', async () => {
    await expect(deployer.stop('no-such-deployment')).rejects.toMatchObject({ code: ErrorCode.NotFound, deploymentId: 'no-such-deployment' });
    await expect(deployer.stop('no-such-deployment')).rejects.toThrow(/deployment no-such-deployment/);
    await expect(deployer.stats('no-such-deployment')).rejects.toMatchObject({ code: ErrorCode.NotFound });
    await expect(deployer.followLogs('no-such-deployment', () => undefined)).rejects.toMatchObject({ code: ErrorCode.NotFound });
  });
});
