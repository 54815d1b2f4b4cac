// Rolling back from the Releases tab, in a browser against a real agent (test/ui-stack.ts).
import path from 'node:path';
import { commitFiles, eventually, gitFixtureRepo, manifestToml } from '@kraken/testing';
import { clippedTables, seriousAxeFindings } from '../test/browser-checks.js';
import { UiStack } from '../test/ui-stack.js';

const server = (version: string) => `require('http').createServer((q, s) => s.end(${JSON.stringify(version)})).listen(process.env.PORT || 3000, () => console.log('listening'));`;

interface Listed {
  status: string;
  commit: string | null;
  deploymentUrl: string | null;
}

describe('Releases tab: roll back to an earlier release', () => {
  let stack: UiStack | undefined;
  const deployed: string[] = [];
  const on = (): UiStack => {
    if (stack === undefined) throw new Error('the UI stack did not start');
    return stack;
  };

  beforeAll(async () => {
    stack = await UiStack.start({ name: 'kraken-ui-releases' });
  }, 180_000);

  afterEach(() => {
    // every page must render without console errors; report them on the test that caused them
    const seen = on().problems.splice(0);
    expect(seen).toEqual([]);
  });

  afterAll(async () => {
    await stack?.close(deployed);
  }, 90_000);

  /** The deployment as the API has it once `done` accepts it. */
  const waitFor = (id: string, done: (deployment: Listed) => boolean, what: string) =>
    eventually(
      async () => {
        const { getDeployment } = await on().api<{ getDeployment: Listed }>('query ($id: String!) { getDeployment(deploymentId: $id) { status commit deploymentUrl } }', { id });
        return done(getDeployment) ? getDeployment : undefined;
      },
      240_000,
      what,
    );

  it('offers "Roll back to this" on the earlier successful release only, and rolls back with no build: the old text answers', async () => {
    const repo = await gitFixtureRepo(path.join(on().dir, 'app'), {
      'shipwreck.toml': manifestToml('port = 3000\nlang = "node"\nrun = "node server.js"\ntest = "true"', 'ui-rollback'),
      'server.js': server('v1'),
    });
    const { createDeployment: id } = await on().api<{ createDeployment: string }>('mutation ($url: String!) { createDeployment(deploymentUrl: $url) }', { url: repo });
    deployed.push(id);
    const v1 = await waitFor(id, (d) => d.status === 'RUNNING', 'v1 running');
    const v2Commit = await commitFiles(repo, { 'server.js': server('v2') }, 'v2');
    await on().api('mutation ($id: String!) { redeploy(deploymentId: $id) { status } }', { id });
    const v2 = await waitFor(id, (d) => d.status === 'RUNNING' && d.commit === v2Commit, 'v2 running');
    expect(await (await fetch(v2.deploymentUrl ?? '')).text()).toBe('v2');

    const { page } = on();
    await on().signIn();
    await page.goto(`${on().ui}/deployments/${encodeURIComponent(id)}`);
    await on().status().getByText('Running', { exact: true }).waitFor({ timeout: 60_000 });
    await page.getByRole('tab', { name: 'Releases' }).click();
    const rows = page.getByTestId('releases').locator('tbody tr.ant-table-row');
    await rows.nth(1).filter({ hasText: 'Succeeded' }).waitFor({ timeout: 30_000 });
    const short = (v1.commit ?? '').slice(0, 7);
    const rollBack = `Roll back to this: release 1 (${short}) of ${id}`;
    // release 2 runs: only release 1 can be rolled back to
    await expect(rows.nth(0).getByRole('button', { name: /^Roll back/ }).count()).resolves.toBe(0);
    await expect(rows.nth(1).getByRole('button', { name: rollBack }).count()).resolves.toBe(1);
    await on().shot('deployment-releases-rollback');
    expect(await seriousAxeFindings(page)).toEqual([]);

    const startedAt = Date.now();
    await on().confirmDanger(rollBack, 'Roll back', `Rollback to ${short} requested`, 'rollback');
    const back = await waitFor(id, (d) => d.status === 'RUNNING' && d.commit === v1.commit, 'v1 running again');
    expect(await (await fetch(back.deploymentUrl ?? '')).text()).toBe('v1');
    console.log(`rollback from the UI: the old version answered ${String(Date.now() - startedAt)} ms after the confirming click`);

    // a new release on top, and no clone, build or test in its timeline
    await rows.first().filter({ hasText: `rollback to ${short}` }).filter({ hasText: 'Succeeded' }).waitFor({ timeout: 30_000 });
    const { getReleases } = await on().api<{ getReleases: { trigger: string; timeline: { status: string }[] }[] }>(
      'query ($id: String!) { getReleases(deploymentId: $id) { trigger timeline { status } } }',
      { id },
    );
    expect(getReleases.at(-1)).toEqual({ trigger: `rollback to ${short}`, timeline: ['UPDATE_REQUESTED', 'VALIDATING_DEPLOYMENT_DATA', 'DEPLOYING', 'RUNNING'].map((status) => ({ status })) });
    // now release 2 is the earlier one to go back to
    const toV2 = `Roll back to this: release 2 (${v2Commit.slice(0, 7)}) of ${id}`;
    await rows.nth(1).getByRole('button', { name: toV2 }).waitFor({ timeout: 30_000 });

    // a phone has no room for the Actions column: the opened release offers it
    await page.setViewportSize({ width: 390, height: 844 });
    await rows.nth(1).getByRole('button', { name: toV2 }).waitFor({ state: 'detached', timeout: 10_000 });
    await rows.nth(1).click();
    await page.getByTestId('release-2').getByRole('button', { name: toV2 }).waitFor({ timeout: 10_000 });
    expect(await clippedTables(page)).toEqual([]);
    await on().shot('phone-deployment-releases-rollback');
  }, 600_000);
});
