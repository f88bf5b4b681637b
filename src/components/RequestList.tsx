/**
 * Code requests: pending first, filtered by status; a click opens the review.
 */
import React from 'react';

import { useTrans } from '../i18n';
import { SyftModel } from '../model';
import { IRequest, StatusFilter } from '../tokens';
import {
  Empty,
  ErrorMessage,
  formatTime,
  LoadMore,
  StatusBadge
} from './common';

export function RequestItem(props: {
  request: IRequest;
  onOpen: (id: string) => void;
  showProject?: boolean;
}): JSX.Element {
  const trans = useTrans();
  const { request } = props;
  const requester =
    request.requesting_user_name || request.requesting_user_email;
  return (
    <li
      className="jp-syft-request"
      data-testid="syft-request"
      data-request-id={request.id}
      data-status={request.status}
      data-function={request.code.service_func_name}
    >
      <button
        className="jp-syft-row-button"
        data-testid="syft-request-open"
        title={trans.__('Review %1', request.code.service_func_name)}
        onClick={() => props.onOpen(request.id)}
      >
        <span className="jp-syft-row-main">
          <span className="jp-syft-name jp-syft-mono">
            {request.code.service_func_name}
          </span>
          <span className="jp-syft-summary">
            {requester}
            {props.showProject !== false && request.project
              ? ` · ${request.project.name}`
              : ''}
            {request.created_at ? ` · ${formatTime(request.created_at)}` : ''}
          </span>
        </span>
        <StatusBadge status={request.status} />
      </button>
    </li>
  );
}

export function RequestList(props: {
  model: SyftModel;
  onOpen: (id: string) => void;
}): JSX.Element {
  const trans = useTrans();
  const { model } = props;
  const filters: { value: StatusFilter; label: string; empty: string }[] = [
    {
      value: 'all',
      label: trans.__('All'),
      empty: trans.__('No code requests yet.')
    },
    {
      value: 'pending',
      label: trans.__('Pending'),
      empty: trans.__('No pending requests.')
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
  const counts = model.requestCounts;
  const requests = model.visibleRequests;
  return (
    <div className="jp-syft-requests">
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
      <ErrorMessage message={model.errors.requests} />
      {requests.length ? (
        <ul className="jp-syft-list" data-testid="syft-requests">
          {requests.map(request => (
            <RequestItem
              key={request.id}
              request={request}
              onOpen={props.onOpen}
            />
          ))}
        </ul>
      ) : (
        !model.errors.requests && (
          <Empty>
            {model.loading
              ? trans.__('Loading…')
              : filters.find(f => f.value === model.statusFilter)?.empty}
          </Empty>
        )
      )}
      <LoadMore model={model} section="requests" />
    </div>
  );
}
