/**
 * The review tab (#16): the decision after the code, confirmed with a summary; who decided
 * and when, for every role; revoke; the Datasite's 409; the timeline; the next step of an
 * approved request; a diff marked by more than colour. Against a model fed by a fake server.
 */
import React from 'react';
import { act } from 'react-dom/test-utils';
import { createRoot } from 'react-dom/client';

import {
  ConfirmFunction,
  RequestReview,
  runSnippet
} from '../components/RequestReview';
import { DiffView } from '../components/DiffView';
import { RequestItem } from '../components/RequestList';
import { diffLines } from '../diff';
import { SyftRequestError } from '../request';
import { IRequest, ITimelineEntry } from '../tokens';
import {
  disposeModels,
  FakeServer,
  makeCode,
  makeExecution,
  makeRequest,
  newModel,
  owner,
  page,
  scientist
} from './fixtures';
import { mountEach } from './dom';

const BASE = 'syft/lab/api/v1';
const HOSTILE = '<img src=x onerror="window.__pwned=1">';

const dom = mountEach(disposeModels);
const { byTestId, query, type } = dom;

/** Render, then let the views' loads finish (three rounds of the event loop). */
async function render(element: React.ReactElement): Promise<void> {
  await dom.render(element);
  await dom.settle(3);
}

const click = (element: HTMLElement): Promise<void> => dom.click(element, 3);

const FINDING = {
  kind: 'risky_import',
  severity: 'warning',
  line: 2,
  name: 'os',
  message: 'It imports os.'
};

function entry(overrides: Partial<ITimelineEntry>): ITimelineEntry {
  return {
    seq: 1,
    at: '2026-11-22T10:00:00Z',
    action: 'code.submit',
    actor_email: scientist.email,
    object_type: 'code',
    object_id: 'c1',
    summary: 'submitted the code',
    detail: {},
    ...overrides
  };
}

/** A Datasite holding `request`, a previous version of its function, and its timeline. */
function reviewServer(
  request: IRequest,
  timeline: ITimelineEntry[] = [entry({})]
): FakeServer {
  return new FakeServer()
    .withLocalDatasite([request])
    .on('GET', `${BASE}/requests/${request.id}`, () => request)
    .on(
      'GET',
      `${BASE}/code`,
      page([
        makeCode({
          id: 'c0',
          raw_code: 'def mean_age(data):\n    return 0\n',
          submit_time: '2026-11-21T00:00:00Z',
          status: 'rejected'
        }),
        request.code
      ])
    )
    .on('GET', `${BASE}/code/${request.code.id}/executions`, page([]))
    .on('GET', `${BASE}/requests/${request.id}/timeline`, page(timeline));
}

/** A confirmation that records what it was shown and answers `answer`. */
function recordingConfirm(answer: boolean): {
  confirm: ConfirmFunction;
  shown: { title: string; text: string }[];
} {
  const shown: { title: string; text: string }[] = [];
  const confirm: ConfirmFunction = async options => {
    const host = document.createElement('div');
    const inner = createRoot(host);
    await act(async () => inner.render(options.body));
    shown.push({ title: options.title, text: host.textContent ?? '' });
    act(() => inner.unmount());
    return answer;
  };
  return { confirm, shown };
}

describe('the decision', () => {
  it('comes after the code, findings, diff and timeline', async () => {
    const request = makeRequest({ code: makeCode({ findings: [FINDING] }) });
    const { model } = newModel(reviewServer(request));
    await model.refresh();
    await render(<RequestReview model={model} requestId="r1" />);
    const order = [
      'syft-code-section',
      'syft-findings',
      'syft-diff',
      'syft-timeline',
      'syft-decision'
    ].map(id => byTestId(id));
    for (let i = 1; i < order.length; i++) {
      expect(
        order[i - 1].compareDocumentPosition(order[i]) &
          Node.DOCUMENT_POSITION_FOLLOWING
      ).toBeTruthy();
    }
  });

  it('asks to confirm an approval with a summary; cancelling approves nothing', async () => {
    const request = makeRequest({ code: makeCode({ findings: [FINDING] }) });
    const server = reviewServer(request).on(
      'POST',
      `${BASE}/requests/r1/approve`,
      () =>
        makeRequest({
          status: 'approved',
          decided_by: { name: owner.name, email: owner.email },
          decided_at: '2026-11-22T11:00:00Z'
        })
    );
    const { model } = newModel(server);
    await model.refresh();
    const no = recordingConfirm(false);
    await render(
      <RequestReview model={model} requestId="r1" confirm={no.confirm} />
    );
    await click(byTestId('syft-approve'));
    expect(no.shown).toHaveLength(1);
    expect(no.shown[0].title).toBe('Approve mean_age?');
    const text = no.shown[0].text;
    expect(text).toContain('Static analysis found 1 issue');
    expect(text).toContain('It imports os.');
    expect(text).toContain('A resubmission');
    expect(text).toContain('table (Patients)');
    expect(server.called('POST', `${BASE}/requests/r1/approve`)).toHaveLength(
      0
    );
    expect(byTestId('syft-approve')).toBeTruthy();

    const yes = recordingConfirm(true);
    await render(
      <RequestReview model={model} requestId="r1" confirm={yes.confirm} />
    );
    await click(byTestId('syft-approve'));
    expect(server.called('POST', `${BASE}/requests/r1/approve`)).toHaveLength(
      1
    );
    expect(byTestId('syft-decided').textContent).toContain(
      'Approved by Jane Owner (info@openmined.org) at'
    );
    expect(query('syft-approve')).toBeNull();
    expect(byTestId('syft-revoke')).toBeTruthy();
  });

  it("shows the Datasite's refusal of a second approval, and who decided", async () => {
    let current = makeRequest();
    const server = reviewServer(current);
    server.on('GET', `${BASE}/requests/r1`, () => current);
    server.on('POST', `${BASE}/requests/r1/approve`, () => {
      current = makeRequest({
        status: 'approved',
        decided_by: { name: 'Other Owner', email: 'other@example.org' },
        decided_at: '2026-11-22T11:00:00Z'
      });
      throw new SyftRequestError(
        409,
        'conflict',
        'This request is already approved by other@example.org at 2026-11-22T11:00:00Z.'
      );
    });
    const { model } = newModel(server);
    await model.refresh();
    await render(
      <RequestReview
        model={model}
        requestId="r1"
        confirm={recordingConfirm(true).confirm}
      />
    );
    await click(byTestId('syft-approve'));
    expect(byTestId('syft-decision-error').textContent).toContain(
      'already approved by other@example.org'
    );
    expect(byTestId('syft-decided').textContent).toContain(
      'Approved by Other Owner'
    );
    expect(query('syft-approve')).toBeNull();
  });

  it('revokes an approval only with a reason, after confirming', async () => {
    const request = makeRequest({
      status: 'approved',
      decided_by: { name: owner.name, email: owner.email },
      decided_at: '2026-11-22T11:00:00Z'
    });
    const server = reviewServer(request).on(
      'POST',
      `${BASE}/requests/r1/deny`,
      (options: any) =>
        makeRequest({
          status: 'rejected',
          deny_reason: options.body.reason,
          decided_by: { name: owner.name, email: owner.email },
          decided_at: '2026-11-22T12:00:00Z'
        })
    );
    const { model } = newModel(server);
    await model.refresh();
    const yes = recordingConfirm(true);
    await render(
      <RequestReview model={model} requestId="r1" confirm={yes.confirm} />
    );
    expect(query('syft-approve')).toBeNull();
    const revoke = byTestId('syft-revoke') as HTMLButtonElement;
    expect(revoke.disabled).toBe(true);
    await type(
      byTestId('syft-revoke-reason') as HTMLTextAreaElement,
      'Consent withdrawn'
    );
    await click(revoke);
    expect(yes.shown[0].text).toContain('can no longer run it');
    expect(server.called('POST', `${BASE}/requests/r1/deny`)[0].body).toEqual({
      reason: 'Consent withdrawn'
    });
    expect(byTestId('syft-decided').textContent).toContain(
      'Denied by Jane Owner (info@openmined.org) at'
    );
    expect(byTestId('syft-decided').textContent).toContain('Consent withdrawn');
  });
});

describe('the environment', () => {
  it('names it, lists its locked packages and flags what is new', async () => {
    const request = makeRequest({
      code: makeCode({
        environment: 'stats',
        environment_lock_hash: 'ab'.repeat(32),
        environment_packages: ['tinya==1.0', 'tinyb==2.0'],
        environment_added: ['tinyb==2.0'],
        environment_previous: 'stats'
      })
    });
    const { model } = newModel(reviewServer(request));
    await model.refresh();
    const check = recordingConfirm(false);
    await render(
      <RequestReview model={model} requestId="r1" confirm={check.confirm} />
    );
    const section = byTestId('syft-environment');
    expect(section.getAttribute('data-environment')).toBe('stats');
    expect(section.textContent).toContain('lock abababababab');
    const rows = Array.from(section.querySelectorAll('li')).map(
      li => li.textContent
    );
    expect(rows).toEqual(['tinya==1.0', 'tinyb==2.0 (new)']);
    expect(byTestId('syft-environment-added').textContent).toBe(
      'New since the previous version (environment stats): tinyb==2.0'
    );
    await click(byTestId('syft-approve'));
    expect(check.shown[0].text).toContain(
      'It runs in the environment stats, with packages new since its previous version: tinyb==2.0.'
    );
  });

  it("says when it is the Datasite's default", async () => {
    const request = makeRequest();
    const { model } = newModel(reviewServer(request));
    await model.refresh();
    await render(<RequestReview model={model} requestId="r1" />);
    expect(byTestId('syft-environment').textContent).toContain(
      "The Datasite's default environment"
    );
  });
});

describe('every role', () => {
  it('a scientist reads the status, the reason and who decided; no decision buttons', async () => {
    const request = makeRequest({
      status: 'rejected',
      deny_reason: HOSTILE,
      decided_by: { name: owner.name, email: owner.email },
      decided_at: '2026-11-22T11:00:00Z'
    });
    const server = reviewServer(request).on(
      'GET',
      `${BASE}/users/me`,
      scientist
    );
    const { model } = newModel(server);
    await model.refresh();
    expect(model.isOwner).toBe(false);
    await render(<RequestReview model={model} requestId="r1" />);
    const decided = byTestId('syft-decided');
    expect(decided.textContent).toContain('Denied by Jane Owner');
    expect(decided.textContent).toContain(HOSTILE);
    expect(dom.container.querySelector('img')).toBeNull();
    expect(query('syft-decision')).toBeNull();
    expect(query('syft-run-mock')).toBeNull();
  });

  it('an approved request shows the code that runs it, to copy or open', async () => {
    const request = makeRequest({
      status: 'approved',
      decided_by: { name: owner.name, email: owner.email },
      decided_at: '2026-11-22T11:00:00Z'
    });
    const server = reviewServer(request).on(
      'GET',
      `${BASE}/users/me`,
      scientist
    );
    const { model } = newModel(server);
    await model.refresh();
    const opened: string[] = [];
    await render(
      <RequestReview
        model={model}
        requestId="r1"
        onOpenNotebook={source => opened.push(source)}
      />
    );
    const snippet = byTestId('syft-run-snippet').textContent ?? '';
    expect(snippet).toContain(
      'data = client.datasets["Patients"].assets["table"]'
    );
    expect(snippet).toContain('result = client.code.mean_age(data=data)');
    const written: string[] = [];
    Object.defineProperty(navigator, 'clipboard', {
      configurable: true,
      value: { writeText: async (text: string) => written.push(text) }
    });
    await click(byTestId('syft-copy-snippet'));
    expect(written).toEqual([snippet]);
    expect(byTestId('syft-copied').textContent).toBe('Copied.');
    await click(byTestId('syft-open-notebook'));
    expect(opened).toEqual([snippet]);
  });

  it('the snippet names every input, and never breaks out of a Python string', () => {
    const request = makeRequest({
      code: makeCode({
        service_func_name: 'f',
        parameters: ['data', 'n', 'other'],
        input_policy: {
          type: 'ExactMatch',
          inputs: {
            data: { kind: 'asset', id: 'zz', name: 'x"]\nimport os' },
            n: { kind: 'constant', preview: '3', data: '3' }
          }
        }
      })
    });
    const { model } = newModel(new FakeServer());
    const snippet = runSnippet(request, model);
    expect(snippet).toContain('data = ...  # the asset "x\\"]\\nimport os"');
    expect(snippet).not.toContain('\nimport os');
    expect(snippet).toContain('n = 3');
    expect(snippet).toContain('other = ...  # any value');
    expect(snippet).toContain('client.code.f(data=data, n=n, other=other)');
  });
});

describe('the sidebar row', () => {
  it("says who decided, and a denial's reason first", async () => {
    const denied = makeRequest({
      status: 'rejected',
      deny_reason: HOSTILE,
      decided_by: { name: owner.name, email: owner.email },
      decided_at: '2026-11-22T11:00:00Z'
    });
    await render(
      <ul>
        <RequestItem request={denied} onOpen={() => undefined} />
        <RequestItem
          request={makeRequest({ id: 'r2' })}
          onOpen={() => undefined}
        />
      </ul>
    );
    const decided = byTestId('syft-request-decided');
    expect(decided.textContent).toBe(`Denied: ${HOSTILE}`);
    expect(decided.title).toContain(
      'Denied by Jane Owner (info@openmined.org) at'
    );
    expect(dom.container.querySelector('img')).toBeNull();
    // Pending: nothing decided to say.
    expect(
      dom.container.querySelectorAll('[data-testid="syft-request-decided"]')
    ).toHaveLength(1);
  });
});

describe('the timeline', () => {
  it('lists who did what and when; private runs open their result (owners)', async () => {
    const request = makeRequest();
    const server = reviewServer(request, [
      entry({ seq: 1 }),
      entry({
        seq: 2,
        action: 'code.run',
        actor_email: owner.email,
        object_type: 'code',
        object_id: 'c1',
        summary: 'ran it on private data',
        detail: { private: true, ok: true, execution: 'e9' }
      }),
      entry({
        seq: 4,
        action: 'output.report',
        actor_email: owner.email,
        object_type: 'execution',
        object_id: 'e-mock',
        summary: 'checked the result',
        detail: { private: false, outcome: 'pass' }
      }),
      entry({
        seq: 3,
        action: 'request.rejected',
        actor_email: owner.email,
        object_type: 'request',
        object_id: 'r1',
        summary: `denied the request: ${HOSTILE}`
      })
    ]);
    server.on(
      'GET',
      `${BASE}/code/c1/executions`,
      page([makeExecution({ id: 'e9', stdout: 'log line\n' })])
    );
    const { model } = newModel(server);
    await model.refresh();
    const opened: string[] = [];
    await render(
      <RequestReview
        model={model}
        requestId="r1"
        onOpenOutput={id => opened.push(id)}
      />
    );
    const items = dom.container.querySelectorAll(
      '[data-testid="syft-timeline-entry"]'
    );
    expect(items).toHaveLength(4);
    // Only the private run opens a result (a mock run's check has none to review).
    expect(
      dom.container.querySelectorAll(
        '[data-testid="syft-timeline-open-output"]'
      )
    ).toHaveLength(1);
    // A resubmission (a previous version exists) says so.
    expect(items[0].textContent).toContain(scientist.email);
    expect(items[0].textContent).toContain(
      'submitted the code (a resubmission: a new version)'
    );
    expect(items[3].textContent).toContain(HOSTILE);
    expect(dom.container.querySelector('img')).toBeNull();
    await click(byTestId('syft-timeline-open-output'));
    expect(opened).toEqual(['e9']);
    // The run's logs are shown with it.
    expect(byTestId('syft-runs').textContent).toContain('log line');
    expect(
      server.called('GET', `${BASE}/requests/r1/timeline`)[0].query
    ).toEqual({ limit: 100, order: 'oldest', cursor: undefined });
  });

  it('says so when the timeline cannot be read, and still shows the request', async () => {
    const request = makeRequest();
    const server = reviewServer(request).on(
      'GET',
      `${BASE}/requests/r1/timeline`,
      () => {
        throw new SyftRequestError(403, 'forbidden', 'Not your request.');
      }
    );
    const { model } = newModel(server);
    await model.refresh();
    await render(<RequestReview model={model} requestId="r1" />);
    expect(byTestId('syft-timeline-error').textContent).toBe(
      'Not your request.'
    );
    expect(byTestId('syft-code').textContent).toContain('def mean_age');
  });
});

describe('the diff', () => {
  it('marks changed lines with +/- and words, and sums them up', async () => {
    const diff = diffLines('a\nb\nc\n', 'a\nB\nc\nd\n');
    await render(<DiffView diff={diff} />);
    expect(byTestId('syft-diff-summary').textContent).toBe(
      '2 lines added, 1 removed'
    );
    const added = dom.container.querySelectorAll('tr[data-kind="added"]');
    const removed = dom.container.querySelectorAll('tr[data-kind="removed"]');
    expect(added).toHaveLength(2);
    expect(removed).toHaveLength(1);
    expect(added[0].querySelector('.jp-syft-diff-mark')?.textContent).toBe(
      '+added'
    );
    expect(removed[0].querySelector('.jp-syft-diff-mark')?.textContent).toBe(
      '-removed'
    );
    expect(
      dom.container.querySelector('table')?.getAttribute('aria-label')
    ).toBe('Line diff: 2 lines added, 1 removed');
  });
});

describe('the model', () => {
  it('refuses to revoke what is not approved, without calling the Datasite', async () => {
    const server = new FakeServer().withLocalDatasite([makeRequest()]);
    const { model } = newModel(server);
    await model.refresh();
    await expect(model.revoke('r1', 'why')).rejects.toThrow(
      'not approved: there is no approval to revoke'
    );
    expect(server.called('POST', `${BASE}/requests/r1/deny`)).toHaveLength(0);
  });

  it('reads a request and pages its timeline', async () => {
    const server = new FakeServer()
      .withLocalDatasite([makeRequest()])
      .on('GET', `${BASE}/requests/r1`, makeRequest({ status: 'approved' }))
      .on('GET', `${BASE}/requests/r1/timeline`, page([entry({})], 'next'));
    const { model } = newModel(server);
    await model.refresh();
    expect((await model.fetchRequest('r1')).status).toBe('approved');
    expect(model.getRequest('r1')?.status).toBe('approved');
    const first = await model.requestTimeline('r1', 'abc', 10);
    expect(first.next_cursor).toBe('next');
    expect(
      server.called('GET', `${BASE}/requests/r1/timeline`)[0].query
    ).toEqual({ limit: 10, order: 'oldest', cursor: 'abc' });
    await expect(model.fetchRequest('gone')).rejects.toMatchObject({
      status: 404
    });
  });
});
