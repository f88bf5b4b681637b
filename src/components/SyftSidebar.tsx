/**
 * The sidebar: the Datasite bar, then Datasets, Projects and Requests as tabs.
 */
import React, { useState } from 'react';

import { useTrans } from '../i18n';
import { SyftModel } from '../model';
import { useModelState } from './common';
import { DatasetList } from './DatasetList';
import { DatasiteBar } from './DatasiteBar';
import { OutputList } from './OutputList';
import { ProjectList } from './ProjectList';
import { RequestList } from './RequestList';

export type SidebarTab = 'datasets' | 'projects' | 'requests' | 'outputs';

export interface ISyftSidebarProps {
  model: SyftModel;
  /** Open a request's review. */
  onOpenRequest: (id: string) => void;
  /** Open an output's review (owners). */
  onOpenOutput?: (executionId: string) => void;
  /** Open a new notebook connected to the Datasite shown. */
  onNewNotebook: () => void;
  initialTab?: SidebarTab;
}

export function SyftSidebar(props: ISyftSidebarProps): JSX.Element {
  const trans = useTrans();
  const { model } = props;
  useModelState(model);
  const [tab, setTab] = useState<SidebarTab>(props.initialTab ?? 'datasets');
  const pending = model.requestCounts.pending;
  const held = model.outputCounts.held;
  const owner = model.isOwner;
  const tabs: { id: SidebarTab; label: string; count: number }[] = [
    {
      id: 'datasets',
      label: trans.__('Datasets'),
      count: model.count('datasets')
    },
    {
      id: 'projects',
      label: trans.__('Projects'),
      count: model.count('projects')
    },
    {
      id: 'requests',
      label: trans.__('Requests'),
      count: model.count('requests')
    },
    // Output review is the owners': scientists read their results' state in their requests.
    ...(owner
      ? [
          {
            id: 'outputs' as const,
            label: trans.__('Outputs'),
            count: model.outputCounts.all
          }
        ]
      : [])
  ];
  const shown: SidebarTab = tab === 'outputs' && !owner ? 'requests' : tab;
  return (
    <div className="jp-syft-sidebar-content">
      <header className="jp-syft-header">
        <h2>{trans.__('Syft Datasite')}</h2>
      </header>
      <DatasiteBar model={model} onNewNotebook={props.onNewNotebook} />
      <div className="jp-syft-tabs" role="tablist">
        {tabs.map(item => (
          <button
            key={item.id}
            role="tab"
            aria-selected={shown === item.id}
            className={
              'jp-syft-tab' + (shown === item.id ? ' jp-mod-active' : '')
            }
            data-testid={`syft-tab-${item.id}`}
            onClick={() => setTab(item.id)}
          >
            {item.label}
            {item.id === 'requests' && pending > 0 ? (
              <span
                className="jp-syft-pending-count"
                data-testid="syft-pending-count"
                title={trans.__('%1 pending', pending)}
              >
                {pending}
              </span>
            ) : item.id === 'outputs' && held > 0 ? (
              <span
                className="jp-syft-pending-count"
                data-testid="syft-held-count"
                title={trans.__('%1 held', held)}
              >
                {held}
              </span>
            ) : (
              <span className="jp-syft-tab-count">{item.count}</span>
            )}
          </button>
        ))}
      </div>
      <div className="jp-syft-tab-body" role="tabpanel">
        {shown === 'datasets' && <DatasetList model={model} />}
        {shown === 'projects' && (
          <ProjectList model={model} onOpen={props.onOpenRequest} />
        )}
        {shown === 'requests' && (
          <RequestList model={model} onOpen={props.onOpenRequest} />
        )}
        {shown === 'outputs' && (
          <OutputList model={model} onOpen={id => props.onOpenOutput?.(id)} />
        )}
      </div>
    </div>
  );
}
