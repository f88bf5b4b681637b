/**
 * A fresh React mount point per test, for the view specs: `mountEach()` (called at the top of
 * a spec file or a describe block) mounts a container before each test and unmounts it after;
 * its helpers render into it, let pending promises run, find elements by data-testid, and
 * click and type as a user would.
 */
import React, { act } from 'react';
import { createRoot, Root } from 'react-dom/client';

(globalThis as any).IS_REACT_ACT_ENVIRONMENT = true;

export interface IMountPoint {
  /** This test's container (attached to the document). */
  readonly container: HTMLDivElement;
  /** This test's React root. */
  readonly root: Root;
  render(element: React.ReactElement): Promise<void>;
  /** Let pending promise callbacks run, `times` rounds of the event loop. */
  settle(times?: number): Promise<void>;
  byTestId(id: string, scope?: ParentNode): HTMLElement;
  query(id: string): HTMLElement | null;
  /** Click, then settle `times` rounds. */
  click(element: HTMLElement, times?: number): Promise<void>;
  /** Set a React-controlled textarea's or input's value as a user would. */
  type(
    element: HTMLTextAreaElement | HTMLInputElement,
    value: string
  ): Promise<void>;
}

/** Mount a container before each test, unmount it (then run `cleanup`) after. */
export function mountEach(cleanup?: () => void): IMountPoint {
  let container: HTMLDivElement | null = null;
  let root: Root | null = null;
  beforeEach(() => {
    container = document.createElement('div');
    document.body.appendChild(container);
    root = createRoot(container);
  });
  afterEach(() => {
    const mounted = root;
    if (mounted) {
      act(() => mounted.unmount());
    }
    container?.remove();
    container = null;
    root = null;
    cleanup?.();
  });
  const settle = async (times = 1): Promise<void> => {
    for (let i = 0; i < times; i++) {
      await act(async () => {
        await new Promise(resolve => setTimeout(resolve, 0));
      });
    }
  };
  const point: IMountPoint = {
    get container(): HTMLDivElement {
      if (!container) {
        throw new Error('No container: mountEach() mounts one per test.');
      }
      return container;
    },
    get root(): Root {
      if (!root) {
        throw new Error('No root: mountEach() mounts one per test.');
      }
      return root;
    },
    render: async element => {
      await act(async () => {
        point.root.render(element);
      });
    },
    settle,
    byTestId: (id, scope) => {
      const element = (scope ?? point.container).querySelector(
        `[data-testid="${id}"]`
      );
      if (!element) {
        throw new Error(`No element with data-testid ${id}`);
      }
      return element as HTMLElement;
    },
    query: id => point.container.querySelector(`[data-testid="${id}"]`),
    click: async (element, times = 1) => {
      await act(async () => {
        element.click();
      });
      await settle(times);
    },
    type: async (element, value) => {
      const prototype =
        element instanceof HTMLTextAreaElement
          ? HTMLTextAreaElement.prototype
          : HTMLInputElement.prototype;
      const setter = Object.getOwnPropertyDescriptor(prototype, 'value')!.set!;
      await act(async () => {
        setter.call(element, value);
        element.dispatchEvent(new Event('input', { bubbles: true }));
      });
    }
  };
  return point;
}
