/**
 * The triage views against a model fed by a small fake server: empty states with their next
 * step per role, run results as values or tables, bulk deny calling the Datasite once per
 * selected pending request with the one reason.
 */
import React, { act } from 'react';

import { DatasetList } from '../components/DatasetList';
import { ProjectList } from '../components/ProjectList';
import { ResultView } from '../components/PreviewTable';
import { RequestList } from '../components/RequestList';
import { SyftModel } from '../model';
import { IRequestOptions } from '../request';
import { IPreview, IRequest, IUser } from '../tokens';
import { mountEach } from './dom';

const BASE = 'syft/lab/api/v1';
const OWNER = {
  id: 'u0',
  email: 'owner@example.org',
  name: 'Owner',
  role: 'DATA_OWNER'
} as unknown as IUser;
const SCIENTIST = {
  id: 'u1',
  email: 'sci@example.org',
  name: 'Sci',
  role: 'DATA_SCIENTIST'
} as unknown as IUser;

function request(id: string, who: string, status = 'pending'): IRequest {
  return {
    id,
    status,
    reason: '',
    deny_reason: '',
    requesting_user_name: who,
    requesting_user_email: `${who.toLowerCase()}@example.org`,
    requesting_user_institution: '',
    project: { id: `p-${who}`, name: 'Study' },
    created_at: `2026-11-30T10:0${id.slice(-1)}:00Z`,
    code: {
      id: `c-${id}`,
      service_func_name: `fn_${id}`,
      raw_code: `def fn_${id}(): pass`,
      submit_time: `2026-11-30T10:0${id.slice(-1)}:00Z`,
      status
    },
    nested: []
  } as unknown as IRequest;
}

let calls: { method: string; endpoint: string; options: IRequestOptions }[];

function model(
  me: IUser,
  requests: IRequest[] = [],
  more: { cursor: string; total: number; unloaded?: IRequest[] } | null = null
): SyftModel {
  calls = [];
  const page = (items: unknown[]) => ({
    items,
    next_cursor: null,
    total: items.length
  });
  const requestPage = () =>
    more
      ? { items: requests, next_cursor: more.cursor, total: more.total }
      : page(requests);
  const fake = async <T,>(
    endpoint: string,
    options: IRequestOptions = {}
  ): Promise<T> => {
    const method = options.method ?? 'GET';
    calls.push({ method, endpoint, options });
    const tail = endpoint.slice(BASE.length + 1);
    let answer: unknown;
    if (method === 'POST' && tail.endsWith('/deny')) {
      const id = tail.split('/')[1];
      const found = requests.find(r => r.id === id)!;
      answer = {
        ...found,
        status: 'rejected',
        deny_reason: (options.body as { reason: string }).reason
      };
    } else if (tail === 'metadata') {
      answer = { name: 'Test' };
    } else if (tail === 'users/me') {
      answer = me;
    } else if (tail === 'requests') {
      const query = options.query as
        { status?: string; q?: string } | undefined;
      const status = query?.status;
      const q = query?.q?.toLowerCase();
      if (q === 'refused') {
        throw new Error('A search has at most 8 words.');
      }
      const onServer = [...requests, ...(more?.unloaded ?? [])];
      answer = q
        ? {
            items: onServer.filter(r =>
              r.requesting_user_name.toLowerCase().includes(q)
            ),
            next_cursor: null,
            total: onServer.filter(r =>
              r.requesting_user_name.toLowerCase().includes(q)
            ).length
          }
        : status
          ? { items: [], next_cursor: null, total: more ? more.total : 0 }
          : requestPage();
    } else if (['datasets', 'projects', 'outputs'].includes(tail)) {
      answer = page([]);
    } else if (tail === 'notifications/count') {
      answer = { unread: 0, total: 0 };
    } else {
      throw new Error(`no route ${method} ${endpoint}`);
    }
    return answer as T;
  };
  return new SyftModel({ request: fake });
}

const dom = mountEach(() => models.splice(0).forEach(m => m.dispose()));
const { render, byTestId, click, type } = dom;

const models: SyftModel[] = [];

async function loaded(m: SyftModel): Promise<SyftModel> {
  models.push(m);
  await act(async () => {
    await m.refresh();
  });
  return m;
}

describe('empty states', () => {
  it('tells an owner with no datasets to upload one, with a button opening a notebook', async () => {
    const m = await loaded(model(OWNER));
    const open = jest.fn();
    await render(<DatasetList model={m} onNewNotebook={open} />);
    const empty = byTestId('syft-empty-datasets');
    expect(empty.getAttribute('data-role')).toBe('owner');
    expect(empty.textContent).toContain(
      'Upload a dataset: open a connected notebook'
    );
    expect(empty.textContent).toContain('client.upload_dataset(ds)');
    await click(byTestId('syft-empty-datasets-action'));
    expect(open).toHaveBeenCalledTimes(1);
  });

  it('tells an owner where requests and projects come from', async () => {
    const m = await loaded(model(OWNER));
    await render(<RequestList model={m} onOpen={jest.fn()} />);
    const requests = byTestId('syft-empty-requests');
    expect(requests.getAttribute('data-role')).toBe('owner');
    expect(requests.textContent).toContain(
      'Scientists submit them from their notebooks'
    );
    await render(<ProjectList model={m} onOpen={jest.fn()} />);
    const projects = byTestId('syft-empty-projects');
    expect(projects.getAttribute('data-role')).toBe('owner');
    expect(projects.textContent).toContain('Scientists create them');
  });

  it('tells a scientist that owners upload datasets (no upload button)', async () => {
    const m = await loaded(model(SCIENTIST));
    await render(<DatasetList model={m} onNewNotebook={jest.fn()} />);
    const empty = byTestId('syft-empty-datasets');
    expect(empty.getAttribute('data-role')).toBe('scientist');
    expect(empty.textContent).toContain('its owners upload them');
    expect(empty.querySelector('button')).toBeNull();
  });

  it('shows a scientist how to submit a request and create a project', async () => {
    const m = await loaded(model(SCIENTIST));
    const open = jest.fn();
    await render(
      <RequestList model={m} onOpen={jest.fn()} onNewNotebook={open} />
    );
    const empty = byTestId('syft-empty-requests');
    expect(empty.textContent).toContain('request_code_execution');
    await click(byTestId('syft-empty-requests-action'));
    expect(open).toHaveBeenCalledTimes(1);
    await render(
      <ProjectList model={m} onOpen={jest.fn()} onNewNotebook={open} />
    );
    expect(byTestId('syft-empty-projects').textContent).toContain(
      'sy.Project('
    );
  });
});

describe('run results', () => {
  async function show(preview: IPreview): Promise<HTMLElement> {
    await render(<ResultView preview={preview} />);
    return byTestId('syft-result-preview');
  }

  it('shows a single value as a value with its type', async () => {
    const view = await show({
      kind: 'text',
      type: 'float',
      shape: null,
      text: '42.5'
    });
    expect(view.getAttribute('data-kind')).toBe('scalar');
    expect(view.textContent).toContain('a single float');
    expect(view.textContent).toContain('42.5');
  });

  it('shows a table with its shape in words', async () => {
    const view = await show({
      kind: 'dataframe',
      shape: [50, 2],
      columns: ['a', 'b'],
      rows: [
        [1, 2],
        [3, 4]
      ],
      index: ['x', 'y']
    });
    expect(byTestId('syft-result-shape', view).textContent).toBe(
      '50 rows × 2 columns · first 2 shown'
    );
    expect(view.querySelectorAll('tbody tr')).toHaveLength(2);
    expect(view.querySelector('tbody th')?.textContent).toBe('x');
  });

  it('labels what is left as text with its type', async () => {
    const view = await show({
      kind: 'text',
      type: 'Figure',
      shape: null,
      text: '<Figure size 640x480>'
    });
    expect(view.getAttribute('data-kind')).toBe('text');
    expect(view.textContent).toContain('a Figure, shown as text');
  });
});

describe('bulk deny', () => {
  it('denies each selected pending request with the one reason, after a confirmation', async () => {
    const requests = [
      request('r1', 'Ada'),
      request('r2', 'Ben'),
      request('r3', 'Ada', 'approved')
    ];
    const m = await loaded(model(OWNER, requests));
    await render(<RequestList model={m} onOpen={jest.fn()} />);
    await click(byTestId('syft-triage-select'));
    const checks = Array.from(
      dom.container.querySelectorAll<HTMLInputElement>(
        '[data-testid="syft-request-check"]'
      )
    );
    expect(checks).toHaveLength(3);
    // decided requests cannot be selected
    const approved = dom.container.querySelector(
      '[data-request-id="r3"] input'
    ) as HTMLInputElement;
    expect(approved.disabled).toBe(true);
    await click(byTestId('syft-bulk-select-all'));
    expect(byTestId('syft-bulk-count').textContent).toBe('2 selected');
    // no reason: nothing sent, and the user is told what to do
    await click(byTestId('syft-bulk-deny'));
    expect(byTestId('syft-bulk-error').textContent).toContain('Say why');
    expect(calls.filter(c => c.method === 'POST')).toHaveLength(0);
    await type(
      byTestId('syft-bulk-reason') as HTMLTextAreaElement,
      '  Too broad  '
    );
    await click(byTestId('syft-bulk-deny'));
    expect(byTestId('syft-bulk-confirm').querySelectorAll('li')).toHaveLength(
      2
    );
    expect(calls.filter(c => c.method === 'POST')).toHaveLength(0);
    await click(byTestId('syft-bulk-confirm-deny'));
    const posts = calls.filter(c => c.method === 'POST');
    expect(posts.map(c => c.endpoint).sort()).toEqual([
      `${BASE}/requests/r1/deny`,
      `${BASE}/requests/r2/deny`
    ]);
    expect(posts.map(c => c.options.body)).toEqual([
      { reason: 'Too broad' },
      { reason: 'Too broad' }
    ]);
    expect(byTestId('syft-bulk-result').textContent).toBe('Denied 2 requests.');
    expect(m.getRequest('r1')?.status).toBe('rejected');
  });
});

describe('search on a paged list', () => {
  async function type(text: string): Promise<void> {
    const search = byTestId('syft-triage-search') as HTMLInputElement;
    const setter = Object.getOwnPropertyDescriptor(
      HTMLInputElement.prototype,
      'value'
    )!.set!;
    await act(async () => {
      setter.call(search, text);
      search.dispatchEvent(new Event('input', { bubbles: true }));
    });
  }

  async function pause(ms: number): Promise<void> {
    await act(async () => {
      await new Promise(resolve => setTimeout(resolve, ms));
    });
  }

  it('asks the Datasite to search while more requests are on it than loaded', async () => {
    const requests = [request('r1', 'Ada'), request('r2', 'Ben')];
    const m = await loaded(
      model(OWNER, requests, {
        cursor: 'next',
        total: 150,
        unloaded: [request('r3', 'Ada'), request('r4', 'Cy')]
      })
    );
    await render(<RequestList model={m} onOpen={jest.fn()} />);
    await type('ada');
    // at once: the loaded requests, filtered, and the note says so
    const note = byTestId('syft-triage-note');
    expect(note.getAttribute('data-partial')).toBe('true');
    expect(note.textContent).toContain(
      'Filtering the 2 loaded of 150 requests'
    );
    expect(note.textContent).toContain('Matching: 1.');
    await pause(400);
    // then what the Datasite found, including a request never loaded
    const searches = calls.filter(
      c => (c.options.query as { q?: string } | undefined)?.q
    );
    expect(searches.map(c => c.options.query)).toEqual([
      { q: 'ada', order: 'newest', limit: 100 }
    ]);
    expect(byTestId('syft-triage-note').textContent).toBe(
      'Searched the Datasite: 2 of 150 requests match.'
    );
    const shown = Array.from(
      dom.container.querySelectorAll('[data-testid="syft-request"]')
    ).map(row => row.getAttribute('data-request-id'));
    expect(shown.sort()).toEqual(['r1', 'r3']);
    expect(byTestId('syft-more-requests').textContent).toContain('148 more');
  });

  it('filters the loaded ones, and says why, when the Datasite refuses the search', async () => {
    const requests = [request('r1', 'Refused'), request('r2', 'Ben')];
    const m = await loaded(
      model(OWNER, requests, { cursor: 'next', total: 150 })
    );
    await render(<RequestList model={m} onOpen={jest.fn()} />);
    await type('refused');
    await pause(400);
    const text = byTestId('syft-triage-note').textContent ?? '';
    expect(text).toContain('Filtering the 2 loaded of 150 requests');
    expect(text).toContain('The Datasite could not search: ');
    expect(text).toContain('at most 8 words');
    expect(text).toContain('Matching: 1.');
  });
});
