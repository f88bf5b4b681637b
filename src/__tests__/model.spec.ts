import { sameDatasite, SyftModel } from '../model';
import { SyftRequestError } from '../request';
import { IRequest } from '../tokens';
import {
  dataset,
  FakeServer,
  makeCode,
  makeRequest,
  owner,
  project,
  scientist,
  disposeModels,
  newModel,
  page
} from './fixtures';

const BASE = 'syft/lab/api/v1';

function setup(requests?: IRequest[]): {
  server: FakeServer;
  model: SyftModel;
} {
  const server = new FakeServer().withLocalDatasite(requests);
  return { server, ...newModel(server) };
}

afterEach(disposeModels);

describe('SyftModel', () => {
  it('loads the local Datasite through the lab API', async () => {
    const { server, model } = setup();
    const changed = jest.fn();
    model.stateChanged.connect(changed);
    await model.refresh();
    expect(model.datasiteName).toBe('Test Datasite');
    expect(model.me).toEqual(owner);
    expect(model.isOwner).toBe(true);
    expect(model.datasets).toEqual([dataset]);
    expect(model.projects).toEqual([project]);
    expect(model.requests.map(r => r.id)).toEqual(['r1']);
    expect(model.loading).toBe(false);
    expect(model.errors).toEqual({});
    expect(changed).toHaveBeenCalled();
    expect(
      server.calls.every(call => call.endpoint.startsWith(`${BASE}/`))
    ).toBe(true);
  });

  it('keeps what loaded when one part fails, with a message for it', async () => {
    const server = new FakeServer().withLocalDatasite();
    server.on('GET', `${BASE}/requests`, () => {
      throw new SyftRequestError(403, 'forbidden', 'Log in to list requests.');
    });
    const { model } = newModel(server);
    await model.refresh();
    expect(model.datasets).toHaveLength(1);
    expect(model.requests).toEqual([]);
    expect(model.errors.requests).toBe('Log in to list requests.');
  });

  it('lists requests pending first, filtered by status', async () => {
    const { model } = setup([
      makeRequest({
        id: 'a',
        status: 'approved',
        created_at: '2026-12-01T00:00:00Z'
      }),
      makeRequest({
        id: 'p',
        status: 'pending',
        created_at: '2026-01-01T00:00:00Z'
      })
    ]);
    await model.refresh();
    expect(model.visibleRequests.map(r => r.id)).toEqual(['p', 'a']);
    const changed = jest.fn();
    model.stateChanged.connect(changed);
    model.statusFilter = 'approved';
    expect(changed).toHaveBeenCalledTimes(1);
    expect(model.visibleRequests.map(r => r.id)).toEqual(['a']);
    expect(model.requestCounts.pending).toBe(1);
    expect(model.requestsOf(project).map(r => r.id)).toEqual([]);
  });

  it('announces requests that appear after the first load', async () => {
    let requests = [makeRequest({ id: 'r1' })];
    const server = new FakeServer()
      .withLocalDatasite()
      .on('GET', `${BASE}/requests`, () => page(requests));
    const { model } = newModel(server);
    const announced = jest.fn();
    model.newRequests.connect((_, added) => announced(added.map(r => r.id)));
    await model.refresh();
    expect(await model.refreshRequests()).toEqual([]);
    requests = [makeRequest({ id: 'r2' }), ...requests]; // newest first
    const added = await model.refreshRequests();
    expect(added.map(r => r.id)).toEqual(['r2']);
    expect(announced).toHaveBeenCalledTimes(1);
    expect(announced).toHaveBeenCalledWith(['r2']);
    expect(model.requests.map(r => r.id)).toEqual(['r2', 'r1']);
  });

  it('approves and denies through the API, updating the list', async () => {
    const { server, model } = setup();
    server
      .on('POST', `${BASE}/requests/r1/approve`, () =>
        makeRequest({ status: 'approved', updated_at: '2026-11-22T11:00:00Z' })
      )
      .on('POST', `${BASE}/requests/r1/deny`, (options: any) =>
        makeRequest({ status: 'rejected', deny_reason: options.body.reason })
      );
    await model.refresh();
    const decided = jest.fn();
    model.requestDecided.connect((_, request) => decided(request.status));

    await model.approve('r1', ['c7', 'c8']);
    expect(
      server.called('POST', `${BASE}/requests/r1/approve`)[0].body
    ).toEqual({
      approve_nested: true,
      nested_code_ids: ['c7', 'c8']
    });
    expect(model.getRequest('r1')?.status).toBe('approved');

    await model.deny('r1', '  too broad  ');
    expect(server.called('POST', `${BASE}/requests/r1/deny`)[0].body).toEqual({
      reason: 'too broad'
    });
    expect(model.getRequest('r1')?.deny_reason).toBe('too broad');
    expect(decided.mock.calls).toEqual([['approved'], ['rejected']]);
  });

  it('refuses to deny without a reason, without calling the server', async () => {
    const { server, model } = setup();
    await model.refresh();
    await expect(model.deny('r1', '   ')).rejects.toThrow(/Say why/);
    expect(server.called('POST', `${BASE}/requests/r1/deny`)).toEqual([]);
  });

  it('runs a pending request on the mocks and previews the result', async () => {
    const { server, model } = setup();
    server
      .on('POST', `${BASE}/code/c1/run-on-mocks`, {
        id: 'e1',
        code_id: 'c1',
        ok: true,
        on_private_data: false,
        deposited: false,
        error: '',
        error_kind: '',
        sandbox: 'bwrap',
        duration_s: 0.2,
        created_at: null,
        has_result: true,
        notice: 'Ran on mock data'
      })
      .on('GET', `${BASE}/executions/e1/preview`, {
        kind: 'text',
        text: '42.0'
      });
    await model.refresh();
    const run = await model.runOnMock(model.getRequest('r1')!);
    // the Datasite binds the mocks: the sidebar sends no inputs
    const calls = server.called('POST', `${BASE}/code/c1/run-on-mocks`);
    expect(calls).toHaveLength(1);
    expect(calls[0].body).toBeUndefined();
    expect(run.execution.ok).toBe(true);
    expect(run.preview).toEqual({ kind: 'text', text: '42.0' });
  });

  it('never runs decided code from "run on mock" (it would see private data)', async () => {
    const approved = makeRequest({
      status: 'approved',
      code: makeCode({ status: 'approved' })
    });
    const { server, model } = setup([approved]);
    await model.refresh();
    await expect(model.runOnMock(approved)).rejects.toThrow(/Only pending/);
    expect(server.called('POST', `${BASE}/code/c1/run-on-mocks`)).toEqual([]);
  });

  it('loads a request with the diff against the previous submission', async () => {
    const current = makeCode({
      id: 'c2',
      raw_code: 'def mean_age(data):\n    return data["age"].median()\n',
      submit_time: '2026-11-22T12:00:00Z'
    });
    const previous = makeCode({
      id: 'c1',
      raw_code: 'def mean_age(data):\n    return data["age"].mean()\n',
      status: 'rejected',
      submit_time: '2026-11-22T10:00:00Z'
    });
    const request = makeRequest({ id: 'r2', code: current });
    const { server, model } = setup([request]);
    server
      .on('GET', `${BASE}/requests/r2`, request)
      .on('GET', `${BASE}/code`, page([previous, current]))
      .on('GET', `${BASE}/code/c2/executions`, page([]));
    await model.refresh();
    const detail = await model.requestDetail('r2');
    expect(detail.previous?.id).toBe('c1');
    expect(detail.diff?.filter(line => line.kind !== 'same')).toEqual([
      { kind: 'removed', text: '    return data["age"].mean()', oldLine: 2 },
      { kind: 'added', text: '    return data["age"].median()', newLine: 2 }
    ]);
    expect(detail.executions).toEqual([]);
  });

  it('asks for asset previews with a row count', async () => {
    const { server, model } = setup();
    server.on('GET', `${BASE}/assets/a1/mock/preview`, {
      kind: 'dataframe',
      columns: ['age'],
      rows: [[30]],
      shape: [50, 1]
    });
    const preview = await model.assetPreview('a1', 'mock', 3);
    expect(preview).toMatchObject({ kind: 'dataframe', columns: ['age'] });
    expect(
      server.called('GET', `${BASE}/assets/a1/mock/preview`)[0].query
    ).toEqual({
      rows: 3
    });
  });

  it('connects to a remote Datasite and shows it through the proxy', async () => {
    const remote = {
      id: 'rem1',
      url: 'http://127.0.0.1:9000/',
      email: scientist.email,
      name: 'Remote',
      role: 'DATA_SCIENTIST'
    };
    const proxied = 'syft/lab/remotes/rem1/api/v1';
    const server = new FakeServer()
      .withLocalDatasite()
      .on('POST', 'syft/lab/remotes', remote)
      .on('DELETE', 'syft/lab/remotes/rem1', { ok: true })
      .on('GET', `${proxied}/metadata`, { name: 'Remote Datasite' })
      .on('GET', `${proxied}/users/me`, scientist)
      .on('GET', `${proxied}/datasets`, page([]))
      .on('GET', `${proxied}/projects`, page([]))
      .on('GET', `${proxied}/requests`, page([]));
    const { model } = newModel(server);
    await model.refresh();

    await model.connectRemote(
      'http://127.0.0.1:9000/',
      scientist.email,
      's3cret'
    );
    expect(server.called('POST', 'syft/lab/remotes')[0].body).toEqual({
      url: 'http://127.0.0.1:9000/',
      email: scientist.email,
      password: 's3cret'
    });
    expect(model.datasite).toEqual({ kind: 'remote', id: 'rem1' });
    expect(model.currentRemote).toEqual(remote);
    expect(model.isOwner).toBe(false);
    expect(model.datasiteName).toBe('Remote Datasite');
    expect(model.datasets).toEqual([]);
    // The model keeps no password anywhere.
    expect(JSON.stringify(model.remotes)).not.toContain('s3cret');
    expect(model.connectionCell()).toContain(
      'sy.login(url="http://127.0.0.1:9000/"'
    );
    expect(model.connectionCell()).not.toContain('s3cret');

    await model.disconnectRemote('rem1');
    expect(model.datasite).toEqual({ kind: 'local' });
    expect(model.remotes).toEqual([]);
    expect(model.datasiteName).toBe('Test Datasite');
  });

  it('drops a load that finished after the user switched Datasite', async () => {
    let release: () => void = () => undefined;
    const slow = new Promise<void>(resolve => (release = resolve));
    const server = new FakeServer()
      .withLocalDatasite()
      .on('GET', `${BASE}/datasets`, async () => {
        await slow;
        return page([dataset]);
      })
      .on('GET', 'syft/lab/remotes/x/api/v1/datasets', page([]));
    const { model } = newModel(server);
    const first = model.refresh();
    const second = model.setDatasite({ kind: 'remote', id: 'x' });
    release();
    await Promise.all([first, second]);
    expect(model.datasite).toEqual({ kind: 'remote', id: 'x' });
    expect(model.datasets).toEqual([]);
  });

  it('signals a switch of Datasite once, not a reload of the same one', async () => {
    const server = new FakeServer()
      .withLocalDatasite()
      .on('GET', 'syft/lab/remotes/x/api/v1/datasets', page([]));
    const { model } = newModel(server);
    const seen: string[] = [];
    model.datasiteChanged.connect((_, ref) =>
      seen.push(ref.kind === 'local' ? 'local' : ref.id)
    );
    await model.setDatasite({ kind: 'local' });
    await model.setDatasite({ kind: 'remote', id: 'x' });
    await model.setDatasite({ kind: 'remote', id: 'x' });
    await model.setDatasite({ kind: 'local' });
    expect(seen).toEqual(['x', 'local']);
    expect(
      sameDatasite({ kind: 'remote', id: 'a' }, { kind: 'remote', id: 'b' })
    ).toBe(false);
  });

  it('polls for requests and stops when disposed', async () => {
    const { server, model } = setup();
    await model.refresh();
    model.startPolling();
    await new Promise(resolve => setTimeout(resolve, 50));
    model.dispose();
    expect(model.isDisposed).toBe(true);
    const count = server.called('GET', `${BASE}/requests`).length;
    await new Promise(resolve => setTimeout(resolve, 50));
    expect(server.called('GET', `${BASE}/requests`).length).toBe(count);
  });
});
