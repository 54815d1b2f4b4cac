// What every browser test of the UI runs against: a real agent (orchestrator + worker on RabbitMQ
// and Docker) in a vhost of its own, the built bundle served by the kraken-ui CLI, and Debian's
// Chromium driven by playwright-core, with the page helpers the specs share.
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { freePort, isolatedVhost, requireRabbit, tempDir, watchProcess } from '@kraken/testing';
import type { IsolatedVhost, TempDir, WatchedProcess } from '@kraken/testing';

const run = promisify(execFile);
const repoRoot = path.resolve(__dirname, '..', '..', '..');
const agentCli = path.join(repoRoot, 'apps', 'agent', 'dist', 'cli.js');
const uiHostCli = path.join(repoRoot, 'apps', 'ui-host', 'dist', 'cli.js');
export const bundle = path.resolve(__dirname, '..', 'dist');
export const screenshots = path.join(repoRoot, 'test-output', 'ui-screenshots');

function start(args: string[]): WatchedProcess {
  return watchProcess(spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true }), { group: true });
}

/** Removes a deployment's containers, whatever state they are in. */
async function removeContainers(deploymentId: string): Promise<void> {
  const { stdout } = await run('docker', ['ps', '-aq', '--filter', `label=org.kraken.deployment=${deploymentId}`]);
  const ids = stdout.split('\n').filter((id) => id !== '');
  if (ids.length > 0) await run('docker', ['rm', '-f', ...ids]);
}

export interface UiStackOptions {
  /** Names the vhost and the temporary folder. */
  name: string;
  /** More `kraken agent` flags (a webhook URL, crash-loop bounds). */
  agentArgs?: string[];
}

const control = /^\s*- (button|switch|link|textbox|searchbox|checkbox|radio|combobox|menuitem|tab|slider|spinbutton)( \[[^\]]*\])*:?$/;

/** Buttons, switches, links and fields without an accessible name: what a screen reader cannot announce. */
export async function expectNamedControls(page: Page, where: string): Promise<void> {
  const snapshot = await page.locator('body').ariaSnapshot();
  expect({ where, unnamed: snapshot.split('\n').filter((line) => control.test(line)) }).toEqual({ where, unnamed: [] });
}

/**
 * One agent, one UI host and one browser page for a spec file. `problems` collects console errors,
 * page errors and requests that leave the cluster: a spec checks it is empty after each test.
 * Made by `UiStack.start`.
 */
export class UiStack {
  /** The UI host: a test may stop and start it again (startUiHost). */
  uiHost: WatchedProcess | undefined;
  readonly problems: string[] = [];
  private browser: Browser | undefined;
  private pageOpen: Page | undefined;
  private agent: WatchedProcess | undefined;
  private vhost: IsolatedVhost | undefined;
  private folder: TempDir | undefined;
  apiUrl = '';
  token = '';
  uiPort = 0;

  /** Starts everything, or removes what it started and rethrows. */
  static async start(options: UiStackOptions): Promise<UiStack> {
    const stack = new UiStack();
    try {
      await stack.setUp(options);
      return stack;
    } catch (error) {
      await stack.close();
      throw error;
    }
  }

  private async setUp({ name, agentArgs = [] }: UiStackOptions): Promise<void> {
    await requireRabbit();
    this.vhost = await isolatedVhost(name);
    await fs.access(bundle).catch(() => {
      throw new Error(`no UI bundle at ${bundle}: run \`npx nx build ui\` first (the integration target does)`);
    });
    await fs.mkdir(screenshots, { recursive: true });
    this.folder = await tempDir(`${name}-`);
    const dataDir = path.join(this.folder.path, 'data');
    const apiPort = await freePort();
    this.apiUrl = `http://127.0.0.1:${String(apiPort)}`;
    this.agent = start([
      agentCli, 'agent', '--data-dir', dataDir, '--api-port', String(apiPort), '--api-host', '127.0.0.1',
      '--broker-url', this.vhost.url, '--runtime', 'docker', '--no-mdns', '--public-host', '127.0.0.1', ...agentArgs,
    ]);
    await this.agent.waitFor(/Deploy an app: kraken deploy/, 90_000);
    this.token = (JSON.parse(await fs.readFile(path.join(dataDir, 'secrets.json'), 'utf8')) as { apiToken: string }).apiToken;
    this.uiPort = await freePort();
    await this.startUiHost();
    this.browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const page = await this.browser.newPage({ viewport: { width: 1280, height: 900 } });
    this.pageOpen = page;
    page.on('console', (message) => {
      if (message.type() === 'error') this.problems.push(`console error: ${message.text()}`);
    });
    page.on('pageerror', (error) => this.problems.push(`page error: ${error.message}`));
    page.on('request', (request) => {
      const url = new URL(request.url());
      // The bundle must not fetch fonts, icons or anything else from outside the cluster.
      if (url.protocol !== 'data:' && url.protocol !== 'blob:' && url.hostname !== '127.0.0.1') this.problems.push(`request outside the cluster: ${request.url()}`);
    });
  }

  get page(): Page {
    if (this.pageOpen === undefined) throw new Error('the UI stack has no page: it did not start');
    return this.pageOpen;
  }

  get ui(): string {
    return `http://127.0.0.1:${String(this.uiPort)}`;
  }

  /** The folder the agent's data and the test's repositories live in. */
  get dir(): string {
    if (this.folder === undefined) throw new Error('the UI stack has no folder: it did not start');
    return this.folder.path;
  }

  async newPage(): Promise<Page> {
    if (this.browser === undefined) throw new Error('the UI stack has no browser: it did not start');
    return await this.browser.newPage();
  }

  async startUiHost(): Promise<void> {
    this.uiHost = start([uiHostCli, '--api', this.apiUrl, '--port', String(this.uiPort), '--root', bundle]);
    await this.uiHost.waitFor(/Kraken UI listening on/, 30_000);
  }

  /** Asks the agent's API directly (not through the UI), as another client would. */
  async api<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const response = await fetch(`${this.apiUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.token}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: T; errors?: { message: string }[] };
    if (body.errors !== undefined) throw new Error(`API: ${body.errors.map((e) => e.message).join('; ')}`);
    return body.data as T;
  }

  /** Opens the UI and saves the token, as a user does at first. */
  async signIn(): Promise<void> {
    await this.page.goto(this.ui);
    await this.page.getByLabel('API token', { exact: true }).fill(this.token);
    await this.page.getByRole('button', { name: 'Save token' }).click();
    await this.page.getByRole('heading', { level: 2, name: 'Platform' }).waitFor();
  }

  /** Saves a screenshot, and checks that every control shown has an accessible name. */
  async shot(name: string): Promise<void> {
    await this.page.screenshot({ path: path.join(screenshots, `${name}.png`), fullPage: true });
    await expectNamedControls(this.page, name);
  }

  async openPage(label: string): Promise<void> {
    await this.page.getByRole('menuitem', { name: label }).click();
    await this.page.getByRole('heading', { level: 2, name: label }).waitFor();
  }

  deploymentIdFromUrl(): string {
    return decodeURIComponent(new URL(this.page.url()).pathname.split('/').pop() ?? '');
  }

  status(): ReturnType<Page['getByTestId']> {
    return this.page.getByTestId('deployment-status');
  }

  /**
   * Clicks a destructive action and its confirmation, which must both look destructive (antd's
   * danger style), until the success message shows (at most three times): a click that lands while the
   * confirm popup animates in can be lost, and a popup open while the live connection blinks closes
   * with the buttons it disables.
   */
  async confirmDanger(trigger: string, confirmLabel: string, success: string, what: string): Promise<void> {
    const { page } = this;
    for (let attempt = 1; ; attempt++) {
      try {
        await page.getByText('live', { exact: true }).waitFor({ timeout: 30_000 });
        const action = page.getByRole('button', { name: trigger });
        await expect(action.getAttribute('class', { timeout: 5_000 })).resolves.toMatch(/\bant-btn-dangerous\b/);
        await action.click();
        const confirm = page.getByRole('button', { name: confirmLabel, exact: true });
        await expect(confirm.getAttribute('class', { timeout: 5_000 })).resolves.toMatch(/\bant-btn-dangerous\b/);
        await confirm.click({ timeout: 5_000 });
        await page.getByText(success).first().waitFor({ timeout: 15_000 });
        return;
      } catch (error) {
        await this.shot(`${what}-not-confirmed-${String(attempt)}`);
        if (attempt >= 3) throw error;
      }
    }
  }

  /** Drops the problems `expected` matches that appeared since `from`: errors a test causes on purpose. */
  forgetExpected(from: number, expected: RegExp): void {
    const kept = this.problems.slice(from).filter((problem) => !expected.test(problem));
    this.problems.splice(from, this.problems.length - from, ...kept);
  }

  /** Stops the browser, the UI host and the agent, removes the deployments' containers, the vhost and the folder. */
  async close(deployed: readonly string[] = []): Promise<void> {
    await this.browser?.close();
    this.uiHost?.kill('SIGTERM');
    this.agent?.kill('SIGTERM');
    await Promise.all([this.uiHost?.exited, this.agent?.exited]);
    for (const id of deployed) await removeContainers(id);
    await this.vhost?.remove();
    await this.folder?.[Symbol.asyncDispose]();
  }
}
