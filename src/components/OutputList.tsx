/**
 * Outputs of runs on private data (owners): held ones first (they wait for a decision), then
 * released and withheld, one state at a time; a click opens the output's review.
 */
import React from 'react';

import { useTrans } from '../i18n';
import { SyftModel } from '../model';
import { personLabel, sortOutputs } from '../outputs';
import { IOutput, OutputFilter } from '../tokens';
import {
  Empty,
  ErrorMessage,
  formatTime,
  LoadMore,
  OutcomeBadge,
  ReleaseBadge
} from './common';

export function OutputItem(props: {
  output: IOutput;
  onOpen: (executionId: string) => void;
}): JSX.Element {
  const trans = useTrans();
  const { output } = props;
  const requester = output.user?.name || output.user?.email || '';
  const votes =
    output.state === 'held' && output.votes_needed > 1
      ? trans.__('%1 of %2 votes', output.votes_cast, output.votes_needed)
      : '';
  return (
    <li
      className="jp-syft-request jp-syft-output"
      data-testid="syft-output"
      data-execution-id={output.execution_id}
      data-state={output.state}
      data-function={output.service_func_name}
    >
      <button
        className="jp-syft-row-button"
        data-testid="syft-output-open"
        title={trans.__('Review the output of %1', output.service_func_name)}
        onClick={() => props.onOpen(output.execution_id)}
      >
        <span className="jp-syft-row-main">
          <span className="jp-syft-name jp-syft-mono">
            {output.service_func_name}
          </span>
          <span className="jp-syft-summary" title={personLabel(output.user)}>
            {requester}
            {output.created_at ? ` · ${formatTime(output.created_at)}` : ''}
            {votes ? ` · ${votes}` : ''}
            {output.conflict ? ` · ${trans.__('votes disagree')}` : ''}
          </span>
        </span>
        <OutcomeBadge outcome={output.report?.outcome} />
        <ReleaseBadge state={output.state} />
      </button>
    </li>
  );
}

export function OutputList(props: {
  model: SyftModel;
  onOpen: (executionId: string) => void;
}): JSX.Element {
  const trans = useTrans();
  const { model } = props;
  if (!model.isOwner) {
    return (
      <Empty>
        {trans.__(
          "Only the Datasite's owners review outputs. Your results' state shows in your requests."
        )}
      </Empty>
    );
  }
  const filters: { value: OutputFilter; label: string; empty: string }[] = [
    {
      value: 'held',
      label: trans.__('Held'),
      empty: trans.__(
        'No output waits for a decision. When approved code runs on private data and its result needs review, it waits here.'
      )
    },
    {
      value: 'released',
      label: trans.__('Released'),
      empty: trans.__('No released outputs.')
    },
    {
      value: 'withheld',
      label: trans.__('Withheld'),
      empty: trans.__('No withheld outputs.')
    },
    {
      value: 'all',
      label: trans.__('All'),
      empty: trans.__(
        'No runs on private data yet: approve a code request (Requests tab), and its runs appear here.'
      )
    }
  ];
  const counts = model.outputCounts;
  const outputs = sortOutputs(model.outputs);
  return (
    <div className="jp-syft-outputs">
      <div
        className="jp-syft-filters"
        role="radiogroup"
        aria-label={trans.__('Filter outputs by state')}
      >
        {filters.map(filter => (
          <button
            key={filter.value}
            role="radio"
            aria-checked={model.outputFilter === filter.value}
            className={
              'jp-syft-filter' +
              (model.outputFilter === filter.value ? ' jp-mod-active' : '')
            }
            data-testid={`syft-output-filter-${filter.value}`}
            onClick={() => void model.setOutputFilter(filter.value)}
          >
            {filter.label} ({counts[filter.value]})
          </button>
        ))}
      </div>
      <ErrorMessage message={model.errors.outputs} />
      {outputs.length ? (
        <ul className="jp-syft-list" data-testid="syft-outputs">
          {outputs.map(output => (
            <OutputItem
              key={output.execution_id}
              output={output}
              onOpen={props.onOpen}
            />
          ))}
        </ul>
      ) : (
        !model.errors.outputs && (
          <Empty testid="syft-empty-outputs">
            {model.loading
              ? trans.__('Loading…')
              : filters.find(f => f.value === model.outputFilter)?.empty}
          </Empty>
        )
      )}
      <LoadMore model={model} section="outputs" />
    </div>
  );
}
