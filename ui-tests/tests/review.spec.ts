/**
 * The request review tab (#16) in a real JupyterLab hosting a seeded Datasite: closing and
 * reopening a tab, restoring tabs whose request is gone, the owner's decision (after the code,
 * confirmed with a summary, "approved by", revoke), the timeline, the toolbar, the diff's
 * contrast in light and dark themes, and what a scientist reads and does next. Requests are
 * made and decided with the Python client (helpers/review.py).
 */
import { expect, test } from '@jupyterlab/galata';
import { Locator, Page } from '@playwright/test';
import { execFileSync } from 'child_process';
import * as path from 'path';

const SIDEBAR_ID = 'jupyter-syft-sidebar';
const PYTHON = process.env.SYFT_PYTHON || 'python';
const HELPER = path.resolve(__dirname, '..', 'helpers', 'review.py');
const SCREENSHOTS = path.resolve(__dirname, '..', 'screenshots', 'review');

/** Run the Python helper against the JupyterLab under test; returns its JSON answer. */
function datasite(baseURL: string, ...args: string[]): Record<string, string> {
  const output = execFileSync(PYTHON, [HELPER, ...args, '--url', baseURL], {
    encoding: 'utf-8',
    timeout: 120_000
  });
  const lines = output.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

async function openSidebar(page: Page): Promise<Locator> {
  await page.sidebar.openTab(SIDEBAR_ID);
  const sidebar = page.locator(`#${SIDEBAR_ID}`);
  await expect(sidebar).toBeVisible();
  return sidebar;
}

function requestItem(sidebar: Locator, id: string): Locator {
  return sidebar.locator(
    `[data-testid="syft-request"][data-request-id="${id}"]`
  );
}

/** Open a request's review from the sidebar's Requests tab; returns the tab's widget. */
async function openReview(page: Page, id: string): Promise<Locator> {
  const sidebar = await openSidebar(page);
  await sidebar.getByTestId('syft-tab-requests').click();
  const item = requestItem(sidebar, id);
  await expect(item).toBeVisible({ timeout: 30_000 }); // the model polls every 5 s
  await item.getByTestId('syft-request-open').click();
  const review = page.locator(`#jupyter-syft-request-${id}`);
  await expect(review.getByTestId('syft-code')).toBeVisible();
  return review;
}

/**
 * Reload the page as a user would (Galata's page.reload() waits for a Launcher tab, which a
 * restored layout need not have).
 */
async function reload(page: Page): Promise<void> {
  const loaded = page.waitForEvent('load');
  await page.evaluate(() => window.location.reload());
  await loaded;
  await page.locator('#jupyterlab-splash').waitFor({ state: 'detached' });
}

function tabOf(page: Page, id: string): Locator {
  return page.locator(
    `.lm-DockPanel-tabBar .lm-TabBar-tab[data-id="jupyter-syft-request-${id}"]`
  );
}

/**
 * The WCAG contrast ratio of the first `kind` diff line's text against its background, as
 * the browser computed them (colours with alpha are blended over what lies beneath).
 */
async function diffContrast(review: Locator, kind: string): Promise<number> {
  const cell = review
    .locator(`tr[data-kind="${kind}"] td.jp-syft-diff-text`)
    .first();
  return cell.evaluate(node => {
    type RGBA = [number, number, number, number];
    const parse = (value: string): RGBA => {
      const srgb = value.match(
        /^color\(srgb ([\d.e-]+) ([\d.e-]+) ([\d.e-]+)(?: \/ ([\d.e-]+))?\)$/
      );
      if (srgb) {
        return [
          +srgb[1] * 255,
          +srgb[2] * 255,
          +srgb[3] * 255,
          srgb[4] === undefined ? 1 : +srgb[4]
        ];
      }
      const rgb = value.match(
        /^rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)$/
      );
      if (!rgb) {
        throw new Error(`Unknown colour ${value}`);
      }
      return [+rgb[1], +rgb[2], +rgb[3], rgb[4] === undefined ? 1 : +rgb[4]];
    };
    const over = (top: RGBA, below: RGBA): RGBA => [
      top[0] * top[3] + below[0] * (1 - top[3]),
      top[1] * top[3] + below[1] * (1 - top[3]),
      top[2] * top[3] + below[2] * (1 - top[3]),
      1
    ];
    // The background: the first opaque-enough one up the tree, blended downwards.
    const layers: RGBA[] = [];
    for (let el: Element | null = node; el; el = el.parentElement) {
      const colour = parse(getComputedStyle(el).backgroundColor);
      if (colour[3] > 0) {
        layers.push(colour);
        if (colour[3] >= 1) {
          break;
        }
      }
    }
    let background: RGBA = [255, 255, 255, 1];
    for (const layer of layers.reverse()) {
      background = over(layer, background);
    }
    const text = over(parse(getComputedStyle(node).color), background);
    const luminance = (c: RGBA): number => {
      const [r, g, b] = c.slice(0, 3).map(v => {
        const s = v / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      });
      return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const [l1, l2] = [luminance(text), luminance(background)].sort(
      (a, b) => b - a
    );
    return (l1 + 0.05) / (l2 + 0.05);
  });
}

test.describe('Request review tab', () => {
  test('closing a review tab disposes it; the sidebar opens it again', async ({
    page,
    baseURL
  }) => {
    const created = datasite(
      baseURL!,
      'request',
      '--tag',
      `reopen-${Date.now()}`
    );
    const review = await openReview(page, created.request_id);
    const tab = tabOf(page, created.request_id);
    await expect(tab).toContainText('Request: mean_worst_radius');

    // The toolbar: labelled buttons.
    const toolbar = review.locator('.jp-Toolbar');
    await expect(toolbar).toHaveAttribute('aria-label', 'Code request actions');
    for (const label of ['Refresh', 'Run on mock', 'Open in notebook']) {
      await expect(toolbar.getByText(label, { exact: true })).toBeVisible();
    }

    await tab.locator('.lm-TabBar-tabCloseIcon').click();
    // Disposed, not just hidden: nothing of it is left in the page.
    await expect(review).toHaveCount(0);
    await expect(tab).toHaveCount(0);

    const again = await openReview(page, created.request_id);
    await expect(again.getByTestId('syft-review')).toHaveAttribute(
      'data-request-id',
      created.request_id
    );
    await expect(tabOf(page, created.request_id)).toHaveCount(1);

    // A second click only activates the one tab.
    const sidebar = page.locator(`#${SIDEBAR_ID}`);
    await requestItem(sidebar, created.request_id)
      .getByTestId('syft-request-open')
      .click();
    await expect(tabOf(page, created.request_id)).toHaveCount(1);
  });

  test("the owner's decision: after the code, confirmed, signed, revocable", async ({
    page,
    baseURL
  }) => {
    const first = datasite(baseURL!, 'request', '--tag', `first-${Date.now()}`);
    const second = datasite(
      baseURL!,
      'request',
      '--tag',
      `second-${Date.now()}`
    );
    expect(first.status).toBe('PENDING');
    const review = await openReview(page, second.request_id);
    await page.setViewportSize({ width: 1440, height: 900 });

    // The decision comes after the code, the findings and the diff.
    const boxes = await Promise.all(
      [
        'syft-code-section',
        'syft-findings',
        'syft-diff',
        'syft-timeline',
        'syft-decision'
      ].map(async id => (await review.getByTestId(id).boundingBox())!.y)
    );
    expect([...boxes].sort((a, b) => a - b)).toEqual(boxes);

    // The diff: + and - in the gutter, a summary, and readable colours.
    const diff = review.getByTestId('syft-diff');
    await expect(
      diff.locator('tr[data-kind="added"] .jp-syft-diff-mark')
    ).toContainText('+');
    await expect(
      diff.locator('tr[data-kind="removed"] .jp-syft-diff-mark')
    ).toContainText('-');
    await expect(diff.getByTestId('syft-diff-summary')).toHaveText(
      '1 line added, 1 removed'
    );
    for (const kind of ['added', 'removed']) {
      expect(await diffContrast(review, kind)).toBeGreaterThanOrEqual(4.5);
    }

    // Run on mock from the toolbar.
    await review
      .locator('[data-command="jupyter-syft:review-run-on-mock"]')
      .click();
    await expect(review.getByTestId('syft-mock-execution')).toHaveAttribute(
      'data-ok',
      'true',
      {
        timeout: 90_000
      }
    );

    // Approve asks first, with a summary; cancel changes nothing.
    await review.getByTestId('syft-approve').click();
    const dialog = page.locator('.jp-Dialog');
    await expect(dialog).toContainText('Approve mean_worst_radius?');
    const summary = dialog.getByTestId('syft-confirm-summary');
    await expect(summary).toContainText('Static analysis found');
    await expect(summary).toContainText('A resubmission');
    await expect(summary).toContainText(
      'BC Features (Breast Cancer Wisconsin)'
    );
    await page.screenshot({
      path: path.join(SCREENSHOTS, 'approve-confirmation-light.png')
    });
    await dialog.locator('.jp-mod-reject').click();
    await expect(dialog).toHaveCount(0);
    expect(datasite(baseURL!, 'status', '--id', second.request_id).status).toBe(
      'PENDING'
    );

    await review.getByTestId('syft-approve').click();
    await page.locator('.jp-Dialog .jp-mod-accept').click();
    const decided = review.getByTestId('syft-decided');
    await expect(decided).toContainText('Approved by');
    await expect(decided).toContainText('info@openmined.org');
    await expect(review.getByTestId('syft-approve')).toHaveCount(0);
    const status = datasite(baseURL!, 'status', '--id', second.request_id);
    expect(status.status).toBe('APPROVED');
    expect(status.decided).toContain('info@openmined.org');

    // The timeline: submitted, mock run, decision, by whom.
    const timeline = review.getByTestId('syft-timeline');
    await expect(
      timeline.locator('[data-action="request.approved"]')
    ).toContainText('info@openmined.org approved the request', {
      timeout: 15_000
    });
    await expect(
      timeline.locator('[data-action="request.create"]')
    ).toContainText(
      'dana@uni.example asked to run it on private data (a resubmission'
    );
    await expect(
      timeline.locator('[data-action="code.run"]').first()
    ).toContainText('ran it on the mocks');
    await review
      .getByTestId('syft-review')
      .evaluate(node => node.scrollIntoView());
    await review.getByTestId('syft-diff').scrollIntoViewIfNeeded();
    await page.screenshot({
      path: path.join(SCREENSHOTS, 'review-approved-light.png')
    });

    // Dark theme: the diff stays readable.
    await page.theme.setDarkTheme();
    for (const kind of ['added', 'removed']) {
      expect(await diffContrast(review, kind)).toBeGreaterThanOrEqual(4.5);
    }
    await review.getByTestId('syft-diff').scrollIntoViewIfNeeded();
    await page.screenshot({
      path: path.join(SCREENSHOTS, 'review-approved-dark.png')
    });

    // Revoke: needs a reason, asks first, and the scientist can no longer run it.
    const revoke = review.getByTestId('syft-revoke');
    await expect(revoke).toBeDisabled();
    await review
      .getByTestId('syft-revoke-reason')
      .fill('Consent for this cohort was withdrawn.');
    await revoke.click();
    await expect(page.locator('.jp-Dialog')).toContainText(
      'can no longer run it'
    );
    await page.locator('.jp-Dialog .jp-mod-accept').click();
    await expect(decided).toContainText('Denied by');
    await expect(decided).toContainText(
      'Consent for this cohort was withdrawn.'
    );
    await expect(
      timeline.locator('[data-action="request.revoked"]')
    ).toContainText('revoked the approval', { timeout: 15_000 });
    await review.getByTestId('syft-decided').scrollIntoViewIfNeeded();
    await page.screenshot({
      path: path.join(SCREENSHOTS, 'review-revoked-dark.png')
    });
    expect(datasite(baseURL!, 'status', '--id', second.request_id).status).toBe(
      'REJECTED'
    );
  });

  test('a scientist reads who decided and why, and gets the code that runs it', async ({
    page,
    baseURL,
    context
  }) => {
    const approved = datasite(
      baseURL!,
      'request',
      '--tag',
      `sci-ok-${Date.now()}`
    );
    const denied = datasite(
      baseURL!,
      'request',
      '--tag',
      `sci-no-${Date.now()}`
    );
    datasite(baseURL!, 'decide', '--id', approved.request_id, '--approve');
    datasite(
      baseURL!,
      'decide',
      '--id',
      denied.request_id,
      '--deny',
      'Aggregate per diagnosis first.'
    );
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], {
      origin: baseURL!
    });

    // The sidebar logs into this same Datasite as the scientist.
    const sidebar = await openSidebar(page);
    await sidebar.getByTestId('syft-connect').click();
    const form = sidebar.getByTestId('syft-connect-form');
    await form.getByTestId('syft-connect-url').fill(baseURL!);
    await form.getByTestId('syft-connect-email').fill('dana@uni.example');
    await form.getByTestId('syft-connect-password').fill('pw-dana-123');
    await form.getByTestId('syft-connect-submit').click();
    await expect(sidebar.getByTestId('syft-whoami')).toContainText(
      'DATA_SCIENTIST'
    );

    // The sidebar's rows say who decided, and why a request was denied.
    await sidebar.getByTestId('syft-tab-requests').click();
    const deniedRow = requestItem(sidebar, denied.request_id).getByTestId(
      'syft-request-decided'
    );
    await expect(deniedRow).toContainText(
      'Denied: Aggregate per diagnosis first.',
      { timeout: 30_000 }
    );
    await expect(deniedRow).toHaveAttribute(
      'title',
      /Denied by .* at .*: Aggregate per diagnosis first\./
    );
    await expect(
      requestItem(sidebar, approved.request_id).getByTestId('syft-request-decided')
    ).toContainText('Approved by');
    await sidebar.screenshot({
      path: path.join(SCREENSHOTS, 'scientist-sidebar-decisions-light.png')
    });

    const no = await openReview(page, denied.request_id);
    await expect(no.getByTestId('syft-decided')).toContainText(
      'Aggregate per diagnosis first.'
    );
    await expect(no.getByTestId('syft-decided')).toContainText('Denied by');
    await expect(no.getByTestId('syft-decision')).toHaveCount(0);

    const ok = await openReview(page, approved.request_id);
    await expect(ok.getByTestId('syft-decided')).toContainText('Approved by');
    await expect(ok.getByTestId('syft-approve')).toHaveCount(0);
    const snippet = ok.getByTestId('syft-run-snippet');
    await expect(snippet).toContainText(
      'data = client.datasets["Breast Cancer Wisconsin"].assets["BC Features"]'
    );
    await expect(snippet).toContainText(
      'result = client.code.mean_worst_radius(data=data)'
    );
    await ok.getByTestId('syft-copy-snippet').click();
    await expect(ok.getByTestId('syft-copied')).toBeVisible();
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    expect(copied).toContain('client.code.mean_worst_radius(data=data)');
    await ok.getByTestId('syft-next-step').scrollIntoViewIfNeeded();
    await page.screenshot({
      path: path.join(SCREENSHOTS, 'scientist-approved-next-step-light.png')
    });

    await ok.getByTestId('syft-open-notebook').click();
    const cell = page.locator('.jp-NotebookPanel .jp-Cell').first();
    await expect(cell).toContainText('sy.login(url=');
    await expect(cell).toContainText('dana@uni.example');
    await expect(cell).toContainText(
      'client.code.mean_worst_radius(data=data)'
    );
    await page.notebook.close(true);

    await sidebar.getByTestId('syft-disconnect').click();
  });
  test('runs open to their result, from the runs and the timeline', async ({
    page,
    baseURL
  }) => {
    // Release mode "checked": the private run's output is held for review.
    const held = datasite(baseURL!, 'held-output', '--tag', `run-${Date.now()}`);
    const review = await openReview(page, held.request_id);
    const run = review
      .getByTestId('syft-runs')
      .locator('[data-testid="syft-run-output"][data-state="held"]');
    await expect(run).toBeVisible();
    await run.getByTestId('syft-run-open-output').click();
    const output = page.locator(`#jupyter-syft-output-${held.execution_id}`);
    await expect(output).toBeVisible();

    await review.page().locator(`.lm-TabBar-tab[data-id="jupyter-syft-request-${held.request_id}"]`).click();
    const entry = review
      .getByTestId('syft-timeline')
      .locator('[data-action="code.run"]', { hasText: 'ran it on private data' });
    await expect(entry).toContainText('dana@uni.example');
    await output.page().locator(`.lm-TabBar-tab[data-id="jupyter-syft-output-${held.execution_id}"] .lm-TabBar-tabCloseIcon`).click();
    await expect(output).toHaveCount(0);
    await entry.getByTestId('syft-timeline-open-output').click();
    await expect(page.locator(`#jupyter-syft-output-${held.execution_id}`)).toBeVisible();
  });
});

test.describe('Restoring review tabs', () => {
  // The real workspace, saved by Jupyter Server: Galata's in-memory one only ever adds keys,
  // so it cannot show that a gone tab is forgotten.
  test.use({ mockState: false });

  test('after a reload, a tab whose request is gone is closed with a message', async ({
    page,
    baseURL
  }) => {
    const created = datasite(
      baseURL!,
      'request',
      '--tag',
      `restore-${Date.now()}`
    );
    const gone = 'no-such-request-0000';
    await openReview(page, created.request_id);
    // A tab for a request the Datasite does not have (as after a reset Datasite).
    await page.evaluate(async id => {
      await window.jupyterapp.commands.execute('jupyter-syft:open-request', {
        id
      });
    }, gone);
    const goneReview = page.locator(`#jupyter-syft-request-${gone}`);
    await expect(goneReview.getByTestId('syft-error')).toBeVisible();
    await expect(tabOf(page, gone)).toHaveCount(1);
    // Let the layout be saved before reloading (the workspace is mocked in memory).
    await page.waitForTimeout(1500);

    await reload(page);
    await expect(
      page.getByText(
        `The code request ${gone} is no longer on this Datasite: its review tab was closed.`
      )
    ).toBeVisible({ timeout: 30_000 });
    await expect(tabOf(page, gone)).toHaveCount(0);
    await expect(page.locator(`#jupyter-syft-request-${gone}`)).toHaveCount(0);
    // The tab whose request exists is back, working.
    const restored = page.locator(
      `#jupyter-syft-request-${created.request_id}`
    );
    await expect(restored.getByTestId('syft-code')).toContainText(
      'def mean_worst_radius'
    );

    // And the gone one is forgotten: another reload says nothing of it.
    await page.waitForTimeout(1500);
    await reload(page);
    await expect(restored.getByTestId('syft-code')).toBeVisible({
      timeout: 30_000
    });
    await expect(page.getByText('is no longer on this Datasite')).toHaveCount(
      0
    );

    // Leave the (real) workspace as found: no tabs.
    await page.evaluate(async () => {
      await window.jupyterapp.commands.execute('application:close-all');
    });
    await page.waitForTimeout(1500);
  });
});
