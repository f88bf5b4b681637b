/**
 * The sidebar: the Datasite bar, then Datasets, Projects and Requests as tabs.
 */
import React, { useRef, useState } from 'react';

import { useTrans } from '../i18n';
import { SyftModel } from '../model';
import { useModelState } from './common';
import { DatasetList } from './DatasetList';
import { DatasiteBar } from './DatasiteBar';
import { OutputList } from './OutputList';
import { ProjectList } from './ProjectList';
import { RequestList } from './RequestList';

export type SidebarTab = 'datasets' | 'projects' | 'requests' | 'outputs';

/** The id of the panel the tabs control (one sidebar per page). */
const TABPANEL_ID = 'jp-syft-tabpanel';

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
  const tabRefs = useRef<Partial<Record<SidebarTab, HTMLButtonElement | null>>>(
    {}
  );
  // A tablist as WAI-ARIA describes it: one tab in the Tab order (the selected one); the arrow
  // keys, Home and End move to another tab and select it.
  const onTabKey = (event: React.KeyboardEvent, index: number): void => {
    const last = tabs.length - 1;
    const target =
      event.key === 'ArrowRight'
        ? index === last
          ? 0
          : index + 1
        : event.key === 'ArrowLeft'
          ? index === 0
            ? last
            : index - 1
          : event.key === 'Home'
            ? 0
            : event.key === 'End'
              ? last
              : -1;
    if (target < 0) {
      return;
    }
    event.preventDefault();
    const id = tabs[target].id;
    setTab(id);
    tabRefs.current[id]?.focus();
  };
  return (
    <div
      className="jp-syft-sidebar-content"
      data-poll-interval={model.pollInterval}
    >
      <header className="jp-syft-header">
        <h2>{trans.__('Syft Datasite')}</h2>
      </header>
      <DatasiteBar model={model} onNewNotebook={props.onNewNotebook} />
      <div
        className="jp-syft-tabs"
        role="tablist"
        aria-label={trans.__('Datasite sections')}
      >
        {tabs.map((item, index) => (
          <button
            key={item.id}
            ref={node => {
              tabRefs.current[item.id] = node;
            }}
            type="button"
            role="tab"
            id={`jp-syft-tab-${item.id}`}
            aria-selected={shown === item.id}
            aria-controls={TABPANEL_ID}
            tabIndex={shown === item.id ? 0 : -1}
            onKeyDown={event => onTabKey(event, index)}
            className={
              'jp-syft-tab' + (shown === item.id ? ' jp-mod-active' : '')
            }
            data-testid={`syft-tab-${item.id}`}
            onClick={() => setTab(item.id)}
            title={item.label}
          >
            <span className="jp-syft-tab-label">{item.label}</span>
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
      <div
        className="jp-syft-tab-body"
        role="tabpanel"
        id={TABPANEL_ID}
        aria-labelledby={`jp-syft-tab-${shown}`}
        data-testid="syft-tabpanel"
      >
        {shown === 'datasets' && (
          <DatasetList model={model} onNewNotebook={props.onNewNotebook} />
        )}
        {shown === 'projects' && (
          <ProjectList
            model={model}
            onOpen={props.onOpenRequest}
            onNewNotebook={props.onNewNotebook}
          />
        )}
        {shown === 'requests' && (
          <RequestList
            model={model}
            onOpen={props.onOpenRequest}
            onNewNotebook={props.onNewNotebook}
          />
        )}
        {shown === 'outputs' && (
          <OutputList model={model} onOpen={id => props.onOpenOutput?.(id)} />
        )}
      </div>
    </div>
  );
}
