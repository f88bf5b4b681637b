/**
 * Code requests, triaged: filtered by status, searched, sorted, grouped by scientist or by
 * project, and (owners) denied in bulk with one reason. A click opens the review. What a 250 px
 * sidebar cuts off (requester, project, time) is in each part's tooltip; versions of one
 * function carry a "v2" badge.
 */
import React, { useEffect, useState } from 'react';
import { HTMLSelect } from '@jupyterlab/ui-components';

import { useTrans } from '../i18n';
import { MAX_NOTE, messageOf, SyftModel } from '../model';
import { IRequest, StatusFilter } from '../tokens';
import { filterRequests } from '../utils';
import {
  actionable,
  groupRequests,
  ITriageState,
  IVersion,
  MAX_SEARCH,
  orderRequests,
  requesterOf,
  searchRequests,
  searchTerms,
  shortTime,
  triageState,
  TriageGroup,
  TriageSort,
  versionsOf
} from '../triage';
import {
  Empty,
  ErrorMessage,
  formatTime,
  LoadMore,
  NextStep,
  StatusBadge,
  viewerRole
} from './common';
import { decidedShort, decidedText } from './RequestReview';

/** How long the search waits for typing to pause before asking the Datasite. */
const SEARCH_DELAY_MS = 300;

export function RequestItem(props: {
  request: IRequest;
  onOpen: (id: string) => void;
  showProject?: boolean;
  /** Its function's version among the loaded requests (a badge when there are several). */
  version?: IVersion;
  /** Selection mode: a checkbox (enabled on pending requests). */
  selectable?: boolean;
  selected?: boolean;
  onSelect?: (selected: boolean) => void;
}): JSX.Element {
  const trans = useTrans();
  const { request, version } = props;
  const name = request.code.service_func_name;
  const requester = requesterOf(request);
  const who = [
    request.requesting_user_name,
    request.requesting_user_email && request.requesting_user_name
      ? `<${request.requesting_user_email}>`
      : request.requesting_user_email,
    request.requesting_user_institution
      ? `(${request.requesting_user_institution})`
      : ''
  ]
    .filter(Boolean)
    .join(' ');
  const submitted = request.code.submit_time;
  const timeTitle =
    trans.__('Requested %1', formatTime(request.created_at)) +
    (submitted && submitted !== request.created_at
      ? ' · ' + trans.__('code submitted %1', formatTime(submitted))
      : '');
  const pending = request.status === 'pending';
  return (
    <li
      className={
        'jp-syft-request' + (props.selectable ? ' jp-syft-selectable' : '')
      }
      data-testid="syft-request"
      data-request-id={request.id}
      data-status={request.status}
      data-function={name}
      data-requester={request.requesting_user_email}
      data-project={request.project?.name ?? ''}
      data-created={request.created_at ?? ''}
    >
      {props.selectable && (
        <input
          type="checkbox"
          className="jp-syft-request-check"
          data-testid="syft-request-check"
          disabled={!pending}
          checked={pending && !!props.selected}
          aria-label={trans.__('Select %1 by %2', name, requester)}
          title={
            pending
              ? trans.__('Select for a bulk action')
              : trans.__('Already decided')
          }
          onChange={event => props.onSelect?.(event.target.checked)}
        />
      )}
      <button
        className="jp-syft-row-button"
        data-testid="syft-request-open"
        title={trans.__('Review %1', name)}
        onClick={() => props.onOpen(request.id)}
      >
        <span className="jp-syft-row-main">
          <span className="jp-syft-name-line">
            <span
              className="jp-syft-name jp-syft-mono"
              data-testid="syft-request-function"
              title={name}
            >
              {name}
            </span>
            {version && version.of > 1 && (
              <span
                className="jp-syft-version"
                data-testid="syft-version"
                data-version={version.version}
                data-hash={version.hash}
                aria-label={
                  version.version > 1
                    ? trans.__('version %1, a resubmission', version.version)
                    : trans.__('version %1', version.version)
                }
                title={trans.__(
                  'Version %1 of %2 of %3 by %4 among the loaded requests · code #%5 · submitted %6',
                  version.version,
                  version.of,
                  name,
                  requester,
                  version.hash,
                  formatTime(version.submitted)
                )}
              >
                {trans.__('v%1', version.version)}
              </span>
            )}
          </span>
          <span className="jp-syft-summary jp-syft-triage-summary">
            <span
              className="jp-syft-cut"
              data-testid="syft-request-requester"
              title={trans.__('Requested by %1', who || requester)}
            >
              {requester}
            </span>
            {props.showProject !== false && request.project && (
              <span
                className="jp-syft-cut"
                data-testid="syft-request-project"
                title={trans.__('Project: %1', request.project.name)}
              >
                {request.project.name}
              </span>
            )}
            {request.created_at && (
              <span
                className="jp-syft-time"
                data-testid="syft-request-time"
                title={timeTitle}
              >
                {shortTime(request.created_at)}
              </span>
            )}
          </span>
          {!pending && (
            // Who decided, when, and a denial's reason: for every role (#16, UA).
            <span
              className="jp-syft-summary jp-syft-cut"
              data-testid="syft-request-decided"
              title={decidedText(request, trans)}
            >
              {decidedShort(request, trans)}
            </span>
          )}
        </span>
        <StatusBadge status={request.status} />
      </button>
    </li>
  );
}

/** Deny the selected pending requests with one reason, after a confirmation listing them. */
function BulkBar(props: {
  model: SyftModel;
  state: ITriageState;
  shown: IRequest[];
  onChange: () => void;
}): JSX.Element {
  const trans = useTrans();
  const { model, state, shown, onChange } = props;
  const [reason, setReason] = useState('');
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const targets = actionable(state.selected, shown);
  const pendingShown = shown.filter(r => r.status === 'pending');

  const selectAll = (): void => {
    pendingShown.forEach(r => state.selected.add(r.id));
    onChange();
  };
  const clear = (): void => {
    state.selected.clear();
    setConfirming(false);
    onChange();
  };
  const ask = (): void => {
    setResult(null);
    if (!reason.trim()) {
      setError(
        trans.__('Say why you deny them: each scientist reads the reason.')
      );
      return;
    }
    if (reason.trim().length > MAX_NOTE) {
      setError(
        trans.__(
          'The reason is %1 characters long: keep it to %2.',
          reason.trim().length,
          MAX_NOTE
        )
      );
      return;
    }
    setError(null);
    setConfirming(true);
  };
  const deny = async (): Promise<void> => {
    setBusy(true);
    setError(null);
    const failed: string[] = [];
    let denied = 0;
    for (const request of targets) {
      try {
        await model.deny(request.id, reason);
        denied++;
        state.selected.delete(request.id);
      } catch (err) {
        failed.push(`${request.code.service_func_name}: ${messageOf(err)}`);
      }
    }
    setBusy(false);
    setConfirming(false);
    setResult(
      trans._n('Denied %1 request.', 'Denied %1 requests.', denied) +
        (failed.length
          ? ' ' +
            trans._n(
              '%1 failed: %2',
              '%1 failed: %2',
              failed.length,
              failed.join('; ')
            )
          : '')
    );
    if (!failed.length) {
      setReason('');
    }
    onChange();
  };

  return (
    <div className="jp-syft-bulk" data-testid="syft-bulk-bar">
      <div className="jp-syft-bulk-head">
        <span data-testid="syft-bulk-count">
          {trans._n('%1 selected', '%1 selected', targets.length)}
        </span>
        <button
          className="jp-syft-link"
          data-testid="syft-bulk-select-all"
          disabled={busy}
          onClick={selectAll}
        >
          {trans.__('All pending shown (%1)', pendingShown.length)}
        </button>
        <button
          className="jp-syft-link"
          data-testid="syft-bulk-clear"
          disabled={busy}
          onClick={clear}
        >
          {trans.__('None')}
        </button>
      </div>
      <textarea
        className="jp-mod-styled jp-syft-bulk-reason"
        data-testid="syft-bulk-reason"
        aria-label={trans.__('Reason for denying the selected requests')}
        placeholder={trans.__('Why you deny them (each scientist reads this)')}
        maxLength={MAX_NOTE}
        rows={2}
        value={reason}
        disabled={busy}
        onChange={event => {
          setReason(event.target.value);
          setConfirming(false);
        }}
      />
      {!confirming ? (
        <button
          className="jp-mod-styled jp-mod-warn jp-syft-bulk-deny"
          data-testid="syft-bulk-deny"
          disabled={busy || targets.length === 0}
          onClick={ask}
        >
          {trans._n('Deny %1 request…', 'Deny %1 requests…', targets.length)}
        </button>
      ) : (
        <div className="jp-syft-bulk-confirm" data-testid="syft-bulk-confirm">
          <div>
            {trans._n(
              'Deny this request with the reason above?',
              'Deny these %1 requests with the reason above?',
              targets.length
            )}
          </div>
          <ul className="jp-syft-bulk-targets">
            {targets.map(request => (
              <li key={request.id} title={request.id}>
                <span className="jp-syft-mono">
                  {request.code.service_func_name}
                </span>{' '}
                · {requesterOf(request)}
              </li>
            ))}
          </ul>
          <div className="jp-syft-actions">
            <button
              className="jp-mod-styled jp-mod-warn"
              data-testid="syft-bulk-confirm-deny"
              disabled={busy}
              onClick={() => void deny()}
            >
              {busy
                ? trans.__('Denying…')
                : trans._n(
                    'Deny %1 request',
                    'Deny %1 requests',
                    targets.length
                  )}
            </button>
            <button
              className="jp-mod-styled jp-mod-reject"
              data-testid="syft-bulk-cancel"
              disabled={busy}
              onClick={() => setConfirming(false)}
            >
              {trans.__('Cancel')}
            </button>
          </div>
        </div>
      )}
      <div className="jp-syft-muted jp-syft-bulk-note">
        {trans.__(
          'Approve one at a time, from its review: each approval needs its code, findings and diff read.'
        )}
      </div>
      <ErrorMessage message={error} testid="syft-bulk-error" />
      {result && (
        <div
          className="jp-syft-muted"
          data-testid="syft-bulk-result"
          role="status"
        >
          {result}
        </div>
      )}
    </div>
  );
}

export function RequestList(props: {
  model: SyftModel;
  onOpen: (id: string) => void;
  /** Open a new notebook connected to the Datasite shown (the empty state's next step). */
  onNewNotebook?: () => void;
}): JSX.Element {
  const trans = useTrans();
  const { model } = props;
  const state = triageState(model);
  const [, bump] = useState(0);
  const changed = (): void => bump(count => count + 1);
  const filters: { value: StatusFilter; label: string; empty: string }[] = [
    {
      value: 'all',
      label: trans.__('All'),
      empty: trans.__('No code requests yet.')
    },
    {
      value: 'pending',
      label: trans.__('Pending'),
      empty: trans.__('No pending requests: nothing waits for a decision.')
    },
    {
      value: 'approved',
      label: trans.__('Approved'),
      empty: trans.__('No approved requests.')
    },
    {
      value: 'rejected',
      label: trans.__('Denied'),
      empty: trans.__('No denied requests.')
    }
  ];
  const sorts: { value: TriageSort; label: string }[] = [
    { value: 'status', label: trans.__('Pending first') },
    { value: 'newest', label: trans.__('Newest first') },
    { value: 'oldest', label: trans.__('Oldest first') },
    { value: 'requester', label: trans.__('By requester') }
  ];
  const groupings: { value: TriageGroup; label: string }[] = [
    { value: 'none', label: trans.__('No groups') },
    { value: 'requester', label: trans.__('By scientist') },
    { value: 'project', label: trans.__('By project') }
  ];
  const counts = model.requestCounts;
  const owner = model.isOwner;
  const role = viewerRole(model);
  const searching = searchTerms(state.search).length > 0;
  const partial = model.remaining('requests') > 0;
  // More requests on the Datasite than loaded: it searches them all (debounced below).
  const found =
    searching &&
    partial &&
    state.found?.search === state.search &&
    !state.found.error
      ? state.found
      : null;
  const byStatus = found
    ? filterRequests(found.items, model.statusFilter)
    : model.visibleRequests;
  const matched = searchRequests(byStatus, state.search);
  const ordered = orderRequests(matched, state.sort);
  const groups = groupRequests(ordered, state.group);
  const versions = versionsOf(model.requests);
  const loaded = model.requests.length;
  const total = model.count('requests');
  useEffect(() => {
    if (!searching || !partial || state.found?.search === state.search) {
      return;
    }
    const search = state.search;
    const timer = setTimeout(() => {
      model.searchRequests(search).then(
        page => {
          state.found = { search, items: page.items, total: page.total };
          changed();
        },
        error => {
          state.found = {
            search,
            items: [],
            total: 0,
            error: messageOf(error)
          };
          changed();
        }
      );
    }, SEARCH_DELAY_MS);
    return () => clearTimeout(timer);
  }, [state.search, searching, partial]);
  const selecting = owner && state.selecting;

  const renderItems = (requests: IRequest[], testid: string): JSX.Element => (
    <ul className="jp-syft-list" data-testid={testid}>
      {requests.map(request => (
        <RequestItem
          key={request.id}
          request={request}
          onOpen={props.onOpen}
          version={versions.get(request.id)}
          selectable={selecting}
          selected={state.selected.has(request.id)}
          onSelect={checked => {
            if (checked) {
              state.selected.add(request.id);
            } else {
              state.selected.delete(request.id);
            }
            changed();
          }}
        />
      ))}
    </ul>
  );

  const emptyAll =
    !model.requests.length && model.statusFilter === 'all' && !searching;
  let empty: JSX.Element | null = null;
  if (!ordered.length && !model.errors.requests) {
    if (model.loading) {
      empty = <Empty>{trans.__('Loading…')}</Empty>;
    } else if (emptyAll && role === 'scientist') {
      empty = (
        <NextStep
          testid="syft-empty-requests"
          role={role}
          message={trans.__(
            "No code requests yet. To ask for a result: in a connected notebook, write a function on a dataset's assets, try it on the mocks, then submit it."
          )}
          code={
            '@sy.syft_function_single_use(data=asset)\ndef my_analysis(data):\n    return data.mean()\n\nclient.code.request_code_execution(my_analysis)'
          }
          action={
            props.onNewNotebook
              ? {
                  label: trans.__('Open a connected notebook'),
                  onClick: props.onNewNotebook
                }
              : undefined
          }
        />
      );
    } else if (emptyAll && role === 'owner') {
      empty = (
        <NextStep
          testid="syft-empty-requests"
          role={role}
          message={trans.__(
            "No code requests yet. Scientists submit them from their notebooks, on your datasets; they appear here as they arrive. Share this Datasite's URL and create their accounts (client.users.create) to let them in."
          )}
        />
      );
    } else if (emptyAll) {
      empty = (
        <NextStep
          testid="syft-empty-requests"
          role={role}
          message={trans.__(
            'Guests cannot submit code requests: log in with a scientist account (+ above) to ask for results.'
          )}
        />
      );
    } else if (searching) {
      empty = (
        <Empty testid="syft-empty-search">
          {trans.__(
            'No request matches "%1". Clear the search or choose another status.',
            state.search.slice(0, 80)
          )}
        </Empty>
      );
    } else {
      empty = (
        <Empty testid="syft-empty-requests">
          {filters.find(f => f.value === model.statusFilter)?.empty}
        </Empty>
      );
    }
  }

  return (
    <div className="jp-syft-requests jp-syft-triage">
      <div
        className="jp-syft-filters"
        role="radiogroup"
        aria-label={trans.__('Filter requests by status')}
      >
        {filters.map(filter => (
          <button
            key={filter.value}
            role="radio"
            aria-checked={model.statusFilter === filter.value}
            className={
              'jp-syft-filter' +
              (model.statusFilter === filter.value ? ' jp-mod-active' : '')
            }
            data-testid={`syft-filter-${filter.value}`}
            onClick={() => (model.statusFilter = filter.value)}
          >
            {filter.label} ({counts[filter.value]})
          </button>
        ))}
      </div>
      {model.requests.length > 0 && (
        <div className="jp-syft-triage-bar">
          <div className="jp-syft-triage-row">
            <input
              type="search"
              className="jp-mod-styled jp-syft-triage-search"
              data-testid="syft-triage-search"
              aria-label={trans.__(
                'Search requests by function, scientist or project'
              )}
              title={trans.__(
                'Search requests by function, scientist or project'
              )}
              placeholder={trans.__('Search function, scientist, project')}
              maxLength={MAX_SEARCH}
              value={state.search}
              onChange={event => {
                state.search = event.target.value.slice(0, MAX_SEARCH);
                changed();
              }}
            />
            {owner && (
              <button
                className={
                  'jp-mod-styled jp-syft-triage-select' +
                  (state.selecting ? ' jp-mod-active' : '')
                }
                aria-pressed={state.selecting}
                data-testid="syft-triage-select"
                title={trans.__(
                  'Select pending requests to deny several with one reason'
                )}
                onClick={() => {
                  state.selecting = !state.selecting;
                  if (!state.selecting) {
                    state.selected.clear();
                  }
                  changed();
                }}
              >
                {state.selecting ? trans.__('Done') : trans.__('Select')}
              </button>
            )}
          </div>
          <div className="jp-syft-triage-row">
            <HTMLSelect
              className="jp-syft-triage-choice"
              data-testid="syft-triage-sort"
              aria-label={trans.__('Sort requests')}
              title={trans.__('Sort requests')}
              value={state.sort}
              onChange={(event: React.ChangeEvent<HTMLSelectElement>) => {
                state.sort = event.target.value as TriageSort;
                changed();
              }}
              options={sorts}
            />
            <HTMLSelect
              className="jp-syft-triage-choice"
              data-testid="syft-triage-group"
              aria-label={trans.__('Group requests')}
              title={trans.__('Group requests')}
              value={state.group}
              onChange={(event: React.ChangeEvent<HTMLSelectElement>) => {
                state.group = event.target.value as TriageGroup;
                changed();
              }}
              options={groupings}
            />
          </div>
          {(searching || partial) && (
            <div
              className="jp-syft-muted jp-syft-triage-note"
              data-testid="syft-triage-note"
              data-partial={partial ? 'true' : 'false'}
            >
              {found
                ? trans.__(
                    'Searched the Datasite: %1 of %2 requests match.',
                    found.total,
                    total
                  ) +
                  (found.total > found.items.length
                    ? ' ' +
                      trans.__(
                        'The newest %1 are listed: add a word to narrow it.',
                        found.items.length
                      )
                    : '')
                : partial
                  ? trans.__(
                      'Filtering the %1 loaded of %2 requests: load more below to include the rest.',
                      loaded,
                      total
                    ) +
                    (searching
                      ? ' ' +
                        (state.found?.error &&
                        state.found.search === state.search
                          ? trans.__(
                              'The Datasite could not search: %1',
                              state.found.error
                            ) + ' '
                          : '') +
                        trans.__('Matching: %1.', ordered.length)
                      : '')
                  : trans.__(
                      '%1 of %2 requests match.',
                      ordered.length,
                      byStatus.length
                    )}
            </div>
          )}
        </div>
      )}
      {selecting && (
        <BulkBar
          model={model}
          state={state}
          shown={ordered}
          onChange={changed}
        />
      )}
      <ErrorMessage message={model.errors.requests} />
      {ordered.length > 0 &&
        (state.group === 'none'
          ? renderItems(ordered, 'syft-requests')
          : groups.map(group => {
              const collapsed = state.collapsed.has(
                `${state.group}:${group.key}`
              );
              const label =
                group.label ||
                (state.group === 'project'
                  ? trans.__('No project')
                  : trans.__('Unknown'));
              return (
                <section
                  key={group.key}
                  className="jp-syft-group"
                  data-testid="syft-group"
                  data-group={group.key}
                  data-count={group.requests.length}
                >
                  <button
                    className="jp-syft-group-head"
                    data-testid="syft-group-toggle"
                    aria-expanded={!collapsed}
                    title={trans.__(
                      '%1: %2 requests, %3 pending',
                      label,
                      group.requests.length,
                      group.pending
                    )}
                    onClick={() => {
                      const key = `${state.group}:${group.key}`;
                      if (collapsed) {
                        state.collapsed.delete(key);
                      } else {
                        state.collapsed.add(key);
                      }
                      changed();
                    }}
                  >
                    <span className="jp-syft-group-caret" aria-hidden>
                      {collapsed ? '▸' : '▾'}
                    </span>
                    <span className="jp-syft-group-label">{label}</span>
                    <span
                      className="jp-syft-group-count"
                      data-testid="syft-group-count"
                    >
                      {group.pending > 0
                        ? trans.__(
                            '%1 · %2 pending',
                            group.requests.length,
                            group.pending
                          )
                        : group.requests.length}
                    </span>
                  </button>
                  {!collapsed &&
                    renderItems(group.requests, 'syft-group-requests')}
                </section>
              );
            }))}
      {empty}
      <LoadMore model={model} section="requests" />
    </div>
  );
}
