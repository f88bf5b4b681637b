/**
 * The review of one output (owners): who ran what and when, the disclosure report (each
 * check: rule, outcome, reason), a preview of the result with the cells failing checks name
 * marked, the votes of a two-person review, and the decision: release (with a comment),
 * release with the failing cells suppressed, or withhold (with a reason). A release is
 * confirmed in a dialog first. All text from the Datasite is rendered as text.
 */
import React, { useCallback, useState } from 'react';
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import { Button } from '@jupyterlab/ui-components';

import { useTrans } from '../i18n';
import { MAX_NOTE, messageOf, SyftModel } from '../model';
import { markCells, personLabel } from '../outputs';
import {
  IDisclosureReport,
  IOutput,
  IOutputDetail,
  IOutputVote
} from '../tokens';
import {
  ErrorMessage,
  formatTime,
  OutcomeBadge,
  ReleaseBadge,
  useDetail,
  useModelState
} from './common';
import { PreviewTable } from './PreviewTable';

/** What the release confirmation shows. */
export interface IReleaseSummary {
  functionName: string;
  requester: string;
  outcome: string;
  failingCells: number;
  suppress: boolean;
  /** True when this is one vote of a two-person review. */
  vote: boolean;
}

/** Ask before a release; resolves true to go on. */
export type ConfirmRelease = (
  summary: IReleaseSummary,
  trans: TranslationBundle
) => Promise<boolean>;

/** The default confirmation: JupyterLab's dialog. */
export const confirmWithDialog: ConfirmRelease = async (summary, trans) => {
  const action = summary.vote
    ? trans.__('Vote to release')
    : summary.suppress
      ? trans.__('Release with suppression')
      : trans.__('Release');
  const result = await showDialog({
    title: trans.__('Release the output of %1?', summary.functionName),
    body: (
      <div className="jp-syft-confirm" data-testid="syft-release-confirm">
        <p>
          {trans.__(
            '%1 will be able to read this result.',
            summary.requester || trans.__('Its requester')
          )}
        </p>
        <ul>
          <li>
            {trans.__('Disclosure checks: %1', summary.outcome || 'none')}
          </li>
          <li>
            {trans._n(
              '%1 cell fails a check',
              '%1 cells fail a check',
              summary.failingCells
            )}
            {summary.suppress && summary.failingCells > 0
              ? ` ${trans.__('(suppressed: released blank)')}`
              : ''}
          </li>
        </ul>
      </div>
    ),
    buttons: [
      Dialog.cancelButton({ label: trans.__('Cancel') }),
      Dialog.warnButton({ label: action })
    ]
  });
  return result.button.accept;
};

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

/** A disclosure report: its outcome and rule set, then each check. No value of the data. */
export function DisclosureReportView(props: {
  report: IDisclosureReport | null | undefined;
}): JSX.Element {
  const trans = useTrans();
  const { report } = props;
  if (!report) {
    return (
      <div className="jp-syft-muted" data-testid="syft-report">
        {trans.__('No disclosure checks ran on this result.')}
      </div>
    );
  }
  return (
    <div className="jp-syft-report" data-testid="syft-report">
      <div className="jp-syft-report-head">
        <OutcomeBadge outcome={report.outcome} />
        <span className="jp-syft-muted">
          {' '}
          {trans.__('rules %1', report.rules)}
        </span>
      </div>
      {report.checks.length ? (
        <table className="jp-syft-table jp-syft-checks">
          <thead>
            <tr>
              <th>{trans.__('Rule')}</th>
              <th>{trans.__('Outcome')}</th>
              <th>{trans.__('Reason')}</th>
            </tr>
          </thead>
          <tbody>
            {report.checks.map((check, index) => (
              <tr
                key={index}
                data-testid="syft-check"
                data-outcome={check.outcome}
                data-rule={check.rule}
              >
                <td className="jp-syft-mono">{check.rule}</td>
                <td>
                  <OutcomeBadge outcome={check.outcome} />
                </td>
                <td>
                  {check.reason}
                  {check.cells?.length ? (
                    <span className="jp-syft-muted">
                      {' '}
                      {trans._n(
                        '(%1 cell named)',
                        '(%1 cells named)',
                        check.cells.length
                      )}
                    </span>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <div className="jp-syft-muted">{trans.__('No checks.')}</div>
      )}
    </div>
  );
}

function VoteLine(props: { vote: IOutputVote }): JSX.Element {
  const trans = useTrans();
  const { vote } = props;
  const what =
    vote.decision === 'release'
      ? vote.suppress
        ? trans.__('release with suppression')
        : trans.__('release')
      : trans.__('withhold');
  return (
    <li data-testid="syft-vote" data-decision={vote.decision}>
      {personLabel(vote.reviewer) || trans.__('a reviewer')}: {what}
      {vote.at ? ` · ${formatTime(vote.at)}` : ''}
      {vote.note ? ` · “${vote.note}”` : ''}
    </li>
  );
}

/** Two-person review: how many voted, your vote, everyone's once visible, a conflict. */
function Votes(props: { output: IOutput }): JSX.Element | null {
  const trans = useTrans();
  const { output } = props;
  if (output.votes_needed <= 1) {
    return null;
  }
  return (
    <div className="jp-syft-votes" data-testid="syft-votes">
      <div data-testid="syft-vote-count">
        {trans.__('%1 of %2 votes', output.votes_cast, output.votes_needed)}
      </div>
      {output.my_vote && (
        <div data-testid="syft-my-vote">
          {trans.__(
            'Your vote: %1',
            output.my_vote.decision === 'release'
              ? output.my_vote.suppress
                ? trans.__('release with suppression')
                : trans.__('release')
              : trans.__('withhold')
          )}
        </div>
      )}
      {output.conflict && (
        <div
          className="jp-syft-warning-text"
          role="alert"
          data-testid="syft-vote-conflict"
        >
          {trans.__(
            'The votes disagree: either reviewer may change theirs; the output stays held until they agree.'
          )}
        </div>
      )}
      {output.votes.length > 0 && (
        <ul className="jp-syft-vote-list">
          {output.votes.map((vote, index) => (
            <VoteLine key={index} vote={vote} />
          ))}
        </ul>
      )}
    </div>
  );
}

/** Who decided, when, and their comment or reason. */
function Decided(props: { output: IOutput }): JSX.Element {
  const trans = useTrans();
  const { output } = props;
  const who = personLabel(output.decided_by) || trans.__('an owner');
  const when = formatTime(output.decided_at);
  return (
    <div data-testid="syft-output-decided" data-state={output.state}>
      {output.state === 'released'
        ? output.suppressed
          ? trans.__(
              'Released with suppression by %1 %2 (%3 cells suppressed).',
              who,
              when,
              output.suppressed_cells
            )
          : trans.__('Released by %1 %2.', who, when)
        : trans.__('Withheld by %1 %2.', who, when)}
      {output.decision_note && (
        <div data-testid="syft-decision-note">
          {output.state === 'released'
            ? trans.__('Comment: %1', output.decision_note)
            : trans.__('Reason: %1', output.decision_note)}
        </div>
      )}
    </div>
  );
}

function OutputDecision(props: {
  model: SyftModel;
  output: IOutput;
  failingCells: number;
  confirm: ConfirmRelease;
  onDecided: (output: IOutput) => void;
  /** After a refusal: reload (another owner may have decided meanwhile). */
  onRefused: () => void;
}): JSX.Element {
  const trans = useTrans();
  const { model, output } = props;
  const [comment, setComment] = useState('');
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState<null | 'release' | 'suppress' | 'withhold'>(
    null
  );
  const [error, setError] = useState<string | null>(null);
  const held = output.state === 'held';
  const vote = output.votes_needed > 1;
  const disabled = busy !== null || !held;

  const act = async (
    kind: 'release' | 'suppress' | 'withhold',
    action: () => Promise<IOutput | null>
  ): Promise<void> => {
    setBusy(kind);
    setError(null);
    try {
      const decided = await action();
      if (decided) {
        props.onDecided(decided);
      }
    } catch (err) {
      setError(messageOf(err));
      props.onRefused();
    } finally {
      setBusy(null);
    }
  };

  const release = (suppress: boolean): Promise<void> =>
    act(suppress ? 'suppress' : 'release', async () => {
      const go = await props.confirm(
        {
          functionName: output.service_func_name,
          requester: personLabel(output.user),
          outcome: output.report?.outcome ?? '',
          failingCells: props.failingCells,
          suppress,
          vote
        },
        trans
      );
      if (!go) {
        return null;
      }
      return model.releaseOutput(output.execution_id, comment, suppress);
    });

  return (
    <Section title={trans.__('Decision')} testid="syft-output-decision">
      {!held && <Decided output={output} />}
      {held && vote && output.my_vote && !output.conflict && (
        <div className="jp-syft-muted">
          {trans.__('Waiting for another reviewer; a new vote replaces yours.')}
        </div>
      )}
      {held && (
        <div className="jp-syft-deny">
          <textarea
            className="jp-mod-styled"
            placeholder={trans.__(
              'Comment for the scientist (optional; they read it)'
            )}
            value={comment}
            rows={2}
            maxLength={MAX_NOTE}
            data-testid="syft-release-comment"
            onChange={event => setComment(event.target.value)}
          />
        </div>
      )}
      <div className="jp-syft-actions">
        <Button
          className="jp-mod-styled jp-mod-accept"
          disabled={disabled}
          data-testid="syft-release"
          onClick={() => void release(false)}
        >
          {busy === 'release'
            ? trans.__('Releasing…')
            : vote
              ? trans.__('Vote: release')
              : trans.__('Release')}
        </Button>
        <Button
          className="jp-mod-styled"
          disabled={disabled || props.failingCells === 0}
          title={
            props.failingCells === 0
              ? trans.__('No cell fails a check: nothing to suppress')
              : trans.__(
                  'Release with the cells failing checks blanked (a table only)'
                )
          }
          data-testid="syft-release-suppress"
          onClick={() => void release(true)}
        >
          {busy === 'suppress'
            ? trans.__('Releasing…')
            : vote
              ? trans.__('Vote: release with suppression')
              : trans.__('Release with suppression')}
        </Button>
      </div>
      <div className="jp-syft-deny">
        {held && (
          <textarea
            className="jp-mod-styled"
            placeholder={trans.__(
              'Why you withhold it (required; the scientist reads it)'
            )}
            value={reason}
            rows={2}
            maxLength={MAX_NOTE}
            data-testid="syft-withhold-reason"
            onChange={event => setReason(event.target.value)}
          />
        )}
        <Button
          className="jp-mod-styled jp-mod-warn"
          disabled={disabled || !reason.trim()}
          title={
            reason.trim()
              ? trans.__('Withhold')
              : trans.__('Give a reason first')
          }
          data-testid="syft-withhold"
          onClick={() =>
            void act('withhold', () =>
              model.withholdOutput(output.execution_id, reason)
            )
          }
        >
          {busy === 'withhold'
            ? trans.__('Withholding…')
            : vote
              ? trans.__('Vote: withhold')
              : trans.__('Withhold')}
        </Button>
      </div>
      <ErrorMessage message={error} testid="syft-output-error" />
    </Section>
  );
}

export interface IOutputReviewProps {
  model: SyftModel;
  executionId: string;
  /** Open the request the output answers. */
  onOpenRequest?: (id: string) => void;
  /** Called with the output once it is loaded (e.g. to title a tab). */
  onLoaded?: (output: IOutput) => void;
  /** Ask before a release (default: JupyterLab's dialog). */
  confirm?: ConfirmRelease;
}

export function OutputReview(props: IOutputReviewProps): JSX.Element {
  const trans = useTrans();
  const { model, executionId, onLoaded } = props;
  useModelState(model);
  const fetch = useCallback(
    () => model.outputDetail(executionId),
    [model, executionId]
  );
  const reportLoaded = useCallback(
    (loaded: IOutputDetail) => onLoaded?.(loaded.output),
    [onLoaded]
  );
  const { detail, setDetail, error, load } = useDetail(fetch, reportLoaded);

  if (!detail) {
    return (
      <div className="jp-syft-review" data-testid="syft-output-review">
        {error ? (
          <ErrorMessage message={error} />
        ) : (
          <div className="jp-syft-muted">{trans.__('Loading the output…')}</div>
        )}
      </div>
    );
  }

  const output = detail.output;
  const { marks, outside, total } = markCells(detail.preview, output.report);
  const shown = total - outside;

  return (
    <div
      className="jp-syft-review"
      data-testid="syft-output-review"
      data-execution-id={output.execution_id}
      data-state={output.state}
    >
      <header className="jp-syft-review-head">
        <h2 className="jp-syft-mono">{output.service_func_name}</h2>
        <OutcomeBadge outcome={output.report?.outcome} />
        <ReleaseBadge state={output.state} />
        <Button
          minimal
          small
          className="jp-syft-link-button"
          data-testid="syft-output-reload"
          onClick={() => void load()}
        >
          {trans.__('Reload')}
        </Button>
      </header>
      <table
        className="jp-syft-table jp-syft-kv"
        data-testid="syft-output-meta"
      >
        <tbody>
          <tr>
            <th>{trans.__('Run by')}</th>
            <td data-testid="syft-output-requester">
              {personLabel(output.user)}
            </td>
          </tr>
          <tr>
            <th>{trans.__('Ran at')}</th>
            <td>{formatTime(output.created_at)}</td>
          </tr>
          {output.request_id && (
            <tr>
              <th>{trans.__('Request')}</th>
              <td>
                {props.onOpenRequest ? (
                  <Button
                    minimal
                    small
                    className="jp-syft-link-button"
                    data-testid="syft-output-open-request"
                    onClick={() => props.onOpenRequest?.(output.request_id!)}
                  >
                    {trans.__('Open the request')}
                  </Button>
                ) : (
                  <span className="jp-syft-mono">{output.request_id}</span>
                )}
              </td>
            </tr>
          )}
          <tr>
            <th>{trans.__("Requester's justification")}</th>
            <td data-testid="syft-justification">
              {output.justification ||
                trans.__('(none: the requester has not asked for its release)')}
              {output.justified_at
                ? ` · ${formatTime(output.justified_at)}`
                : ''}
            </td>
          </tr>
        </tbody>
      </table>
      <Votes output={output} />
      <ErrorMessage message={error} />

      <Section
        title={trans.__('Disclosure checks')}
        testid="syft-report-section"
      >
        <DisclosureReportView report={output.report} />
      </Section>

      <Section title={trans.__('Result')} testid="syft-output-preview-section">
        {detail.preview ? (
          <>
            {detail.original && (
              <div className="jp-syft-muted">
                {trans.__('As computed, before suppression.')}
              </div>
            )}
            {total > 0 && (
              <div className="jp-syft-muted" data-testid="syft-marked-summary">
                {trans._n(
                  '%1 cell failing a check is outlined and marked “!”.',
                  '%1 cells failing checks are outlined and marked “!”.',
                  shown
                )}
                {outside > 0
                  ? ' ' +
                    trans._n(
                      '%1 more is outside the rows shown.',
                      '%1 more are outside the rows shown.',
                      outside
                    )
                  : ''}
              </div>
            )}
            <PreviewTable
              preview={detail.preview}
              marks={marks}
              showIndex
              testid="syft-output-preview"
            />
          </>
        ) : (
          <div className="jp-syft-muted">
            {output.has_result
              ? trans.__('No preview.')
              : trans.__('The run left no result.')}
          </div>
        )}
        <ErrorMessage message={detail.previewError} />
      </Section>

      <OutputDecision
        model={model}
        output={output}
        failingCells={total}
        confirm={props.confirm ?? confirmWithDialog}
        onDecided={decided => setDetail({ ...detail, output: decided })}
        onRefused={() => void load()}
      />
    </div>
  );
}
