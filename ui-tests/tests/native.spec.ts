/**
 * The Syft sidebar as a native JupyterLab citizen (#16 item 9): Launcher cards, palette
 * commands, a settings schema applied live, a keyboard tablist and a labelled sidebar icon.
 * Requests are made with the Python client (helpers/datasite.py); the galata user is the
 * Datasite's owner.
 */
import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import { Locator, Page } from '@playwright/test';
import { execFileSync } from 'child_process';
import * as path from 'path';

const SIDEBAR_ID = 'jupyter-syft-sidebar';
const PYTHON = process.env.SYFT_PYTHON || 'python';
const HELPER = path.resolve(__dirname, '..', 'helpers', 'datasite.py');
const SHOTS = path.resolve(__dirname, '..', 'screenshots', 'native');
const API = 'syft/lab/api/v1';
const CATEGORY = 'Syft Datasite';

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

async function execute(
  page: Page,
  command: string,
  args: Record<string, unknown> = {}
): Promise<void> {
  await page.evaluate(
    ({ command, args }) =>
      (window as any).jupyterapp.commands.execute(command, args),
    { command, args }
  );
}

/** The ids of the pending requests, oldest first (all pages). */
async function pendingIds(page: Page, baseURL: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const query: string =
      `status=pending&order=oldest&limit=100` +
      (cursor ? `&cursor=${encodeURIComponent(cursor)}` : '');
    const answer = await page.request.get(
      `${baseURL}/${API}/requests?${query}`
    );
    expect(answer.ok()).toBe(true);
    const body = await answer.json();
    ids.push(...body.items.map((item: { id: string }) => item.id));
    cursor = body.next_cursor;
  } while (cursor);
  return ids;
}

/** Open the palette, search `query`; returns the palette. */
async function searchPalette(page: Page, query: string): Promise<Locator> {
  await execute(page, 'apputils:activate-command-palette');
  const palette = page.locator('#command-palette');
  const input = palette.locator('.lm-CommandPalette-input');
  await expect(input).toBeVisible();
  await input.fill(query);
  return palette;
}

/** The new-request notification setting as the settings registry has saved it. */
function savedNewRequestsSetting(
  page: IJupyterLabPageFixture
): Promise<unknown> {
  return page.evaluate(async () => {
    const answer = await fetch('/lab/api/settings/jupyter-syft:plugin').then(
      r => r.json()
    );
    return answer.settings?.notifications?.newRequests;
  });
}

test.describe('Syft Datasite, native to JupyterLab', () => {
  test('the sidebar icon is labelled and carries the pending count', async ({
    page,
    baseURL
  }) => {
    const tab = page.locator(
      `.jp-SideBar .lm-TabBar-tab[data-id="${SIDEBAR_ID}"]`
    );
    // Named for assistive technology: the tab by its title, the panel as a region.
    await expect(
      page.getByRole('tab', { name: /^Syft Datasite/ }).first()
    ).toBeVisible();
    await expect(tab).toHaveAttribute('title', /^Syft Datasite/);
    await openSidebar(page);
    await expect(
      page.getByRole('region', { name: 'Syft Datasite', exact: true })
    ).toBeVisible();

    const before = (await pendingIds(page, baseURL!)).length;
    datasite(baseURL!, 'request', '--tag', `icon-${Date.now()}`);
    const count = String(Math.min(before + 1, 99));
    await expect(tab).toHaveAttribute('data-syft-pending', count, {
      timeout: 30_000
    });
    await expect(tab).toHaveAttribute(
      'title',
      new RegExp(`Syft Datasite: ${count} code requests? waiting for review`)
    );
    await expect(
      page.getByRole('tab', { name: /code requests? waiting for review/ })
    ).toBeVisible();
  });

  test('the sidebar tabs are a tablist the arrow keys, Home and End move through', async ({
    page
  }) => {
    const sidebar = await openSidebar(page);
    const tablist = sidebar.getByRole('tablist', { name: 'Datasite sections' });
    await expect(tablist).toBeVisible();
    const tabs = tablist.getByRole('tab');
    await expect(tabs).toHaveCount(4); // the owner sees Outputs too
    const panel = sidebar.getByRole('tabpanel');
    const names = ['datasets', 'projects', 'requests', 'outputs'];
    const tab = (name: string) => sidebar.getByTestId(`syft-tab-${name}`);

    /** `name` is selected, focused, the only tab in the Tab order, and labels the panel. */
    const expectSelected = async (name: string) => {
      await expect(tab(name)).toHaveAttribute('aria-selected', 'true');
      await expect(tab(name)).toBeFocused();
      for (const other of names) {
        await expect(tab(other)).toHaveAttribute(
          'tabindex',
          other === name ? '0' : '-1'
        );
        if (other !== name) {
          await expect(tab(other)).toHaveAttribute('aria-selected', 'false');
        }
        await expect(tab(other)).toHaveAttribute(
          'aria-controls',
          (await panel.getAttribute('id'))!
        );
      }
      await expect(panel).toHaveAttribute(
        'aria-labelledby',
        (await tab(name).getAttribute('id'))!
      );
    };

    await tab('datasets').click();
    await expectSelected('datasets');
    await expect(panel.getByTestId('syft-dataset').first()).toBeVisible();

    await page.keyboard.press('ArrowRight');
    await expectSelected('projects');
    await expect(panel.getByTestId('syft-dataset')).toHaveCount(0);

    await page.keyboard.press('End');
    await expectSelected('outputs');
    await page.keyboard.press('ArrowRight'); // wraps around
    await expectSelected('datasets');
    await page.keyboard.press('ArrowLeft'); // and back
    await expectSelected('outputs');
    await page.keyboard.press('Home');
    await expectSelected('datasets');
    await expect(panel.getByTestId('syft-dataset').first()).toBeVisible();

    // Tab leaves the tablist from the selected tab (one stop, not four).
    await page.keyboard.press('ArrowRight');
    await expectSelected('projects');
    await page.keyboard.press('Tab');
    for (const name of names) {
      await expect(tab(name)).not.toBeFocused();
    }
    await page.keyboard.press('Shift+Tab');
    await expect(tab('projects')).toBeFocused();
    await sidebar.screenshot({
      path: path.join(SHOTS, 'tablist-keyboard-focus.png')
    });
  });

  test('the Launcher has Syft Datasite cards: a connected notebook and the next review', async ({
    page,
    baseURL
  }) => {
    await execute(page, 'launcher:create');
    const launcher = page.locator('.jp-Launcher').last();
    const section = launcher.locator('.jp-Launcher-section', {
      has: page.locator('.jp-Launcher-sectionTitle', { hasText: CATEGORY })
    });
    await expect(section).toBeVisible();
    const notebookCard = section.locator('.jp-LauncherCard', {
      hasText: 'Datasite Notebook'
    });
    const reviewCard = section.locator('.jp-LauncherCard', {
      hasText: 'Review Next Request'
    });
    await expect(notebookCard).toBeVisible();
    await expect(reviewCard).toBeVisible();
    await expect(notebookCard).toHaveAttribute(
      'title',
      /connects to the Datasite/
    );
    await section.scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(SHOTS, 'launcher-cards.png') });

    // The review card opens the oldest pending request.
    datasite(baseURL!, 'request', '--tag', `launcher-${Date.now()}`);
    const [oldest] = await pendingIds(page, baseURL!);
    await reviewCard.click();
    await expect(
      page.locator(`#jupyter-syft-request-${oldest}`).getByTestId('syft-review')
    ).toBeVisible({ timeout: 30_000 });

    // The notebook card: a new notebook whose first cell connects to this Datasite.
    await execute(page, 'launcher:create');
    await page
      .locator('.jp-Launcher')
      .last()
      .locator('.jp-LauncherCard', { hasText: 'Datasite Notebook' })
      .click();
    const notebook = page.locator('.jp-NotebookPanel:visible');
    await expect(notebook.locator('.jp-Cell').first()).toContainText(
      'client = sy.login_local()',
      { timeout: 30_000 }
    );
  });

  test('palette commands carry labels, captions and the Syft Datasite category; review next pending', async ({
    page,
    baseURL
  }) => {
    // Every command of the extension has a label and a caption (the palette's tooltip).
    const described = await page.evaluate(() => {
      const commands = (window as any).jupyterapp.commands;
      return (commands.listCommands() as string[])
        .filter(id => id.startsWith('jupyter-syft:'))
        .map(id => ({
          id,
          label: commands.label(id, {}),
          caption: commands.caption(id, {})
        }));
    });
    expect(described.map(c => c.id)).toEqual(
      expect.arrayContaining([
        'jupyter-syft:open-sidebar',
        'jupyter-syft:refresh',
        'jupyter-syft:new-connection-notebook',
        'jupyter-syft:review-next',
        'jupyter-syft:open-request',
        'jupyter-syft:open-output'
      ])
    );
    for (const command of described) {
      expect(command.label, command.id).not.toBe('');
      expect(command.caption, command.id).not.toBe('');
    }

    // In the palette, under their category (the modal palette hides the category headers:
    // read which header each item follows).
    const palette = await searchPalette(page, 'Syft');
    const items = palette.locator('.lm-CommandPalette-item');
    const labels = [
      'Show the Syft Datasite Sidebar',
      'Reload the Syft Datasite',
      'New Notebook Connected to the Syft Datasite',
      'Review Next Pending Request'
    ];
    for (const label of labels) {
      await expect(items.filter({ hasText: label })).toBeVisible();
    }
    const categories = await palette
      .locator('.lm-CommandPalette-content > li')
      .evaluateAll(rows => {
        const found: Record<string, string> = {};
        let header = '';
        for (const row of rows) {
          if (row.classList.contains('lm-CommandPalette-header')) {
            header = (row.textContent ?? '').trim();
          } else {
            const label = row.querySelector('.lm-CommandPalette-itemLabel');
            found[(label?.textContent ?? '').trim()] = header;
          }
        }
        return found;
      });
    for (const label of labels) {
      expect(categories[label], label).toBe(CATEGORY);
    }
    await page.keyboard.press('Escape');

    // "Review next pending request" opens the oldest pending request's review.
    const tag = `next-${Date.now()}`;
    datasite(baseURL!, 'request', '--tag', `${tag}-1`);
    datasite(baseURL!, 'request', '--tag', `${tag}-2`);
    const pending = await pendingIds(page, baseURL!);
    expect(pending.length).toBeGreaterThanOrEqual(2);
    await searchPalette(page, 'Review Next Pending');
    const item = page
      .locator('#command-palette .lm-CommandPalette-item')
      .filter({ hasText: 'Review Next Pending Request' });
    await expect(item).toBeVisible();
    await page.screenshot({
      path: path.join(SHOTS, 'palette-review-next.png')
    });
    await item.click();
    const review = page.locator(`#jupyter-syft-request-${pending[0]}`);
    await expect(review.getByTestId('syft-review')).toBeVisible({
      timeout: 30_000
    });
    await expect(
      page.locator('.jp-mod-current', { hasText: 'mean_worst_radius' }).first()
    ).toBeVisible();

    // With nothing pending, it says so instead of opening anything.
    for (const id of pending) {
      const deny = await page.request.post(
        `${baseURL}/${API}/requests/${id}/deny`,
        { data: { reason: 'Cleared by the native test.' } }
      );
      expect(deny.ok()).toBe(true);
    }
    expect(await pendingIds(page, baseURL!)).toEqual([]);
    const tabsBefore = await page
      .locator('[id^="jupyter-syft-request-"]')
      .count();
    await searchPalette(page, 'Review Next Pending');
    await page
      .locator('#command-palette .lm-CommandPalette-item')
      .filter({ hasText: 'Review Next Pending Request' })
      .click();
    await expect(
      page.locator('.Toastify__toast', { hasText: 'No pending requests' })
    ).toBeVisible();
    expect(await page.locator('[id^="jupyter-syft-request-"]').count()).toBe(
      tabsBefore
    );
  });

  test('settings: the poll interval applies at once; new-request notifications turn off and on', async ({
    page,
    baseURL
  }) => {
    test.setTimeout(240_000);
    const sidebar = await openSidebar(page);
    const content = sidebar.locator('.jp-syft-sidebar-content');
    await expect(content).toHaveAttribute('data-poll-interval', '5000');

    // The Settings Editor lists the plugin under its title, with the schema's fields.
    await execute(page, 'settingeditor:open', { query: CATEGORY });
    const editor = page
      .locator('.jp-SettingsPanel, .jp-SettingsEditor')
      .first();
    await expect(editor).toBeVisible();
    // JupyterLab's form shows the title as the field's heading.
    const form = page.getByRole('group', { name: CATEGORY, exact: true });
    await expect(
      form.getByRole('heading', { name: 'Fallback poll interval (seconds)' })
    ).toBeVisible({ timeout: 30_000 });
    const poll = form.getByRole('spinbutton');
    await expect(poll).toBeVisible({ timeout: 30_000 });
    await poll.fill('2');
    await poll.press('Tab');
    // Applied live to the model the sidebar shows (no reload).
    await expect(content).toHaveAttribute('data-poll-interval', '2000', {
      timeout: 15_000
    });
    await page.screenshot({
      path: path.join(SHOTS, 'settings-editor.png')
    });

    // New-request notifications off: a new request reaches the list, with no toast.
    const newRequests = page.getByLabel('New code requests (owners)');
    await expect(newRequests).toBeChecked();
    await newRequests.uncheck();
    await expect(newRequests).not.toBeChecked();
    // The settings are saved (the registry answers with the new value).
    await expect.poll(() => savedNewRequestsSetting(page)).toBe(false);
    await page.sidebar.openTab(SIDEBAR_ID);
    await sidebar.getByTestId('syft-tab-requests').click();
    const toasts = page.locator('.Toastify__toast', {
      hasText: /new code request/i
    });
    // Clear earlier toasts so only this request's could show.
    await execute(page, 'apputils:dismiss-notification').catch(() => undefined);
    await page.evaluate(() =>
      document
        .querySelectorAll(
          '.Toastify__toast button[aria-label="Hide notification"]'
        )
        .forEach(button => (button as HTMLElement).click())
    );
    await expect(toasts).toHaveCount(0);
    const quiet = datasite(baseURL!, 'request', '--tag', `quiet-${Date.now()}`);
    await expect(
      sidebar.locator(
        `[data-testid="syft-request"][data-request-id="${quiet.request_id}"]`
      )
    ).toBeVisible({ timeout: 30_000 });
    await expect(toasts).toHaveCount(0);

    // And on again: the next request is announced.
    await execute(page, 'settingeditor:open', { query: CATEGORY });
    await page.getByLabel('New code requests (owners)').check();
    // Saved before the request is made: a request that arrives first is rightly not announced.
    await expect.poll(() => savedNewRequestsSetting(page)).toBe(true);
    await page.sidebar.openTab(SIDEBAR_ID);
    const loud = datasite(baseURL!, 'request', '--tag', `loud-${Date.now()}`);
    await expect(
      sidebar.locator(
        `[data-testid="syft-request"][data-request-id="${loud.request_id}"]`
      )
    ).toBeVisible({ timeout: 30_000 });
    await expect(toasts.first()).toBeVisible({ timeout: 15_000 });
  });
});
