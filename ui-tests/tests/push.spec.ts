/**
 * The push channel in a real JupyterLab: a scientist's request (made with the Python client,
 * helpers/datasite.py) reaches the owner's sidebar at once, with a notification and the
 * pending count on the sidebar's icon, faster than the old 5 s poll could.
 */
import { expect, test } from '@jupyterlab/galata';
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

test('a new request is pushed: listed, announced and counted on the icon', async ({
  page,
  baseURL
}) => {
  await page.sidebar.openTab(SIDEBAR_ID);
  const sidebar = page.locator(`#${SIDEBAR_ID}`);
  await expect(sidebar).toBeVisible();
  await sidebar.getByTestId('syft-tab-requests').click();
  await expect(sidebar.getByTestId('syft-live-status')).toContainText(
    'Live updates on'
  );

  const created = datasite(baseURL!, 'request', '--tag', `push-${Date.now()}`);
  const item = sidebar.locator(
    `[data-testid="syft-request"][data-request-id="${created.request_id}"]`
  );
  // Pushed: well under the 5 s the sidebar used to poll at (the helper's own exit included).
  await expect(item).toBeVisible({ timeout: 4_000 });
  await expect(
    page.getByRole('alert').filter({ hasText: 'New code request' })
  ).toBeVisible();
  const tab = page.locator(`.lm-TabBar-tab[data-id="${SIDEBAR_ID}"]`);
  await expect(tab).toHaveAttribute('data-syft-pending', /^[1-9][0-9]*$/);
  await tab.screenshot({ path: test.info().outputPath('badge.png') });
});
