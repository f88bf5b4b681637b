/**
 * The Datasite activity (audit log) and jobs views in a real JupyterLab hosting a seeded
 * Datasite. Requests and jobs are made by a scientist with the Python client
 * (helpers/activity.py); the views are opened from the command palette, as a user would.
 */
import { expect, test } from '@jupyterlab/galata';
import { Locator, Page, TestInfo } from '@playwright/test';
import { execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const PYTHON = process.env.SYFT_PYTHON || 'python';
const HELPER = path.resolve(__dirname, '..', 'helpers', 'activity.py');
const SHOTS = path.resolve(__dirname, '..', 'screenshots', 'activity');

/** Run the Python helper against the JupyterLab under test; returns its JSON answer. */
function helper(baseURL: string, ...args: string[]): Record<string, string> {
  const output = execFileSync(PYTHON, [HELPER, ...args, '--url', baseURL], {
    encoding: 'utf-8',
    timeout: 120_000
  });
  const lines = output.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

/** The same, without blocking the browser meanwhile (a job starts while the view is open). */
function helperAsync(baseURL: string, ...args: string[]): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [HELPER, ...args, '--url', baseURL]);
    let out = '';
    let err = '';
    child.stdout.on('data', chunk => (out += chunk.toString()));
    child.stderr.on('data', chunk => (err = (err + chunk.toString()).slice(-4000)));
    child.on('exit', code => {
      if (code !== 0) {
        reject(new Error(`helper exited with ${code}:\n${err}`));
        return;
      }
      const lines = out.trim().split('\n');
      resolve(JSON.parse(lines[lines.length - 1]));
    });
  });
}

/** Run a command from the command palette by its label. */
async function fromPalette(page: Page, label: string): Promise<void> {
  await page.keyboard.press('Control+Shift+C');
  const palette = page.locator('#command-palette');
  await expect(palette).toBeVisible();
  const search = palette.locator('.lm-CommandPalette-input');
  await search.fill(label);
  const item = palette.locator('.lm-CommandPalette-item', { hasText: label }).first();
  await expect(item).toBeVisible();
  await item.click();
}

/** Keep a screenshot as a test artifact and under ui-tests/screenshots/activity/. */
async function keepScreenshot(
  target: Locator,
  testInfo: TestInfo,
  name: string
): Promise<void> {
  fs.mkdirSync(SHOTS, { recursive: true });
  const file = path.join(SHOTS, `${name}.png`);
  await target.screenshot({ path: file });
  await testInfo.attach(name, { path: file, contentType: 'image/png' });
}

function events(view: Locator): Locator {
  return view.getByTestId('syft-audit-event');
}

test.describe('Datasite activity', () => {
  test('shows real events in words under the verified chain; filters narrow them', async ({
    page,
    baseURL
  }, testInfo) => {
    const made = helper(baseURL!, 'approved', '--tag', `activity-${Date.now()}`);
    await fromPalette(page, 'Open Datasite Activity');
    const view = page.locator('#jupyter-syft-activity');
    await expect(view.getByTestId('syft-activity')).toBeVisible();

    const chain = view.getByTestId('syft-audit-verification');
    await expect(chain).toHaveAttribute('data-ok', 'true');
    await expect(chain).toContainText(/Verified: \d+ events/);

    // The approval is the newest event: who, what, which request, in words.
    const approval = events(view).filter({ hasText: 'approved a request' }).first();
    await expect(approval).toContainText('info@openmined.org');
    await expect(approval).toHaveAttribute('data-object-id', made.request_id);
    const all = await events(view).count();
    expect(all).toBeGreaterThan(3);
    await keepScreenshot(view, testInfo, 'activity-verified-light');

    // By who acted: only the scientist's events remain.
    await view.getByTestId('syft-activity-user').fill('dana@uni.example');
    await view.getByTestId('syft-activity-apply').click();
    await expect(events(view).first()).toContainText('dana@uni.example');
    await expect(view.getByTestId('syft-activity-count')).toContainText('match the filters');
    const whos = await events(view).locator('.jp-syft-activity-who').allTextContents();
    expect(whos.length).toBeGreaterThan(0);
    expect(new Set(whos)).toEqual(new Set(['dana@uni.example']));
    await expect(events(view).filter({ hasText: 'approved a request' })).toHaveCount(0);

    // By request: its creation and its approval, from two people.
    await view.getByTestId('syft-activity-clear').click();
    await view.getByTestId('syft-activity-object').fill(made.request_id);
    await view.getByTestId('syft-activity-apply').click();
    await expect(events(view)).toHaveCount(2);
    const ids = await events(view).evaluateAll(rows =>
      rows.map(row => row.getAttribute('data-object-id'))
    );
    expect(new Set(ids)).toEqual(new Set([made.request_id]));
    await expect(events(view).nth(0)).toContainText('approved a request');
    await expect(events(view).nth(1)).toContainText('asked to run code on private data');

    // By action: requests and decisions only.
    await view.getByTestId('syft-activity-clear').click();
    await view.getByTestId('syft-activity-action').selectOption('request.');
    await expect(events(view).first()).toHaveAttribute('data-action', /^request\./);
    const actions = await events(view).evaluateAll(rows =>
      rows.map(row => row.getAttribute('data-action') ?? '')
    );
    expect(actions.every(action => action.startsWith('request.'))).toBe(true);
    expect(actions.length).toBeLessThan(all);

    // A request's event opens its review tab.
    await events(view)
      .filter({ hasText: 'approved a request' })
      .first()
      .getByTestId('syft-audit-open-request')
      .click();
    await expect(page.locator(`#jupyter-syft-request-${made.request_id}`)).toBeVisible();

    await page.theme.setDarkTheme();
    await fromPalette(page, 'Open Datasite Activity');
    await view.getByTestId('syft-activity-clear').click();
    await expect(chain).toHaveAttribute('data-ok', 'true');
    await keepScreenshot(view, testInfo, 'activity-verified-dark');
    await page.theme.setLightTheme();
  });
});

test.describe('Datasite jobs', () => {
  test('a 10-second private job shows its progress while it runs, then ends', async ({
    page,
    baseURL
  }, testInfo) => {
    await fromPalette(page, 'Open Datasite Jobs');
    const view = page.locator('#jupyter-syft-jobs');
    await expect(view.getByTestId('syft-jobs')).toBeVisible();

    const started = await helperAsync(
      baseURL!,
      'job',
      '--tag',
      `ten-${Date.now()}`,
      '--steps',
      '20',
      '--pause',
      '0.5'
    );
    const row = view.locator(`[data-testid="syft-job"][data-job-id="${started.job_id}"]`);
    // The push channel tells of the new job; the view then polls its progress.
    await expect(row).toBeVisible({ timeout: 15_000 });
    await expect(row).toHaveAttribute('data-status', 'processing', { timeout: 15_000 });
    await expect(row.getByTestId('syft-job-requester')).toContainText('Dana Scientist');
    await expect(row.getByTestId('syft-job-elapsed')).toContainText('running for');
    const bar = row.locator('[role="progressbar"]');
    await expect(bar).toHaveAttribute('aria-valuemax', '20');
    // Progress moves while it runs (read again every 2 s).
    const first = Number(await bar.getAttribute('aria-valuenow'));
    await expect
      .poll(async () => Number(await bar.getAttribute('aria-valuenow')), { timeout: 15_000 })
      .toBeGreaterThan(first);
    await expect(row.getByTestId('syft-job-progress-text')).toContainText(' / 20');
    await row.getByTestId('syft-job-logs-toggle').click();
    await expect(row.getByTestId('syft-job-logs')).toContainText('once the run ends');
    await keepScreenshot(view, testInfo, 'jobs-running-progress-light');

    // It ends: it leaves the running list, and the finished list has it with its prints.
    await expect(row).toHaveCount(0, { timeout: 60_000 });
    await view.getByTestId('syft-jobs-state-finished').click();
    const done = view.locator(`[data-testid="syft-job"][data-job-id="${started.job_id}"]`);
    await expect(done).toHaveAttribute('data-status', 'completed');
    await expect(done.getByTestId('syft-job-elapsed')).toContainText('ran for');
    await done.getByTestId('syft-job-logs-toggle').click();
    await expect(done.getByTestId('syft-job-logs')).toContainText('step 20 of 20');
    expect(helper(baseURL!, 'job-status', '--id', started.job_id).status).toBe('completed');
  });

  test('Kill asks first, then stops a running job', async ({ page, baseURL }, testInfo) => {
    const started = helper(
      baseURL!,
      'job',
      '--tag',
      `kill-${Date.now()}`,
      '--steps',
      '120',
      '--pause',
      '1'
    );
    await fromPalette(page, 'Open Datasite Jobs');
    const view = page.locator('#jupyter-syft-jobs');
    const row = view.locator(`[data-testid="syft-job"][data-job-id="${started.job_id}"]`);
    await expect(row).toHaveAttribute('data-status', 'processing', { timeout: 30_000 });
    await expect
      .poll(async () => Number(await row.locator('[role="progressbar"]').getAttribute('aria-valuenow')), {
        timeout: 20_000
      })
      .toBeGreaterThan(0);

    // Cancelling the confirmation keeps it running.
    await row.getByTestId('syft-job-kill').click();
    const dialog = page.locator('.jp-Dialog');
    await expect(dialog).toContainText('Kill job slow_means?');
    await expect(dialog).toContainText('Dana Scientist');
    await keepScreenshot(page.locator('.jp-Dialog-content'), testInfo, 'jobs-kill-confirmation');
    await dialog.getByRole('button', { name: 'Keep it running' }).click();
    await expect(dialog).toHaveCount(0);
    expect(helper(baseURL!, 'job-status', '--id', started.job_id).status).toBe('processing');

    await page.theme.setDarkTheme();
    await keepScreenshot(view, testInfo, 'jobs-running-progress-dark');
    await page.theme.setLightTheme();

    await row.getByTestId('syft-job-kill').click();
    await page.locator('.jp-Dialog').getByRole('button', { name: 'Kill' }).click();
    await expect(row).toHaveCount(0, { timeout: 30_000 });
    await view.getByTestId('syft-jobs-state-finished').click();
    const stopped = view.locator(`[data-testid="syft-job"][data-job-id="${started.job_id}"]`);
    await expect(stopped).toHaveAttribute('data-status', 'interrupted', { timeout: 30_000 });
    await expect(stopped.getByTestId('syft-job-error')).toContainText('job.kill()');
    expect(helper(baseURL!, 'job-status', '--id', started.job_id).status).toBe('interrupted');
  });
});
