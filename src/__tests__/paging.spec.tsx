/**
 * The sidebar pages through the Datasite's lists (server/services/paging.py): it loads the
 * first page, says how many more there are, loads them on request, and keeps what it loaded
 * when the poll brings new requests.
 */
import React, { act } from 'react';
import { createRoot, Root } from 'react-dom/client';

import { SyftSidebar } from '../components/SyftSidebar';
import { PAGE_SIZE } from '../model';
import { IRequestOptions } from '../request';
import { IPage, IRequest } from '../tokens';
import {
  disposeModels,
  FakeServer,
  makeCode,
  makeRequest,
  newModel,
  page
} from './fixtures';

(globalThis as any).IS_REACT_ACT_ENVIRONMENT = true;

const BASE = 'syft/lab/api/v1';

/** A Datasite holding `requests` (newest first), answering pages of `size` like the server. */
function pagedRequests(
  requests: () => IRequest[],
  size: number
): (options: IRequestOptions) => IPage<IRequest> {
  return options => {
    const status = options.query?.status;
    const all = requests().filter(
      r => status === undefined || r.status === status
    );
    const cursor = options.query?.cursor;
    const limit = Math.min(size, Number(options.query?.limit ?? size));
    const start = cursor === undefined ? 0 : Number(cursor);
    const items = all.slice(start, start + limit);
    const next = start + limit < all.length ? String(start + limit) : null;
    return { items, next_cursor: next, total: all.length };
  };
}

function numbered(n: number, from = 0): IRequest[] {
  return Array.from({ length: n }, (_, i) =>
    makeRequest({ id: `r${from + n - 1 - i}` })
  );
}

afterEach(disposeModels);

describe('SyftModel paging', () => {
  it('loads the first page of each list and says how many more there are', async () => {
    const all = numbered(7);
    const server = new FakeServer().withLocalDatasite().on(
      'GET',
      `${BASE}/requests`,
      pagedRequests(() => all, 3)
    );
    const { model } = newModel(server);
    await model.refresh();

    for (const section of ['datasets', 'projects', 'requests']) {
      const query = server.called('GET', `${BASE}/${section}`)[0].query;
      expect(query?.limit).toBe(PAGE_SIZE);
      expect(query?.cursor).toBeUndefined();
    }
    expect(server.called('GET', `${BASE}/requests`)[0].query?.order).toBe(
      'newest'
    );
    expect(server.called('GET', `${BASE}/datasets`)[0].query?.order).toBe(
      'oldest'
    );
    expect(model.requests.map(r => r.id)).toEqual(['r6', 'r5', 'r4']);
    expect(model.remaining('requests')).toBe(4);
    expect(model.count('requests')).toBe(7);
    expect(model.remaining('datasets')).toBe(0);

    await model.loadMore('requests');
    const paged = server
      .called('GET', `${BASE}/requests`)
      .filter(options => options.query?.status === undefined);
    expect(paged.map(options => options.query?.cursor)).toEqual([
      undefined,
      '3'
    ]);
    expect(model.requests.map(r => r.id)).toEqual([
      'r6',
      'r5',
      'r4',
      'r3',
      'r2',
      'r1'
    ]);
    expect(model.remaining('requests')).toBe(1);
    await model.loadMore('requests');
    expect(model.requests).toHaveLength(7);
    expect(model.remaining('requests')).toBe(0);
    const calls = server.called('GET', `${BASE}/requests`).length;
    await model.loadMore('requests'); // all loaded: no call
    expect(server.called('GET', `${BASE}/requests`)).toHaveLength(calls);
  });

  it('keeps pages loaded with "load more" when the poll brings new requests', async () => {
    let all = numbered(5);
    const server = new FakeServer().withLocalDatasite().on(
      'GET',
      `${BASE}/requests`,
      pagedRequests(() => all, 2)
    );
    const { model } = newModel(server);
    await model.refresh();
    await model.loadMore('requests');
    expect(model.requests.map(r => r.id)).toEqual(['r4', 'r3', 'r2', 'r1']);

    all = [makeRequest({ id: 'new' }), ...all];
    const added = await model.refreshRequests();
    expect(added.map(r => r.id)).toEqual(['new']);
    expect(model.requests.map(r => r.id)).toEqual([
      'new',
      'r4',
      'r3',
      'r2',
      'r1'
    ]);
    expect(model.remaining('requests')).toBe(1);
    await model.loadMore('requests'); // continues after r1, where it left off
    expect(model.requests.map(r => r.id)).toEqual([
      'new',
      'r4',
      'r3',
      'r2',
      'r1',
      'r0'
    ]);
    expect(model.remaining('requests')).toBe(0);
  });

  it('starts again from the first page when more arrived than a page holds', async () => {
    let all = numbered(3);
    const server = new FakeServer().withLocalDatasite().on(
      'GET',
      `${BASE}/requests`,
      pagedRequests(() => all, 2)
    );
    const { model } = newModel(server);
    await model.refresh();
    all = [...numbered(4, 10), ...all];
    await model.refreshRequests();
    expect(model.requests.map(r => r.id)).toEqual(['r13', 'r12']);
    expect(model.remaining('requests')).toBe(5);
    while (model.remaining('requests')) {
      await model.loadMore('requests');
    }
    expect(model.requests.map(r => r.id)).toEqual(all.map(r => r.id));
  });

  it('counts requests per status on the Datasite while not all are loaded', async () => {
    const approved = numbered(2).map(r => ({
      ...r,
      status: 'approved' as const
    }));
    const all = [...numbered(3, 2), ...approved]; // r4..r2 pending, r1 r0 approved
    const server = new FakeServer().withLocalDatasite().on(
      'GET',
      `${BASE}/requests`,
      pagedRequests(() => all, 2)
    );
    const { model } = newModel(server);
    await model.refresh();
    expect(model.requests).toHaveLength(2);
    const expected = { all: 5, pending: 3, approved: 2, rejected: 0 };
    expect(model.requestCounts).toEqual(expected);
    const counted = server
      .called('GET', `${BASE}/requests`)
      .filter(options => options.query?.status !== undefined);
    expect(counted.map(options => options.query)).toEqual(
      ['pending', 'approved', 'rejected'].map(status => ({ status, limit: 1 }))
    );
    while (model.remaining('requests')) {
      await model.loadMore('requests');
    }
    expect(model.requestCounts).toEqual(expected); // all loaded: counted here
  });

  it('asks only for the versions of the reviewed function, and its latest runs', async () => {
    const request = makeRequest({ id: 'r2', code: makeCode({ id: 'c2' }) });
    const server = new FakeServer()
      .withLocalDatasite([request])
      .on('GET', `${BASE}/requests/r2`, request)
      .on('GET', `${BASE}/code`, page([request.code]))
      .on(
        'GET',
        `${BASE}/code/c2/executions`,
        page([{ id: 'e2' }, { id: 'e1' }], 'more')
      );
    const { model } = newModel(server);
    const detail = await model.requestDetail('r2');
    expect(server.called('GET', `${BASE}/code`)[0].query).toEqual({
      name: request.code.service_func_name,
      limit: 500,
      order: 'newest'
    });
    expect(
      server.called('GET', `${BASE}/code/c2/executions`)[0].query?.order
    ).toBe('newest');
    expect(detail.executions.map(e => e.id)).toEqual(['e1', 'e2']); // oldest first
  });
});

describe('Load more', () => {
  let container: HTMLDivElement;
  let root: Root;

  beforeEach(() => {
    container = document.createElement('div');
    document.body.appendChild(container);
    root = createRoot(container);
  });

  afterEach(() => {
    act(() => root.unmount());
    container.remove();
  });

  it('shows "N more" under a list and loads the next page', async () => {
    const all = numbered(5);
    const server = new FakeServer().withLocalDatasite().on(
      'GET',
      `${BASE}/requests`,
      pagedRequests(() => all, 2)
    );
    const { model } = newModel(server);
    await model.refresh();
    await act(async () => {
      root.render(
        <SyftSidebar
          model={model}
          initialTab="requests"
          onOpenRequest={jest.fn()}
          onNewNotebook={jest.fn()}
        />
      );
    });
    const more = (): HTMLElement | null =>
      container.querySelector('[data-testid="syft-more-requests"]');
    expect(more()?.textContent).toContain('3 more');
    expect(
      container.querySelectorAll('[data-testid="syft-request"]')
    ).toHaveLength(2);
    await act(async () => {
      more()!.querySelector('button')!.click();
      await new Promise(resolve => setTimeout(resolve, 0));
    });
    expect(
      container.querySelectorAll('[data-testid="syft-request"]')
    ).toHaveLength(4);
    expect(more()?.textContent).toContain('1 more');
    expect(
      container.querySelector('[data-testid="syft-more-datasets"]')
    ).toBeNull();
  });
});
