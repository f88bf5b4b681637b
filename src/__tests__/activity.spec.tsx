/**
 * The activity and jobs views' model calls (routes, filters, owners-only refusals without a
 * request), the words they show, and the views against a fake server.
 */
import React, { act } from 'react';
import { nullTranslator } from '@jupyterlab/translation';

import {
  ActivityView,
  describeEvent,
  verificationText
} from '../components/ActivityView';
import {
  elapsedText,
  formatDuration,
  JobsView,
  progressOf
} from '../components/JobsView';
import { JupyterFrontEnd } from '@jupyterlab/application';
import { CommandRegistry } from '@lumino/commands';
import { Widget } from '@lumino/widgets';

import { ACTIVITY_ID, JOBS_ID, registerActivity } from '../activity';
import { SyftRequestError } from '../request';
import { CommandIDs } from '../tokens';
import { IAuditEvent, IAuditVerification, IJob } from '../tokens';
import {
  disposeModels,
  FakeServer,
  newModel,
  page,
  scientist
} from './fixtures';
import { mountEach } from './dom';

const BASE = 'syft/lab/api/v1';
const trans = nullTranslator.load('jupyter_syft');
const HOSTILE = '<img src=x onerror="window.__pwned=1">';

function event(overrides: Partial<IAuditEvent> = {}): IAuditEvent {
  return {
    seq: 7,
    hash_version: 2,
    at: '2026-11-30T10:00:00.123456Z',
    actor_id: 'u-owner',
    actor_email: 'info@openmined.org',
    action: 'request.approved',
    object_type: 'request',
    object_id: 'req-1',
    detail: { reason: '' },
    prev_hash: 'a'.repeat(64),
    hash: 'b'.repeat(64),
    ...overrides
  };
}

const verified: IAuditVerification = {
  ok: true,
  count: 12,
  head_seq: 12,
  head_hash: 'c'.repeat(64),
  bad_seq: null,
  reason: '',
  since_seq: null
};

function job(overrides: Partial<IJob> = {}): IJob {
  return {
    id: 'job-1',
    code_id: 'code-1',
    service_func_name: 'long_loop',
    status: 'processing',
    error: '',
    n_iters: 10,
    current_iter: 3,
    created_at: '2026-11-30T10:00:00Z',
    updated_at: '2026-11-30T10:00:05Z',
    started_at: '2026-11-30T10:00:02Z',
    execution: null,
    requester: { name: 'Dana Scientist', email: 'dana@uni.example' },
    ...overrides
  };
}

function ownerServer(): FakeServer {
  return new FakeServer().withLocalDatasite();
}

function scientistServer(): FakeServer {
  return new FakeServer()
    .withLocalDatasite()
    .on('GET', `${BASE}/users/me`, scientist);
}

afterEach(disposeModels);

describe('SyftModel: activity and jobs', () => {
  it('reads the audit log newest first with trimmed filters, empty ones left out', async () => {
    const server = ownerServer().on(
      'GET',
      `${BASE}/audit/events`,
      page([event()], 'next-1')
    );
    const { model } = newModel(server);
    await model.refresh();
    const answer = await model.auditEvents(
      { user: '  dana@uni.example ', object_id: '', action: 'request.' },
      'cursor-0'
    );
    expect(answer.items[0].seq).toBe(7);
    expect(answer.next_cursor).toBe('next-1');
    expect(server.called('GET', `${BASE}/audit/events`)).toEqual([
      {
        query: {
          limit: 50,
          order: 'newest',
          cursor: 'cursor-0',
          user: 'dana@uni.example',
          object_id: undefined,
          object_type: undefined,
          action: 'request.'
        }
      }
    ]);
  });

  it('checks the chain on the Datasite', async () => {
    const server = ownerServer().on('GET', `${BASE}/audit/verify`, verified);
    const { model } = newModel(server);
    await model.refresh();
    expect(await model.auditVerification()).toEqual(verified);
  });

  it('asks nothing of the Datasite about the audit log for a scientist', async () => {
    const server = scientistServer()
      .on('GET', `${BASE}/audit/events`, page([event()]))
      .on('GET', `${BASE}/audit/verify`, verified);
    const { model } = newModel(server);
    await model.refresh();
    await expect(model.auditEvents()).rejects.toThrow(/owners/);
    await expect(model.auditVerification()).rejects.toBeInstanceOf(
      SyftRequestError
    );
    expect(server.called('GET', `${BASE}/audit/events`)).toEqual([]);
    expect(server.called('GET', `${BASE}/audit/verify`)).toEqual([]);
  });

  it('lists jobs by state, reads one, and kills one', async () => {
    const server = ownerServer()
      .on('GET', `${BASE}/jobs`, page([job()]))
      .on('GET', `${BASE}/jobs/job%2F1`, job({ id: 'job/1' }))
      .on(
        'POST',
        `${BASE}/jobs/job%2F1/kill`,
        job({ id: 'job/1', status: 'interrupted' })
      );
    const { model } = newModel(server);
    await model.refresh();
    await model.jobs();
    await model.jobs('all', 'c1');
    expect(server.called('GET', `${BASE}/jobs`).map(o => o.query)).toEqual([
      { limit: 100, order: 'newest', cursor: undefined, state: 'active' },
      { limit: 100, order: 'newest', cursor: 'c1', state: undefined }
    ]);
    expect((await model.job('job/1')).id).toBe('job/1');
    expect((await model.killJob('job/1')).status).toBe('interrupted');
    expect(server.called('POST', `${BASE}/jobs/job%2F1/kill`)).toHaveLength(1);
  });
});

describe('activity words', () => {
  it('says who did what to which request, with the reason', () => {
    const words = describeEvent(
      event({ action: 'request.rejected', detail: { reason: 'Too wide' } }),
      trans
    );
    expect(words).toMatchObject({
      who: 'info@openmined.org',
      what: 'denied a request',
      objectKind: 'request',
      objectId: 'req-1',
      requestId: 'req-1',
      note: 'reason: Too wide'
    });
  });

  it('tells a private run from a mock run, and a failure', () => {
    const run = (detail: Record<string, unknown>) =>
      describeEvent(
        event({ action: 'code.run', object_type: 'code', detail }),
        trans
      );
    expect(run({ private: true, ok: true }).what).toBe(
      'ran code on private data'
    );
    expect(run({ private: false, ok: false })).toMatchObject({
      what: 'ran code on mock data',
      note: 'it failed',
      requestId: null
    });
  });

  it('keeps unknown actions as written and says when the chain breaks', () => {
    expect(describeEvent(event({ action: 'x.new' }), trans).what).toBe('x.new');
    expect(verificationText(verified, trans)).toBe(
      'Verified: 12 events, none changed, removed or reordered.'
    );
    expect(
      verificationText(
        { ...verified, ok: false, bad_seq: 5, reason: 'event 5 was edited' },
        trans
      )
    ).toBe('Broken at event seq 5: event 5 was edited');
  });
});

describe('job words', () => {
  const now = Date.parse('2026-11-30T10:01:04Z');
  it('shows how long a job waited, runs or ran', () => {
    expect(formatDuration(12.7)).toBe('12 s');
    expect(formatDuration(125)).toBe('2 min 5 s');
    expect(formatDuration(7260)).toBe('2 h 1 min');
    expect(elapsedText(job(), now, trans)).toBe('running for 1 min 2 s');
    expect(
      elapsedText(job({ status: 'created', started_at: null }), now, trans)
    ).toBe('queued for 1 min 4 s');
    expect(elapsedText(job({ status: 'completed' }), now, trans)).toBe(
      'ran for 3 s'
    );
  });

  it('gives progress only when the code reports it', () => {
    expect(progressOf(job())).toBeCloseTo(0.3);
    expect(progressOf(job({ n_iters: 0, current_iter: 0 }))).toBeNull();
    expect(progressOf(job({ n_iters: 2, current_iter: 5 }))).toBe(1);
  });
});

describe('the views', () => {
  const dom = mountEach();
  const flush = (): Promise<void> => dom.settle();

  it('shows events in words, the verified chain, and opens a request', async () => {
    const server = ownerServer()
      .on('GET', `${BASE}/audit/events`, () =>
        page([
          event({ actor_email: HOSTILE }),
          event({ seq: 6, action: 'code.submit', object_type: 'code' })
        ])
      )
      .on('GET', `${BASE}/audit/verify`, verified);
    const { model } = newModel(server);
    await model.refresh();
    const opened: string[] = [];
    await act(async () =>
      dom.root.render(
        <ActivityView model={model} onOpenRequest={id => opened.push(id)} />
      )
    );
    await flush();
    const status = dom.container.querySelector(
      '[data-testid="syft-audit-verification"]'
    )!;
    expect(status.getAttribute('data-ok')).toBe('true');
    expect(status.textContent).toContain('Verified: 12 events');
    const rows = dom.container.querySelectorAll(
      '[data-testid="syft-audit-event"]'
    );
    expect(rows).toHaveLength(2);
    expect(rows[0].textContent).toContain('approved a request');
    expect(rows[0].textContent).toContain(HOSTILE); // as text, never as markup
    expect(dom.container.querySelector('img')).toBeNull();
    expect(rows[1].textContent).toContain('submitted code');
    expect(
      rows[1].querySelector('[data-testid="syft-audit-open-request"]')
    ).toBeNull();
    await act(async () =>
      (
        rows[0].querySelector(
          '[data-testid="syft-audit-open-request"]'
        ) as HTMLButtonElement
      ).click()
    );
    expect(opened).toEqual(['req-1']);
  });

  it('tells a scientist the log is the owners’, asking nothing', async () => {
    const server = scientistServer();
    const { model } = newModel(server);
    await model.refresh();
    await act(async () =>
      dom.root.render(<ActivityView model={model} onOpenRequest={() => {}} />)
    );
    await flush();
    expect(
      dom.container.querySelector('[data-testid="syft-activity-owners-only"]')
    ).not.toBeNull();
    expect(
      server.calls.filter(call => call.endpoint.includes('audit'))
    ).toEqual([]);
  });

  it('shows a running job with its progress, requester and kill button', async () => {
    const server = ownerServer().on('GET', `${BASE}/jobs`, () => page([job()]));
    const { model } = newModel(server);
    await model.refresh();
    await act(async () => dom.root.render(<JobsView model={model} />));
    await flush();
    const row = dom.container.querySelector('[data-testid="syft-job"]')!;
    expect(row.getAttribute('data-status')).toBe('processing');
    expect(
      row.querySelector('[role="progressbar"]')!.getAttribute('aria-valuenow')
    ).toBe('3');
    expect(row.textContent).toContain('3 / 10 (30%)');
    expect(row.textContent).toContain('asked by Dana Scientist');
    expect(row.querySelector('[data-testid="syft-job-kill"]')).not.toBeNull();
  });
});

describe('the views, paging and live changes', () => {
  const dom = mountEach();
  const flush = (): Promise<void> => dom.settle();

  function button(testid: string): HTMLButtonElement {
    return dom.container.querySelector(
      `[data-testid="${testid}"] button, button[data-testid="${testid}"]`
    ) as HTMLButtonElement;
  }

  it('loads the next page of events after the last, and filters by a clicked object', async () => {
    const server = ownerServer()
      .on('GET', `${BASE}/audit/verify`, verified)
      .on('GET', `${BASE}/audit/events`, (options: any) => {
        const query = options.query ?? {};
        if (query.object_id) {
          return page([event({ seq: 3 })]);
        }
        return query.cursor
          ? { items: [event({ seq: 5 })], next_cursor: null, total: 2 }
          : { items: [event({ seq: 6 })], next_cursor: 'after-6', total: 2 };
      });
    const { model } = newModel(server);
    await model.refresh();
    await act(async () =>
      dom.root.render(<ActivityView model={model} onOpenRequest={() => {}} />)
    );
    await flush();
    expect(dom.container.textContent).toContain('1 more');
    await act(async () => button('syft-activity-more').click());
    await flush();
    const seqs = () =>
      Array.from(
        dom.container.querySelectorAll('[data-testid="syft-audit-event"]')
      ).map(row => row.getAttribute('data-seq'));
    expect(seqs()).toEqual(['6', '5']);
    expect(
      server.called('GET', `${BASE}/audit/events`).map(o => o.query!.cursor)
    ).toEqual([undefined, 'after-6']);
    expect(
      dom.container.querySelector('[data-testid="syft-activity-more"]')
    ).toBeNull();

    await act(async () =>
      (
        dom.container.querySelector(
          '[data-testid="syft-audit-object"]'
        ) as HTMLButtonElement
      ).click()
    );
    await flush();
    expect(seqs()).toEqual(['3']);
    const last = server.called('GET', `${BASE}/audit/events`).pop()!;
    expect(last.query).toMatchObject({ object_id: 'req-1', cursor: undefined });
    expect(dom.container.textContent).toContain('1 event matches the filters');
  });

  it('shows a broken chain where it breaks', async () => {
    const server = ownerServer()
      .on('GET', `${BASE}/audit/events`, page([event()]))
      .on('GET', `${BASE}/audit/verify`, {
        ...verified,
        ok: false,
        bad_seq: 4,
        reason: 'event 4 was changed after it was written'
      });
    const { model } = newModel(server);
    await model.refresh();
    await act(async () =>
      dom.root.render(<ActivityView model={model} onOpenRequest={() => {}} />)
    );
    await flush();
    const status = dom.container.querySelector(
      '[data-testid="syft-audit-verification"]'
    )!;
    expect(status.getAttribute('data-ok')).toBe('false');
    expect(status.textContent).toContain(
      'Broken at event seq 4: event 4 was changed after it was written'
    );
  });

  it('reads the jobs again when the push channel says jobs changed', async () => {
    let answer = page<IJob>([]);
    const server = ownerServer().on('GET', `${BASE}/jobs`, () => answer);
    const { model } = newModel(server);
    await model.refresh();
    await act(async () => dom.root.render(<JobsView model={model} />));
    await flush();
    expect(
      dom.container.querySelector('[data-testid="syft-jobs-empty"]')
    ).not.toBeNull();
    answer = page([job({ status: 'created', started_at: null })]);
    await act(async () =>
      (model as any)._pushed.emit([
        { topic: 'jobs', change: 'created', id: 'job-1' }
      ])
    );
    await flush();
    const row = dom.container.querySelector('[data-testid="syft-job"]')!;
    expect(row.getAttribute('data-status')).toBe('created');
    expect(row.textContent).toContain('Queued');
    expect(row.textContent).toContain('queued for');
  });
});

describe('the palette commands', () => {
  function setupApp(server: FakeServer) {
    const added: Widget[] = [];
    const commands = new CommandRegistry();
    const app = {
      commands,
      shell: {
        add: (widget: Widget) => added.push(widget),
        activateById: jest.fn()
      }
    } as unknown as JupyterFrontEnd;
    const { model } = newModel(server);
    registerActivity(app, model, { trans });
    return { added, commands, model, app };
  }

  it('offers the activity to owners only, and jobs to everyone', async () => {
    const scientistApp = setupApp(scientistServer());
    await scientistApp.model.refresh();
    expect(scientistApp.commands.isVisible(CommandIDs.openActivity)).toBe(
      false
    );
    expect(scientistApp.commands.isVisible(CommandIDs.openJobs)).toBe(true);

    const ownerApp = setupApp(
      ownerServer()
        .on('GET', `${BASE}/jobs`, page([]))
        .on('GET', `${BASE}/audit/events`, page([]))
        .on('GET', `${BASE}/audit/verify`, verified)
    );
    await ownerApp.model.refresh();
    expect(ownerApp.commands.isVisible(CommandIDs.openActivity)).toBe(true);
    expect(ownerApp.commands.label(CommandIDs.openActivity)).toBe(
      'Open Datasite Activity'
    );
    await ownerApp.commands.execute(CommandIDs.openActivity);
    await ownerApp.commands.execute(CommandIDs.openJobs);
    await ownerApp.commands.execute(CommandIDs.openJobs); // one tab each
    expect(ownerApp.added.map(widget => widget.id)).toEqual([
      ACTIVITY_ID,
      JOBS_ID
    ]);
    expect(ownerApp.app.shell.activateById).toHaveBeenLastCalledWith(JOBS_ID);
    for (const widget of ownerApp.added) {
      widget.dispose();
    }
  });
});
