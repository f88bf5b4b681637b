/**
 * Triage at scale, in a real JupyterLab hosting a seeded Datasite, at a 250 px sidebar: 24
 * pending requests from 3 scientists in 2 project names (helpers/triage.py, Python client),
 * searched, sorted, grouped, denied in bulk (checked on the Datasite with the Python client);
 * tooltips on what the sidebar cuts off; two versions of one function told apart; empty states
 * with a next step; the Datasite selector's caret and label; a mock run's records as a table.
 * Screenshots: ui-tests/screenshots/triage/.
 */
import { expect, test } from '@jupyterlab/galata';
import { Locator, Page } from '@playwright/test';
import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as path from 'path';

const SIDEBAR_ID = 'jupyter-syft-sidebar';
const PYTHON = process.env.SYFT_PYTHON || 'python';
const HELPER = path.resolve(__dirname, '..', 'helpers', 'triage.py');
const DATASITE = path.resolve(__dirname, '..', 'helpers', 'datasite.py');
const SHOTS = path.resolve(__dirname, '..', 'screenshots', 'triage');
const WIDTH = 250;
/** The seeded scientists' email domain: other specs' requests may share the Datasite. */
const SCOPE = 'triage.example';

interface ISeeded {
  id: string;
  function: string;
  requester: string;
  project: string;
  version: number;
}

/** Run helpers/triage.py against the JupyterLab under test; its JSON answer. */
function triage(baseURL: string, ...args: string[]): any {
  const output = execFileSync(PYTHON, [HELPER, ...args, '--url', baseURL], {
    encoding: 'utf-8',
    timeout: 240_000
  });
  const lines = output.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

/** A second Datasite (helpers/datasite.py serve-remote) with a scientist account. */
function startRemote(): Promise<{
  process: ChildProcess;
  url: string;
  email: string;
  password: string;
}> {
  const child = spawn(PYTHON, [DATASITE, 'serve-remote'], {
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

async function stopRemote(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) {
    return;
  }
  const exited = new Promise<void>(resolve =>
    child.once('exit', () => resolve())
  );
  child.stdin?.end();
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

async function openSidebar(page: Page): Promise<Locator> {
  await page.sidebar.openTab(SIDEBAR_ID);
  await page.sidebar.setWidth(WIDTH);
  const sidebar = page.locator(`#${SIDEBAR_ID}`);
  await expect(sidebar).toBeVisible();
  const box = await sidebar.boundingBox();
  expect(Math.round(box!.width)).toBeLessThanOrEqual(WIDTH + 2);
  return sidebar;
}

async function shot(target: Locator, name: string): Promise<void> {
  await target.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

function rows(sidebar: Locator): Locator {
  return sidebar.locator('[data-testid="syft-request"]');
}

async function attrs(list: Locator, name: string): Promise<string[]> {
  return list.evaluateAll(
    (nodes, attr) => nodes.map(node => node.getAttribute(attr) ?? ''),
    name
  );
}

test.describe.configure({ mode: 'serial' });

test.describe('Request triage at 250 px', () => {
  test('the Datasite selector has a caret and a label', async ({
    page
  }) => {
    const sidebar = await openSidebar(page);
    // The Datasite selector: a label naming it, and JupyterLab's HTMLSelect caret.
    const select = sidebar.getByLabel('Datasite', { exact: true });
    await expect(select).toHaveAttribute('data-testid', 'syft-datasite-select');
    const caret = sidebar.locator('.jp-HTMLSelect.jp-syft-datasite-select svg');
    await expect(caret).toBeVisible();
    const caretBox = await caret.boundingBox();
    expect(caretBox!.width).toBeGreaterThan(4);

    await expect(select).toHaveAttribute('title', /Datasite shown: galata-datasite/);
    await shot(sidebar.locator('.jp-syft-datasite-bar'), 'datasite-selector-250px-light');
  });

  test("a scientist's empty requests say how to submit one, and open a connected notebook", async ({
    page
  }) => {
    const remote = await startRemote();
    try {
      const sidebar = await openSidebar(page);
      await sidebar.getByTestId('syft-connect').click();
      const form = sidebar.getByTestId('syft-connect-form');
      await form.getByTestId('syft-connect-url').fill(remote.url);
      await form.getByTestId('syft-connect-email').fill(remote.email);
      await form.getByTestId('syft-connect-password').fill(remote.password);
      await form.getByTestId('syft-connect-submit').click();
      await expect(sidebar.getByTestId('syft-whoami')).toContainText(
        'DATA_SCIENTIST'
      );

      await sidebar.getByTestId('syft-tab-projects').click();
      const projects = sidebar.getByTestId('syft-empty-projects');
      await expect(projects).toHaveAttribute('data-role', 'scientist');
      await expect(projects).toContainText('sy.Project(');
      await sidebar.getByTestId('syft-tab-requests').click();
      const empty = sidebar.getByTestId('syft-empty-requests');
      await expect(empty).toHaveAttribute('data-role', 'scientist');
      await expect(empty).toContainText('request_code_execution');
      await shot(sidebar, 'empty-requests-scientist-250px-light');
      await page.theme.setDarkTheme();
      await shot(sidebar, 'empty-requests-scientist-250px-dark');
      await page.theme.setLightTheme();

      // The next step's button opens a notebook whose first cell logs into this Datasite.
      await empty.getByTestId('syft-empty-requests-action').click();
      const cell = page.locator('.jp-NotebookPanel .jp-Cell').first();
      await expect(cell).toContainText('import jupyter_syft as sy');
      await expect(cell).toContainText('sy.login(url=');
      await expect(cell).toContainText(remote.url);
      await page.notebook.close(true);
      await sidebar.getByTestId('syft-disconnect').click();
      await expect(sidebar.getByTestId('syft-whoami')).toContainText(
        'galata-datasite'
      );
    } finally {
      await stopRemote(remote.process);
    }
  });

  test('24 pending requests: tooltips, versions, search, sort, grouping, bulk deny', async ({
    page,
    baseURL
  }) => {
    const seeded: ISeeded[] = triage(baseURL!, 'seed').requests;
    expect(seeded).toHaveLength(24);
    expect(new Set(seeded.map(r => r.requester)).size).toBe(3);
    expect(new Set(seeded.map(r => r.project)).size).toBe(2);

    const sidebar = await openSidebar(page);
    await sidebar.getByTestId('syft-tab-requests').click();
    await sidebar.getByTestId('syft-refresh').click();
    const ours = sidebar.locator(
      `[data-testid="syft-request"][data-requester$="@${SCOPE}"]`
    );
    await expect(ours).toHaveCount(24);
    const pendingFilter = sidebar.getByTestId('syft-filter-pending');
    const pendingBefore = Number(
      /\((\d+)\)/.exec((await pendingFilter.textContent()) ?? '')![1]
    );
    expect(pendingBefore).toBeGreaterThanOrEqual(24);

    // Tooltips on what 250 px cuts off: the long name is really cut, and its tooltip says all.
    const ada = seeded.find(r => r.requester.startsWith('ada'))!;
    const adaRow = sidebar.locator(`[data-request-id="${ada.id}"]`);
    const requester = adaRow.getByTestId('syft-request-requester');
    const cut = await requester.evaluate(
      node => node.scrollWidth > node.clientWidth
    );
    expect(cut).toBe(true);
    await expect(requester).toHaveAttribute(
      'title',
      /Requested by Ada Lovelace-Byron of the Analytical Engine <ada\.lovelace@triage\.example>/
    );
    await expect(adaRow.getByTestId('syft-request-project')).toHaveAttribute(
      'title',
      'Project: Radius study of the Wisconsin nuclei'
    );
    // the row says "N min ago"; the tooltip gives the absolute time
    const time = adaRow.getByTestId('syft-request-time');
    await expect(time).toHaveText(/just now|min ago/);
    await expect(time).toHaveAttribute('title', /Requested .*\d{1,2}:\d{2}/);
    for (const row of await rows(sidebar).all()) {
      await expect(row.getByTestId('syft-request-requester')).toHaveAttribute(
        'title',
        /\S/
      );
      await expect(row.getByTestId('syft-request-function')).toHaveAttribute(
        'title',
        /\S/
      );
    }

    // Two versions of one function by one scientist: v1 and v2, different fingerprints.
    const versions = seeded.filter(
      r => r.function === 'mean_worst_radius' && r.requester === ada.requester
    );
    expect(versions).toHaveLength(2);
    const v1 = sidebar
      .locator(`[data-request-id="${versions.find(v => v.version === 1)!.id}"]`)
      .getByTestId('syft-version');
    const v2 = sidebar
      .locator(`[data-request-id="${versions.find(v => v.version === 2)!.id}"]`)
      .getByTestId('syft-version');
    await expect(v1).toHaveText('v1');
    await expect(v2).toHaveText('v2');
    await expect(v2).toHaveAttribute('aria-label', 'version 2, a resubmission');
    await expect(v2).toHaveAttribute(
      'title',
      /Version 2 of 2 .* submitted .*\d{1,2}:\d{2}/
    );
    expect(await v1.getAttribute('data-hash')).not.toBe(
      await v2.getAttribute('data-hash')
    );
    // Other scientists' functions of the same name are not versions of hers.
    for (const other of seeded.filter(
      r => r.function === 'mean_worst_radius' && r.requester !== ada.requester
    )) {
      await expect(
        sidebar
          .locator(`[data-request-id="${other.id}"]`)
          .getByTestId('syft-version')
      ).toHaveCount(0);
    }

    // Search narrows: to the seeded scientists (by email), then by function too.
    const search = sidebar.getByTestId('syft-triage-search');
    await search.fill(SCOPE);
    await expect(rows(sidebar)).toHaveCount(24);
    await expect(sidebar.getByTestId('syft-triage-note')).toHaveText(
      /^24 of \d+ requests match\.$/
    );
    await expect(sidebar.getByTestId('syft-version')).toHaveCount(2);
    await shot(sidebar, 'requests-24-pending-250px-light');
    await search.fill(`${SCOPE} texture`);
    await expect(rows(sidebar)).toHaveCount(12);
    for (const name of await attrs(rows(sidebar), 'data-function')) {
      expect(name).toContain('texture');
    }
    await expect(sidebar.getByTestId('syft-triage-note')).toHaveText(
      /^12 of \d+ requests match\.$/
    );
    await search.fill('chen radius');
    await expect(rows(sidebar)).toHaveCount(4);
    for (const who of await attrs(rows(sidebar), 'data-requester')) {
      expect(who).toBe('chen.wei@triage.example');
    }
    await search.fill('nobody-by-that-name');
    await expect(rows(sidebar)).toHaveCount(0);
    await expect(sidebar.getByTestId('syft-empty-search')).toBeVisible();
    await search.fill(SCOPE);
    await expect(rows(sidebar)).toHaveCount(24);

    // Sort orders: oldest first, newest first, by requester.
    const sort = sidebar.getByTestId('syft-triage-sort');
    await sort.selectOption('oldest');
    const oldest = await attrs(rows(sidebar), 'data-created');
    expect(oldest).toEqual([...oldest].sort());
    expect(oldest[0] < oldest[23]).toBe(true);
    await sort.selectOption('newest');
    const newest = await attrs(rows(sidebar), 'data-created');
    expect(newest).toEqual([...oldest].sort().reverse());
    await sort.selectOption('requester');
    const names = await rows(sidebar)
      .getByTestId('syft-request-requester')
      .allTextContents();
    expect(names).toEqual(
      [...names].sort((a, b) =>
        a.localeCompare(b, undefined, { sensitivity: 'base' })
      )
    );
    expect(names[0]).toContain('Ada');
    expect(names[23]).toBe('Chen Wei');

    // Grouping by scientist: 3 collapsible groups of 8.
    const group = sidebar.getByTestId('syft-triage-group');
    await group.selectOption('requester');
    const groups = sidebar.getByTestId('syft-group');
    await expect(groups).toHaveCount(3);
    expect(await attrs(groups, 'data-count')).toEqual(['8', '8', '8']);
    await expect(groups.first().getByTestId('syft-group-count')).toHaveText(
      '8 · 8 pending'
    );
    await groups.first().getByTestId('syft-group-toggle').click();
    await expect(
      groups.first().getByTestId('syft-group-toggle')
    ).toHaveAttribute('aria-expanded', 'false');
    await expect(rows(sidebar)).toHaveCount(16);
    await groups.first().getByTestId('syft-group-toggle').click();
    await expect(rows(sidebar)).toHaveCount(24);
    // ... and by project: 2 groups of 12 (each scientist's project of that name).
    await group.selectOption('project');
    await expect(groups).toHaveCount(2);
    expect(await attrs(groups, 'data-count')).toEqual(['12', '12']);
    expect(await attrs(groups, 'data-group')).toEqual([
      'Radius study of the Wisconsin nuclei',
      'Texture study'
    ]);
    await shot(sidebar, 'requests-grouped-by-project-250px-light');
    await group.selectOption('none');

    // Bulk deny: three of Ben's requests, one reason, after a confirmation listing them.
    await search.fill(`ben.okafor@${SCOPE}`);
    await expect(rows(sidebar)).toHaveCount(8);
    await sidebar.getByTestId('syft-triage-select').click();
    const bar = sidebar.getByTestId('syft-bulk-bar');
    await expect(bar).toBeVisible();
    const chosen = (await attrs(rows(sidebar), 'data-request-id')).slice(0, 3);
    for (const id of chosen) {
      await sidebar
        .locator(`[data-request-id="${id}"]`)
        .getByTestId('syft-request-check')
        .check();
    }
    await expect(bar.getByTestId('syft-bulk-count')).toHaveText('3 selected');
    // no reason: refused, with what to do
    await bar.getByTestId('syft-bulk-deny').click();
    await expect(bar.getByTestId('syft-bulk-error')).toContainText(
      'Say why you deny them'
    );
    const reason =
      'Per-feature statistics are covered by the released summary table.';
    await bar.getByTestId('syft-bulk-reason').fill(reason);
    await bar.getByTestId('syft-bulk-deny').click();
    const confirm = bar.getByTestId('syft-bulk-confirm');
    await expect(confirm.locator('li')).toHaveCount(3);
    await shot(sidebar, 'bulk-deny-confirm-250px-light');
    await confirm.getByTestId('syft-bulk-confirm-deny').click();
    await expect(bar.getByTestId('syft-bulk-result')).toHaveText(
      'Denied 3 requests.'
    );
    for (const id of chosen) {
      await expect(
        sidebar.locator(`[data-request-id="${id}"]`)
      ).toHaveAttribute('data-status', 'rejected');
    }
    await expect(pendingFilter).toHaveText(`Pending (${pendingBefore - 3})`);
    // On the Datasite, as the owner's Python client sees it:
    const statuses = triage(
      baseURL!,
      'statuses',
      '--ids',
      chosen.join(',')
    ).statuses;
    for (const id of chosen) {
      expect(statuses[id].status).toBe('REJECTED');
      expect(statuses[id].reason).toBe(reason);
    }
    const untouched = seeded.find(
      r => r.requester.startsWith('ben') && !chosen.includes(r.id)
    )!;
    expect(
      triage(baseURL!, 'statuses', '--ids', untouched.id).statuses[untouched.id]
        .status
    ).toBe('PENDING');
    await sidebar.getByTestId('syft-triage-select').click();
    await search.fill(SCOPE);

    // The dark theme, same 250 px sidebar.
    await page.theme.setDarkTheme();
    await expect(rows(sidebar)).toHaveCount(24);
    await shot(sidebar, 'requests-24-pending-250px-dark');
    await group.selectOption('requester');
    await shot(sidebar, 'requests-grouped-by-scientist-250px-dark');
    await group.selectOption('none');
    await page.theme.setLightTheme();
    await search.fill('');
  });

  test('a mock run returning records shows a table with its shape', async ({
    page,
    baseURL
  }) => {
    const made = triage(baseURL!, 'records');
    const sidebar = await openSidebar(page);
    await sidebar.getByTestId('syft-tab-requests').click();
    await sidebar.getByTestId('syft-refresh').click();
    const row = sidebar.locator(`[data-request-id="${made.id}"]`);
    await row.getByTestId('syft-request-open').click();
    const review = page.locator(`#jupyter-syft-request-${made.id}`);
    await expect(review.getByTestId('syft-review')).toBeVisible();
    await review.getByTestId('syft-run-mock').click();
    const result = review.getByTestId('syft-result-preview');
    await expect(result).toBeVisible({ timeout: 60_000 });
    await expect(result).toHaveAttribute('data-kind', 'dataframe');
    await expect(result.getByTestId('syft-result-shape')).toHaveText(
      '50 rows × 3 columns · first 20 shown'
    );
    await expect(result.locator('thead th')).toContainText([
      'mean radius',
      'mean texture',
      'worst radius'
    ]);
    await expect(result.locator('tbody tr')).toHaveCount(20);
    await expect(result).not.toContainText("{'mean radius'");
    await page.theme.setDarkTheme();
    await shot(
      review.getByTestId('syft-mock-result'),
      'mock-run-records-table-dark'
    );
    await page.theme.setLightTheme();
    await shot(
      review.getByTestId('syft-mock-result'),
      'mock-run-records-table-light'
    );
  });
});
