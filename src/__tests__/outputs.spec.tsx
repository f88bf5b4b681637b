/**
 * Output review in the sidebar: the failing cells a report names mapped onto a preview, the
 * model's calls (owners only), the Outputs tab, the output view (a failing cell marked, a
 * release confirmed first, buttons disabled once decided) and what a scientist sees.
 */
import React from 'react';

import { OutputReview } from '../components/OutputReview';
import { RequestReview } from '../components/RequestReview';
import { SyftSidebar } from '../components/SyftSidebar';
import { markCells, normalizeLabel } from '../outputs';
import { IOutput, IPreview, IRequest } from '../tokens';
import {
  disposeModels,
  FakeServer,
  makeExecution,
  makeOutput,
  makeRequest,
  newModel,
  owner,
  page,
  scientist
} from './fixtures';
import { mountEach } from './dom';

const BASE = 'syft/lab/api/v1';
const HOSTILE = '<img src=x onerror="window.__pwned=1">';

const PREVIEW: IPreview = {
  kind: 'dataframe',
  shape: [2, 2],
  columns: ['count', 'mean age'],
  index: ['ward A', 'ward B'],
  rows: [
    [25, 41.5],
    [3, 38.2]
  ]
};

const dom = mountEach(disposeModels);
const { render, settle, byTestId, click, type } = dom;

/** The owner's Datasite with outputs per state, answering the outputs route as the server. */
function ownerServer(outputs: IOutput[]): FakeServer {
  return new FakeServer()
    .withLocalDatasite()
    .on('GET', `${BASE}/outputs`, (options: any) => {
      const state = options.query?.state;
      const items = outputs.filter(o => !state || o.state === state);
      const limit = Number(options.query?.limit ?? 100);
      return {
        items: items.slice(0, limit),
        next_cursor: null,
        total: items.length
      };
    });
}

describe('markCells', () => {
  it('marks the cells failing checks name, by row and column label', () => {
    const { marks, outside, total } = markCells(PREVIEW, makeOutput().report);
    expect(total).toBe(1);
    expect(outside).toBe(0);
    expect([...marks.entries()]).toEqual([['1,0', ['threshold']]]);
  });

  it('counts cells beyond the rows shown, and ignores passing checks', () => {
    const report = makeOutput().report!;
    const { marks, outside } = markCells(PREVIEW, {
      ...report,
      checks: [
        ...report.checks,
        {
          rule: 'threshold',
          outcome: 'fail',
          reason: '',
          cells: [['ward Z', 'count']]
        },
        {
          rule: 'zeros',
          outcome: 'review',
          reason: '',
          cells: [['ward A', 'count']]
        }
      ]
    });
    expect(marks.size).toBe(1);
    expect(outside).toBe(1);
  });

  it('numbers an array preview, and writes labels as the checks do', () => {
    const array: IPreview = {
      kind: 'array',
      shape: [2, 2],
      dtype: 'int64',
      columns: ['0', '1'],
      rows: [
        [1, 2],
        [3, 4]
      ]
    };
    const { marks } = markCells(array, {
      outcome: 'fail',
      rules: 'acro',
      rules_digest: '',
      checks: [
        { rule: 'threshold', outcome: 'fail', reason: '', cells: [['0', '1']] }
      ]
    });
    expect([...marks.keys()]).toEqual(['0,1']);
    expect(normalizeLabel('  a \n b ')).toBe('a b');
    expect(normalizeLabel('x'.repeat(50))).toBe('x'.repeat(39) + '…');
  });
});

describe('SyftModel outputs', () => {
  it('loads held outputs and the counts per state for owners', async () => {
    const server = ownerServer([
      makeOutput({ execution_id: 'e1' }),
      makeOutput({ execution_id: 'e2', state: 'released' })
    ]);
    const { model } = newModel(server);
    await model.refresh();
    expect(model.outputs.map(o => o.execution_id)).toEqual(['e1']);
    expect(model.outputCounts).toEqual({
      all: 2,
      held: 1,
      released: 1,
      withheld: 0
    });
    const first = server.called('GET', `${BASE}/outputs`)[0];
    expect(first.query?.state).toBe('held');
    await model.setOutputFilter('released');
    expect(model.outputs.map(o => o.execution_id)).toEqual(['e2']);
  });

  it('never asks a scientist for outputs', async () => {
    const server = ownerServer([makeOutput()]).on(
      'GET',
      `${BASE}/users/me`,
      scientist
    );
    const { model } = newModel(server);
    await model.refresh();
    await model.refreshRequests();
    await model.refreshOutputs();
    expect(server.called('GET', `${BASE}/outputs`)).toEqual([]);
    expect(model.outputs).toEqual([]);
  });

  it('releases with a comment and suppression; withholds only with a reason', async () => {
    const server = ownerServer([makeOutput()])
      .on('POST', `${BASE}/outputs/e1/release`, (options: any) =>
        makeOutput({
          state: 'released',
          decision_note: options.body.comment,
          suppressed: options.body.suppress
        })
      )
      .on('POST', `${BASE}/outputs/e1/withhold`, makeOutput());
    const { model } = newModel(server);
    await model.refresh();
    const released = await model.releaseOutput('e1', ' fine ', true);
    expect(server.called('POST', `${BASE}/outputs/e1/release`)[0].body).toEqual(
      { comment: 'fine', suppress: true }
    );
    expect(released.suppressed).toBe(true);
    await expect(model.withholdOutput('e1', '  ')).rejects.toThrow(
      'Say why you withhold it'
    );
    await expect(model.withholdOutput('e1', 'x'.repeat(2001))).rejects.toThrow(
      'keep it to 2000'
    );
    expect(server.called('POST', `${BASE}/outputs/e1/withhold`)).toEqual([]);
  });
});

describe('Outputs tab', () => {
  it('shows owners the held count and held outputs first; opens one', async () => {
    const server = ownerServer([
      makeOutput({ execution_id: 'e1', service_func_name: HOSTILE }),
      makeOutput({ execution_id: 'e2', state: 'withheld' })
    ]);
    const { model } = newModel(server);
    await model.refresh();
    const open = jest.fn();
    await render(
      <SyftSidebar
        model={model}
        onOpenRequest={jest.fn()}
        onOpenOutput={open}
        onNewNotebook={jest.fn()}
        initialTab="outputs"
      />
    );
    expect(byTestId('syft-held-count').textContent).toBe('1');
    const row = byTestId('syft-output');
    expect(row.getAttribute('data-state')).toBe('held');
    expect(row.textContent).toContain(HOSTILE);
    expect(byTestId('syft-outcome', row).getAttribute('data-outcome')).toBe(
      'fail'
    );
    expect(dom.container.querySelector('img')).toBeNull();
    await click(byTestId('syft-output-open'));
    expect(open).toHaveBeenCalledWith('e1');

    await click(byTestId('syft-output-filter-withheld'));
    expect(byTestId('syft-output').getAttribute('data-execution-id')).toBe(
      'e2'
    );
  });

  it('pages through the outputs: "N more", then the next page', async () => {
    const outputs = Array.from({ length: 5 }, (_, i) =>
      makeOutput({ execution_id: `e${i}` })
    );
    const server = new FakeServer()
      .withLocalDatasite()
      .on('GET', `${BASE}/outputs`, (options: any) => {
        const state = options.query?.state;
        const all = outputs.filter(o => !state || o.state === state);
        const start = Number(options.query?.cursor ?? 0);
        const limit = Math.min(2, Number(options.query?.limit ?? 2));
        const next = start + limit < all.length ? String(start + limit) : null;
        return {
          items: all.slice(start, start + limit),
          next_cursor: next,
          total: all.length
        };
      });
    const { model } = newModel(server);
    await model.refresh();
    await render(
      <SyftSidebar
        model={model}
        onOpenRequest={jest.fn()}
        onNewNotebook={jest.fn()}
        initialTab="outputs"
      />
    );
    const rows = () =>
      dom.container.querySelectorAll('[data-testid="syft-output"]').length;
    expect(rows()).toBe(2);
    expect(byTestId('syft-held-count').textContent).toBe('5');
    const more = byTestId('syft-more-outputs');
    expect(more.textContent).toContain('3 more');
    await click(more.querySelector('button') as HTMLElement);
    expect(rows()).toBe(4);
    await click(byTestId('syft-more-outputs').querySelector('button')!);
    expect(rows()).toBe(5);
    expect(
      dom.container.querySelector('[data-testid="syft-more-outputs"]')
    ).toBeNull();
    expect(
      server
        .called('GET', `${BASE}/outputs`)
        .filter(o => o.query?.cursor !== undefined)
        .map(o => [o.query?.cursor, o.query?.state])
    ).toEqual([
      ['2', 'held'],
      ['4', 'held']
    ]);
  });

  it('is not shown to scientists', async () => {
    const server = ownerServer([]).on('GET', `${BASE}/users/me`, scientist);
    const { model } = newModel(server);
    await model.refresh();
    await render(
      <SyftSidebar
        model={model}
        onOpenRequest={jest.fn()}
        onNewNotebook={jest.fn()}
        initialTab="outputs"
      />
    );
    expect(
      dom.container.querySelector('[data-testid="syft-tab-outputs"]')
    ).toBeNull();
    expect(byTestId('syft-tab-requests').getAttribute('aria-selected')).toBe(
      'true'
    );
  });
});

describe('OutputReview', () => {
  function reviewServer(output: IOutput): FakeServer {
    return ownerServer([output])
      .on('GET', `${BASE}/outputs/e1`, () => output)
      .on('GET', `${BASE}/executions/e1/preview`, PREVIEW);
  }

  it('shows the report and marks the failing cell by more than colour', async () => {
    const output = makeOutput({ justification: HOSTILE });
    const { model } = newModel(reviewServer(output));
    await model.refresh();
    await render(
      <OutputReview model={model} executionId="e1" confirm={jest.fn()} />
    );
    await settle();
    const checks = dom.container.querySelectorAll('[data-testid="syft-check"]');
    expect(checks.length).toBe(2);
    expect(checks[0].textContent).toContain('threshold');
    expect(checks[0].textContent).toContain('1 cell counts fewer than 10');
    const cells = dom.container.querySelectorAll(
      '[data-testid="syft-cell-fail"]'
    );
    expect(cells.length).toBe(1);
    const cell = cells[0] as HTMLElement;
    expect(cell.textContent).toContain('3');
    expect(cell.getAttribute('aria-label')).toContain('fails: threshold');
    expect(cell.getAttribute('title')).toContain('fails: threshold');
    expect(cell.className).toContain('jp-syft-cell-fail');
    // The row labels come from the preview's index.
    expect(cell.parentElement?.querySelector('th')?.textContent).toBe('ward B');
    expect(byTestId('syft-justification').textContent).toContain(HOSTILE);
    expect(dom.container.querySelector('img')).toBeNull();
  });

  it('confirms a release, then shows who released it and disables the buttons', async () => {
    const output = makeOutput();
    const server = reviewServer(output).on(
      'POST',
      `${BASE}/outputs/e1/release`,
      (options: any) =>
        makeOutput({
          state: 'released',
          decided_by: { name: 'Jane Owner', email: 'info@openmined.org' },
          decided_at: '2026-11-22T13:00:00Z',
          decision_note: options.body.comment
        })
    );
    const { model } = newModel(server);
    await model.refresh();
    const confirm = jest
      .fn()
      .mockResolvedValueOnce(false)
      .mockResolvedValueOnce(true);
    await render(
      <OutputReview model={model} executionId="e1" confirm={confirm} />
    );
    await settle();
    await type(
      byTestId('syft-release-comment') as HTMLTextAreaElement,
      'Aggregates only'
    );
    await click(byTestId('syft-release'));
    expect(confirm).toHaveBeenCalledTimes(1);
    expect(confirm.mock.calls[0][0]).toMatchObject({
      outcome: 'fail',
      failingCells: 1,
      suppress: false
    });
    expect(server.called('POST', `${BASE}/outputs/e1/release`)).toEqual([]);

    await click(byTestId('syft-release'));
    expect(server.called('POST', `${BASE}/outputs/e1/release`)[0].body).toEqual(
      { comment: 'Aggregates only', suppress: false }
    );
    const decided = byTestId('syft-output-decided');
    expect(decided.textContent).toContain('Released by Jane Owner');
    expect(decided.textContent).toContain('Aggregates only');
    for (const id of [
      'syft-release',
      'syft-release-suppress',
      'syft-withhold'
    ]) {
      expect((byTestId(id) as HTMLButtonElement).disabled).toBe(true);
    }
  });

  it('withholds only with a reason, and shows the error the server gives', async () => {
    const server = reviewServer(makeOutput()).on(
      'POST',
      `${BASE}/outputs/e1/withhold`,
      () => {
        throw new Error('You cannot decide on the output of your own request.');
      }
    );
    const { model } = newModel(server);
    await model.refresh();
    await render(
      <OutputReview model={model} executionId="e1" confirm={jest.fn()} />
    );
    await settle();
    const withhold = byTestId('syft-withhold') as HTMLButtonElement;
    expect(withhold.disabled).toBe(true);
    await type(
      byTestId('syft-withhold-reason') as HTMLTextAreaElement,
      'Small cells'
    );
    expect(withhold.disabled).toBe(false);
    await click(withhold);
    expect(byTestId('syft-output-error').textContent).toContain(
      'your own request'
    );
  });

  it('shows a two-person review: votes, my vote and a conflict', async () => {
    const vote = {
      reviewer: { name: 'Jane Owner', email: 'info@openmined.org' },
      decision: 'release' as const,
      suppress: false,
      note: '',
      at: '2026-11-22T12:30:00Z'
    };
    const output = makeOutput({
      votes_needed: 2,
      votes_cast: 2,
      my_vote: vote,
      conflict: true,
      votes: [
        vote,
        {
          ...vote,
          reviewer: { name: 'Sam', email: 's@x.org' },
          decision: 'withhold'
        }
      ]
    });
    const { model } = newModel(reviewServer(output));
    await model.refresh();
    await render(
      <OutputReview model={model} executionId="e1" confirm={jest.fn()} />
    );
    await settle();
    expect(byTestId('syft-vote-count').textContent).toBe('2 of 2 votes');
    expect(byTestId('syft-my-vote').textContent).toContain('release');
    expect(byTestId('syft-vote-conflict')).toBeTruthy();
    expect(
      dom.container.querySelectorAll('[data-testid="syft-vote"]').length
    ).toBe(2);
    expect(byTestId('syft-release').textContent).toContain('Vote');
  });
});

describe('RequestReview outputs', () => {
  function server(request: IRequest, me = scientist): FakeServer {
    return new FakeServer()
      .withLocalDatasite([request])
      .on('GET', `${BASE}/users/me`, me)
      .on('GET', `${BASE}/requests/${request.id}`, request)
      .on('GET', `${BASE}/code`, page([request.code]))
      .on(
        'GET',
        `${BASE}/code/${request.code.id}/executions`,
        page([
          makeExecution({ id: 'e1' }),
          makeExecution({
            id: 'e2',
            release: 'withheld',
            release_note: HOSTILE
          })
        ])
      );
  }

  it('shows a scientist the held state, the report and the reason, and no review', async () => {
    const request = makeRequest({ status: 'approved' });
    const fake = server(request);
    const { model } = newModel(fake);
    await model.refresh();
    await render(
      <RequestReview model={model} requestId="r1" onOpenOutput={jest.fn()} />
    );
    await settle();
    const outputs = dom.container.querySelectorAll(
      '[data-testid="syft-run-output"]'
    );
    const states = Array.from(outputs).map(o => o.getAttribute('data-state'));
    expect(states.sort()).toEqual(['held', 'withheld']);
    expect(byTestId('syft-report').textContent).toContain('threshold');
    expect(byTestId('syft-withhold-reason-shown').textContent).toContain(
      HOSTILE
    );
    expect(dom.container.querySelector('img')).toBeNull();
    expect(
      dom.container.querySelector('[data-testid="syft-run-open-output"]')
    ).toBeNull();
    expect(
      dom.container.querySelector('[data-testid="syft-decision"]')
    ).toBeNull();
    // No owner-only route was called for them.
    expect(
      fake.calls.filter(call => call.endpoint.includes('/outputs'))
    ).toEqual([]);
    // They may say why the held one should be released (the only outputs route of theirs).
    fake.on('POST', `${BASE}/outputs/e1/justification`, (options: any) => ({
      execution_id: 'e1',
      justification: options.body.text,
      justified_at: '2026-11-22T13:00:00Z'
    }));
    const justify = byTestId('syft-justify');
    await type(
      byTestId('syft-justify-text', justify) as HTMLTextAreaElement,
      ' Counts of 20+ only '
    );
    await click(byTestId('syft-justify-send', justify));
    expect(fake.called('POST', `${BASE}/outputs/e1/justification`)).toEqual([
      { method: 'POST', body: { text: 'Counts of 20+ only' } }
    ]);
    expect(byTestId('syft-justify-sent').textContent).toContain('Sent');
    expect(
      fake.calls.filter(
        call => call.endpoint.includes('/outputs') && call.method === 'GET'
      )
    ).toEqual([]);
    expect(
      fake.calls.filter(call => call.endpoint.includes('/preview'))
    ).toEqual([]);
  });

  it('lets an owner open a run’s output', async () => {
    const request = makeRequest({ status: 'approved' });
    const { model } = newModel(server(request, owner));
    await model.refresh();
    const open = jest.fn();
    await render(
      <RequestReview model={model} requestId="r1" onOpenOutput={open} />
    );
    await settle();
    const buttons = dom.container.querySelectorAll(
      '[data-testid="syft-run-open-output"]'
    );
    expect(buttons.length).toBe(2);
    expect(
      dom.container.querySelector('[data-testid="syft-justify"]')
    ).toBeNull();
    await click(buttons[0] as HTMLElement);
    expect(open).toHaveBeenCalled();
  });
});
