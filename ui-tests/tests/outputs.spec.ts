/**
 * Output review in a real JupyterLab hosting a seeded Datasite: a scientist's run whose small
 * cells fail the disclosure checks is held (helpers/datasite.py held-output); the owner finds
 * it in the Outputs tab, sees the failing cells marked, releases it after the confirmation,
 * and the Python client sees it released.
 */
import { expect, test } from '@jupyterlab/galata';
import { Locator, TestInfo } from '@playwright/test';
import { execFileSync } from 'child_process';
import * as path from 'path';

const SIDEBAR_ID = 'jupyter-syft-sidebar';
const PYTHON = process.env.SYFT_PYTHON || 'python';
const HELPER = path.resolve(__dirname, '..', 'helpers', 'datasite.py');

function datasite(baseURL: string, ...args: string[]): Record<string, string> {
  const output = execFileSync(PYTHON, [HELPER, ...args, '--url', baseURL], {
    encoding: 'utf-8',
    timeout: 120_000
  });
  const lines = output.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

async function keepScreenshot(
  target: Locator,
  testInfo: TestInfo,
  name: string
): Promise<void> {
  const file = testInfo.outputPath(`${name}.png`);
  await target.screenshot({ path: file });
  await testInfo.attach(name, { path: file, contentType: 'image/png' });
}

test('the owner reviews a held output and releases it after confirming', async ({
  page,
  baseURL
}, testInfo) => {
  const held = datasite(baseURL!, 'held-output', '--tag', `held-${Date.now()}`);
  expect(held.outcome).toBe('fail');

  await page.sidebar.openTab(SIDEBAR_ID);
  const sidebar = page.locator(`#${SIDEBAR_ID}`);
  await sidebar.getByTestId('syft-tab-outputs').click();
  const row = sidebar.locator(
    `[data-testid="syft-output"][data-execution-id="${held.execution_id}"]`
  );
  await expect(row).toBeVisible({ timeout: 30_000 }); // the model polls every 5 s
  await expect(sidebar.getByTestId('syft-held-count')).toBeVisible();
  await expect(row.getByTestId('syft-outcome')).toHaveAttribute('data-outcome', 'fail');
  await expect(row.getByTestId('syft-release-state')).toHaveAttribute('data-state', 'held');
  await keepScreenshot(sidebar, testInfo, 'sidebar-outputs');

  await row.getByTestId('syft-output-open').click();
  const view = page.locator(`#jupyter-syft-output-${held.execution_id}`);
  await expect(view.getByTestId('syft-output-review')).toBeVisible();
  await expect(view.getByTestId('syft-report')).toContainText('fail');
  const failing = view.getByTestId('syft-cell-fail');
  await expect(failing.first()).toBeVisible();
  await expect(failing.first()).toHaveAttribute('aria-label', /fails: /);
  await keepScreenshot(view, testInfo, 'output-review-held');

  await view.getByTestId('syft-release-comment').fill('Reviewed: bands only.');
  await view.getByTestId('syft-release').click();
  const dialog = page.locator('.jp-Dialog');
  await expect(dialog.getByTestId('syft-release-confirm')).toContainText('fail a check');
  await keepScreenshot(dialog.locator('.jp-Dialog-content'), testInfo, 'release-confirm');
  await dialog.locator('.jp-Dialog-button.jp-mod-warn').click();

  const decided = view.getByTestId('syft-output-decided');
  await expect(decided).toContainText('Released by');
  await expect(decided).toContainText('Reviewed: bands only.');
  await expect(view.getByTestId('syft-release')).toBeDisabled();
  await expect(view.getByTestId('syft-withhold')).toBeDisabled();
  await keepScreenshot(view, testInfo, 'output-review-released');

  const state = datasite(baseURL!, 'output', '--id', held.execution_id);
  expect(state.state).toBe('released');
  expect(state.note).toBe('Reviewed: bands only.');
});
