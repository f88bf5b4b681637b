/**
 * The sidebar's tabs are a WAI-ARIA tablist: one tab in the Tab order, arrow keys, Home and
 * End move and select, and the panel is labelled by the selected tab.
 */
import React from 'react';
import { act } from 'react-dom/test-utils';

import { SyftSidebar } from '../components/SyftSidebar';
import { disposeModels, FakeServer, newModel } from './fixtures';
import { mountEach } from './dom';

const dom = mountEach(disposeModels);

function tabs(): HTMLElement[] {
  return Array.from(
    dom.container.querySelectorAll<HTMLElement>('[role="tab"]')
  );
}

function selected(): string[] {
  return tabs()
    .filter(tab => tab.getAttribute('aria-selected') === 'true')
    .map(tab => tab.dataset.testid ?? '');
}

async function press(key: string): Promise<void> {
  await act(async () => {
    (document.activeElement as HTMLElement).dispatchEvent(
      new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true })
    );
  });
}

describe('the sidebar tablist', () => {
  it('moves the selection and focus with the arrow keys, Home and End', async () => {
    const { model } = newModel(new FakeServer().withLocalDatasite());
    await model.refresh();
    await act(async () => {
      dom.root.render(
        <SyftSidebar
          model={model}
          onOpenRequest={jest.fn()}
          onNewNotebook={jest.fn()}
        />
      );
    });
    const list = dom.container.querySelector('[role="tablist"]')!;
    expect(list.getAttribute('aria-label')).toBe('Datasite sections');
    // The owner sees four tabs; only the selected one is in the Tab order.
    expect(tabs().map(tab => tab.dataset.testid)).toEqual([
      'syft-tab-datasets',
      'syft-tab-projects',
      'syft-tab-requests',
      'syft-tab-outputs'
    ]);
    const panel = dom.container.querySelector('[role="tabpanel"]')!;
    const check = (testid: string) => {
      expect(selected()).toEqual([testid]);
      const tab = dom.container.querySelector<HTMLElement>(
        `[data-testid="${testid}"]`
      )!;
      expect(document.activeElement).toBe(tab);
      expect(tabs().map(t => t.tabIndex)).toEqual(
        tabs().map(t => (t === tab ? 0 : -1))
      );
      expect(panel.getAttribute('aria-labelledby')).toBe(tab.id);
      for (const t of tabs()) {
        expect(t.getAttribute('aria-controls')).toBe(panel.id);
      }
    };

    tabs()[0].focus();
    expect(selected()).toEqual(['syft-tab-datasets']);
    await press('ArrowRight');
    check('syft-tab-projects');
    await press('End');
    check('syft-tab-outputs');
    await press('ArrowRight');
    check('syft-tab-datasets');
    await press('ArrowLeft');
    check('syft-tab-outputs');
    await press('Home');
    check('syft-tab-datasets');
    // Other keys do nothing.
    await press('ArrowDown');
    check('syft-tab-datasets');
  });
});
