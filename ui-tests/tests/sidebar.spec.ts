/**
 * The Syft sidebar in a real JupyterLab hosting a seeded Datasite (see
 * jupyter_server_test_config.py). A scientist's requests are made with the Python client
 * (helpers/datasite.py), which also checks the owner's decisions afterwards.
 */
import { expect, test } from '@jupyterlab/galata';
import { Locator, Page, TestInfo } from '@playwright/test';
import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as path from 'path';

const SIDEBAR_ID = 'jupyter-syft-sidebar';
const PYTHON = process.env.SYFT_PYTHON || 'python';
const HELPER = path.resolve(__dirname, '..', 'helpers', 'datasite.py');

/** Run the Python helper against the JupyterLab under test; returns its JSON answer. */
function datasite(baseURL: string, ...args: string[]): Record<string, string> {
  const output = execFileSync(PYTHON, [HELPER, ...args, '--url', baseURL], {
    encoding: 'utf-8',
    timeout: 120_000
  });
  const lines = output.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

/** Start a second Datasite (helpers/datasite.py serve-remote); resolves with its account. */
function startRemote(): Promise<{
  process: ChildProcess;
  url: string;
  email: string;
  password: string;
}> {
  const child = spawn(PYTHON, [HELPER, 'serve-remote'], {
    stdio: ['pipe', 'pipe', 'pipe']
  });
  let errors = '';
  child.stderr!.on('data', chunk => {
    errors = (errors + chunk.toString()).slice(-4000);
  });
  return new Promise((resolve, reject) => {
    let buffer = '';
    child.stdout!.on('data', chunk => {
      buffer += chunk.toString();
      const line = buffer.split('\n').find(l => l.trim().startsWith('{'));
      if (line) {
        resolve({ process: child, ...JSON.parse(line) });
      }
    });
    child.on('exit', code =>
      reject(new Error(`serve-remote exited early (${code}):\n${errors}`))
    );
  });
}

/** Close the helper's stdin so it lands its Datasite; kill it if it does not exit. */
async function stopRemote(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) {
    return;
  }
  const exited = new Promise<void>(resolve => child.once('exit', () => resolve()));
  child.stdin?.end();
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

async function openSidebar(page: Page): Promise<Locator> {
  await page.sidebar.openTab(SIDEBAR_ID);
  const sidebar = page.locator(`#${SIDEBAR_ID}`);
  await expect(sidebar).toBeVisible();
  return sidebar;
}

/** Keep a screenshot as a test artifact (test-results/) and in the HTML report. */
async function keepScreenshot(
  target: Locator,
  testInfo: TestInfo,
  name: string
): Promise<void> {
  const file = testInfo.outputPath(`${name}.png`);
  await target.screenshot({ path: file });
  await testInfo.attach(name, { path: file, contentType: 'image/png' });
}

function requestItem(sidebar: Locator, id: string): Locator {
  return sidebar.locator(`[data-testid="syft-request"][data-request-id="${id}"]`);
}

test.describe('Syft sidebar', () => {
  test('shows the seeded dataset, its assets and previews', async ({
    page
  }, testInfo) => {
    const sidebar = await openSidebar(page);
    await expect(sidebar.getByTestId('syft-whoami')).toContainText('galata-datasite');
    const dataset = sidebar.locator(
      '[data-testid="syft-dataset"][data-dataset-name="Breast Cancer Wisconsin"]'
    );
    await expect(dataset).toBeVisible();
    await expect(dataset).toContainText('Diagnostic Wisconsin Breast Cancer Database.');
    await dataset.getByTestId('syft-dataset-toggle').click();

    const features = dataset.locator(
      '[data-testid="syft-asset"][data-asset-name="BC Features"]'
    );
    await expect(features.getByTestId('syft-asset-shape')).toContainText('569 × 30');
    const mock = features.getByTestId('syft-mock-preview');
    await expect(mock.locator('thead th').first()).toHaveText('mean radius');
    await expect(mock.locator('tbody tr')).toHaveCount(5);

    // The owner may also look at the private value.
    await features.getByTestId('syft-toggle-private').click();
    const data = features.getByTestId('syft-private-preview');
    await expect(data.locator('tbody tr')).toHaveCount(5);
    await keepScreenshot(sidebar, testInfo, 'sidebar-datasets');
  });

  test('a new request appears without a reload, and the owner approves it', async ({
    page,
    baseURL
  }, testInfo) => {
    const sidebar = await openSidebar(page);
    await sidebar.getByTestId('syft-tab-requests').click();

    const tag = `approve-${Date.now()}`;
    const created = datasite(baseURL!, 'request', '--tag', tag);
    expect(created.status).toBe('PENDING');

    const item = requestItem(sidebar, created.request_id);
    await expect(item).toBeVisible({ timeout: 30_000 }); // the model polls every 5 s
    await expect(item.getByTestId('syft-status')).toHaveAttribute('data-status', 'pending');
    await expect(sidebar.getByTestId('syft-pending-count')).toBeVisible();
    await sidebar.getByTestId('syft-filter-pending').click();
    await expect(item).toBeVisible();
    await keepScreenshot(sidebar, testInfo, 'sidebar-requests');

    await item.getByTestId('syft-request-open').click();
    const review = page.locator(`#jupyter-syft-request-${created.request_id}`);
    await expect(review.getByTestId('syft-review')).toBeVisible();
    await expect(review.getByTestId('syft-requester')).toContainText('Dana Scientist');
    await expect(review.getByTestId('syft-project-name')).toHaveText(created.project);
    await expect(review.getByTestId('syft-reason')).toContainText(tag);
    await expect(review.getByTestId('syft-code')).toContainText('def mean_worst_radius');
    await expect(review.getByTestId('syft-inputs')).toContainText('BC Features');
    await expect(review.getByTestId('syft-policies')).toContainText('at most 1 run');
    await expect(review.getByTestId('syft-findings')).toBeVisible();

    // Run it on the mock first; the result is previewed.
    await review.getByTestId('syft-run-mock').click();
    const execution = review.getByTestId('syft-mock-execution');
    await expect(execution).toBeVisible({ timeout: 90_000 });
    await expect(execution).toHaveAttribute('data-ok', 'true');
    await expect(review.getByTestId('syft-result-preview')).toBeVisible();
    await keepScreenshot(review, testInfo, 'request-review');

    await review.getByTestId('syft-approve').click();
    await page.locator('.jp-Dialog .jp-mod-accept').click(); // the confirmation
    await expect(review.getByTestId('syft-decided')).toContainText('Approved');
    await sidebar.getByTestId('syft-filter-all').click();
    await expect(item.getByTestId('syft-status')).toHaveAttribute('data-status', 'approved');

    // The Python client sees the decision.
    expect(datasite(baseURL!, 'status', '--id', created.request_id).status).toBe(
      'APPROVED'
    );
  });

  test('deny needs a reason; the review diffs against the previous submission', async ({
    page,
    baseURL
  }, testInfo) => {
    const first = datasite(baseURL!, 'request', '--tag', `first-${Date.now()}`);
    const second = datasite(baseURL!, 'request', '--tag', `second-${Date.now()}`);
    const sidebar = await openSidebar(page);
    await sidebar.getByTestId('syft-tab-projects').click();
    const project = sidebar.locator(
      `[data-testid="syft-project"][data-project-name="${second.project}"]`
    );
    const item = requestItem(project, second.request_id);
    await expect(item).toBeVisible();
    await item.getByTestId('syft-request-open').click();

    const review = page.locator(`#jupyter-syft-request-${second.request_id}`);
    const diff = review.getByTestId('syft-diff');
    await expect(diff).toBeVisible();
    await expect(diff.locator('tr[data-kind="removed"]')).toContainText('first-');
    await expect(diff.locator('tr[data-kind="added"]')).toContainText('second-');

    const deny = review.getByTestId('syft-deny');
    await expect(deny).toBeDisabled();
    await review.getByTestId('syft-deny-reason').fill('Please aggregate per diagnosis.');
    await expect(deny).toBeEnabled();
    await deny.click();
    await expect(review.getByTestId('syft-decided')).toContainText(
      'Please aggregate per diagnosis.'
    );
    await keepScreenshot(review, testInfo, 'request-denied');
    expect(datasite(baseURL!, 'status', '--id', second.request_id).status).toBe(
      'REJECTED'
    );
    expect(datasite(baseURL!, 'status', '--id', first.request_id).status).toBe('PENDING');
  });

  test('opens a new notebook whose connection cell logs in', async ({ page }) => {
    const sidebar = await openSidebar(page);
    await sidebar.getByTestId('syft-new-notebook').click();
    const cell = page.locator('.jp-NotebookPanel .jp-Cell').first();
    await expect(cell).toContainText('import jupyter_syft as sy');
    await expect(cell).toContainText('sy.login_local()');

    // The kernel was started by this JupyterLab: it logs in as the owner, no password.
    await page.notebook.runCell(0);
    const output = (await page.notebook.getCellTextOutput(0)) ?? [];
    expect(output.join('\n')).toContain('Logged into <galata-datasite');
    await page.notebook.close(true);
  });

  test('connects to a remote Datasite as a scientist', async ({ page }, testInfo) => {
    const remote = await startRemote();
    try {
      const sidebar = await openSidebar(page);
      await sidebar.getByTestId('syft-connect').click();
      const form = sidebar.getByTestId('syft-connect-form');
      await form.getByTestId('syft-connect-url').fill(remote.url);
      await form.getByTestId('syft-connect-email').fill(remote.email);
      await form.getByTestId('syft-connect-password').fill('wrong-password');
      await form.getByTestId('syft-connect-submit').click();
      await expect(form.getByTestId('syft-connect-error')).toContainText(
        'Wrong email or password.'
      );
      await expect(form.getByTestId('syft-connect-password')).toHaveValue('');

      await form.getByTestId('syft-connect-password').fill(remote.password);
      await form.getByTestId('syft-connect-submit').click();
      await expect(form).toBeHidden();
      const whoami = sidebar.getByTestId('syft-whoami');
      await expect(whoami).toContainText('galata-remote');
      await expect(whoami).toContainText('DATA_SCIENTIST');
      const dataset = sidebar.locator(
        '[data-testid="syft-dataset"][data-dataset-name="Remote Trial"]'
      );
      await expect(dataset).toBeVisible();
      await dataset.getByTestId('syft-dataset-toggle').click();
      await expect(dataset.getByTestId('syft-mock-preview')).toContainText('visits');
      // A scientist sees no private preview.
      await expect(dataset.getByTestId('syft-toggle-private')).toHaveCount(0);
      await keepScreenshot(sidebar, testInfo, 'sidebar-remote');

      // The browser keeps no password: not in storage, not in the page.
      const stored = await page.evaluate(() =>
        JSON.stringify({ ...window.localStorage, ...window.sessionStorage })
      );
      expect(stored).not.toContain(remote.password);
      expect(await page.content()).not.toContain(remote.password);

      await sidebar.getByTestId('syft-disconnect').click();
      await expect(whoami).toContainText('galata-datasite');
    } finally {
      await stopRemote(remote.process);
    }
  });
});
