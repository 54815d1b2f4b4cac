// The UI end to end: a real agent (orchestrator + worker on RabbitMQ and Docker), the built bundle
// served by the kraken-ui CLI, and Debian's Chromium driven by playwright-core (test/ui-stack.ts).
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';
import { parseManifest } from '@kraken/shipwreck';
import { eventually, gitFixtureRepo, manifestToml, startWebhookReceiver } from '@kraken/testing';
import type { WebhookReceiver } from '@kraken/testing';
import { clippedTables, seriousAxeFindings } from '../test/browser-checks.js';
import { UiStack, bundle, expectNamedControls, screenshots } from '../test/ui-stack.js';

const run = promisify(execFile);
// the largest chunk vite.config.mts allows (maxChunkKb there): pages and antd are split
const maxChunkBytes = 300 * 1024;
const phone = { width: 390, height: 844 };
const desktop = { width: 1440, height: 900 };
const laptop = { width: 1280, height: 800 };
const appServer = `require('http').createServer((q, s) => { console.log('hit ' + q.url); s.end('hello ' + process.env.GREETING); }).listen(process.env.PORT || 3000, () => console.log('listening'));`;

describe('Kraken UI in a browser against a real agent', () => {
  let stack: UiStack | undefined;
  let receiver: WebhookReceiver | undefined;
  let page: Page;
  let ui: string;
  let token: string;
  let goodRepo: string;
  const deployed: string[] = [];
  let problems: string[] = [];

  const on = (): UiStack => {
    if (stack === undefined) throw new Error('the UI stack did not start');
    return stack;
  };
  const shot = (name: string) => on().shot(name);
  const openPage = (label: string) => on().openPage(label);
  const deploymentIdFromUrl = () => on().deploymentIdFromUrl();
  const status = () => on().status();
  const startUiHost = () => on().startUiHost();
  const api = <T,>(query: string, variables: Record<string, unknown> = {}): Promise<T> => on().api<T>(query, variables);
  const watchOf = async (id: string) =>
    (await api<{ getDeployment: { watch: boolean } }>('query ($id: String!) { getDeployment(deploymentId: $id) { watch } }', { id })).getDeployment.watch;
  const setWatch = (id: string, watch: boolean) =>
    api('mutation ($id: String!, $watch: Boolean!) { setWatch(deploymentId: $id, watch: $watch) { watch } }', { id, watch });
  const confirmDanger = (trigger: string, confirmLabel: string, success: string, what: string) => on().confirmDanger(trigger, confirmLabel, success, what);
  const forgetExpected = (from: number, expected: RegExp) => {
    on().forgetExpected(from, expected);
  };
  const samplesIn = async (chart: string) => Number(await page.getByTestId(`chart-${chart}`).getAttribute('data-samples', { timeout: 1_000 }));
  /** Waits until the CPU chart holds a number of samples that `enough` accepts; returns it. */
  const cpuSamples = (enough: (count: number) => boolean, timeoutMs: number, what: string) =>
    eventually(async () => {
      const count = await samplesIn('cpu');
      return enough(count) ? count : undefined;
    }, timeoutMs, what);
  const switchState = (locator: ReturnType<Page['getByRole']>, checked: boolean, what: string) =>
    eventually(async () => ((await locator.getAttribute('aria-checked', { timeout: 1_000 })) === String(checked) ? true : undefined), 30_000, what);

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    stack = await UiStack.start({ name: 'kraken-ui', agentArgs: ['--crash-loop-restarts', '3', '--webhook-url', `${receiver.url}/kraken`] });
    ({ page, ui, token, problems } = stack);
    goodRepo = await gitFixtureRepo(path.join(stack.dir, 'app'), {
      'shipwreck.toml': manifestToml('port = 3000\nlang = "node"\nrun = "node server.js"\ntest = ""', 'ui-app'),
      'server.js': appServer,
    });
  }, 180_000);

  afterEach(() => {
    // Every page must render without console errors; report them on the test that caused them.
    const seen = problems.splice(0);
    expect(seen).toEqual([]);
  });

  afterAll(async () => {
    await stack?.close(deployed);
    await receiver?.close();
  }, 90_000);

  it('is a bundle split into chunks of at most 300 KB, pages loaded on demand', async () => {
    const assets = path.join(bundle, 'assets');
    const chunks = (await fs.readdir(assets)).filter((name) => name.endsWith('.js'));
    const sizes = await Promise.all(chunks.map(async (name) => ({ name, bytes: (await fs.stat(path.join(assets, name))).size })));
    expect(sizes.filter((chunk) => chunk.bytes > maxChunkBytes)).toEqual([]);
    for (const pageChunk of ['platform-page', 'nodes-page', 'deployments-page', 'deployment-page', 'getting-started-page'])
      expect(chunks.some((name) => name.startsWith(`${pageChunk}-`))).toBe(true);
  });

  it('asks for the API token, refuses a wrong one with a clear message, and shows the platform with a right one', async () => {
    await page.goto(ui);
    const tokenField = page.getByLabel('API token', { exact: true });
    await tokenField.fill('wrong-token-0000');
    await page.getByRole('button', { name: 'Save token' }).click();
    await page.getByText(/The API token was refused/).waitFor();
    // The API logs the refused request, and Chromium reports the 401 as a console error: expected here.
    problems.splice(0);
    await shot('token');
    await tokenField.fill(token);
    await page.getByRole('button', { name: 'Save token' }).click();
    await page.getByRole('heading', { level: 2, name: 'Platform' }).waitFor();
    await page.getByText('live', { exact: true }).waitFor({ timeout: 30_000 });
    expect(await page.evaluate('window.localStorage.getItem("kraken.apiToken")')).toBe(token);
    // one agent leads; nothing stands by, and the page says so plainly
    await expect(page.getByTestId('standby').innerText()).resolves.toMatch(/^none/);
    await shot('platform');
  }, 60_000);

  it('lists the agent as an alive node with its runtime, what it enforces, and heartbeat age', async () => {
    await openPage('Nodes');
    const row = page.locator('tbody tr').filter({ hasText: 'alive' });
    await row.first().waitFor({ timeout: 30_000 });
    await expect(row.first().getByTestId('node-runtime').innerText()).resolves.toMatch(/^docker\s+container, limits$/);
    await expect(row.first().innerText()).resolves.toMatch(/\d+s ago/);
    await expect(row.first().innerText()).resolves.toMatch(/leader/);
    await shot('nodes');
  }, 60_000);

  it('shows the getting started guide', async () => {
    await openPage('Getting started');
    await page.getByText('shipwreck.toml', { exact: false }).first().waitFor();
    await page.getByText(/kraken agent --broker-url/).waitFor();
    // every example is a manifest the parser accepts, for the language its tab names
    const langs = { 'Node.js': 'node', Python: 'python3', Static: 'static', Dockerfile: 'custom' } as const;
    for (const [label, lang] of Object.entries(langs)) {
      await page.getByRole('tab', { name: label }).click();
      const toml = await page.getByRole('tabpanel', { name: label }).locator('pre').innerText();
      expect(parseManifest(toml).config.lang).toBe(lang);
    }
    await shot('getting-started');
  }, 30_000);

  it('creates a deployment, sees it go Running live, streams its log, and opens the app', async () => {
    await openPage('Deployments');
    // no deployments yet: the empty state points to the form and to Getting started
    await page.getByTestId('no-deployments').getByRole('link', { name: 'Getting started' }).waitFor();
    await shot('deployments-empty');
    await page.getByLabel('Git repository URL').fill(goodRepo);
    await page.getByLabel('Environment').fill('GREETING=from-ui');
    await page.getByRole('button', { name: 'Deploy', exact: true }).click();
    await page.waitForURL(/\/deployments\/[^/]+$/);
    const id = deploymentIdFromUrl();
    deployed.push(id);
    await status().getByText('Running', { exact: true }).waitFor({ timeout: 240_000 });
    await page.getByTestId('log').getByText('listening').waitFor({ timeout: 60_000 });
    const link = page.getByRole('link', { name: 'Open the app' });
    const href = await link.getAttribute('href');
    expect(href).toMatch(/^http:\/\/127\.0\.0\.1:\d+/);
    const app = await on().newPage();
    await app.goto(`${href ?? ''}/from-browser`);
    await expect(app.locator('body').innerText()).resolves.toBe('hello from-ui');
    await app.close();
    // the app's own log line for that request arrives through the live subscription
    await page.getByTestId('log').getByText('hit /from-browser').waitFor({ timeout: 60_000 });
    await page.getByLabel('Search the log').fill('from-browser');
    await expect(page.getByTestId('log').locator('div').count()).resolves.toBe(1);
    await page.getByLabel('Search the log').fill('');
    await shot('deployment-running');
    await openPage('Deployments');
    await page.locator('tbody tr').filter({ hasText: id }).getByText('Running').waitFor();
    await shot('deployments');
    // the node lists it, linked
    await openPage('Nodes');
    await page.locator('tbody tr').filter({ hasText: 'alive' }).getByRole('link', { name: id }).click();
    await status().getByText('Running', { exact: true }).waitFor();
  }, 300_000);

  it('charts CPU and memory: seeded from the history after a reload, then growing with live samples', async () => {
    const id = deployed[0] ?? '';
    expect(deploymentIdFromUrl()).toBe(id);
    // the worker reports stats every 10 s: wait for two
    const seen = await cpuSamples((n) => n >= 2, 90_000, 'two CPU samples');
    await expect(page.getByRole('img', { name: /^CPU \(% of one core\): latest [\d.]+%, lowest/ }).count()).resolves.toBe(1);
    await expect(page.getByRole('img', { name: /^Memory \(limit [\d.]+ [MG]B\): latest [\d.]+ [MG]B/ }).count()).resolves.toBe(1);
    await expect(page.getByTestId('chart-memory').locator('path').count()).resolves.toBe(2);
    // use against the container's real limit (Docker's default 512 MB here), never against its own peak
    await expect(page.getByText(/^\d+ MB of 512 MB$/).count()).resolves.toBe(1);

    await page.reload();
    // at most one live sample can arrive in 5 s: the rest came from statsHistory
    const seeded = await cpuSamples((n) => n >= seen, 5_000, `the ${seen} samples again after a reload`);
    await cpuSamples((n) => n > seeded, 60_000, 'a live sample');
    expect(await samplesIn('memory')).toBe(await samplesIn('cpu'));
    await shot('deployment-charts');
  }, 180_000);

  it('turns branch watching on and off from the detail page and the list, and the API keeps it', async () => {
    const id = deployed[0] ?? '';
    const detailSwitch = page.getByRole('switch', { name: `Watch branch main of ${id}` });
    await expect(detailSwitch.getAttribute('aria-checked')).resolves.toBe('false');
    await detailSwitch.click();
    await page.getByText('Watching main: new commits are deployed').waitFor();
    await expect(detailSwitch.getAttribute('aria-checked')).resolves.toBe('true');
    await expect(watchOf(id)).resolves.toBe(true);
    await page.getByText(/\(watched: new commits are deployed\)/).waitFor();

    await openPage('Deployments');
    const listSwitch = page.locator('tbody tr').filter({ hasText: id }).getByRole('switch');
    await expect(listSwitch.getAttribute('aria-checked')).resolves.toBe('true');
    await listSwitch.click();
    await page.getByText('Stopped watching main').waitFor();
    await expect(listSwitch.getAttribute('aria-checked')).resolves.toBe('false');
    await expect(watchOf(id)).resolves.toBe(false);
  }, 60_000);

  it('reconnects its live updates after the server drops the WebSocket, catching up on what it missed', async () => {
    const id = deployed[0] ?? '';
    const listSwitch = page.locator('tbody tr').filter({ hasText: id }).getByRole('switch');
    await page.getByText('live', { exact: true }).waitFor();
    const outageStart = problems.length;
    const redeploy = page.getByRole('button', { name: `Redeploy ${id}` });
    await expect(redeploy.isEnabled()).resolves.toBe(true);
    on().uiHost?.kill('SIGTERM');
    await on().uiHost?.exited;
    await page.getByText('reconnecting', { exact: true }).waitFor({ timeout: 30_000 });
    // the page says since when the API is gone, and its actions are off until it is back
    await expect(page.getByTestId('api-offline').innerText()).resolves.toMatch(/unreachable since \d{1,2}:\d{2}:\d{2}.*\(\d+s ago\)/);
    await expect(redeploy.isDisabled()).resolves.toBe(true);
    await expect(page.getByRole('button', { name: `Cancel deployment ${id}` }).isDisabled()).resolves.toBe(true);
    await expect(listSwitch.isDisabled()).resolves.toBe(true);
    await expect(page.getByRole('button', { name: 'Deploy', exact: true }).isDisabled()).resolves.toBe(true);
    await shot('api-down');
    // changed while the page is cut off: the event is lost, the reload after reconnecting finds it
    await setWatch(id, true);
    await startUiHost();
    await page.getByText('live', { exact: true }).waitFor({ timeout: 60_000 });
    await page.getByTestId('api-offline').waitFor({ state: 'detached' });
    await expect(redeploy.isEnabled()).resolves.toBe(true);
    // Chromium logs each refused reconnect attempt; those are the outage this test causes
    forgetExpected(outageStart, /WebSocket connection to 'ws:\/\/127\.0\.0\.1:\d+\/graphql' failed/);
    await switchState(listSwitch, true, 'the change made during the outage');
    // and events flow again: a change made elsewhere shows without a reload
    await setWatch(id, false);
    await switchState(listSwitch, false, 'a change made after reconnecting');
    await shot('reconnected');
  }, 150_000);

  it('notices an API that stops answering without closing anything (frozen), and is live again once it answers', async () => {
    await page.getByText('live', { exact: true }).waitFor();
    // SIGSTOP keeps every socket open: only the page's pings can tell
    on().uiHost?.kill('SIGSTOP');
    try {
      await page.getByText('reconnecting', { exact: true }).waitFor({ timeout: 30_000 });
    } finally {
      on().uiHost?.kill('SIGCONT');
    }
    await page.getByText('live', { exact: true }).waitFor({ timeout: 60_000 });
  }, 120_000);

  it('cancels the deployment and sees it Destroyed, its container gone', async () => {
    const id = deployed[0] ?? '';
    await page.getByRole('link', { name: id }).click();
    await status().getByText('Running', { exact: true }).waitFor();
    await confirmDanger(`Cancel deployment ${id}`, 'Cancel deployment', 'Cancellation requested', 'cancel');
    await status().getByText('Destroyed', { exact: true }).waitFor({ timeout: 90_000 });
    await page.getByText('Destroyed').first().waitFor();
    const { stdout } = await run('docker', ['ps', '-aq', '--filter', `label=org.kraken.deployment=${id}`]);
    expect(stdout.trim()).toBe('');
    // a destroyed app has no live numbers: no charts, no CPU, memory not running
    await page.getByTestId('chart-cpu').waitFor({ state: 'detached' });
    await expect(page.getByTestId('chart-memory').count()).resolves.toBe(0);
    await expect(page.getByText('— (not running)').count()).resolves.toBe(1);
    await shot('deployment-destroyed');
  }, 120_000);

  it('shows an app that exits after every start as crash-looping with its restarts, then Errored with the reason', async () => {
    const crashing = await gitFixtureRepo(path.join(on().dir, 'crashy'), {
      'shipwreck.toml': manifestToml('port = 3000\nlang = "node"\nrun = "node server.js"\ntest = ""', 'ui-crashy'),
      'server.js': `${appServer}\nsetTimeout(() => process.exit(1), 3000);`,
    });
    await openPage('Deployments');
    await page.getByLabel('Git repository URL').fill(crashing);
    await page.getByRole('button', { name: 'Deploy', exact: true }).click();
    await page.waitForURL(/\/deployments\/[^/]+$/);
    deployed.push(deploymentIdFromUrl());
    await status().getByText('Crash-looping', { exact: true }).waitFor({ timeout: 180_000 });
    await expect(page.getByTestId('crash-loop').innerText()).resolves.toMatch(/restarts?; last exited with code 1 after \d/);
    await expect(page.getByTestId('restarts').innerText()).resolves.toMatch(/^\d restarts?; last exited with code 1 after \d/);
    await shot('deployment-crash-looping');
    // the agent runs with --crash-loop-restarts 3
    await status().getByText('Errored', { exact: true }).waitFor({ timeout: 120_000 });
    await expect(page.getByTestId('error-reason').innerText()).resolves.toMatch(/crash loop: the app exited with code 1 after .*, and 3 restarts in a row ended the same way/);
    await expect(page.getByTestId('restarts').innerText()).resolves.toMatch(/^3 restarts; last exited with code 1 after \d/);
    // its process is gone: the last readings are not shown as live numbers
    await page.getByTestId('chart-cpu').waitFor({ state: 'detached' });
    await expect(page.getByText('— (not running)').count()).resolves.toBe(1);
  }, 300_000);

  it('shows a broken repository as Errored with the reason', async () => {
    await openPage('Deployments');
    await page.getByLabel('Git repository URL').fill(path.join(on().dir, 'not-a-repo'));
    await page.getByRole('button', { name: 'Deploy', exact: true }).click();
    await page.waitForURL(/\/deployments\/[^/]+$/);
    deployed.push(deploymentIdFromUrl());
    await status().getByText('Errored', { exact: true }).waitFor({ timeout: 120_000 });
    await expect(page.getByTestId('error-reason').innerText()).resolves.toMatch(/not a git repository|unreachable|does not exist/i);
    await shot('deployment-errored');
  }, 150_000);

  it('shows failed test output with its lines kept, in a monospace block', async () => {
    const failing = await gitFixtureRepo(path.join(on().dir, 'failing-tests'), {
      'shipwreck.toml': manifestToml('port = 3000\nlang = "node"\nrun = "node server.js"\ntest = "echo first-line; echo second-line; exit 3"', 'ui-failing'),
      'server.js': appServer,
    });
    await openPage('Deployments');
    await page.getByLabel('Git repository URL').fill(failing);
    await page.getByRole('button', { name: 'Deploy', exact: true }).click();
    await page.waitForURL(/\/deployments\/[^/]+$/);
    deployed.push(deploymentIdFromUrl());
    await status().getByText('Errored', { exact: true }).waitFor({ timeout: 240_000 });
    const block = page.getByTestId('error-reason').getByTestId('multiline-text');
    await expect(block.innerText()).resolves.toMatch(/exit code 3: .*\nlast output lines:\n\s+first-line\n\s+second-line$/);
    const font = page.evaluate<string>(`getComputedStyle(document.querySelector('[data-testid="error-reason"] [data-testid="multiline-text"]')).fontFamily`);
    await expect(font).resolves.toMatch(/mono|courier|consolas|menlo/i);
    await shot('deployment-test-failed');
  }, 300_000);

  it('keeps working after a reload on a client route (SPA fallback, token remembered)', async () => {
    await page.reload();
    await status().getByText('Errored', { exact: true }).waitFor({ timeout: 30_000 });
  }, 60_000);

  it('removes errored deployments from their page and from the list (no Cancel offered), keeping the log readable by id', async () => {
    const [, , broken, failing] = deployed;
    const rows = () => page.locator('tbody tr.ant-table-row');
    // on its page (the failed tests' deployment, Errored): Remove, not Cancel
    expect(deploymentIdFromUrl()).toBe(failing);
    await expect(page.getByRole('button', { name: `Cancel deployment ${failing ?? ''}` }).count()).resolves.toBe(0);
    const confirmRemove = (id: string) => confirmDanger(`Remove deployment ${id}`, 'Remove deployment', 'Deployment removed', 'remove');
    await confirmRemove(failing ?? '');
    // the page leaves for the list, which no longer holds it
    await page.getByRole('heading', { level: 2, name: 'Deployments' }).waitFor();
    await rows().filter({ hasText: broken ?? '' }).waitFor();
    await expect(rows().filter({ hasText: failing ?? '' }).count()).resolves.toBe(0);
    // from the list's row actions
    const brokenRow = rows().filter({ hasText: broken ?? '' });
    await expect(brokenRow.getByRole('button', { name: `Cancel deployment ${broken ?? ''}` }).count()).resolves.toBe(0);
    await confirmRemove(broken ?? '');
    await brokenRow.waitFor({ state: 'detached', timeout: 15_000 });
    // another client (the API) agrees, and a reload does not bring them back
    const listed = await api<{ getDeployments: { id: string }[] }>('query { getDeployments { id } }');
    expect(listed.getDeployments.map((d) => d.id)).toEqual(deployed.slice(0, 2));
    await page.reload();
    await rows().filter({ hasText: deployed[1] ?? '' }).waitFor({ timeout: 30_000 });
    await expect(rows().filter({ hasText: broken ?? '' }).count()).resolves.toBe(0);
    // its page says it was removed and still shows its log
    await page.goto(`${ui}/deployments/${encodeURIComponent(failing ?? '')}`);
    await page.getByTestId('deployment-removed').getByText(`Deployment ${failing ?? ''} was removed`).waitFor({ timeout: 30_000 });
    await page.getByTestId('log').getByText('first-line').first().waitFor({ timeout: 30_000 });
    await shot('deployment-removed');
  }, 120_000);

  it('narrows the list by search and status, sorts it, and restores all three from the URL after a reload', async () => {
    const [destroyed, errored] = deployed;
    const rows = () => page.locator('tbody tr.ant-table-row');
    const rowIds = () => rows().locator('td a[href^="/deployments/"]').allInnerTexts();
    await page.goto(`${ui}/deployments`);
    await rows().filter({ hasText: destroyed ?? '' }).waitFor({ timeout: 30_000 });
    await expect(rows().count()).resolves.toBe(2);

    await page.getByRole('combobox', { name: 'Filter by status' }).click();
    await page.locator('.ant-select-item-option').filter({ hasText: /^Errored$/ }).click();
    await rows().filter({ hasText: destroyed ?? '' }).waitFor({ state: 'detached' });
    await expect(rowIds()).resolves.toEqual([errored]);
    expect(new URL(page.url()).searchParams.get('status')).toBe('ERRORED');

    // a search that the errored one does not match leaves nothing, and says so
    const search = page.getByLabel('Search deployments');
    await search.fill(destroyed ?? '');
    await page.getByTestId('no-matches').waitFor();
    await expect(page.getByTestId('list-count').innerText()).resolves.toBe('0 of 2 deployments');
    await search.fill(errored?.split('-')[0] ?? '');
    await rows().filter({ hasText: errored ?? '' }).waitFor();

    // sorting by a column header, kept in the URL too
    await page.getByRole('columnheader', { name: 'ID' }).click();
    await eventually(() => (new URL(page.url()).searchParams.get('sort') === 'id' ? true : undefined), 5_000, 'sort=id in the URL');
    const bookmarked = page.url();
    expect(new URL(bookmarked).searchParams.get('q')).toBe(errored?.split('-')[0]);

    await page.goto(bookmarked);
    await rows().filter({ hasText: errored ?? '' }).waitFor({ timeout: 30_000 });
    await expect(search.inputValue()).resolves.toBe(errored?.split('-')[0]);
    await expect(page.getByRole('combobox', { name: 'Filter by status' }).locator('xpath=ancestor::*[contains(@class, "ant-select")][1]').innerText()).resolves.toMatch(/Errored/);
    await expect(page.getByRole('columnheader', { name: 'ID' }).getAttribute('aria-sort')).resolves.toBe('ascending');
    await expect(rowIds()).resolves.toEqual([errored]);
    await shot('deployments-filtered');

    // clearing both shows every deployment again, and the URL drops them
    await search.fill('');
    await page.getByRole('combobox', { name: 'Filter by status' }).click();
    await page.locator('.ant-select-item-option').filter({ hasText: /^All statuses$/ }).click();
    await rows().filter({ hasText: destroyed ?? '' }).waitFor();
    expect(new URL(page.url()).searchParams.has('status')).toBe(false);
  }, 90_000);

  it('says plainly when the API cannot be reached, and loads once Retry finds it again', async () => {
    const start = problems.length;
    await page.route('**/graphql', (route) => route.abort('connectionrefused'));
    await page.goto(`${ui}/nodes`);
    const failure = page.getByTestId('load-error');
    await failure.getByText('Cannot load the cluster').waitFor({ timeout: 30_000 });
    await expect(failure.innerText()).resolves.toMatch(/Cannot reach the Kraken API/);
    await shot('api-unreachable');
    await page.unroute('**/graphql');
    forgetExpected(start, /Failed to load resource: net::ERR_CONNECTION_REFUSED/);
    await failure.getByRole('button', { name: 'Retry' }).click();
    await page.locator('tbody tr').filter({ hasText: 'alive' }).first().waitFor({ timeout: 30_000 });
  }, 60_000);

  it('changes environment variables in the editor, values never shown, and the app answers with the new value without a rebuild', async () => {
    const created = await api<{ createDeployment: string }>('mutation ($url: String!, $env: [EnvVarInput!]) { createDeployment(deploymentUrl: $url, gitBranch: "main", env: $env) }', {
      url: goodRepo,
      env: [{ name: 'GREETING', value: 'sekrit-before' }],
    });
    const id = created.createDeployment;
    deployed.push(id);
    await page.goto(`${ui}/deployments/${id}`);
    await status().getByText('Running', { exact: true }).waitFor({ timeout: 240_000 });
    const editor = page.getByTestId('env-editor');
    const greeting = editor.getByLabel('New value of GREETING');
    // write-only: the stored value is nowhere on the page, its field starts empty
    await expect(greeting.inputValue()).resolves.toBe('');
    await expect(page.content()).resolves.not.toContain('sekrit-before');
    await greeting.fill('from-the-editor');
    await editor.getByRole('button', { name: 'Add variable' }).click();
    await editor.getByLabel('Name of the new variable').fill('EXTRA');
    await editor.getByLabel('Value of the new variable').fill('more');
    await shot('deployment-env-editing');
    await editor.getByRole('button', { name: 'Save and restart' }).click();
    await page.getByText('Settings saved: the app restarts with them').waitFor();
    await page.getByText('restarting with changed settings: set EXTRA, GREETING').first().waitFor();
    await status().getByText('Running', { exact: true }).waitFor({ timeout: 120_000 });
    const href = (await page.getByRole('link', { name: 'Open the app' }).getAttribute('href')) ?? '';
    const answer = async () => {
      try {
        return await (await fetch(href)).text();
      } catch (error) {
        return String(error);
      }
    };
    await eventually(async () => (await answer()) === 'hello from-the-editor', 60_000, 'the app answers with the value set in the editor', 500);
    // no rebuild: nothing between the change and Running built or tested
    const { getDeployment } = await api<{ getDeployment: { statusHistory: { status: string; message: string | null }[] } }>(
      'query ($id: String!) { getDeployment(deploymentId: $id) { statusHistory { status message } } }',
      { id },
    );
    const since = getDeployment.statusHistory.slice(getDeployment.statusHistory.findIndex((entry) => entry.status === 'UPDATE_REQUESTED'));
    expect(since.map((entry) => entry.status)).not.toEqual(expect.arrayContaining(['BUILDING_DEPLOYMENT']));
    expect(since.map((entry) => entry.status)).not.toEqual(expect.arrayContaining(['TESTING_DEPLOYMENT']));
    expect(since.at(-1)?.message).toMatch(/^restarted with the changed settings from the build of [0-9a-f]{7}; nothing was rebuilt$/);
    await expect(editor.getByLabel('New value of EXTRA').inputValue()).resolves.toBe('');
    await expect(page.content()).resolves.not.toContain('from-the-editor');

    // removing a variable restarts it without
    await editor.getByRole('button', { name: 'Remove GREETING' }).click();
    await editor.getByRole('button', { name: 'Save and restart' }).click();
    await page.getByText('restarting with changed settings: unset GREETING').first().waitFor();
    await eventually(async () => (await answer()) === 'hello undefined', 120_000, 'the app answers without GREETING', 500);
    await shot('deployment-env');
  }, 360_000);

  it("charts each node's CPU, memory and disk over time on the Nodes page, at 1280 px and on a phone, where a tap on a node shows what its row leaves out", async () => {
    const chart = (kind: string) => page.locator(`[data-testid^="chart-node-${kind}-"]`).first();
    const samples = async (kind: string) => Number(await chart(kind).getAttribute('data-samples', { timeout: 1_000 }));
    for (const size of [{ name: '1280', viewport: laptop }, { name: 'phone', viewport: phone }] as const) {
      await page.setViewportSize(size.viewport);
      await page.goto(`${ui}/nodes`);
      await page.getByRole('heading', { level: 3, name: 'Load over time' }).waitFor();
      // the leader keeps a sample every 10 s, and the page asks again every 10 s
      await eventually(async () => ((await samples('cpu')) >= 2 && (await samples('memory')) >= 2 && (await samples('disk')) >= 2 ? true : undefined), 60_000, `two samples in each node chart at ${size.name}`);
      for (const kind of ['cpu', 'memory', 'disk']) {
        await expect(chart(kind).locator('figcaption').innerText()).resolves.toMatch(/latest [\d.]+ ?(%|MB|GB), lowest .* \(\d+ samples\)/);
        await expect(chart(kind).locator('svg path').count()).resolves.toBe(2);
      }
      // each axis reaches the node's capacity: CPU 100%, memory and disk their totals
      await expect(chart('cpu').locator('figcaption').innerText()).resolves.toMatch(/^CPU busy \(% of all cores\)/);
      await expect(chart('memory').locator('figcaption').innerText()).resolves.toMatch(/^Memory used \(of [\d.]+ GB\)/);
      await expect(chart('disk').locator('figcaption').innerText()).resolves.toMatch(/^Disk used \(of [\d.]+ GB, data dir's filesystem\)/);
      await expect(chart('cpu').getByText('100.0%').or(chart('cpu').getByText('100%')).count()).resolves.toBeGreaterThan(0);
      if (size.name === 'phone') {
        // the table keeps the columns that matter; the rest is a tap away
        const row = page.locator('tbody tr.ant-table-row').filter({ hasText: 'alive' }).first();
        await expect(page.getByRole('columnheader', { name: 'RAM used / free' }).count()).resolves.toBe(0);
        await row.getByRole('button', { name: /expand row/i }).click();
        const details = page.locator('[data-testid^="details-"]').first();
        await expect(details.innerText()).resolves.toMatch(/RAM used \/ free[\s\S]*CPU busy[\s\S]*Disk used \(data dir\)[\s\S]*Heartbeat\s+\d+s ago/);
      }
      await page.screenshot({ path: path.join(screenshots, `${size.name}-nodes-charts.png`), fullPage: true });
      await expectNoSidewaysScroll(page, `nodes charts at ${size.name}`);
      await expectHeaderFits(page, `the header at ${size.name}`);
      await expectNamedControls(page, `nodes charts at ${size.name}`);
      expect(await seriousAxeFindings(page)).toEqual([]);
    }
    await page.setViewportSize(laptop);
    // the table says the current CPU busy share beside the load (its column shows again once the width applies)
    const row = page.locator('tbody tr').filter({ hasText: 'alive' }).first();
    await eventually(async () => /\d+% \/ \d+\.\d\d/.test(await row.innerText()), 10_000, 'CPU busy / load in the nodes table at 1280 px');
  }, 180_000);

  /** Deploys a path that is no git repository through the API, as another client would; it fails at once. */
  const deployNothing = async (name: string): Promise<string> => {
    const { createDeployment: id } = await api<{ createDeployment: string }>('mutation ($url: String!) { createDeployment(deploymentUrl: $url) }', {
      url: path.join(on().dir, name),
    });
    deployed.push(id);
    return id;
  };

  it('raises a notification in the page when a deploy fails, lists it on the Platform page, and POSTs it to the webhook', async () => {
    await page.setViewportSize(desktop);
    await page.goto(ui);
    await page.getByText('live', { exact: true }).waitFor({ timeout: 30_000 });
    const id = await deployNothing('no-repo-here');
    const notice = page.getByTestId('notification-deploy-failed').filter({ hasText: id });
    await notice.getByText('Deploy failed').waitFor({ timeout: 120_000 });
    await expect(notice.innerText()).resolves.toMatch(/not a git repository|unreachable|does not exist/i);
    await page.getByTestId('recent-notifications').getByText(id).first().waitFor({ timeout: 10_000 });
    await shot('notification-deploy-failed');

    const [post] = await eventually(() => {
      const posts = receiver?.received.filter((request) => (request.body as { deploymentId?: string }).deploymentId === id) ?? [];
      return posts.length > 0 ? posts : undefined;
    }, 30_000, 'the webhook POST for the failed deploy');
    expect(post).toMatchObject({ method: 'POST', path: '/kraken', status: 204, body: { kind: 'deploy-failed', deploymentId: id } });
    // the webhook as the Platform page lists it: where it posts (the path hidden), and how it went
    await page.getByText(/POSTs notifications to http:\/\/127\.0\.0\.1:\d+\/…; (none sent yet|\d+ delivered)/).waitFor({ timeout: 10_000 });

    await notice.getByRole('button', { name: 'Open deployment' }).click();
    await page.waitForURL(`${ui}/deployments/${encodeURIComponent(id)}`);
    await status().getByText('Errored', { exact: true }).waitFor({ timeout: 30_000 });
    // opening it closes the notice (antd fades it out first)
    await eventually(async () => ((await notice.count()) === 0 ? true : undefined), 10_000, 'the notice closed after opening its deployment');
  }, 180_000);

  it('asks for desktop alerts only from its control, and shows one while the page is in the background', async () => {
    await page.goto(ui);
    await page.getByText('live', { exact: true }).waitFor({ timeout: 30_000 });
    // nothing asked on load: the browser still waits for the user's answer
    await expect(page.evaluate<string>('Notification.permission')).resolves.toBe('default');
    await page.context().grantPermissions(['notifications'], { origin: ui });
    await page.getByRole('button', { name: 'Desktop alerts' }).click();
    await page.getByRole('button', { name: 'Desktop alerts on' }).waitFor({ timeout: 10_000 });

    // headless Chromium never hides a page: the test says it is hidden, and records the desktop
    // notifications it makes (the real ones are still made)
    await page.evaluate(`(() => {
      const shown = [];
      window.shownOnDesktop = shown;
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
      const Real = window.Notification;
      window.Notification = class extends Real {
        constructor(title, options) {
          super(title, options);
          shown.push({ title, body: options?.body });
        }
      };
    })()`);
    const id = await deployNothing('no-repo-either');
    const shown = await eventually(async () => {
      const list = await page.evaluate<{ title: string; body: string | undefined }[]>('window.shownOnDesktop');
      return list.length > 0 ? list : undefined;
    }, 120_000, 'a desktop notification');
    expect(shown).toEqual([{ title: 'Kraken: Deploy failed', body: expect.stringContaining(id) as unknown }]);
    // a fresh page: the real visibility and Notification again, and no notice left open
    await page.reload();
  }, 180_000);

  it('stops, starts and restarts a deployment from its page without a rebuild: it stops answering, shows Stopped, answers again', async () => {
    const { createDeployment: id } = await api<{ createDeployment: string }>(
      'mutation ($url: String!, $env: [EnvVarInput!]) { createDeployment(deploymentUrl: $url, gitBranch: "main", env: $env) }',
      { url: goodRepo, env: [{ name: 'GREETING', value: 'lifecycle' }] },
    );
    deployed.push(id);
    await page.goto(`${ui}/deployments/${encodeURIComponent(id)}`);
    await status().getByText('Running', { exact: true }).waitFor({ timeout: 240_000 });
    const href = (await page.getByRole('link', { name: 'Open the app' }).getAttribute('href')) ?? '';
    const answer = async (): Promise<string | undefined> => {
      try {
        return await (await fetch(href)).text();
      } catch {
        return undefined;
      }
    };
    expect(await answer()).toBe('hello lifecycle');
    // nothing to start while it runs
    await expect(page.getByRole('button', { name: `Start deployment ${id}`, exact: true }).count()).resolves.toBe(0);

    await confirmDanger(`Stop deployment ${id}`, 'Stop deployment', 'Stop requested', 'stop');
    await status().getByText('Stopped', { exact: true }).waitFor({ timeout: 60_000 });
    expect(await answer()).toBeUndefined();
    // stopped, not gone: its container is kept, and no live numbers are shown
    const { stdout } = await run('docker', ['ps', '-aq', '--filter', `label=org.kraken.deployment=${id}`]);
    expect(stdout.trim()).not.toBe('');
    await page.getByTestId('chart-cpu').waitFor({ state: 'detached' });
    await shot('deployment-stopped');

    await page.getByRole('button', { name: `Start deployment ${id}`, exact: true }).click();
    await page.getByText('Start requested').first().waitFor({ timeout: 15_000 });
    await status().getByText('Running', { exact: true }).waitFor({ timeout: 120_000 });
    expect(await answer()).toBe('hello lifecycle');

    await page.getByRole('button', { name: `Restart deployment ${id}` }).click();
    await page.getByText('Restart requested').first().waitFor({ timeout: 15_000 });
    await page.getByTestId('log').getByText(/restarting on .* without a build/).waitFor({ timeout: 60_000 });
    await status().getByText('Running', { exact: true }).waitFor({ timeout: 120_000 });
    expect(await answer()).toBe('hello lifecycle');
    await shot('deployment-restarted');
    // one build for all of it: the history has one BuildingDeployment
    const { getDeployment } = await api<{ getDeployment: { statusHistory: { status: string }[] } }>(
      'query ($id: String!) { getDeployment(deploymentId: $id) { statusHistory { status } } }',
      { id },
    );
    expect(getDeployment.statusHistory.filter((entry) => entry.status === 'BUILDING_DEPLOYMENT')).toHaveLength(1);
  }, 420_000);

  it('lists a deployment\'s releases on its Releases tab, each opening to its own timeline and log', async () => {
    await page.setViewportSize(laptop);
    await openPage('Deployments');
    await page.getByLabel('Git repository URL').fill(goodRepo);
    await page.getByRole('button', { name: 'Deploy', exact: true }).click();
    await page.waitForURL(/\/deployments\/[^/]+$/);
    const id = deploymentIdFromUrl();
    deployed.push(id);
    await status().getByText('Running', { exact: true }).waitFor({ timeout: 240_000 });
    // a request only the first release serves, so its log line is that release's alone
    const href = await page.getByRole('link', { name: 'Open the app' }).getAttribute('href');
    await fetch(`${href ?? ''}/from-release-1`);
    await page.getByTestId('log').getByText('hit /from-release-1').waitFor({ timeout: 60_000 });
    await page.getByRole('button', { name: `Redeploy ${id}` }).click();
    await page.getByText('Redeploy requested').first().waitFor();

    await page.getByRole('tab', { name: 'Releases' }).click();
    const rows = page.getByTestId('releases').locator('tbody tr.ant-table-row');
    // newest first; the second release is listed as soon as the redeploy is requested, and settles when it runs
    await rows.first().filter({ hasText: 'Succeeded' }).filter({ hasText: 'redeploy' }).waitFor({ timeout: 240_000 });
    await expect(rows.count()).resolves.toBe(2);
    await expect(rows.nth(0).innerText()).resolves.toMatch(/^\s*2\s+[0-9a-f]{8}\s+redeploy\s/);
    await expect(rows.nth(1).innerText()).resolves.toMatch(/^\s*1\s+[0-9a-f]{8}\s+deploy by API[\s\S]*Succeeded/);
    await status().getByText('Running', { exact: true }).waitFor();

    await rows.nth(1).click();
    const first = page.getByTestId('release-1');
    await first.getByTestId('release-log').getByText('hit /from-release-1').waitFor({ timeout: 30_000 });
    await first.getByText('Deployment requested').first().waitFor();
    await rows.nth(0).click();
    const second = page.getByTestId('release-2');
    await second.getByTestId('release-log').getByText('listening').first().waitFor({ timeout: 30_000 });
    await expect(second.getByTestId('release-log').getByText('hit /from-release-1').count()).resolves.toBe(0);
    await second.getByText('Update requested').first().waitFor();
    await shot('deployment-releases');
  }, 600_000);

  it('fits every page at 1440 and 1280 px (no table clipped) and at 390x844, in light and dark, with no serious or critical axe findings', async () => {
    const [destroyed, errored] = deployed;
    const pages = [
      { name: 'platform', path: '/', ready: () => page.getByTestId('standby').waitFor() },
      { name: 'nodes', path: '/nodes', ready: () => page.locator('tbody tr').filter({ hasText: 'alive' }).first().waitFor() },
      { name: 'deployments', path: '/deployments', ready: () => page.locator('tbody tr').filter({ hasText: errored ?? '' }).first().waitFor() },
      { name: 'deployment-destroyed', path: `/deployments/${encodeURIComponent(destroyed ?? '')}`, ready: () => status().getByText('Destroyed').waitFor() },
      { name: 'deployment-errored', path: `/deployments/${encodeURIComponent(errored ?? '')}`, ready: () => status().getByText('Errored').waitFor() },
      { name: 'deployment-removed', path: `/deployments/${encodeURIComponent(deployed[3] ?? '')}`, ready: () => page.getByTestId('deployment-removed').waitFor() },
      { name: 'deployments-filtered', path: `/deployments?status=ERRORED&sort=node&order=desc`, ready: () => page.locator('tbody tr').filter({ hasText: errored ?? '' }).first().waitFor() },
      { name: 'getting-started', path: '/getting-started', ready: () => page.getByTestId('manifest-node').waitFor() },
      {
        name: 'deployment-releases',
        path: `/deployments/${encodeURIComponent(deployed.at(-1) ?? '')}`,
        ready: async () => {
          await page.getByRole('tab', { name: 'Releases' }).click();
          // a release opened: its timeline and log are checked too
          await page.getByTestId('releases').locator('tbody tr.ant-table-row').first().click();
          await page.getByTestId('release-2').getByTestId('release-log').getByText('listening').first().waitFor({ timeout: 30_000 });
        },
      },
    ];
    const sizes = [
      { name: '1440', viewport: desktop, scheme: 'light' },
      { name: '1280', viewport: laptop, scheme: 'light' },
      { name: 'phone', viewport: phone, scheme: 'light' },
      { name: '1440-dark', viewport: desktop, scheme: 'dark' },
      { name: 'phone-dark', viewport: phone, scheme: 'dark' },
    ] as const;
    const findings: string[] = [];
    for (const size of sizes) {
      await page.setViewportSize(size.viewport);
      await page.emulateMedia({ colorScheme: size.scheme });
      for (const each of pages) {
        const where = `${each.name} at ${size.name}`;
        await page.goto(`${ui}${each.path}`);
        await each.ready();
        await page.getByText('live', { exact: true }).waitFor({ timeout: 30_000 });
        await page.screenshot({ path: path.join(screenshots, `${size.name}-${each.name}.png`), fullPage: true });
        await expectNoSidewaysScroll(page, where);
        await expectNamedControls(page, where);
        expect({ where, clipped: await clippedTables(page) }).toEqual({ where, clipped: [] });
        findings.push(...(await seriousAxeFindings(page)).map((finding) => `${where}: ${finding}`));
      }
    }
    await page.emulateMedia({ colorScheme: 'light' });
    expect(findings).toEqual([]);
  }, 300_000);

  it('follows the system switching between light and dark while the page is open', async () => {
    await page.setViewportSize(laptop);
    await page.goto(`${ui}/`);
    await page.getByTestId('standby').waitFor();
    const headerColour = () => page.evaluate<string>(`getComputedStyle(document.querySelector('.ant-layout-header')).backgroundColor`);
    await expect(headerColour()).resolves.toBe('rgb(255, 255, 255)');
    await page.emulateMedia({ colorScheme: 'dark' });
    await eventually(async () => ((await headerColour()) !== 'rgb(255, 255, 255)' ? true : undefined), 5_000, 'the dark header');
    await page.emulateMedia({ colorScheme: 'light' });
    await eventually(async () => ((await headerColour()) === 'rgb(255, 255, 255)' ? true : undefined), 5_000, 'the light header again');
  }, 30_000);

  it('works at phone width: every page through the menu, nothing wider than the screen', async () => {
    await page.setViewportSize(phone);
    const pages = [
      ['Platform', 'platform'],
      ['Nodes', 'nodes'],
      ['Deployments', 'deployments'],
      ['Getting started', 'getting-started'],
    ] as const;
    for (const [label, name] of pages) {
      await page.getByRole('button', { name: 'Open the menu' }).click();
      await page.getByRole('menuitem', { name: label }).click();
      await page.getByRole('heading', { level: 2, name: label }).waitFor();
      await page.getByRole('menuitem', { name: label }).waitFor({ state: 'hidden' });
      await expectNoSidewaysScroll(page, label);
      await shot(`phone-${name}`);
    }
    const id = deployed[0] ?? '';
    await page.goto(`${ui}/deployments/${encodeURIComponent(id)}`);
    await status().getByText('Destroyed', { exact: true }).waitFor({ timeout: 30_000 });
    await expectNoSidewaysScroll(page, 'the deployment page');
    await shot('phone-deployment');

    // the list keeps the columns that matter on a phone; the rest is a tap away
    await page.goto(`${ui}/deployments`);
    const row = page.locator('tbody tr').filter({ hasText: id });
    await row.getByText('Destroyed').waitFor();
    await expect(page.getByRole('columnheader', { name: 'Source' }).count()).resolves.toBe(0);
    await row.getByRole('button', { name: /expand row/i }).click();
    const details = page.getByTestId(`details-${id}`);
    await details.getByText(goodRepo).waitFor();
    await details.getByRole('button', { name: `Redeploy ${id}` }).waitFor();
    await expectNoSidewaysScroll(page, 'the deployments list with a row opened');
    await shot('phone-deployment-details');
  }, 120_000);

  it('opens the token dialog when the token the browser kept is refused, and carries on with the right one', async () => {
    await page.setViewportSize(laptop);
    const start = problems.length;
    // on the UI's origin first: its storage is where the token is kept
    await page.goto(ui);
    await page.evaluate('window.localStorage.setItem("kraken.apiToken", "a-token-that-was-changed")');
    await page.goto(`${ui}/nodes`);
    const dialog = page.getByRole('dialog', { name: 'Connect to your Kraken cluster' });
    await dialog.getByTestId('stored-token-refused').waitFor({ timeout: 30_000 });
    // no retry that cannot help, no "subscription failed"
    await expect(page.getByRole('button', { name: 'Retry' }).count()).resolves.toBe(0);
    await expect(page.getByText(/subscription failed/).count()).resolves.toBe(0);
    // the dialog fades in: contrast is measured once it is fully shown
    await page.waitForFunction('!document.querySelector(".ant-modal[class*=zoom], .ant-modal-mask[class*=fade]")');
    await shot('token-refused');
    expect(await seriousAxeFindings(page)).toEqual([]);
    // the dialog is a page of its own for whoever meets it: at phone width too
    await page.setViewportSize(phone);
    await page.screenshot({ path: path.join(screenshots, 'phone-token-refused.png'), fullPage: true });
    await expectNoSidewaysScroll(page, 'the token dialog on a phone');
    // behind it, the header keeps "token refused" and its buttons on one line
    await expectHeaderFits(page, 'the header on a phone, token refused');
    expect(await seriousAxeFindings(page)).toEqual([]);
    await page.setViewportSize(laptop);
    await dialog.getByLabel('API token', { exact: true }).fill(token);
    await dialog.getByRole('button', { name: 'Save token' }).click();
    await page.locator('tbody tr').filter({ hasText: 'alive' }).first().waitFor({ timeout: 30_000 });
    await dialog.waitFor({ state: 'hidden' });
    expect(await page.evaluate('window.localStorage.getItem("kraken.apiToken")')).toBe(token);
    // Chromium reports the refused requests (401) as console errors: this test causes them
    forgetExpected(start, /401|Unauthorized/i);
  }, 60_000);
});

/** Tables may scroll inside themselves; the page itself must fit the screen. */
async function expectNoSidewaysScroll(page: Page, where: string): Promise<void> {
  // a string: this file is compiled without the DOM types
  const widths = await page.evaluate<{ page: number; screen: number }>('({ page: document.documentElement.scrollWidth, screen: window.innerWidth })');
  expect({ where, ...widths, fits: widths.page <= widths.screen }).toEqual({ where, ...widths, fits: true });
}

/** Everything in the page header lies within it: nothing wraps onto a second line and spills out. */
async function expectHeaderFits(page: Page, where: string): Promise<void> {
  const spilling = await page.evaluate<string[]>(`(() => {
    const header = document.querySelector('.ant-layout-header').getBoundingClientRect();
    return [...document.querySelectorAll('.ant-layout-header *')]
      .filter((element) => {
        const box = element.getBoundingClientRect();
        return box.height > 0 && (box.top < header.top - 1 || box.bottom > header.bottom + 1 || box.right > header.right + 1);
      })
      .map((element) => (element.textContent || element.tagName).trim().slice(0, 40));
  })()`);
  expect({ where, spilling }).toEqual({ where, spilling: [] });
}
