/**
 * The review of one code request: who asks, for which project and why; the code
 * (highlighted), its inputs and policies, static-analysis findings, the diff against the
 * previous submission, earlier runs and the request's timeline. Then, after all of it, the
 * owners' decision: approve (confirmed, with a summary), deny or revoke (with a reason).
 * Every role reads who decided and when; an approved request shows the code that runs it.
 */
import React, { useCallback, useEffect, useRef, useState } from 'react';
import { Clipboard, Dialog, showDialog } from '@jupyterlab/apputils';
import { CodeEditor } from '@jupyterlab/codeeditor';
import { TranslationBundle } from '@jupyterlab/translation';
import { Button } from '@jupyterlab/ui-components';
import { ISignal, Signal } from '@lumino/signaling';

import { diffCounts, hasChanges } from '../diff';
import { useTrans } from '../i18n';
import { MAX_JUSTIFICATION, MAX_NOTE, messageOf, SyftModel } from '../model';
import { SyftRequestError } from '../request';
import {
  IExecution,
  IFinding,
  IMockRun,
  IPolicyInput,
  IRequest,
  IRequestDetail,
  ITimelineEntry
} from '../tokens';
import { pythonString } from '../utils';
import { CodeView } from './CodeView';
import {
  ErrorMessage,
  formatTime,
  MoreButton,
  ReleaseBadge,
  StatusBadge,
  useDetail,
  useModelState
} from './common';
import { diffSummary, DiffView } from './DiffView';
import { DisclosureReportView } from './OutputReview';
import { ResultView } from './PreviewTable';

/** An input policy's asset input. */
type IAssetInput = Extract<IPolicyInput, { kind: 'asset' }>;

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

/** Where the code runs: its environment, the locked packages and what is new in them. */
function Environment(props: { request: IRequest }): JSX.Element {
  const trans = useTrans();
  const code = props.request.code;
  const added = code.environment_added ?? [];
  const packages = code.environment_packages ?? [];
  if (!code.environment) {
    return (
      <p className="jp-syft-muted" data-testid="syft-environment">
        {trans.__("The Datasite's default environment (its own Python).")}
        {code.environment_lock_hash && (
          <>
            {' '}
            <span title={code.environment_lock_hash}>
              {trans.__('Lock %1', code.environment_lock_hash.slice(0, 12))}
            </span>
          </>
        )}
      </p>
    );
  }
  return (
    <div data-testid="syft-environment" data-environment={code.environment}>
      <p>
        <strong>{code.environment}</strong>
        {code.environment_lock_hash && (
          <>
            {' · '}
            <span
              className="jp-syft-muted"
              title={trans.__('Lock hash: %1', code.environment_lock_hash)}
            >
              {trans.__('lock %1', code.environment_lock_hash.slice(0, 12))}
            </span>
          </>
        )}
      </p>
      {added.length > 0 && (
        <p className="jp-syft-env-added" data-testid="syft-environment-added">
          {code.environment_previous
            ? trans.__(
                'New since the previous version (environment %1): %2',
                code.environment_previous,
                added.join(', ')
              )
            : trans.__('New since the previous version: %1', added.join(', '))}
        </p>
      )}
      {packages.length > 0 ? (
        <ul
          className="jp-syft-env-packages"
          aria-label={trans.__('Locked packages')}
        >
          {packages.map(pkg => (
            <li key={pkg}>
              <code>{pkg}</code>
              {added.some(a => a.split(' ')[0] === pkg) && (
                <span className="jp-syft-env-new"> {trans.__('(new)')}</span>
              )}
            </li>
          ))}
        </ul>
      ) : (
        <p className="jp-syft-muted">{trans.__('No packages locked yet.')}</p>
      )}
    </div>
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
          <div className="jp-syft-section-label">
            {trans.__('Result on the mocks')}
          </div>
          <ResultView preview={run.preview} testid="syft-result-preview" />
        </>
      )}
      {!run.preview && run.execution.ok && !run.execution.has_result && (
        <div className="jp-syft-muted" data-testid="syft-result-none">
          {trans.__('No result to show.')}
        </div>
      )}
      <ErrorMessage message={run.previewError} />
    </div>
  );
}

/** Who took a request's decision and when, for every role ("" while pending). */
export function decidedText(
  request: IRequest,
  trans: TranslationBundle
): string {
  if (request.status === 'pending') {
    return '';
  }
  const person = request.decided_by;
  const who = person
    ? person.name && person.email
      ? `${person.name} (${person.email})`
      : person.name || person.email
    : request.decided_at
      ? trans.__('an account since deleted')
      : trans.__('the Datasite');
  const at = request.decided_at ? formatTime(request.decided_at) : '';
  if (request.status === 'approved') {
    return at
      ? trans.__('Approved by %1 at %2', who, at)
      : trans.__('Approved by %1', who);
  }
  const reason = request.deny_reason || trans.__('none given');
  return at
    ? trans.__('Denied by %1 at %2: %3', who, at, reason)
    : trans.__('Denied by %1: %2', who, reason);
}

/** The decision in a few words, for a list row: a denial's reason first ("" while pending). */
export function decidedShort(
  request: IRequest,
  trans: TranslationBundle
): string {
  if (request.status === 'pending') {
    return '';
  }
  if (request.status === 'rejected') {
    return trans.__('Denied: %1', request.deny_reason || trans.__('no reason'));
  }
  const person = request.decided_by;
  return person
    ? trans.__('Approved by %1', person.name || person.email)
    : trans.__('Approved');
}

/** Where the asset an input policy names lives: its dataset's name, when the model knows it. */
function datasetOf(model: SyftModel, assetId: string): string | null {
  for (const dataset of model.datasets) {
    if (dataset.assets.some(asset => asset.id === assetId)) {
      return dataset.name;
    }
  }
  return null;
}

/**
 * The Python that runs an approved request's code on the private data, as its scientist
 * would type it after connecting: one variable per input, then `client.code.<name>(...)`.
 */
export function runSnippet(request: IRequest, model: SyftModel): string {
  const code = request.code;
  const rules = code.input_policy?.inputs ?? {};
  const params = code.parameters.filter(param => param !== 'datasite');
  const names = [
    ...params,
    ...Object.keys(rules).filter(key => !params.includes(key))
  ];
  const lines: string[] = [
    `# Run ${code.service_func_name} on the private data (request ${request.id}).`
  ];
  const args: string[] = [];
  for (const name of names) {
    const rule = rules[name];
    if (rule?.kind === 'asset') {
      const dataset = datasetOf(model, rule.id);
      lines.push(
        dataset
          ? `${name} = client.datasets[${pythonString(dataset)}].assets[${pythonString(rule.name)}]`
          : `${name} = ...  # the asset ${JSON.stringify(rule.name)} (id ${rule.id})`
      );
      args.push(`${name}=${name}`);
    } else if (rule?.kind === 'constant') {
      lines.push(
        `${name} = ${rule.preview ?? '...'}  # the constant it was approved with`
      );
      args.push(`${name}=${name}`);
    } else {
      const type = rule?.kind === 'type' ? (rule.type ?? 'value') : 'value';
      lines.push(`${name} = ...  # any ${type}`);
      args.push(`${name}=${name}`);
    }
  }
  lines.push(
    `result = client.code.${code.service_func_name}(${args.join(', ')})`
  );
  lines.push('result');
  return lines.join('\n');
}

/** What an owner is about to approve, in words: shown in the confirmation. */
export function approvalSummary(
  request: IRequest,
  detail: IRequestDetail,
  model: SyftModel,
  nested: boolean,
  trans: TranslationBundle
): { findings: string[]; lines: string[] } {
  const code = request.code;
  const findings = (code.findings ?? []).map(finding =>
    finding.line > 0
      ? trans.__(
          '%1 (line %2): %3',
          finding.severity,
          finding.line,
          finding.message
        )
      : trans.__('%1: %2', finding.severity, finding.message)
  );
  const lines: string[] = [];
  lines.push(
    findings.length
      ? trans._n(
          'Static analysis found %1 issue:',
          'Static analysis found %1 issues:',
          findings.length
        )
      : trans.__('Static analysis found nothing.')
  );
  if (detail.previous) {
    const counts = detail.diff ? diffCounts(detail.diff) : null;
    lines.push(
      trans.__(
        'A resubmission: it replaces the version submitted %1 (%2)%3.',
        formatTime(detail.previous.submit_time),
        detail.previous.status,
        counts ? `; ${diffSummary(counts, trans)}` : ''
      )
    );
  } else {
    lines.push(trans.__('The first submission of this function.'));
  }
  const assets = Object.values(code.input_policy?.inputs ?? {})
    .filter((input): input is IAssetInput => input.kind === 'asset')
    .map(input => {
      const dataset = datasetOf(model, input.id);
      return dataset ? `${input.name} (${dataset})` : input.name;
    });
  lines.push(
    assets.length
      ? trans.__('It runs on the private data of: %1.', assets.join(', '))
      : trans.__('It names no private asset.')
  );
  if (code.environment) {
    const added = code.environment_added ?? [];
    lines.push(
      added.length
        ? trans.__(
            'It runs in the environment %1, with packages new since its previous version: %2.',
            code.environment,
            added.join(', ')
          )
        : trans.__('It runs in the environment %1.', code.environment)
    );
  }
  const limit = code.output_policy?.limit;
  if (limit !== undefined) {
    lines.push(
      trans._n(
        'Its scientist may run it %1 time.',
        'Its scientist may run it %1 times.',
        limit
      )
    );
  }
  if (nested) {
    lines.push(
      trans.__(
        'Also approved, for this request only: %1.',
        (request.nested ?? []).map(fn => fn.name).join(', ')
      )
    );
  }
  return { findings, lines };
}

/** Ask the owner to confirm a decision; resolves true to go ahead. */
export type ConfirmFunction = (options: {
  title: string;
  body: React.ReactElement;
  accept: string;
  warn?: boolean;
}) => Promise<boolean>;

/** The default confirmation: JupyterLab's own dialog. */
export const confirmWithDialog: ConfirmFunction = async options => {
  const result = await showDialog({
    title: options.title,
    body: options.body,
    buttons: [
      Dialog.cancelButton(),
      options.warn
        ? Dialog.warnButton({ label: options.accept })
        : Dialog.okButton({ label: options.accept })
    ],
    defaultButton: 0
  });
  return result.button.accept;
};

function Summary(props: { findings: string[]; lines: string[] }): JSX.Element {
  const [first, ...rest] = props.lines;
  return (
    <div className="jp-syft-confirm" data-testid="syft-confirm-summary">
      <p>{first}</p>
      {props.findings.length > 0 && (
        <ul data-testid="syft-confirm-findings">
          {props.findings.slice(0, 10).map((finding, index) => (
            <li key={index}>{finding}</li>
          ))}
          {props.findings.length > 10 && (
            <li>… {props.findings.length - 10}</li>
          )}
        </ul>
      )}
      {rest.map((line, index) => (
        <p key={index}>{line}</p>
      ))}
    </div>
  );
}

/** A request's history, oldest first, paged (the Datasite's audit log). */
function Timeline(props: {
  model: SyftModel;
  request: IRequest;
  resubmission: boolean;
  onOpenOutput?: (executionId: string) => void;
}): JSX.Element {
  const trans = useTrans();
  const { model, request } = props;
  const [entries, setEntries] = useState<ITimelineEntry[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [total, setTotal] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  // Again whenever the request changes (a decision, a run recorded with updated_at).
  useEffect(() => {
    let live = true;
    setError(null);
    model
      .requestTimeline(request.id)
      .then(page => {
        if (live) {
          setEntries(page.items);
          setNext(page.next_cursor ?? null);
          setTotal(page.total);
        }
      })
      .catch(err => live && setError(messageOf(err)));
    return () => {
      live = false;
    };
  }, [model, request.id, request.status, request.updated_at]);

  const more = async (): Promise<void> => {
    if (!next) {
      return;
    }
    setBusy(true);
    try {
      const page = await model.requestTimeline(request.id, next);
      setEntries(current => [...current, ...page.items]);
      setNext(page.next_cursor ?? null);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  // The submission: the code's own entry, else the request's (submitted with it).
  const submitted = (
    entries.find(item => item.action === 'code.submit') ??
    entries.find(item => item.action === 'request.create')
  )?.seq;

  return (
    <Section title={trans.__('Timeline')} testid="syft-timeline">
      {entries.length === 0 && !error && (
        <div className="jp-syft-muted">{trans.__('Nothing recorded yet.')}</div>
      )}
      <ol className="jp-syft-timeline">
        {entries.map(entry => {
          // The run a step is about (code.run names it; output steps are on it): owners
          // open its result.
          const runId =
            entry.action === 'code.run'
              ? entry.detail?.private === true &&
                typeof entry.detail?.execution === 'string'
                ? entry.detail.execution
                : null
              : entry.object_type === 'execution' &&
                  entry.detail?.private === true
                ? entry.object_id
                : null;
          const summary =
            entry.seq === submitted && props.resubmission
              ? trans.__('%1 (a resubmission: a new version)', entry.summary)
              : entry.summary;
          return (
            <li
              key={entry.seq}
              className="jp-syft-timeline-entry"
              data-testid="syft-timeline-entry"
              data-action={entry.action}
            >
              <time className="jp-syft-muted" dateTime={entry.at ?? undefined}>
                {formatTime(entry.at)}
              </time>{' '}
              <span className="jp-syft-timeline-actor">
                {entry.actor_email || trans.__('the Datasite')}
              </span>{' '}
              <span>{summary}</span>
              {runId && props.onOpenOutput && (
                <Button
                  minimal
                  small
                  className="jp-syft-link-button"
                  data-testid="syft-timeline-open-output"
                  onClick={() => props.onOpenOutput?.(runId)}
                >
                  {trans.__('Open its result')}
                </Button>
              )}
            </li>
          );
        })}
      </ol>
      {next && (
        <MoreButton
          remaining={Math.max(total - entries.length, 0)}
          busy={busy}
          onMore={() => void more()}
        />
      )}
      <ErrorMessage message={error} testid="syft-timeline-error" />
    </Section>
  );
}

/** Copy text to the system clipboard (the browser's, else JupyterLab's fallback). */
async function copyText(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    Clipboard.copyToSystem(text);
  }
}

/** What to do with an approved request: the code that runs it, to copy or open. */
function NextStep(props: {
  model: SyftModel;
  request: IRequest;
  onOpenNotebook?: (source: string) => void;
}): JSX.Element {
  const trans = useTrans();
  const snippet = runSnippet(props.request, props.model);
  const [copied, setCopied] = useState(false);
  return (
    <Section
      title={trans.__('Run it on the private data')}
      testid="syft-next-step"
    >
      <div className="jp-syft-muted">
        {props.model.isOwner
          ? trans.__('Its scientist runs it from a connected notebook with:')
          : trans.__('Approved: run it from a connected notebook with:')}
      </div>
      <pre className="jp-syft-pre" data-testid="syft-run-snippet">
        {snippet}
      </pre>
      <div className="jp-syft-actions">
        <Button
          className="jp-mod-styled"
          data-testid="syft-copy-snippet"
          onClick={() => void copyText(snippet).then(() => setCopied(true))}
        >
          {trans.__('Copy the code that runs it')}
        </Button>
        {props.onOpenNotebook && (
          <Button
            className="jp-mod-styled"
            data-testid="syft-open-notebook"
            onClick={() => props.onOpenNotebook?.(snippet)}
          >
            {trans.__('Open in a connected notebook')}
          </Button>
        )}
        {copied && (
          <span
            className="jp-syft-muted"
            role="status"
            data-testid="syft-copied"
          >
            {trans.__('Copied.')}
          </span>
        )}
      </div>
    </Section>
  );
}

function Decision(props: {
  model: SyftModel;
  request: IRequest;
  detail: IRequestDetail;
  confirm: ConfirmFunction;
  onDecided: (request: IRequest) => void;
  /** Load the request again (e.g. after the Datasite said it was decided elsewhere). */
  onStale: () => void;
}): JSX.Element {
  const trans = useTrans();
  const { model, request } = props;
  const [reason, setReason] = useState('');
  const [nested, setNested] = useState(false);
  const [busy, setBusy] = useState<null | 'approve' | 'deny' | 'revoke'>(null);
  const [error, setError] = useState<string | null>(null);
  const nestedFunctions = request.nested ?? [];
  const launchesJobs = nestedFunctions.length > 0;
  const approvable = nestedFunctions.every(fn => fn.code_id !== null);
  const status = request.status;

  const act = async (
    kind: 'approve' | 'deny' | 'revoke',
    action: () => Promise<IRequest | null>,
    confirmed: () => Promise<boolean> = async () => true
  ): Promise<void> => {
    setError(null);
    if (!(await confirmed())) {
      return;
    }
    setBusy(kind);
    try {
      const decided = await action();
      if (decided) {
        setReason('');
        props.onDecided(decided);
      }
    } catch (err) {
      setError(messageOf(err));
      if (err instanceof SyftRequestError && err.status === 409) {
        props.onStale(); // decided elsewhere: show who decided
      }
    } finally {
      setBusy(null);
    }
  };

  const confirmApproval = (): Promise<boolean> =>
    props.confirm({
      title: trans.__('Approve %1?', request.code.service_func_name),
      body: (
        <Summary
          {...approvalSummary(request, props.detail, model, nested, trans)}
        />
      ),
      accept: trans.__('Approve')
    });
  const approve = (): Promise<IRequest> =>
    model.approve(
      request.id,
      nested ? nestedFunctions.map(fn => fn.code_id as string) : undefined
    );

  const confirmRevoke = (): Promise<boolean> =>
    props.confirm({
      title: trans.__(
        'Revoke the approval of %1?',
        request.code.service_func_name
      ),
      body: (
        <div className="jp-syft-confirm" data-testid="syft-confirm-summary">
          <p>
            {trans.__(
              '%1 can no longer run it on the private data. Results already released stay with them.',
              request.requesting_user_name || request.requesting_user_email
            )}
          </p>
          <p>{trans.__('They read your reason: %1', reason.trim())}</p>
        </div>
      ),
      accept: trans.__('Revoke'),
      warn: true
    });

  const reasonBox = (kind: 'deny' | 'revoke'): JSX.Element => (
    <div className="jp-syft-deny">
      <textarea
        className="jp-mod-styled"
        aria-label={
          kind === 'deny'
            ? trans.__('Reason for denying')
            : trans.__('Reason for revoking')
        }
        placeholder={
          kind === 'deny'
            ? trans.__('Why you deny it (the scientist sees this)')
            : trans.__('Why you revoke the approval (the scientist sees this)')
        }
        value={reason}
        rows={2}
        maxLength={MAX_NOTE}
        data-testid={
          kind === 'deny' ? 'syft-deny-reason' : 'syft-revoke-reason'
        }
        onChange={event => setReason(event.target.value)}
      />
      <Button
        className="jp-mod-styled jp-mod-warn"
        disabled={busy !== null || !reason.trim()}
        title={
          reason.trim()
            ? kind === 'deny'
              ? trans.__('Deny')
              : trans.__('Revoke the approval')
            : trans.__('Give a reason first')
        }
        data-testid={kind === 'deny' ? 'syft-deny' : 'syft-revoke'}
        onClick={() =>
          kind === 'deny'
            ? void act('deny', () => model.deny(request.id, reason))
            : void act(
                'revoke',
                () => model.revoke(request.id, reason),
                confirmRevoke
              )
        }
      >
        {kind === 'deny'
          ? busy === 'deny'
            ? trans.__('Denying…')
            : trans.__('Deny')
          : busy === 'revoke'
            ? trans.__('Revoking…')
            : trans.__('Revoke the approval')}
      </Button>
    </div>
  );

  return (
    <Section title={trans.__('Decision')} testid="syft-decision">
      {status === 'pending' && (
        <>
          <div className="jp-syft-muted">
            {trans.__(
              'Approve to let its scientist run it on the private data; deny with a reason they read.'
            )}
          </div>
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
                    'Also approve the %1 nested jobs shown above, for this request only',
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
              onClick={() => void act('approve', approve, confirmApproval)}
            >
              {busy === 'approve'
                ? trans.__('Approving…')
                : trans.__('Approve…')}
            </Button>
          </div>
          {reasonBox('deny')}
        </>
      )}
      {status === 'approved' && (
        <>
          <div className="jp-syft-muted">
            {trans.__(
              'Revoking stops its scientist from running it again (the Datasite records a denial with your reason).'
            )}
          </div>
          {reasonBox('revoke')}
        </>
      )}
      {status === 'rejected' && (
        <div className="jp-syft-muted" data-testid="syft-decision-final">
          {trans.__(
            'Denied: its scientist may change the code and submit it again, as a new request.'
          )}
        </div>
      )}
      <ErrorMessage message={error} testid="syft-decision-error" />
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
  /** Open a new notebook connected to the Datasite, running `source` after connecting. */
  onOpenNotebook?: (source: string) => void;
  /** Confirm a decision (default: JupyterLab's dialog). */
  confirm?: ConfirmFunction;
  /** What the tab's toolbar asks for (reload, run on mock). */
  actions?: ReviewActions;
}

/** The toolbar's requests to the review it sits on, and the review's state for the toolbar. */
export class ReviewActions {
  /** Reload, or run on the mocks (the review listens). */
  get requested(): ISignal<this, 'reload' | 'mock'> {
    return this._requested;
  }
  /** The request shown, once loaded (null before). */
  get request(): IRequest | null {
    return this._request;
  }
  /** True while a mock run goes. */
  get running(): boolean {
    return this._running;
  }
  /** Emitted when `request` or `running` change. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }
  ask(kind: 'reload' | 'mock'): void {
    this._requested.emit(kind);
  }
  update(request: IRequest | null, running: boolean): void {
    if (request === this._request && running === this._running) {
      return;
    }
    this._request = request;
    this._running = running;
    this._changed.emit();
  }
  private _request: IRequest | null = null;
  private _running = false;
  private _requested = new Signal<this, 'reload' | 'mock'>(this);
  private _changed = new Signal<this, void>(this);
}

export function RequestReview(props: IRequestReviewProps): JSX.Element {
  const trans = useTrans();
  const { model, requestId, onLoaded, actions } = props;
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
  const [mockRun, setMockRun] = useState<IMockRun | null>(null);
  const [mockBusy, setMockBusy] = useState(false);
  const [mockError, setMockError] = useState<string | null>(null);
  const mockRef = useRef<HTMLDivElement>(null);

  // The list is kept current by the poll (a decision taken elsewhere shows up here too).
  const request = detail
    ? (model.getRequest(requestId) ?? detail.request)
    : null;

  const runOnMock = useCallback(async () => {
    if (!request) {
      return;
    }
    setMockBusy(true);
    setMockError(null);
    try {
      setMockRun(await model.runOnMock(request));
    } catch (err) {
      setMockError(messageOf(err));
    } finally {
      setMockBusy(false);
      mockRef.current?.scrollIntoView?.({ block: 'nearest' });
    }
  }, [model, request]);

  useEffect(() => {
    actions?.update(request, mockBusy);
  }, [actions, request, mockBusy]);
  useEffect(() => {
    if (!actions) {
      return;
    }
    const slot = (_: ReviewActions, kind: 'reload' | 'mock'): void => {
      if (kind === 'reload') {
        void load();
      } else {
        void runOnMock();
      }
    };
    actions.requested.connect(slot);
    return () => {
      actions.requested.disconnect(slot);
    };
  }, [actions, load, runOnMock]);

  if (!detail || !request) {
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

  const code = request.code;
  const owner = model.isOwner;
  const decided = decidedText(request, trans);
  const pending = request.status === 'pending';

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
      </header>
      {decided && (
        <div
          className={`jp-syft-decided jp-syft-decided-${request.status}`}
          role="status"
          data-testid="syft-decided"
          data-status={request.status}
        >
          {decided}
          {request.status === 'approved' &&
            '. ' +
              trans.__(
                'The scientist can run it on the private data under its output policy.'
              )}
        </div>
      )}
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
      <Section title={trans.__('Environment')}>
        <Environment request={request} />
      </Section>
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
        <Section title={trans.__('Runs')} testid="syft-runs">
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
      <Timeline
        model={model}
        request={request}
        resubmission={detail.previous !== null}
        onOpenOutput={owner ? props.onOpenOutput : undefined}
      />
      {request.status === 'approved' && (
        <NextStep
          model={model}
          request={request}
          onOpenNotebook={props.onOpenNotebook}
        />
      )}
      {owner && pending && (
        <Section
          title={trans.__('Try it on the mocks')}
          testid="syft-mock-section"
        >
          <div className="jp-syft-actions" ref={mockRef}>
            <Button
              className="jp-mod-styled"
              disabled={mockBusy}
              title={trans.__(
                "Run the code on the mocks of its input assets, in the Datasite's sandbox"
              )}
              data-testid="syft-run-mock"
              onClick={() => void runOnMock()}
            >
              {mockBusy
                ? trans.__('Running on mock…')
                : trans.__('Run on mock')}
            </Button>
          </div>
          <ErrorMessage message={mockError} testid="syft-mock-error" />
          {mockRun && <MockRunResult run={mockRun} />}
        </Section>
      )}
      {owner && (
        <Decision
          model={model}
          request={request}
          detail={detail}
          confirm={props.confirm ?? confirmWithDialog}
          onDecided={decided => setDetail({ ...detail, request: decided })}
          onStale={() => void load()}
        />
      )}
    </div>
  );
}
