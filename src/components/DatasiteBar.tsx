/**
 * Which Datasite the sidebar shows, who the user is there, and the form that connects to a
 * remote Datasite as a scientist. The password is sent once, through the server extension,
 * and cleared from the form: the browser keeps it nowhere.
 */
import React, { useId, useState } from 'react';
import {
  addIcon,
  Button,
  closeIcon,
  HTMLSelect,
  notebookIcon,
  refreshIcon
} from '@jupyterlab/ui-components';

import { useTrans } from '../i18n';
import { messageOf, SyftModel } from '../model';
import { DatasiteRef } from '../tokens';
import { ErrorMessage } from './common';

function refValue(ref: DatasiteRef): string {
  return ref.kind === 'local' ? 'local' : `remote:${ref.id}`;
}

export function ConnectForm(props: {
  model: SyftModel;
  onDone: () => void;
}): JSX.Element {
  const trans = useTrans();
  const [url, setUrl] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (event: React.FormEvent): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const secret = password;
    setPassword(''); // never kept in the page, whatever happens next
    try {
      await props.model.connectRemote(url.trim(), email.trim(), secret);
      props.onDone();
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      className="jp-syft-connect"
      data-testid="syft-connect-form"
      onSubmit={submit}
      autoComplete="off"
    >
      <div className="jp-syft-section-label">
        {trans.__('Connect to a remote Datasite as a data scientist')}
      </div>
      <label>
        {trans.__('URL')}
        <input
          className="jp-mod-styled"
          type="url"
          required
          placeholder={trans.__('http://datasite.example.org:8080')}
          value={url}
          data-testid="syft-connect-url"
          onChange={event => setUrl(event.target.value)}
        />
      </label>
      <label>
        {trans.__('Email')}
        <input
          className="jp-mod-styled"
          type="email"
          required
          value={email}
          data-testid="syft-connect-email"
          onChange={event => setEmail(event.target.value)}
        />
      </label>
      <label>
        {trans.__('Password')}
        <input
          className="jp-mod-styled"
          type="password"
          required
          autoComplete="new-password"
          value={password}
          data-testid="syft-connect-password"
          onChange={event => setPassword(event.target.value)}
        />
      </label>
      <ErrorMessage message={error} testid="syft-connect-error" />
      <div className="jp-syft-actions">
        <Button
          type="submit"
          className="jp-mod-styled jp-mod-accept"
          disabled={busy}
          data-testid="syft-connect-submit"
        >
          {busy ? trans.__('Connecting…') : trans.__('Connect')}
        </Button>
        <Button
          type="button"
          className="jp-mod-styled jp-mod-reject"
          onClick={props.onDone}
          data-testid="syft-connect-cancel"
        >
          {trans.__('Cancel')}
        </Button>
      </div>
    </form>
  );
}

/** Whether changes arrive as they happen, and the inbox's unread count. */
function LiveStatus(props: { model: SyftModel }): JSX.Element | null {
  const trans = useTrans();
  const { model } = props;
  const parts: string[] = [];
  if (model.pushState === 'streaming') {
    parts.push(trans.__('Live updates on'));
  } else if (model.pushState === 'polling') {
    parts.push(trans.__('Live updates interrupted: checking for changes'));
  }
  if (model.unreadCount > 0) {
    parts.push(
      trans._n(
        '%1 unread notification (client.notifications)',
        '%1 unread notifications (client.notifications)',
        model.unreadCount
      )
    );
  }
  if (!parts.length) {
    return null;
  }
  return (
    <div className="jp-syft-muted" data-testid="syft-live-status">
      {parts.join(' · ')}
    </div>
  );
}

export function DatasiteBar(props: {
  model: SyftModel;
  onNewNotebook: () => void;
}): JSX.Element {
  const trans = useTrans();
  const { model } = props;
  const [connecting, setConnecting] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const remote = model.currentRemote;
  const selectId = useId();

  const guard = async (action: () => Promise<unknown>): Promise<void> => {
    setError(null);
    try {
      await action();
    } catch (err) {
      setError(messageOf(err));
    }
  };

  const select = (value: string): void => {
    const ref: DatasiteRef =
      value === 'local'
        ? { kind: 'local' }
        : { kind: 'remote', id: value.slice('remote:'.length) };
    void guard(() => model.setDatasite(ref));
  };

  return (
    <div className="jp-syft-datasite-bar">
      <div className="jp-syft-toolbar">
        <label className="jp-syft-datasite-label" htmlFor={selectId}>
          {trans.__('Datasite')}
        </label>
        <HTMLSelect
          id={selectId}
          className="jp-syft-select jp-syft-datasite-select"
          title={trans.__('Datasite shown: %1', model.datasiteName)}
          data-testid="syft-datasite-select"
          value={refValue(model.datasite)}
          onChange={(event: React.ChangeEvent<HTMLSelectElement>) =>
            select(event.target.value)
          }
        >
          <option value="local">{trans.__('This JupyterLab')}</option>
          {model.remotes.map(other => (
            <option key={other.id} value={`remote:${other.id}`}>
              {other.name || other.url} ({other.email})
            </option>
          ))}
        </HTMLSelect>
        <Button
          minimal
          small
          title={trans.__('Reload')}
          data-testid="syft-refresh"
          onClick={() => void guard(() => model.refresh())}
        >
          <refreshIcon.react tag="span" />
        </Button>
        <Button
          minimal
          small
          title={trans.__('Connect to a remote Datasite')}
          data-testid="syft-connect"
          onClick={() => setConnecting(!connecting)}
        >
          <addIcon.react tag="span" />
        </Button>
        <Button
          minimal
          small
          title={trans.__('New notebook connected to this Datasite')}
          data-testid="syft-new-notebook"
          onClick={props.onNewNotebook}
        >
          <notebookIcon.react tag="span" />
        </Button>
        {remote && (
          <Button
            minimal
            small
            title={trans.__('Log out of %1', remote.url)}
            data-testid="syft-disconnect"
            onClick={() => void guard(() => model.disconnectRemote(remote.id))}
          >
            <closeIcon.react tag="span" />
          </Button>
        )}
      </div>
      <div className="jp-syft-whoami" data-testid="syft-whoami">
        <span className="jp-syft-name">{model.datasiteName}</span>
        {model.me && (
          <span className="jp-syft-muted">
            {' '}
            · {model.me.email} ({model.me.role})
          </span>
        )}
        {remote && <div className="jp-syft-muted">{remote.url}</div>}
        <LiveStatus model={model} />
      </div>
      <ErrorMessage message={error ?? model.errors.metadata} />
      {connecting && (
        <ConnectForm model={model} onDone={() => setConnecting(false)} />
      )}
    </div>
  );
}
