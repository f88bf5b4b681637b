/**
 * Small pieces shared by the views: a hook that re-renders on model changes, status
 * badges, error and empty messages.
 */
import React, { useCallback, useEffect, useReducer, useState } from 'react';

import { useTrans } from '../i18n';
import { messageOf, SyftModel } from '../model';
import { PagedSection, ReleaseState, RequestStatus } from '../tokens';

/**
 * A detail view's data: fetched with ``fetch`` on mount and whenever it changes, again with
 * ``load()``; ``onLoaded`` sees each fetched value. Errors become ``error`` (a message).
 */
export function useDetail<T>(
  fetch: () => Promise<T>,
  onLoaded?: (loaded: T) => void
): {
  detail: T | null;
  setDetail: (detail: T) => void;
  error: string | null;
  load: () => Promise<void>;
} {
  const [detail, setDetail] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(async () => {
    try {
      const loaded = await fetch();
      setDetail(loaded);
      setError(null);
      onLoaded?.(loaded);
    } catch (err) {
      setError(messageOf(err));
    }
  }, [fetch, onLoaded]);
  useEffect(() => {
    void load();
  }, [load]);
  return { detail, setDetail, error, load };
}

/** Re-render the calling component whenever the model's state changes. */
export function useModelState(model: SyftModel): void {
  const [, bump] = useReducer((count: number) => count + 1, 0);
  useEffect(() => {
    const slot = (): void => bump();
    model.stateChanged.connect(slot);
    return () => {
      model.stateChanged.disconnect(slot);
    };
  }, [model]);
}

export function StatusBadge(props: { status: RequestStatus }): JSX.Element {
  const trans = useTrans();
  const status = props.status;
  const labels: Record<RequestStatus, string> = {
    pending: trans.__('Pending'),
    approved: trans.__('Approved'),
    rejected: trans.__('Denied')
  };
  return (
    <span
      className={`jp-syft-badge jp-syft-badge-${status}`}
      data-testid="syft-status"
      data-status={status}
    >
      {labels[status] ?? status}
    </span>
  );
}

/** Where an output stands: held, released or withheld. */
export function ReleaseBadge(props: { state: ReleaseState }): JSX.Element {
  const trans = useTrans();
  const labels: Record<ReleaseState, string> = {
    held: trans.__('Held'),
    released: trans.__('Released'),
    withheld: trans.__('Withheld')
  };
  return (
    <span
      className={`jp-syft-badge jp-syft-release-${props.state}`}
      data-testid="syft-release-state"
      data-state={props.state}
    >
      {labels[props.state] ?? props.state}
    </span>
  );
}

/** The disclosure checks' outcome: pass, fail or review (none ran: "no checks"). */
export function OutcomeBadge(props: {
  outcome: 'pass' | 'fail' | 'review' | null | undefined;
}): JSX.Element {
  const trans = useTrans();
  const outcome = props.outcome ?? 'none';
  const labels: Record<string, string> = {
    pass: trans.__('pass'),
    fail: trans.__('fail'),
    review: trans.__('review'),
    none: trans.__('no checks')
  };
  return (
    <span
      className={`jp-syft-badge jp-syft-outcome jp-syft-outcome-${outcome}`}
      data-testid="syft-outcome"
      data-outcome={outcome}
      title={trans.__('Disclosure checks: %1', labels[outcome] ?? outcome)}
    >
      {labels[outcome] ?? outcome}
    </span>
  );
}

export function ErrorMessage(props: {
  message: string | null | undefined;
  testid?: string;
}): JSX.Element | null {
  if (!props.message) {
    return null;
  }
  return (
    <div
      className="jp-syft-error"
      role="alert"
      data-testid={props.testid ?? 'syft-error'}
    >
      {props.message}
    </div>
  );
}

/** "N more" and a button loading the next page, under a list that is not all loaded. */
export function LoadMore(props: {
  model: SyftModel;
  section: PagedSection;
}): JSX.Element | null {
  const { model, section } = props;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const remaining = model.remaining(section);
  if (!remaining) {
    return null;
  }
  const load = async (): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      await model.loadMore(section);
    } catch (reason) {
      setError(messageOf(reason));
    } finally {
      setBusy(false);
    }
  };
  return (
    <MoreButton
      remaining={remaining}
      busy={busy}
      onMore={() => void load()}
      testid={`syft-more-${section}`}
    >
      <ErrorMessage message={error} />
    </MoreButton>
  );
}

/** "N more" and a "Load more" button (disabled while a page loads), under a paged list. */
export function MoreButton(props: {
  remaining: number;
  busy: boolean;
  onMore: () => void;
  testid?: string;
  children?: React.ReactNode;
}): JSX.Element {
  const trans = useTrans();
  return (
    <div className="jp-syft-more" data-testid={props.testid}>
      <span className="jp-syft-muted">
        {trans._n('%1 more', '%1 more', props.remaining)}
      </span>
      <button
        className="jp-mod-styled jp-syft-more-button"
        disabled={props.busy}
        onClick={props.onMore}
      >
        {props.busy ? trans.__('Loading…') : trans.__('Load more')}
      </button>
      {props.children}
    </div>
  );
}

export function Empty(props: {
  children: React.ReactNode;
  testid?: string;
}): JSX.Element {
  return (
    <div className="jp-syft-empty" data-testid={props.testid}>
      {props.children}
    </div>
  );
}

/**
 * An empty list's next step: what is missing, what to do about it (with the code to run, if
 * any), and a button doing the first move (e.g. opening a connected notebook).
 */
export function NextStep(props: {
  testid: string;
  role: 'owner' | 'scientist' | 'guest';
  message: string;
  code?: string;
  action?: { label: string; onClick: () => void };
}): JSX.Element {
  return (
    <div
      className="jp-syft-empty jp-syft-next-step"
      data-testid={props.testid}
      data-role={props.role}
    >
      <p>{props.message}</p>
      {props.code && (
        <pre className="jp-syft-next-step-code jp-syft-mono">{props.code}</pre>
      )}
      {props.action && (
        <button
          className="jp-mod-styled jp-mod-accept jp-syft-next-step-button"
          data-testid={`${props.testid}-action`}
          onClick={props.action.onClick}
        >
          {props.action.label}
        </button>
      )}
    </div>
  );
}

/** "2026-11-22T14:05:00Z" -> the user's local date and time. */
export function formatTime(value: string | null | undefined): string {
  if (!value) {
    return '';
  }
  const date = new Date(value);
  return isNaN(date.getTime()) ? value : date.toLocaleString();
}

/** Who looks at the sidebar, for its empty states: an owner, a scientist, or a guest. */
export function viewerRole(model: SyftModel): 'owner' | 'scientist' | 'guest' {
  if (model.isOwner) {
    return 'owner';
  }
  return model.me && model.me.role !== 'GUEST' ? 'scientist' : 'guest';
}
