/**
 * The React views against a model fed by a fake server: what they show, what they call,
 * and that user-supplied text is rendered as text.
 */
import React from 'react';
import { act } from 'react-dom/test-utils';

import { RequestReview } from '../components/RequestReview';
import { SyftSidebar } from '../components/SyftSidebar';
import { SyftModel } from '../model';
import { IRequest } from '../tokens';
import {
  dataset,
  disposeModels,
  FakeServer,
  makeCode,
  makeRequest,
  newModel,
  page
} from './fixtures';
import { mountEach } from './dom';

const BASE = 'syft/lab/api/v1';
const HOSTILE = '<img src=x onerror="window.__pwned=1">';

const dom = mountEach(disposeModels);
const { render, settle, byTestId, click, type } = dom;

function setupModel(requests: IRequest[] = [makeRequest()]): {
  server: FakeServer;
  model: SyftModel;
} {
  const server = new FakeServer()
    .withLocalDatasite(requests)
    .on(
      'GET',
      `${BASE}/datasets`,
      page([{ ...dataset, name: HOSTILE, summary: HOSTILE }])
    )
    .on('GET', `${BASE}/assets/a1/mock/preview`, {
      kind: 'dataframe',
      shape: [50, 2],
      columns: ['age', HOSTILE],
      rows: [[30, 0.123456789]]
    });
  return { server, ...newModel(server) };
}

describe('SyftSidebar', () => {
  it('lists datasets with assets and a mock preview, escaping their text', async () => {
    const { model } = setupModel();
    await model.refresh();
    await render(
      <SyftSidebar
        model={model}
        onOpenRequest={jest.fn()}
        onNewNotebook={jest.fn()}
      />
    );
    const item = byTestId('syft-dataset');
    expect(item.textContent).toContain(HOSTILE);
    expect(dom.container.querySelector('img')).toBeNull();

    await click(byTestId('syft-dataset-toggle'));
    const asset = byTestId('syft-asset');
    expect(byTestId('syft-asset-shape', asset).textContent).toContain('50 × 2');
    expect(byTestId('syft-contributors', asset).textContent).toContain('Bob');
    const preview = byTestId('syft-mock-preview', asset);
    const headers = Array.from(preview.querySelectorAll('th')).map(
      th => th.textContent
    );
    expect(headers).toEqual(['age', HOSTILE]);
    expect(preview.querySelector('td[title="0.123456789"]')?.textContent).toBe(
      '0.123457'
    );
    expect(dom.container.querySelector('img')).toBeNull();
    expect((window as any).__pwned).toBeUndefined();
    // Owners may open the private preview.
    expect(byTestId('syft-toggle-private', asset)).toBeTruthy();
  });

  it('shows requests pending first, filters them and opens one', async () => {
    const { model } = setupModel([
      makeRequest({ id: 'a', status: 'approved' }),
      makeRequest({ id: 'p', status: 'pending' })
    ]);
    await model.refresh();
    const open = jest.fn();
    await render(
      <SyftSidebar
        model={model}
        onOpenRequest={open}
        onNewNotebook={jest.fn()}
        initialTab="requests"
      />
    );
    const ids = () =>
      Array.from(
        dom.container.querySelectorAll('[data-testid="syft-request"]')
      ).map(element => element.getAttribute('data-request-id'));
    expect(ids()).toEqual(['p', 'a']);
    expect(byTestId('syft-pending-count').textContent).toBe('1');

    await click(byTestId('syft-filter-approved'));
    expect(ids()).toEqual(['a']);
    await click(byTestId('syft-filter-all'));

    await click(byTestId('syft-request-open'));
    expect(open).toHaveBeenCalledWith('p');
  });

  it('shows projects with their requests', async () => {
    const { model } = setupModel();
    await model.refresh();
    await render(
      <SyftSidebar
        model={model}
        onOpenRequest={jest.fn()}
        onNewNotebook={jest.fn()}
        initialTab="projects"
      />
    );
    const project = byTestId('syft-project');
    expect(project.textContent).toContain('Ages');
    expect(
      byTestId('syft-request', project).getAttribute('data-request-id')
    ).toBe('r1');
  });

  it('connects to a remote Datasite and clears the password field', async () => {
    const { server, model } = setupModel();
    server.on('POST', 'syft/lab/remotes', () => {
      throw new Error('Wrong email or password.');
    });
    await model.refresh();
    await render(
      <SyftSidebar
        model={model}
        onOpenRequest={jest.fn()}
        onNewNotebook={jest.fn()}
      />
    );
    await click(byTestId('syft-connect'));
    const password = byTestId('syft-connect-password') as HTMLInputElement;
    const setInput = (element: HTMLInputElement, value: string) => {
      Object.getOwnPropertyDescriptor(
        HTMLInputElement.prototype,
        'value'
      )!.set!.call(element, value);
      element.dispatchEvent(new Event('input', { bubbles: true }));
    };
    await act(async () => {
      setInput(byTestId('syft-connect-url') as HTMLInputElement, 'http://x:1');
      setInput(byTestId('syft-connect-email') as HTMLInputElement, 'a@b.c');
      setInput(password, 'hunter2');
    });
    await act(async () => {
      byTestId('syft-connect-form').dispatchEvent(
        new Event('submit', { bubbles: true, cancelable: true })
      );
    });
    await settle();
    expect(server.called('POST', 'syft/lab/remotes')[0].body).toEqual({
      url: 'http://x:1',
      email: 'a@b.c',
      password: 'hunter2'
    });
    expect(password.value).toBe('');
    expect(byTestId('syft-connect-error').textContent).toBe(
      'Wrong email or password.'
    );
  });
});

describe('RequestReview', () => {
  // The owner confirms every decision (the dialog itself: review.spec.tsx).
  const yes = async (): Promise<boolean> => true;

  function reviewServer(request: IRequest): FakeServer {
    return new FakeServer()
      .withLocalDatasite([request])
      .on('GET', `${BASE}/requests/${request.id}`, request)
      .on(
        'GET',
        `${BASE}/code`,
        page([
          makeCode({
            id: 'c0',
            raw_code: 'def mean_age(data):\n    return 0\n',
            submit_time: '2026-11-21T00:00:00Z'
          }),
          request.code
        ])
      )
      .on('GET', `${BASE}/code/${request.code.id}/executions`, page([]));
  }

  it('shows the request, its code, inputs, policies, findings and diff', async () => {
    const request = makeRequest({
      reason: HOSTILE,
      code: makeCode({
        findings: [
          {
            kind: 'risky_import',
            severity: 'warning',
            line: 2,
            name: 'os',
            message: 'It imports os.'
          }
        ]
      })
    });
    const server = reviewServer(request);
    const { model } = newModel(server);
    await model.refresh();
    await render(<RequestReview model={model} requestId="r1" confirm={yes} />);
    await settle();
    expect(byTestId('syft-requester').textContent).toContain('Dana Scientist');
    expect(byTestId('syft-project-name').textContent).toBe('Ages');
    expect(byTestId('syft-reason').textContent).toBe(HOSTILE);
    expect(dom.container.querySelector('img')).toBeNull();
    expect(byTestId('syft-code').textContent).toContain('def mean_age(data):');
    expect(byTestId('syft-inputs').textContent).toContain('asset table');
    expect(byTestId('syft-policies').textContent).toContain('at most 1 run');
    expect(byTestId('syft-findings').textContent).toContain('It imports os.');
    const diff = byTestId('syft-diff');
    expect(diff.querySelector('[data-kind="removed"]')?.textContent).toContain(
      'return 0'
    );
  });

  it('lets an owner approve, and deny only with a reason', async () => {
    const request = makeRequest();
    const server = reviewServer(request)
      .on('POST', `${BASE}/requests/r1/approve`, () =>
        makeRequest({ status: 'approved', updated_at: '2026-11-22T11:00:00Z' })
      )
      .on('POST', `${BASE}/requests/r1/deny`, (options: any) =>
        makeRequest({ status: 'rejected', deny_reason: options.body.reason })
      );
    const { model } = newModel(server);
    await model.refresh();
    await render(<RequestReview model={model} requestId="r1" confirm={yes} />);
    await settle();

    const deny = byTestId('syft-deny') as HTMLButtonElement;
    expect(deny.disabled).toBe(true);
    await type(
      byTestId('syft-deny-reason') as HTMLTextAreaElement,
      'Too broad'
    );
    expect(deny.disabled).toBe(false);
    await click(deny);
    expect(server.called('POST', `${BASE}/requests/r1/deny`)[0].body).toEqual({
      reason: 'Too broad'
    });
    expect(byTestId('syft-decided').textContent).toContain('Too broad');
    expect(
      dom.container.querySelector('[data-testid="syft-approve"]')
    ).toBeNull();
  });

  it('approves, and the list follows', async () => {
    const request = makeRequest();
    const server = reviewServer(request).on(
      'POST',
      `${BASE}/requests/r1/approve`,
      () =>
        makeRequest({ status: 'approved', updated_at: '2026-11-22T11:00:00Z' })
    );
    const { model } = newModel(server);
    await model.refresh();
    await render(<RequestReview model={model} requestId="r1" confirm={yes} />);
    await settle();
    await click(byTestId('syft-approve'));
    expect(byTestId('syft-decided').textContent).toContain('Approved');
    expect(model.getRequest('r1')?.status).toBe('approved');
  });

  it('shows the nested jobs with their code and approves exactly those', async () => {
    const request = makeRequest({
      nested: [
        {
          name: 'process_batch',
          code_id: 'c7',
          raw_code: 'def process_batch(batch):\n    return batch.sum()\n',
          submit_time: '2026-11-22T09:00:00Z',
          approved_as_nested: false
        }
      ]
    });
    const server = reviewServer(request).on(
      'POST',
      `${BASE}/requests/r1/approve`,
      () => makeRequest({ status: 'approved' })
    );
    const { model } = newModel(server);
    await model.refresh();
    await render(<RequestReview model={model} requestId="r1" confirm={yes} />);
    await settle();
    expect(byTestId('syft-nested-function').textContent).toContain(
      'process_batch'
    );
    await click(byTestId('syft-approve-nested'));
    await click(byTestId('syft-approve'));
    expect(
      server.called('POST', `${BASE}/requests/r1/approve`)[0].body
    ).toEqual({ approve_nested: true, nested_code_ids: ['c7'] });
  });

  it("shows a custom policy's code, as text, next to the function's", async () => {
    const request = makeRequest({
      code: makeCode({
        output_policy: {
          type: 'CustomOutputPolicy',
          class_name: 'RepeatedCallPolicy',
          code: `class RepeatedCallPolicy(sy.CustomOutputPolicy):\n    """${HOSTILE}"""\n`,
          init_kwargs: { n_calls: 2 }
        }
      })
    });
    const { model } = newModel(reviewServer(request));
    await model.refresh();
    await render(<RequestReview model={model} requestId="r1" confirm={yes} />);
    await settle();
    const section = byTestId('syft-policy-code-section');
    expect(section.textContent).toContain(
      'CustomOutputPolicy RepeatedCallPolicy'
    );
    expect(section.textContent).toContain(
      'class RepeatedCallPolicy(sy.CustomOutputPolicy):'
    );
    expect(section.textContent).toContain(HOSTILE);
    expect(dom.container.querySelector('img')).toBeNull();
    expect(byTestId('syft-policies').textContent).not.toContain('at most');
  });

  it('runs a pending request on the mock and shows the result', async () => {
    const request = makeRequest();
    const server = reviewServer(request)
      .on('POST', `${BASE}/code/c1/run-on-mocks`, {
        id: 'e1',
        code_id: 'c1',
        ok: true,
        on_private_data: false,
        deposited: false,
        error: '',
        error_kind: '',
        sandbox: 'bwrap',
        duration_s: 0.5,
        created_at: null,
        has_result: true,
        notice: 'Ran on mock data',
        stdout: 'hello\n'
      })
      .on('GET', `${BASE}/executions/e1/preview`, {
        kind: 'text',
        text: '42.5'
      });
    const { model } = newModel(server);
    await model.refresh();
    await render(<RequestReview model={model} requestId="r1" confirm={yes} />);
    await settle();
    await click(byTestId('syft-run-mock'));
    expect(byTestId('syft-mock-execution').getAttribute('data-ok')).toBe(
      'true'
    );
    expect(byTestId('syft-mock-execution').textContent).toContain('hello');
    expect(byTestId('syft-result-preview').textContent).toContain('42.5');
  });

  it('shows errors from the server to the user', async () => {
    const request = makeRequest();
    const server = reviewServer(request).on(
      'POST',
      `${BASE}/requests/r1/approve`,
      () => {
        throw new Error('Only data owners and admins can approve requests.');
      }
    );
    const { model } = newModel(server);
    await model.refresh();
    await render(<RequestReview model={model} requestId="r1" confirm={yes} />);
    await settle();
    await click(byTestId('syft-approve'));
    expect(byTestId('syft-decision-error').textContent).toBe(
      'Only data owners and admins can approve requests.'
    );
  });
});
