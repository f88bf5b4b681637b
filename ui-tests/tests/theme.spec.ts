/**
 * The sidebar in JupyterLab's light and dark themes and at a 250 px sidebar: screenshots kept
 * under ui-tests/screenshots/theme/, and the WCAG contrast of what it paints, measured
 * (helpers/contrast.ts): every text of its list items, badges, buttons, tabs and status
 * labels reaches 4.5:1 against its effective background in both themes.
 */
import { expect, test } from '@jupyterlab/galata';
import { Locator, Page } from '@playwright/test';
import { execFileSync } from 'child_process';
import * as path from 'path';

import {
  contrastRatio,
  effectiveBackground,
  failures,
  IColorSample,
  sample,
  sampleContrast
} from '../helpers/contrast';

const SIDEBAR_ID = 'jupyter-syft-sidebar';
const PYTHON = process.env.SYFT_PYTHON || 'python';
const HELPER = path.resolve(__dirname, '..', 'helpers', 'datasite.py');
const SHOTS = path.resolve(__dirname, '..', 'screenshots', 'theme');
const API = 'syft/lab/api/v1';

function datasite(baseURL: string, ...args: string[]): Record<string, string> {
  const output = execFileSync(PYTHON, [HELPER, ...args, '--url', baseURL], {
    encoding: 'utf-8',
    timeout: 120_000
  });
  const lines = output.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

async function setTheme(page: Page, theme: string): Promise<void> {
  await page.evaluate(
    name =>
      (window as any).jupyterapp.commands.execute('apputils:change-theme', {
        theme: name
      }),
    theme
  );
  await expect(page.locator('body')).toHaveAttribute(
    'data-jp-theme-name',
    theme
  );
  // The theme's stylesheet is applied once the variables change.
  await expect
    .poll(() =>
      page.evaluate(() =>
        getComputedStyle(document.body)
          .getPropertyValue('--jp-layout-color1')
          .trim()
      )
    )
    .toBe(theme === 'JupyterLab Dark' ? '#212121' : 'white');
}

async function openSidebar(page: Page): Promise<Locator> {
  await page.sidebar.openTab(SIDEBAR_ID);
  const sidebar = page.locator(`#${SIDEBAR_ID}`);
  await expect(sidebar).toBeVisible();
  return sidebar;
}

/** The left panel at `width` px (the split handle dragged), checked. */
async function setSidebarWidth(page: Page, width: number): Promise<void> {
  await page.sidebar.setWidth(width, 'left');
  const stack = page.locator('#jp-left-stack');
  await expect
    .poll(async () => Math.round((await stack.boundingBox())!.width))
    .toBeGreaterThanOrEqual(width - 3);
  expect(Math.round((await stack.boundingBox())!.width)).toBeLessThanOrEqual(
    width + 3
  );
}

/** The sidebar's text in groups that the issue names, each sampled. */
async function sampleSidebar(
  sidebar: Locator
): Promise<Record<string, IColorSample[]>> {
  return {
    header: await sample(sidebar.locator('.jp-syft-header'), true),
    tabs: await sample(sidebar.getByRole('tab'), true),
    badges: await sample(
      sidebar.locator('.jp-syft-pending-count, .jp-syft-tab-count')
    ),
    'list items': await sample(
      sidebar.locator('[data-testid="syft-request"]'),
      true
    ),
    'status labels': await sample(sidebar.getByTestId('syft-status')),
    buttons: await sample(sidebar.locator('button:visible'), true),
    'everything else': await sample(sidebar, true)
  };
}

/** The colours of the pending-count badge drawn on the sidebar's tab (its ::before). */
async function iconBadge(page: Page): Promise<IColorSample> {
  const tab = page.locator(
    `.jp-SideBar .lm-TabBar-tab[data-id="${SIDEBAR_ID}"]`
  );
  await expect(tab).toHaveAttribute('data-syft-pending', /\d+/);
  const [own] = await sample(tab);
  const before = await tab.evaluate(element => {
    const style = getComputedStyle(element, '::before');
    return {
      color: style.color,
      background: style.backgroundColor,
      fontSize: parseFloat(style.fontSize),
      fontWeight: Number(style.fontWeight) || 400,
      // '"3" / ""': the count, then its (empty) alternative text.
      content: (style.content.match(/^"([^"]*)"/) ?? ['', style.content])[1]
    };
  });
  const [text, background] = await page.evaluate(
    colors =>
      colors.map(color => {
        const canvas = document.createElement('canvas');
        canvas.width = canvas.height = 1;
        const context = canvas.getContext('2d')!;
        context.fillStyle = color;
        context.fillRect(0, 0, 1, 1);
        const d = context.getImageData(0, 0, 1, 1).data;
        return [d[0], d[1], d[2], d[3] / 255] as [
          number,
          number,
          number,
          number
        ];
      }),
    [before.color, before.background]
  );
  return {
    text,
    backgrounds: [background, ...own.backgrounds],
    opacity: own.opacity,
    fontSize: before.fontSize,
    fontWeight: before.fontWeight,
    label: before.content,
    where: 'sidebar tab ::before'
  };
}

test.describe('Syft sidebar themes', () => {
  test.describe.configure({ mode: 'serial' });

  test('the contrast helper measures as WCAG does', () => {
    expect(contrastRatio([0, 0, 0, 1], [255, 255, 255, 1])).toBeCloseTo(21, 5);
    expect(contrastRatio([118, 118, 118, 1], [255, 255, 255, 1])).toBeCloseTo(
      4.54,
      2
    );
    // 54% black text on white is rgb(117,117,117): 4.6:1.
    expect(
      sampleContrast({
        text: [0, 0, 0, 0.54],
        backgrounds: [],
        opacity: 1,
        fontSize: 13,
        fontWeight: 400,
        label: '',
        where: ''
      })
    ).toBeCloseTo(4.6, 1);
    // A half-transparent dark layer over white, under white text.
    expect(effectiveBackground([[0, 0, 0, 0.5]])).toEqual([
      127.5, 127.5, 127.5, 1
    ]);
    expect(
      failures([
        {
          text: [150, 150, 150, 1],
          backgrounds: [[255, 255, 255, 1]],
          opacity: 1,
          fontSize: 13,
          fontWeight: 400,
          label: 'grey',
          where: 'x'
        }
      ])
    ).toHaveLength(1);
  });

  test('light, dark and 250 px: screenshots and contrast of list items, badges, buttons and statuses', async ({
    page,
    baseURL
  }) => {
    test.setTimeout(300_000);
    // A pending, an approved and a denied request, so every status shows.
    const tag = `theme-${Date.now()}`;
    const pending = datasite(baseURL!, 'request', '--tag', `${tag}-p`);
    const approved = datasite(baseURL!, 'request', '--tag', `${tag}-a`);
    const denied = datasite(baseURL!, 'request', '--tag', `${tag}-d`);
    const approve = await page.request.post(
      `${baseURL}/${API}/requests/${approved.request_id}/approve`,
      { data: {} }
    );
    expect(approve.ok()).toBe(true);
    const deny = await page.request.post(
      `${baseURL}/${API}/requests/${denied.request_id}/deny`,
      { data: { reason: 'Please aggregate first.' } }
    );
    expect(deny.ok()).toBe(true);

    const sidebar = await openSidebar(page);
    await sidebar.getByTestId('syft-tab-requests').click();
    for (const id of [
      pending.request_id,
      approved.request_id,
      denied.request_id
    ]) {
      await expect(
        sidebar.locator(`[data-testid="syft-request"][data-request-id="${id}"]`)
      ).toBeVisible({ timeout: 30_000 });
    }
    for (const status of ['pending', 'approved', 'rejected']) {
      await expect(
        sidebar
          .locator(`[data-testid="syft-status"][data-status="${status}"]`)
          .first()
      ).toBeVisible();
    }
    await expect(sidebar.getByTestId('syft-pending-count')).toBeVisible();

    const report: string[] = [];
    for (const [theme, name] of [
      ['JupyterLab Light', 'light'],
      ['JupyterLab Dark', 'dark']
    ]) {
      await setTheme(page, theme);
      await page.mouse.move(0, 0); // no hover state in the pictures or the colours
      await sidebar.getByTestId('syft-tab-requests').click();
      await page.mouse.move(0, 0);
      await page.screenshot({
        path: path.join(SHOTS, `sidebar-requests-${name}.png`)
      });
      const groups = await sampleSidebar(sidebar);
      const told = new Set<string>(); // an element in two groups is told once
      for (const [group, samples] of Object.entries(groups)) {
        expect(samples.length, `${group} sampled in ${name}`).toBeGreaterThan(
          0
        );
        for (const failure of failures(samples)) {
          if (!told.has(failure)) {
            told.add(failure);
            report.push(`${name} / ${group}: ${failure}`);
          }
        }
      }
      // The pending count on the sidebar's icon (a ::before of its tab).
      const icon = await iconBadge(page);
      expect(icon.label).toMatch(/^\d+$/);
      for (const failure of failures([icon])) {
        report.push(`${name} / icon badge: ${failure}`);
      }
      // The datasets tab too (another list, its badges and buttons).
      await sidebar.getByTestId('syft-tab-datasets').click();
      await expect(sidebar.getByTestId('syft-dataset').first()).toBeVisible();
      await page.mouse.move(0, 0);
      await sidebar.screenshot({
        path: path.join(SHOTS, `sidebar-datasets-${name}.png`)
      });
      for (const failure of failures(await sample(sidebar, true))) {
        report.push(`${name} / datasets tab: ${failure}`);
      }

      // The default 250 px sidebar: the same lists must stay readable.
      await setSidebarWidth(page, 250);
      await sidebar.getByTestId('syft-tab-requests').click();
      // The tabs stay on one row, none cut off.
      const tops = await sidebar
        .getByRole('tab')
        .evaluateAll(tabs =>
          tabs.map(tab => Math.round(tab.getBoundingClientRect().top))
        );
      expect(tops.length).toBe(4);
      expect(new Set(tops).size).toBe(1);
      expect(
        await sidebar
          .getByRole('tablist')
          .evaluate(list => list.scrollWidth - list.clientWidth)
      ).toBeLessThanOrEqual(0);
      await page.mouse.move(0, 0);
      await page.screenshot({
        path: path.join(SHOTS, `sidebar-250px-requests-${name}.png`)
      });
      for (const failure of failures(await sample(sidebar, true))) {
        report.push(`${name} / 250 px: ${failure}`);
      }
      await setSidebarWidth(page, 400);
    }
    await setTheme(page, 'JupyterLab Light');
    expect(report, report.join('\n')).toEqual([]);
  });
  test('a held output: the Outputs tab and its review, in both themes', async ({
    page,
    baseURL
  }) => {
    test.setTimeout(300_000);
    const held = datasite(
      baseURL!,
      'held-output',
      '--tag',
      `theme-${Date.now()}`
    );
    const sidebar = await openSidebar(page);
    await sidebar.getByTestId('syft-tab-outputs').click();
    const row = sidebar.locator(
      `[data-testid="syft-output"][data-execution-id="${held.execution_id}"]`
    );
    await expect(row).toBeVisible({ timeout: 30_000 });
    await expect(row.getByTestId('syft-release-state')).toHaveAttribute(
      'data-state',
      'held'
    );
    await row.getByTestId('syft-output-open').click();
    const review = page
      .locator('.jp-syft-output-review-widget, [id^="jupyter-syft-output-"]')
      .first();
    await expect(review.locator('td.jp-syft-cell-fail').first()).toBeVisible({
      timeout: 30_000
    });

    const report: string[] = [];
    for (const [theme, name] of [
      ['JupyterLab Light', 'light'],
      ['JupyterLab Dark', 'dark']
    ]) {
      await setTheme(page, theme);
      await page.mouse.move(0, 0);
      await page.screenshot({
        path: path.join(SHOTS, `outputs-held-review-${name}.png`)
      });
      const states = await sample(row.getByTestId('syft-release-state'));
      expect(states.length).toBe(1);
      for (const [where, samples] of [
        ['outputs tab', await sample(sidebar, true)],
        ['release state', states],
        [
          'failing cells',
          await sample(review.locator('td.jp-syft-cell-fail'), true)
        ],
        ['output review', await sample(review, true)]
      ] as [string, IColorSample[]][]) {
        for (const failure of failures(samples)) {
          report.push(`${name} / ${where}: ${failure}`);
        }
      }
    }
    await setTheme(page, 'JupyterLab Light');
    expect([...new Set(report)], report.join('\n')).toEqual([]);
  });
});
