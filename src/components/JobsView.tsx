/**
 * The Datasite's jobs (runs asked for with `blocking=False`): queued and running ones with
 * their progress, who asked, how long they have taken, their prints (owners) and a Kill
 * button; finished ones on request. Owners see everyone's jobs, scientists their own.
 */
import React, { useCallback, useEffect, useRef, useState } from 'react';
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';

import { useTrans } from '../i18n';
import { messageOf, SyftModel } from '../model';
import { IJob, JobState } from '../tokens';
import {
  Empty,
  ErrorMessage,
  formatTime,
  MoreButton,
  useModelState
} from './common';

/** How often running jobs are read again for their progress, in ms. */
export const JOB_POLL_MS = 2000;

/** True while a job is queued or running. */
export function isActive(job: IJob): boolean {
  return job.status === 'created' || job.status === 'processing';
}

/** Seconds as "2 h 5 min", "3 min 4 s" or "12 s". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) {
    return `${s} s`;
  }
  if (s < 3600) {
    return `${Math.floor(s / 60)} min ${s % 60} s`;
  }
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

function seconds(from: string | null | undefined, to: number): number | null {
  if (!from) {
    return null;
  }
  const start = Date.parse(from);
  return isNaN(start) ? null : (to - start) / 1000;
}

/** How long a job has waited or run, in words, at time `now` (ms). */
export function elapsedText(
  job: IJob,
  now: number,
  trans: TranslationBundle
): string {
  if (job.status === 'created') {
    const waited = seconds(job.created_at, now);
    return waited === null
      ? trans.__('queued')
      : trans.__('queued for %1', formatDuration(waited));
  }
  if (job.status === 'processing') {
    const ran = seconds(job.started_at ?? job.created_at, now);
    return ran === null
      ? trans.__('running')
      : trans.__('running for %1', formatDuration(ran));
  }
  const end = job.updated_at ? Date.parse(job.updated_at) : NaN;
  const ran = isNaN(end) ? null : seconds(job.started_at, end);
  return ran === null ? '' : trans.__('ran for %1', formatDuration(ran));
}

/** A job's progress as a fraction (null: the code reports none). */
export function progressOf(job: IJob): number | null {
  if (!job.n_iters || job.n_iters <= 0) {
    return null;
  }
  return Math.min(1, Math.max(0, job.current_iter / job.n_iters));
}

export function JobsView(props: { model: SyftModel }): JSX.Element {
  const { model } = props;
  const trans = useTrans();
  useModelState(model);
  const [state, setState] = useState<JobState>('active');
  const [jobs, setJobs] = useState<IJob[]>([]);
  const [total, setTotal] = useState(0);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [now, setNow] = useState(() => Date.now());
  const generation = useRef(0);
  const shown = useRef(0); // rows loaded: a reload reads as many again

  const load = useCallback(
    async (next?: string | null) => {
      const mine = next ? generation.current : ++generation.current;
      setLoading(true);
      try {
        const page = await model.jobs(
          state,
          next,
          next ? undefined : Math.min(500, Math.max(100, shown.current))
        );
        if (mine !== generation.current) {
          return;
        }
        setJobs(previous => {
          const rows = next ? [...previous, ...page.items] : page.items;
          shown.current = rows.length;
          return rows;
        });
        setTotal(page.total);
        setCursor(page.next_cursor ?? null);
        setError(null);
        setNow(Date.now());
      } catch (reason) {
        if (mine === generation.current) {
          setError(messageOf(reason));
        }
      } finally {
        if (mine === generation.current) {
          setLoading(false);
          setLoaded(true);
        }
      }
    },
    [model, state]
  );

  useEffect(() => {
    shown.current = 0;
    void load();
  }, [load]);

  // The push channel says jobs changed (one started, ended or was stopped): read them again.
  useEffect(() => {
    const slot = (_: SyftModel, events: { topic: string }[]): void => {
      if (events.some(event => event.topic === 'jobs')) {
        void load();
      }
    };
    model.pushed.connect(slot);
    return () => {
      model.pushed.disconnect(slot);
    };
  }, [model, load]);

  // While a job is queued or running: its progress every JOB_POLL_MS, its clock every second.
  const anyActive = jobs.some(isActive);
  useEffect(() => {
    if (!anyActive) {
      return;
    }
    const poll = setInterval(() => void load(), JOB_POLL_MS);
    const tick = setInterval(() => setNow(Date.now()), 1000);
    return () => {
      clearInterval(poll);
      clearInterval(tick);
    };
  }, [anyActive, load]);

  const kill = async (job: IJob): Promise<void> => {
    const who = job.requester
      ? job.requester.name || job.requester.email
      : trans.__('its requester');
    const result = await showDialog({
      title: trans.__('Kill job %1?', job.service_func_name),
      body: trans.__(
        '%1 (asked by %2) stops now and ends as interrupted; what it computed so far is lost.',
        job.service_func_name,
        who
      ),
      buttons: [
        Dialog.cancelButton({ label: trans.__('Keep it running') }),
        Dialog.warnButton({ label: trans.__('Kill') })
      ],
      defaultButton: 0 // Enter keeps it running
    });
    if (!result.button.accept) {
      return;
    }
    try {
      const killed = await model.killJob(job.id);
      setJobs(previous =>
        previous.map(other => (other.id === killed.id ? killed : other))
      );
      void load();
    } catch (reason) {
      setError(messageOf(reason));
    }
  };

  const owner = model.isOwner;
  const labels: Record<JobState, string> = {
    active: trans.__('Queued and running'),
    finished: trans.__('Finished'),
    all: trans.__('All')
  };
  const remaining = Math.max(0, total - jobs.length);

  return (
    <div className="jp-syft-jobs" data-testid="syft-jobs">
      <h2 className="jp-syft-activity-title">
        {owner ? trans.__('Datasite jobs') : trans.__('Your jobs')}
      </h2>
      <div className="jp-syft-jobs-toolbar">
        <div
          className="jp-syft-jobs-states"
          role="radiogroup"
          aria-label={trans.__('Which jobs')}
        >
          {(['active', 'finished', 'all'] as JobState[]).map(value => (
            <button
              key={value}
              role="radio"
              aria-checked={state === value}
              className={`jp-mod-styled jp-syft-jobs-state${
                state === value ? ' jp-mod-active' : ''
              }`}
              data-testid={`syft-jobs-state-${value}`}
              onClick={() => setState(value)}
            >
              {labels[value]}
            </button>
          ))}
        </div>
        <span className="jp-syft-muted" data-testid="syft-jobs-count">
          {trans._n('%1 job', '%1 jobs', total)}
        </span>
        <button
          className="jp-mod-styled"
          data-testid="syft-jobs-reload"
          disabled={loading}
          onClick={() => void load()}
        >
          {trans.__('Reload')}
        </button>
      </div>
      <ErrorMessage message={error} testid="syft-jobs-error" />
      {loaded && jobs.length === 0 && !error ? (
        <Empty testid="syft-jobs-empty">
          {state === 'active'
            ? owner
              ? trans.__(
                  'No job is queued or running. Scientists start one with blocking=False, e.g. client.code.my_function(data=asset, blocking=False).'
                )
              : trans.__(
                  'You have no job queued or running. Start one from a notebook with blocking=False, e.g. client.code.my_function(data=asset, blocking=False).'
                )
            : trans.__('No job here yet.')}
        </Empty>
      ) : (
        <ul className="jp-syft-jobs-list" aria-label={trans.__('Jobs')}>
          {jobs.map(job => (
            <JobRow
              key={job.id}
              job={job}
              now={now}
              owner={owner}
              onKill={() => void kill(job)}
            />
          ))}
        </ul>
      )}
      {cursor && remaining > 0 && (
        <MoreButton
          remaining={remaining}
          busy={loading}
          onMore={() => void load(cursor)}
          testid="syft-jobs-more"
        />
      )}
    </div>
  );
}

function JobRow(props: {
  job: IJob;
  now: number;
  owner: boolean;
  onKill: () => void;
}): JSX.Element {
  const trans = useTrans();
  const { job, owner } = props;
  const [showLogs, setShowLogs] = useState(false);
  const fraction = progressOf(job);
  const statusLabels: Record<string, string> = {
    created: trans.__('Queued'),
    processing: trans.__('Running'),
    completed: trans.__('Completed'),
    errored: trans.__('Failed'),
    interrupted: trans.__('Stopped')
  };
  const execution = job.execution;
  const prints =
    execution && 'stdout' in execution
      ? `${execution.stdout ?? ''}${execution.stderr ?? ''}`
      : null;
  let logs: string;
  if (prints !== null) {
    logs = prints || trans.__('It printed nothing.');
  } else if (execution) {
    logs = trans.__(
      'This job ran on private data: only the data owner sees its prints.'
    );
  } else if (isActive(job)) {
    logs = trans.__('Its prints appear here once the run ends.');
  } else {
    logs = trans.__('No run was recorded, so there are no prints.');
  }
  return (
    <li
      className={`jp-syft-job jp-syft-job-${job.status}`}
      data-testid="syft-job"
      data-job-id={job.id}
      data-status={job.status}
    >
      <div className="jp-syft-job-head">
        <span className="jp-syft-job-name jp-syft-mono">
          {job.service_func_name}
        </span>
        <span
          className={`jp-syft-badge jp-syft-job-status jp-syft-job-status-${job.status}`}
          data-testid="syft-job-status"
        >
          {statusLabels[job.status] ?? job.status}
        </span>
        <span className="jp-syft-muted" data-testid="syft-job-requester">
          {job.requester
            ? trans.__(
                'asked by %1',
                job.requester.name
                  ? `${job.requester.name} <${job.requester.email}>`
                  : job.requester.email
              )
            : ''}
        </span>
        <span
          className="jp-syft-muted"
          data-testid="syft-job-elapsed"
          title={trans.__(
            'Queued at %1',
            formatTime(job.created_at) || trans.__('an unknown time')
          )}
        >
          {elapsedText(job, props.now, trans)}
        </span>
        {isActive(job) && (
          <button
            className="jp-mod-styled jp-mod-warn jp-syft-job-kill"
            data-testid="syft-job-kill"
            onClick={props.onKill}
          >
            {trans.__('Kill')}
          </button>
        )}
      </div>
      <div className="jp-syft-job-progress" data-testid="syft-job-progress">
        {fraction === null ? (
          <span className="jp-syft-muted">
            {job.status === 'processing'
              ? trans.__('No progress reported (datasite.init_progress(n))')
              : ''}
          </span>
        ) : (
          <>
            <div
              className="jp-syft-progress"
              role="progressbar"
              aria-label={trans.__('Progress of %1', job.service_func_name)}
              aria-valuemin={0}
              aria-valuemax={job.n_iters}
              aria-valuenow={job.current_iter}
            >
              <div
                className="jp-syft-progress-bar"
                style={{ width: `${Math.round(fraction * 100)}%` }}
              />
            </div>
            <span data-testid="syft-job-progress-text">
              {trans.__(
                '%1 / %2 (%3%)',
                job.current_iter,
                job.n_iters,
                Math.round(fraction * 100)
              )}
            </span>
          </>
        )}
      </div>
      {job.error && (
        <div
          className="jp-syft-job-error"
          data-testid="syft-job-error"
          role={job.status === 'errored' ? 'alert' : undefined}
        >
          {job.error}
        </div>
      )}
      {(owner || execution) && (
        <div className="jp-syft-job-logs">
          <button
            className="jp-syft-link"
            aria-expanded={showLogs}
            data-testid="syft-job-logs-toggle"
            onClick={() => setShowLogs(!showLogs)}
          >
            {showLogs ? trans.__('Hide logs') : trans.__('Logs')}
          </button>
          {showLogs && (
            <pre className="jp-syft-mono" data-testid="syft-job-logs">
              {logs}
            </pre>
          )}
        </div>
      )}
    </li>
  );
}
