/**
 * The review of one code request: who asks, for which project and why; the code
 * (highlighted), its inputs and policies, static-analysis findings, the diff against the
 * previous submission, earlier runs. Owners approve, deny (with a reason) or run it on mocks.
 */
import React, { useCallback, useState } from 'react';
import { CodeEditor } from '@jupyterlab/codeeditor';
import { TranslationBundle } from '@jupyterlab/translation';
import { Button } from '@jupyterlab/ui-components';

import { hasChanges } from '../diff';
import { useTrans } from '../i18n';
import { MAX_JUSTIFICATION, messageOf, SyftModel } from '../model';
import {
  IExecution,
  IFinding,
  IMockRun,
  IPolicyInput,
  IRequest,
  IRequestDetail
} from '../tokens';
import { CodeView } from './CodeView';
import {
  ErrorMessage,
  formatTime,
  ReleaseBadge,
  StatusBadge,
  useDetail,
  useModelState
} from './common';
import { DiffView } from './DiffView';
import { DisclosureReportView } from './OutputReview';
import { PreviewTable } from './PreviewTable';

function Section(props: {
  title: string;
  testid?: string;
  children: React.ReactNode;
}): JSX.Element {
  return (
    <section className="jp-syft-review-section" data-testid={props.testid}>
      <h3>{props.title}</h3>
      {props.children}
    </section>
  );
}

function describeInput(input: IPolicyInput, trans: TranslationBundle): string {
  switch (input.kind) {
    case 'asset':
      return trans.__('asset %1', input.name ?? input.id ?? '');
    case 'type':
      return trans.__('any %1', input.type ?? 'value');
    case 'constant':
      return trans.__('constant %1', input.preview ?? '');
    default: // a kind this sidebar does not know yet
      return (input as { kind: string }).kind;
  }
}

function Inputs(props: { request: IRequest }): JSX.Element {
  const trans = useTrans();
  const code = props.request.code;
  const rules = code.input_policy?.inputs ?? {};
  const params = code.parameters.filter(param => param !== 'datasite');
  const extra = Object.keys(rules).filter(key => !params.includes(key));
  const rows = [...params, ...extra];
  if (!rows.length) {
    return (
      <div className="jp-syft-muted">
        {trans.__('The function takes no inputs.')}
      </div>
    );
  }
  return (
    <table className="jp-syft-table jp-syft-kv" data-testid="syft-inputs">
      <tbody>
        {rows.map(param => (
          <tr key={param}>
            <th className="jp-syft-mono">{param}</th>
            <td>
              {rules[param] ? (
                describeInput(rules[param], trans)
              ) : (
                <span className="jp-syft-warning-text">
                  {trans.__('not covered by the input policy')}
                </span>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Policies(props: { request: IRequest }): JSX.Element {
  const trans = useTrans();
  const code = props.request.code;
  const limit = code.output_policy?.limit;
  return (
    <table className="jp-syft-table jp-syft-kv" data-testid="syft-policies">
      <tbody>
        <tr>
          <th>{trans.__('Input policy')}</th>
          <td>{code.input_policy?.type}</td>
        </tr>
        <tr>
          <th>{trans.__('Output policy')}</th>
          <td>
            {code.output_policy?.type}
            {limit !== undefined
              ? ' ' +
                trans._n(
                  '(at most %1 run; %2 used)',
                  '(at most %1 runs; %2 used)',
                  limit,
                  code.runs_used
                )
              : ''}
          </td>
        </tr>
        {props.request.sandbox && (
          <tr>
            <th>{trans.__('Sandbox')}</th>
            <td>
              {props.request.sandbox === 'none' ? (
                <span className="jp-syft-warning-text">
                  {trans.__(
                    'none: code runs without isolation on this machine'
                  )}
                </span>
              ) : (
                props.request.sandbox
              )}
            </td>
          </tr>
        )}
      </tbody>
    </table>
  );
}

function Findings(props: { findings: IFinding[] }): JSX.Element {
  const trans = useTrans();
  if (!props.findings.length) {
    return (
      <div className="jp-syft-muted" data-testid="syft-findings">
        {trans.__('No findings.')}
      </div>
    );
  }
  return (
    <ul className="jp-syft-findings" data-testid="syft-findings">
      {props.findings.map((finding, index) => (
        <li
          key={index}
          className={`jp-syft-finding jp-syft-finding-${finding.severity}`}
          data-kind={finding.kind}
        >
          <span className="jp-syft-finding-severity">{finding.severity}</span>
          {finding.line > 0 && (
            <span className="jp-syft-muted">
              {' '}
              {trans.__('line %1:', finding.line)}{' '}
            </span>
          )}{' '}
          {finding.message}
        </li>
      ))}
    </ul>
  );
}

/**
 * A run on private data's output: where it stands, its disclosure checks and, withheld, why.
 * Owners open its review; a scientist reads the state and the report, never a held value.
 */
function OutputState(props: {
  model: SyftModel;
  execution: IExecution;
  owner: boolean;
  onOpenOutput?: (executionId: string) => void;
}): JSX.Element | null {
  const trans = useTrans();
  const { execution } = props;
  if (!execution.on_private_data || !execution.has_result) {
    return null;
  }
  const state = execution.release;
  return (
    <div
      className="jp-syft-output-state"
      data-testid="syft-run-output"
      data-state={state}
    >
      <div>
        <span className="jp-syft-section-label">{trans.__('Output')} </span>
        <ReleaseBadge state={state} />{' '}
        <span className="jp-syft-muted">
          {state === 'held'
            ? trans.__('waiting for an owner to review it')
            : state === 'withheld'
              ? trans.__('not released')
              : trans.__('its requester can read it')}
        </span>
        {props.onOpenOutput && (
          <Button
            minimal
            small
            className="jp-syft-link-button"
            data-testid="syft-run-open-output"
            onClick={() => props.onOpenOutput?.(execution.id)}
          >
            {state === 'held'
              ? trans.__('Review the output')
              : trans.__('Open the output')}
          </Button>
        )}
      </div>
      {state === 'withheld' && (
        <div data-testid="syft-withhold-reason-shown">
          {trans.__(
            'Reason: %1',
            execution.release_note || trans.__('none given')
          )}
        </div>
      )}
      {execution.report && <DisclosureReportView report={execution.report} />}
      {state === 'held' && !props.owner && (
        <Justify model={props.model} executionId={execution.id} />
      )}
    </div>
  );
}

/** The requester asks for a held output's release, saying why (the reviewers read it). */
function Justify(props: {
  model: SyftModel;
  executionId: string;
}): JSX.Element {
  const trans = useTrans();
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [sent, setSent] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const send = async (): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      const answer = await props.model.justifyOutput(props.executionId, text);
      setSent(answer.justified_at ?? '');
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="jp-syft-deny" data-testid="syft-justify">
      <textarea
        className="jp-mod-styled"
        placeholder={trans.__(
          'Why it should be released (the reviewers read this)'
        )}
        value={text}
        rows={2}
        maxLength={MAX_JUSTIFICATION}
        data-testid="syft-justify-text"
        onChange={event => setText(event.target.value)}
      />
      <Button
        className="jp-mod-styled"
        disabled={busy || !text.trim()}
        data-testid="syft-justify-send"
        onClick={() => void send()}
      >
        {busy ? trans.__('Sending…') : trans.__('Ask for its release')}
      </Button>
      {sent !== null && (
        <div className="jp-syft-muted" data-testid="syft-justify-sent">
          {trans.__('Sent %1: the reviewers read it.', formatTime(sent))}
        </div>
      )}
      <ErrorMessage message={error} />
    </div>
  );
}

function ExecutionSummary(props: {
  execution: IExecution;
  testid?: string;
  /** Shown with its output's state (runs of the review; not a mock run). */
  output?: {
    model: SyftModel;
    owner: boolean;
    onOpenOutput?: (executionId: string) => void;
  };
}): JSX.Element {
  const trans = useTrans();
  const { execution } = props;
  return (
    <div
      className="jp-syft-execution"
      data-testid={props.testid ?? 'syft-execution'}
      data-ok={execution.ok}
    >
      <div>
        <span
          className={execution.ok ? 'jp-syft-ok-text' : 'jp-syft-warning-text'}
        >
          {execution.ok
            ? trans.__('Succeeded')
            : trans.__('Failed (%1)', execution.error_kind)}
        </span>
        <span className="jp-syft-muted">
          {' '}
          ·{' '}
          {execution.on_private_data
            ? trans.__('private data')
            : trans.__('mock data')}
          {execution.deposited ? ` · ${trans.__('deposited')}` : ''}
          {execution.duration_s !== null && execution.duration_s !== undefined
            ? ` · ${execution.duration_s.toFixed(2)} s`
            : ''}
          {execution.created_at ? ` · ${formatTime(execution.created_at)}` : ''}
        </span>
      </div>
      {execution.notice && (
        <div className="jp-syft-muted">{execution.notice}</div>
      )}
      {execution.error && <pre className="jp-syft-pre">{execution.error}</pre>}
      {execution.stdout && (
        <>
          <div className="jp-syft-section-label">{trans.__('Output')}</div>
          <pre className="jp-syft-pre">{execution.stdout}</pre>
        </>
      )}
      {execution.stderr && (
        <>
          <div className="jp-syft-section-label">{trans.__('Errors')}</div>
          <pre className="jp-syft-pre">{execution.stderr}</pre>
        </>
      )}
      {props.output && (
        <OutputState
          model={props.output.model}
          execution={execution}
          owner={props.output.owner}
          onOpenOutput={props.output.onOpenOutput}
        />
      )}
    </div>
  );
}

function MockRunResult(props: { run: IMockRun }): JSX.Element {
  const trans = useTrans();
  const { run } = props;
  return (
    <div className="jp-syft-mock-result" data-testid="syft-mock-result">
      <ExecutionSummary
        execution={run.execution}
        testid="syft-mock-execution"
      />
      {run.preview && (
        <>
          <div className="jp-syft-section-label">{trans.__('Result')}</div>
          <PreviewTable
            preview={run.preview}
            showIndex
            testid="syft-result-preview"
          />
        </>
      )}
      <ErrorMessage message={run.previewError} />
    </div>
  );
}

function Decision(props: {
  model: SyftModel;
  request: IRequest;
  onDecided: (request: IRequest) => void;
}): JSX.Element {
  const trans = useTrans();
  const { model, request } = props;
  const [reason, setReason] = useState('');
  const [nested, setNested] = useState(false);
  const [busy, setBusy] = useState<null | 'approve' | 'deny' | 'mock'>(null);
  const [error, setError] = useState<string | null>(null);
  const [mockRun, setMockRun] = useState<IMockRun | null>(null);
  const nestedFunctions = request.nested ?? [];
  const launchesJobs = nestedFunctions.length > 0;
  const approvable = nestedFunctions.every(fn => fn.code_id !== null);
  const pending = request.status === 'pending';

  const act = async (
    kind: 'approve' | 'deny' | 'mock',
    action: () => Promise<void>
  ): Promise<void> => {
    setBusy(kind);
    setError(null);
    try {
      await action();
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(null);
    }
  };

  return (
    <Section title={trans.__('Decision')} testid="syft-decision">
      {pending ? (
        <>
          {launchesJobs && (
            <label className="jp-syft-check">
              <input
                type="checkbox"
                checked={nested}
                disabled={!approvable}
                data-testid="syft-approve-nested"
                onChange={event => setNested(event.target.checked)}
              />{' '}
              {approvable
                ? trans.__(
                    'Also approve the %1 nested jobs shown below, for this request only',
                    nestedFunctions.length
                  )
                : trans.__(
                    'It launches functions its author has not submitted: they cannot be approved'
                  )}
            </label>
          )}
          <div className="jp-syft-actions">
            <Button
              className="jp-mod-styled jp-mod-accept"
              disabled={busy !== null}
              data-testid="syft-approve"
              onClick={() =>
                void act('approve', async () =>
                  props.onDecided(
                    await model.approve(
                      request.id,
                      nested
                        ? nestedFunctions.map(fn => fn.code_id as string)
                        : undefined
                    )
                  )
                )
              }
            >
              {busy === 'approve'
                ? trans.__('Approving…')
                : trans.__('Approve')}
            </Button>
            <Button
              className="jp-mod-styled"
              disabled={busy !== null}
              title={trans.__(
                "Run the code on the mocks of its input assets, in the Datasite's sandbox"
              )}
              data-testid="syft-run-mock"
              onClick={() =>
                void act('mock', async () =>
                  setMockRun(await model.runOnMock(request))
                )
              }
            >
              {busy === 'mock'
                ? trans.__('Running on mock…')
                : trans.__('Run on mock')}
            </Button>
          </div>
          <div className="jp-syft-deny">
            <textarea
              className="jp-mod-styled"
              placeholder={trans.__(
                'Why you deny it (the scientist sees this)'
              )}
              value={reason}
              rows={2}
              data-testid="syft-deny-reason"
              onChange={event => setReason(event.target.value)}
            />
            <Button
              className="jp-mod-styled jp-mod-warn"
              disabled={busy !== null || !reason.trim()}
              title={
                reason.trim()
                  ? trans.__('Deny')
                  : trans.__('Give a reason first')
              }
              data-testid="syft-deny"
              onClick={() =>
                void act('deny', async () =>
                  props.onDecided(await model.deny(request.id, reason))
                )
              }
            >
              {busy === 'deny' ? trans.__('Denying…') : trans.__('Deny')}
            </Button>
          </div>
        </>
      ) : (
        <div data-testid="syft-decided">
          {request.status === 'approved'
            ? trans.__(
                'Approved: the scientist can run it on the private data under its output policy.'
              )
            : trans.__(
                'Denied. Reason: %1',
                request.deny_reason || trans.__('none given')
              )}
        </div>
      )}
      <ErrorMessage message={error} testid="syft-decision-error" />
      {mockRun && <MockRunResult run={mockRun} />}
    </Section>
  );
}

export interface IRequestReviewProps {
  model: SyftModel;
  requestId: string;
  editorFactory?: CodeEditor.Factory | null;
  /** Called with the request once it is loaded (e.g. to title a tab). */
  onLoaded?: (request: IRequest) => void;
  /** Open an output's review (owners only: scientists are never offered it). */
  onOpenOutput?: (executionId: string) => void;
}

export function RequestReview(props: IRequestReviewProps): JSX.Element {
  const trans = useTrans();
  const { model, requestId, onLoaded } = props;
  useModelState(model);
  const fetch = useCallback(
    () => model.requestDetail(requestId),
    [model, requestId]
  );
  const reportLoaded = useCallback(
    (loaded: IRequestDetail) => onLoaded?.(loaded.request),
    [onLoaded]
  );
  const { detail, setDetail, error, load } = useDetail(fetch, reportLoaded);

  if (!detail) {
    return (
      <div className="jp-syft-review" data-testid="syft-review">
        {error ? (
          <ErrorMessage message={error} />
        ) : (
          <div className="jp-syft-muted">
            {trans.__('Loading the request…')}
          </div>
        )}
      </div>
    );
  }

  // The list is kept current by the poll (a decision taken elsewhere shows up here too).
  const request = model.getRequest(requestId) ?? detail.request;
  const code = request.code;
  const owner = model.isOwner;

  return (
    <div
      className="jp-syft-review"
      data-testid="syft-review"
      data-request-id={request.id}
      data-status={request.status}
    >
      <header className="jp-syft-review-head">
        <h2 className="jp-syft-mono">{code.service_func_name}</h2>
        <StatusBadge status={request.status} />
        <Button
          minimal
          small
          className="jp-syft-link-button"
          data-testid="syft-review-reload"
          onClick={() => void load()}
        >
          {trans.__('Reload')}
        </Button>
      </header>
      <table
        className="jp-syft-table jp-syft-kv"
        data-testid="syft-request-meta"
      >
        <tbody>
          <tr>
            <th>{trans.__('Requested by')}</th>
            <td data-testid="syft-requester">
              {request.requesting_user_name}
              {request.requesting_user_email
                ? ` <${request.requesting_user_email}>`
                : ''}
              {request.requesting_user_institution
                ? `, ${request.requesting_user_institution}`
                : ''}
            </td>
          </tr>
          <tr>
            <th>{trans.__('Project')}</th>
            <td data-testid="syft-project-name">
              {request.project?.name ?? trans.__('(none)')}
            </td>
          </tr>
          <tr>
            <th>{trans.__('Reason')}</th>
            <td data-testid="syft-reason">
              {request.reason || trans.__('(none given)')}
            </td>
          </tr>
          <tr>
            <th>{trans.__('Submitted')}</th>
            <td>{formatTime(code.submit_time ?? request.created_at)}</td>
          </tr>
        </tbody>
      </table>
      <ErrorMessage message={error} />

      {owner && (
        <Decision
          model={model}
          request={request}
          onDecided={decided => setDetail({ ...detail, request: decided })}
        />
      )}

      <Section title={trans.__('Code')} testid="syft-code-section">
        <CodeView source={code.raw_code} editorFactory={props.editorFactory} />
      </Section>
      {[code.input_policy, code.output_policy]
        .filter(policy => policy?.code)
        .map(policy => (
          <Section
            key={policy.type}
            title={trans.__(
              '%1 %2 (runs in the sandbox with the code)',
              policy.type,
              policy.class_name ?? ''
            )}
            testid="syft-policy-code-section"
          >
            <CodeView
              source={policy.code ?? ''}
              editorFactory={props.editorFactory}
            />
          </Section>
        ))}
      {(request.nested ?? []).length > 0 && (
        <Section
          title={trans.__('Nested jobs it launches')}
          testid="syft-nested-section"
        >
          {(request.nested ?? []).map(fn => (
            <div key={fn.name} data-testid="syft-nested-function">
              <div className="jp-syft-section-label">
                {fn.name}
                {fn.approved_as_nested && (
                  <span className="jp-syft-muted">
                    {' '}
                    · {trans.__('approved for this request')}
                  </span>
                )}
              </div>
              {fn.code_id ? (
                <CodeView
                  source={fn.raw_code}
                  editorFactory={props.editorFactory}
                />
              ) : (
                <div className="jp-syft-warning-text">
                  {trans.__('Not submitted by its author.')}
                </div>
              )}
            </div>
          ))}
        </Section>
      )}
      <div className="jp-syft-columns">
        <Section title={trans.__('Inputs')}>
          <Inputs request={request} />
        </Section>
        <Section title={trans.__('Policies')}>
          <Policies request={request} />
        </Section>
      </div>
      <Section title={trans.__('Static analysis')}>
        <Findings findings={code.findings ?? []} />
      </Section>
      <Section title={trans.__('Changes since the previous submission')}>
        {detail.previous && detail.diff ? (
          hasChanges(detail.diff) ? (
            <>
              <div className="jp-syft-muted">
                {trans.__(
                  'Against %1 submitted %2 (%3)',
                  detail.previous.service_func_name,
                  formatTime(detail.previous.submit_time),
                  detail.previous.status
                )}
              </div>
              <DiffView diff={detail.diff} />
            </>
          ) : (
            <div className="jp-syft-muted">
              {trans.__('Same code as the previous submission.')}
            </div>
          )
        ) : (
          <div className="jp-syft-muted" data-testid="syft-no-previous">
            {trans.__('First submission of this function.')}
          </div>
        )}
      </Section>
      {detail.executions.length > 0 && (
        <Section title={trans.__('Runs')}>
          {detail.executions.map(execution => (
            <ExecutionSummary
              key={execution.id}
              execution={execution}
              output={{
                model,
                owner,
                onOpenOutput: owner ? props.onOpenOutput : undefined
              }}
            />
          ))}
        </Section>
      )}
    </div>
  );
}
