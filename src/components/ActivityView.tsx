/**
 * The Datasite's activity (owners): its hash-chained audit log, newest first and paged, with
 * filters by who acted, the object (e.g. a request) and the kind of action, under the chain's
 * verified state.
 */
import React, { useCallback, useEffect, useRef, useState } from 'react';
import { TranslationBundle } from '@jupyterlab/translation';

import { useTrans } from '../i18n';
import { messageOf, SyftModel } from '../model';
import { IAuditEvent, IAuditFilter, IAuditVerification } from '../tokens';
import {
  Empty,
  ErrorMessage,
  formatTime,
  MoreButton,
  useModelState
} from './common';

/** Characters of a filter the Datasite takes (an email is at most 254). */
export const MAX_FILTER = 320;

/** The action filter's choices: an action prefix, '' for all. */
export const ACTION_PREFIXES = [
  '',
  'request.',
  'code.',
  'output.',
  'job.',
  'dataset.',
  'project.',
  'user.',
  'auth.',
  'settings.'
] as const;

/** An event in words: who, what they did, and to which object. */
export interface IEventWords {
  who: string;
  what: string;
  /** What the object is ("request", "code", ...) and its id (empty: none). */
  objectKind: string;
  objectId: string;
  /** The request this event opens in a review tab, if any. */
  requestId: string | null;
  /** A word on the outcome or a reason, if the event carries one. */
  note: string;
}

/** Describe an audit event in words (the actions the Datasite records; others as written). */
export function describeEvent(
  event: IAuditEvent,
  trans: TranslationBundle
): IEventWords {
  const detail = (event.detail ?? {}) as Record<string, unknown>;
  const text = (key: string): string => {
    const value = detail[key];
    return typeof value === 'string' || typeof value === 'number'
      ? String(value).slice(0, 200)
      : '';
  };
  const verbs: Record<string, string> = {
    'auth.login': trans.__('logged in'),
    'asset.read_private': trans.__("read an asset's private data"),
    'code.submit': trans.__('submitted code'),
    'code.run_nested': trans.__('ran a nested function'),
    'data_subject.add': trans.__('added a data subject'),
    'dataset.create': trans.__('uploaded a dataset'),
    'dataset.delete': trans.__('deleted a dataset'),
    'job.create': trans.__('started a job'),
    'job.kill': trans.__('stopped a job'),
    'output.justify': trans.__('justified a held result'),
    'output.report': trans.__('checked a result for disclosure'),
    'output.release': trans.__('released a result'),
    'output.withhold': trans.__('withheld a result'),
    'output.vote': trans.__('voted on a held result'),
    'project.create': trans.__('created a project'),
    'request.create': trans.__('asked to run code on private data'),
    'request.approved': trans.__('approved a request'),
    'request.rejected': trans.__('denied a request'),
    'request.revoked': trans.__('revoked the approval of a request'),
    'request.approve_nested': trans.__("approved a request's nested functions"),
    'request.deposit': trans.__('deposited a result for a request'),
    'settings.update': trans.__('changed the settings'),
    'user.create': trans.__('created an account'),
    'user.update': trans.__('changed an account'),
    'user.delete': trans.__('deleted an account'),
    'user.set_password': trans.__('changed a password')
  };
  let what = verbs[event.action] ?? event.action;
  if (event.action === 'code.run') {
    what = detail.private
      ? trans.__('ran code on private data')
      : trans.__('ran code on mock data');
  }
  let note = '';
  if ('ok' in detail && detail.ok === false) {
    note = trans.__('it failed');
  }
  const reason = text('reason');
  if (reason) {
    note = trans.__('reason: %1', reason);
  } else if (text('release')) {
    note = trans.__('result %1', text('release'));
  } else if (text('name')) {
    note = text('name');
  } else if (text('email')) {
    note = text('email');
  }
  const requestId =
    event.object_type === 'request' && event.object_id
      ? event.object_id
      : text('request') || null;
  return {
    who: event.actor_email || trans.__('the Datasite'),
    what,
    objectKind: event.object_type,
    objectId: event.object_id,
    requestId,
    note
  };
}

/** The chain's state in words. */
export function verificationText(
  verification: IAuditVerification,
  trans: TranslationBundle
): string {
  if (verification.ok) {
    return trans._n(
      'Verified: %1 event, none changed, removed or reordered.',
      'Verified: %1 events, none changed, removed or reordered.',
      verification.count
    );
  }
  return trans.__(
    'Broken at event seq %1: %2',
    verification.bad_seq ?? '?',
    verification.reason || trans.__('no reason given')
  );
}

export function ActivityView(props: {
  model: SyftModel;
  onOpenRequest: (id: string) => void;
  /** The filter to start with (e.g. one request's events). */
  initialFilter?: IAuditFilter;
}): JSX.Element {
  const { model } = props;
  const trans = useTrans();
  useModelState(model);
  const ready = model.me !== null;
  const owner = model.isOwner;

  if (!ready) {
    return (
      <div className="jp-syft-activity" data-testid="syft-activity">
        <Empty testid="syft-activity-loading">{trans.__('Loading…')}</Empty>
        <ErrorMessage message={model.errors.me} />
      </div>
    );
  }
  if (!owner) {
    return (
      <div className="jp-syft-activity" data-testid="syft-activity">
        <Empty testid="syft-activity-owners-only">
          {trans.__(
            "The activity log is for the Datasite's owners. Your own requests, runs and jobs are in the sidebar and the jobs view."
          )}
        </Empty>
      </div>
    );
  }
  return (
    <OwnerActivity
      model={model}
      onOpenRequest={props.onOpenRequest}
      initialFilter={props.initialFilter}
    />
  );
}

function OwnerActivity(props: {
  model: SyftModel;
  onOpenRequest: (id: string) => void;
  initialFilter?: IAuditFilter;
}): JSX.Element {
  const { model } = props;
  const trans = useTrans();
  const [draft, setDraft] = useState<IAuditFilter>(props.initialFilter ?? {});
  const [filter, setFilter] = useState<IAuditFilter>(props.initialFilter ?? {});
  const [events, setEvents] = useState<IAuditEvent[]>([]);
  const [total, setTotal] = useState(0);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [verification, setVerification] = useState<IAuditVerification | null>(
    null
  );
  const [verifyError, setVerifyError] = useState<string | null>(null);
  const [checking, setChecking] = useState(false);
  const generation = useRef(0);
  const pages = useRef(1);

  const verify = useCallback(async () => {
    setChecking(true);
    try {
      setVerification(await model.auditVerification());
      setVerifyError(null);
    } catch (reason) {
      setVerifyError(messageOf(reason));
    } finally {
      setChecking(false);
    }
  }, [model]);

  const load = useCallback(
    async (next?: string | null) => {
      const mine = next ? generation.current : ++generation.current;
      setLoading(true);
      try {
        const page = await model.auditEvents(filter, next);
        if (mine !== generation.current) {
          return;
        }
        setEvents(previous =>
          next ? [...previous, ...page.items] : page.items
        );
        pages.current = next ? pages.current + 1 : 1;
        setTotal(page.total);
        setCursor(page.next_cursor ?? null);
        setError(null);
      } catch (reason) {
        if (mine === generation.current) {
          setError(messageOf(reason));
        }
      } finally {
        if (mine === generation.current) {
          setLoading(false);
        }
      }
    },
    [model, filter]
  );

  useEffect(() => {
    void load();
  }, [load]);
  useEffect(() => {
    void verify();
  }, [verify]);

  // Something changed on the Datasite: check the chain again; show new events at once
  // unless older pages were loaded (then the Reload button brings them).
  useEffect(() => {
    const slot = (): void => {
      void verify();
      if (pages.current === 1) {
        void load();
      }
    };
    model.pushed.connect(slot);
    return () => {
      model.pushed.disconnect(slot);
    };
  }, [model, load, verify]);

  const apply = (event?: React.FormEvent): void => {
    event?.preventDefault();
    setFilter({ ...draft });
  };
  const clear = (): void => {
    setDraft({});
    setFilter({});
  };
  const setField = (key: keyof IAuditFilter, value: string): void =>
    setDraft(previous => ({ ...previous, [key]: value.slice(0, MAX_FILTER) }));
  const actionLabels: Record<string, string> = {
    '': trans.__('Every action'),
    'request.': trans.__('Requests and decisions'),
    'code.': trans.__('Code: submissions and runs'),
    'output.': trans.__('Outputs: checks and reviews'),
    'job.': trans.__('Jobs'),
    'dataset.': trans.__('Datasets'),
    'project.': trans.__('Projects'),
    'user.': trans.__('Accounts'),
    'auth.': trans.__('Log-ins'),
    'settings.': trans.__('Settings')
  };
  const filtered = Object.values(filter).some(value => (value ?? '').trim());
  const remaining = Math.max(0, total - events.length);

  return (
    <div className="jp-syft-activity" data-testid="syft-activity">
      <h2 className="jp-syft-activity-title">
        {trans.__('Datasite activity')}
      </h2>
      <div
        className={`jp-syft-verification ${
          verification
            ? verification.ok
              ? 'jp-syft-verification-ok'
              : 'jp-syft-verification-broken'
            : ''
        }`}
        data-testid="syft-audit-verification"
        data-ok={verification ? String(verification.ok) : undefined}
        role="status"
      >
        <span className="jp-syft-verification-mark" aria-hidden="true">
          {verification ? (verification.ok ? '✓' : '✗') : '…'}
        </span>
        <span className="jp-syft-verification-text">
          {verification
            ? verificationText(verification, trans)
            : checking
              ? trans.__('Checking the hash chain…')
              : trans.__('The hash chain is not checked yet.')}
        </span>
        <button
          className="jp-mod-styled"
          data-testid="syft-audit-verify"
          disabled={checking}
          onClick={() => void verify()}
        >
          {trans.__('Check again')}
        </button>
      </div>
      <ErrorMessage message={verifyError} testid="syft-audit-verify-error" />

      <form
        className="jp-syft-activity-filters"
        data-testid="syft-activity-filters"
        onSubmit={apply}
      >
        <label>
          {trans.__('Who')}
          <input
            className="jp-mod-styled"
            data-testid="syft-activity-user"
            placeholder={trans.__('email or user id')}
            maxLength={MAX_FILTER}
            value={draft.user ?? ''}
            onChange={e => setField('user', e.target.value)}
          />
        </label>
        <label>
          {trans.__('Request or object')}
          <input
            className="jp-mod-styled"
            data-testid="syft-activity-object"
            placeholder={trans.__('request, code, job or run id')}
            maxLength={MAX_FILTER}
            value={draft.object_id ?? ''}
            onChange={e => setField('object_id', e.target.value)}
          />
        </label>
        <label>
          {trans.__('Action')}
          <select
            className="jp-mod-styled"
            data-testid="syft-activity-action"
            value={draft.action ?? ''}
            onChange={e => {
              const action = e.target.value;
              setDraft(previous => ({ ...previous, action }));
              setFilter(previous => ({ ...previous, ...draft, action }));
            }}
          >
            {ACTION_PREFIXES.map(prefix => (
              <option key={prefix} value={prefix}>
                {actionLabels[prefix]}
              </option>
            ))}
          </select>
        </label>
        <button
          type="submit"
          className="jp-mod-styled jp-mod-accept"
          data-testid="syft-activity-apply"
        >
          {trans.__('Filter')}
        </button>
        <button
          type="button"
          className="jp-mod-styled"
          data-testid="syft-activity-clear"
          disabled={!filtered && !Object.values(draft).some(v => v)}
          onClick={clear}
        >
          {trans.__('Clear')}
        </button>
        <button
          type="button"
          className="jp-mod-styled"
          data-testid="syft-activity-reload"
          disabled={loading}
          onClick={() => void load()}
        >
          {trans.__('Reload')}
        </button>
      </form>

      <div className="jp-syft-muted" data-testid="syft-activity-count">
        {filtered
          ? trans._n(
              '%1 event matches the filters',
              '%1 events match the filters',
              total
            )
          : trans._n('%1 event', '%1 events', total)}
      </div>
      <ErrorMessage message={error} testid="syft-activity-error" />
      {events.length === 0 && !loading && !error ? (
        <Empty testid="syft-activity-empty">
          {filtered
            ? trans.__('No event matches these filters: clear them to see all.')
            : trans.__('Nothing has happened on this Datasite yet.')}
        </Empty>
      ) : (
        <ol className="jp-syft-activity-list" aria-label={trans.__('Events')}>
          {events.map(event => (
            <EventRow
              key={event.seq}
              event={event}
              onOpenRequest={props.onOpenRequest}
              onFilter={(key, value) => {
                const next = { ...filter, [key]: value };
                setDraft(next);
                setFilter(next);
              }}
            />
          ))}
        </ol>
      )}
      {cursor && remaining > 0 && (
        <MoreButton
          remaining={remaining}
          busy={loading}
          onMore={() => void load(cursor)}
          testid="syft-activity-more"
        />
      )}
    </div>
  );
}

function EventRow(props: {
  event: IAuditEvent;
  onOpenRequest: (id: string) => void;
  onFilter: (key: keyof IAuditFilter, value: string) => void;
}): JSX.Element {
  const trans = useTrans();
  const { event } = props;
  const words = describeEvent(event, trans);
  const short = (id: string): string => (id.length > 12 ? id.slice(0, 8) : id);
  return (
    <li
      className="jp-syft-activity-event"
      data-testid="syft-audit-event"
      data-seq={event.seq}
      data-action={event.action}
      data-object-id={event.object_id}
    >
      <time
        className="jp-syft-activity-time jp-syft-muted"
        dateTime={event.at}
        title={event.at}
      >
        {formatTime(event.at)}
      </time>
      <span className="jp-syft-activity-sentence">
        <button
          className="jp-syft-link jp-syft-activity-who"
          title={trans.__('Show only what %1 did', words.who)}
          onClick={() => props.onFilter('user', event.actor_email)}
          disabled={!event.actor_email}
        >
          {words.who}
        </button>{' '}
        <span className="jp-syft-activity-what">{words.what}</span>
        {words.objectId && (
          <>
            {' '}
            <span className="jp-syft-muted">{words.objectKind}</span>{' '}
            <button
              className="jp-syft-link jp-syft-mono"
              title={trans.__(
                'Show only the events of %1 %2',
                words.objectKind,
                words.objectId
              )}
              data-testid="syft-audit-object"
              onClick={() => props.onFilter('object_id', words.objectId)}
            >
              {short(words.objectId)}
            </button>
          </>
        )}
        {words.note && (
          <span className="jp-syft-activity-note"> ({words.note})</span>
        )}
      </span>
      {words.requestId && (
        <button
          className="jp-mod-styled jp-syft-activity-open"
          data-testid="syft-audit-open-request"
          onClick={() => props.onOpenRequest(words.requestId!)}
        >
          {trans.__('Open request')}
        </button>
      )}
      <span className="jp-syft-activity-seq jp-syft-muted">
        {trans.__('#%1', event.seq)}
      </span>
    </li>
  );
}
