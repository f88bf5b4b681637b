/**
 * Datasets: name and summary; expanded, a dataset shows its assets with shape,
 * contributors and the mock's first rows (owners may also preview the private value).
 */
import React, { useEffect, useState } from 'react';
import { caretDownIcon, caretRightIcon } from '@jupyterlab/ui-components';
import { Button } from '@jupyterlab/ui-components';

import { useTrans } from '../i18n';
import { messageOf, SyftModel } from '../model';
import { IAsset, IContributor, IDataset, IPreview } from '../tokens';
import { formatShape } from '../utils';
import { Empty, ErrorMessage, LoadMore, NextStep, viewerRole } from './common';
import { PreviewTable } from './PreviewTable';

const PREVIEW_ROWS = 5;

function Contributors(props: { people: IContributor[] }): JSX.Element | null {
  const trans = useTrans();
  if (!props.people.length) {
    return null;
  }
  return (
    <div className="jp-syft-contributors" data-testid="syft-contributors">
      <span className="jp-syft-label">{trans.__('Contributors:')} </span>
      {props.people.map((person, index) => (
        <span key={index} className="jp-syft-contributor">
          {person.name}
          {person.role ? ` (${person.role})` : ''}
          {index < props.people.length - 1 ? ', ' : ''}
        </span>
      ))}
    </div>
  );
}

type PreviewState =
  | { state: 'idle' }
  | { state: 'loading' }
  | { state: 'done'; preview: IPreview }
  | { state: 'error'; message: string };

function usePreview(
  model: SyftModel,
  assetId: string,
  which: 'mock' | 'data',
  enabled: boolean
): PreviewState {
  const [preview, setPreview] = useState<PreviewState>({ state: 'idle' });
  useEffect(() => {
    if (!enabled) {
      return;
    }
    let live = true;
    setPreview({ state: 'loading' });
    model
      .assetPreview(assetId, which, PREVIEW_ROWS)
      .then(result => live && setPreview({ state: 'done', preview: result }))
      .catch(
        error =>
          live && setPreview({ state: 'error', message: messageOf(error) })
      );
    return () => {
      live = false;
    };
  }, [model, assetId, which, enabled]);
  return preview;
}

function PreviewBlock(props: {
  preview: PreviewState;
  testid: string;
}): JSX.Element | null {
  const trans = useTrans();
  const { preview } = props;
  switch (preview.state) {
    case 'loading':
      return (
        <div className="jp-syft-muted">{trans.__('Loading preview…')}</div>
      );
    case 'error':
      return <ErrorMessage message={preview.message} />;
    case 'done':
      return <PreviewTable preview={preview.preview} testid={props.testid} />;
    default:
      return null;
  }
}

export function AssetView(props: {
  model: SyftModel;
  asset: IAsset;
}): JSX.Element {
  const trans = useTrans();
  const { model, asset } = props;
  const [showPrivate, setShowPrivate] = useState(false);
  const mock = usePreview(model, asset.id, 'mock', asset.has_mock);
  const data = usePreview(
    model,
    asset.id,
    'data',
    showPrivate && asset.can_read_data
  );
  const shape = formatShape(asset.shape);
  return (
    <li
      className="jp-syft-asset"
      data-testid="syft-asset"
      data-asset-name={asset.name}
    >
      <div className="jp-syft-asset-title">
        <span className="jp-syft-asset-name">{asset.name}</span>
        {shape && (
          <span className="jp-syft-muted" data-testid="syft-asset-shape">
            {' '}
            {shape}
          </span>
        )}
      </div>
      {asset.description && (
        <div className="jp-syft-description">{asset.description}</div>
      )}
      <Contributors people={asset.contributors} />
      <div className="jp-syft-section-label">
        {asset.mock_is_real
          ? trans.__('Mock (the real data)')
          : trans.__('Mock')}
      </div>
      {asset.has_mock ? (
        <PreviewBlock preview={mock} testid="syft-mock-preview" />
      ) : (
        <div className="jp-syft-muted">
          {trans.__('This asset has no mock.')}
        </div>
      )}
      {asset.can_read_data && (
        <div className="jp-syft-private">
          <Button
            small
            minimal
            className="jp-syft-link-button"
            data-testid="syft-toggle-private"
            onClick={() => setShowPrivate(!showPrivate)}
            title={trans.__('Only owners can see the private value')}
          >
            {showPrivate
              ? trans.__('Hide private preview')
              : trans.__('Show private preview')}
          </Button>
          {showPrivate && (
            <div className="jp-syft-private-preview">
              <div className="jp-syft-section-label jp-syft-warning-text">
                {trans.__('Private data: only owners see this')}
              </div>
              <PreviewBlock preview={data} testid="syft-private-preview" />
            </div>
          )}
        </div>
      )}
    </li>
  );
}

function DatasetItem(props: {
  model: SyftModel;
  dataset: IDataset;
  expanded: boolean;
  onToggle: () => void;
}): JSX.Element {
  const trans = useTrans();
  const { model, dataset, expanded } = props;
  const Caret = expanded ? caretDownIcon : caretRightIcon;
  return (
    <li
      className="jp-syft-dataset"
      data-testid="syft-dataset"
      data-dataset-name={dataset.name}
    >
      <button
        className="jp-syft-row-button"
        aria-expanded={expanded}
        data-testid="syft-dataset-toggle"
        onClick={props.onToggle}
      >
        <Caret.react tag="span" className="jp-syft-caret" />
        <span className="jp-syft-row-main">
          <span className="jp-syft-name">{dataset.name}</span>
          {dataset.summary && (
            <span className="jp-syft-summary">{dataset.summary}</span>
          )}
        </span>
        <span className="jp-syft-muted jp-syft-count">
          {trans._n('%1 asset', '%1 assets', dataset.assets.length)}
        </span>
      </button>
      {expanded && (
        <div className="jp-syft-dataset-body">
          {dataset.description && (
            <div className="jp-syft-description">{dataset.description}</div>
          )}
          <Contributors people={dataset.contributors} />
          {dataset.uploader && (
            <div className="jp-syft-muted">
              {trans.__(
                'Uploaded by %1',
                dataset.uploader.name || dataset.uploader.email
              )}
            </div>
          )}
          <ul className="jp-syft-assets">
            {dataset.assets.map(asset => (
              <AssetView key={asset.id} model={model} asset={asset} />
            ))}
          </ul>
        </div>
      )}
    </li>
  );
}

export function DatasetList(props: {
  model: SyftModel;
  /** Open a new notebook connected to the Datasite shown (the empty state's next step). */
  onNewNotebook?: () => void;
}): JSX.Element {
  const trans = useTrans();
  const { model } = props;
  const [expanded, setExpanded] = useState<Record<string, boolean>>({});
  if (!model.datasets.length) {
    const role = viewerRole(model);
    const open = props.onNewNotebook
      ? {
          label: trans.__('Open a connected notebook'),
          onClick: props.onNewNotebook
        }
      : undefined;
    return (
      <>
        <ErrorMessage message={model.errors.datasets} />
        {!model.errors.datasets &&
          (model.loading ? (
            <Empty>{trans.__('Loading…')}</Empty>
          ) : role === 'owner' ? (
            <NextStep
              testid="syft-empty-datasets"
              role={role}
              message={trans.__(
                'No datasets on this Datasite yet. Upload a dataset: open a connected notebook, then give each asset its private data and a mock scientists may see.'
              )}
              code={
                'ds = sy.Dataset(name="My data")\nds.add_asset(sy.Asset(name="table", data=df, mock=mock_df))\nclient.upload_dataset(ds)'
              }
              action={open}
            />
          ) : (
            <NextStep
              testid="syft-empty-datasets"
              role={role}
              message={trans.__(
                'No datasets on this Datasite yet: its owners upload them. Ask them to, or connect to another Datasite (+ above).'
              )}
            />
          ))}
      </>
    );
  }
  return (
    <>
      <ul className="jp-syft-list" data-testid="syft-datasets">
        {model.datasets.map(dataset => (
          <DatasetItem
            key={dataset.id}
            model={model}
            dataset={dataset}
            expanded={!!expanded[dataset.id]}
            onToggle={() =>
              setExpanded({ ...expanded, [dataset.id]: !expanded[dataset.id] })
            }
          />
        ))}
      </ul>
      <LoadMore model={model} section="datasets" />
    </>
  );
}
