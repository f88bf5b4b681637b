import { ServerConnection } from '@jupyterlab/services';

import { requestAPI, SyftRequestError } from '../request';

function respond(status: number, body: string): Response {
  return {
    ok: status >= 200 && status < 300,
    status,
    statusText: 'status',
    text: async () => body
  } as Response;
}

describe('requestAPI', () => {
  const settings = ServerConnection.makeSettings({
    baseUrl: 'http://lab/base/'
  });
  let makeRequest: jest.SpyInstance;

  beforeEach(() => {
    makeRequest = jest.spyOn(ServerConnection, 'makeRequest');
  });

  afterEach(() => {
    makeRequest.mockRestore();
  });

  it('joins the base URL, encodes the query and sends JSON', async () => {
    makeRequest.mockResolvedValue(respond(200, '{"ok": true}'));
    const answer = await requestAPI<{ ok: boolean }>(
      'syft/lab/api/v1/requests',
      {
        method: 'POST',
        body: { a: 1 },
        query: { status: 'pending', x: undefined, q: 'a b' }
      },
      settings
    );
    expect(answer).toEqual({ ok: true });
    const [url, init] = makeRequest.mock.calls[0];
    expect(url).toBe(
      'http://lab/base/syft/lab/api/v1/requests?status=pending&q=a%20b'
    );
    expect(init.method).toBe('POST');
    expect(init.body).toBe('{"a":1}');
  });

  it('turns a Datasite error into its detail', async () => {
    makeRequest.mockResolvedValue(
      respond(
        403,
        '{"error": "forbidden", "detail": "Only owners may do that."}'
      )
    );
    const call = requestAPI('syft/lab/api/v1/x', {}, settings);
    await expect(call).rejects.toBeInstanceOf(SyftRequestError);
    await expect(call).rejects.toMatchObject({
      status: 403,
      code: 'forbidden',
      message: 'Only owners may do that.'
    });
  });

  it("uses Jupyter's own error message, or the status", async () => {
    makeRequest.mockResolvedValue(
      respond(403, '{"message": "Forbidden", "reason": null}')
    );
    await expect(requestAPI('a', {}, settings)).rejects.toThrow('Forbidden');
    makeRequest.mockResolvedValue(respond(502, '<html>bad gateway</html>'));
    await expect(requestAPI('a', {}, settings)).rejects.toThrow('502');
  });

  it('reports an unreachable server and a non-JSON answer', async () => {
    makeRequest.mockRejectedValue(new TypeError('Failed to fetch'));
    await expect(requestAPI('a', {}, settings)).rejects.toThrow(
      'Could not reach the Jupyter server: Failed to fetch'
    );
    makeRequest.mockResolvedValue(respond(200, 'not json'));
    await expect(requestAPI('a', {}, settings)).rejects.toThrow('not JSON');
    makeRequest.mockResolvedValue(respond(200, ''));
    await expect(requestAPI('a', {}, settings)).resolves.toBeNull();
  });
});
