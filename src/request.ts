/**
 * The one function that talks to the server extension. Jupyter authenticates the call
 * (token, XSRF header) through ServerConnection; the model is its only caller.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/** A failed call: HTTP status, the Datasite's error code, and a message for the user. */
export class SyftRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    detail: string
  ) {
    super(detail);
    this.name = 'SyftRequestError';
  }

  /** What to show the user. */
  get detail(): string {
    return this.message;
  }
}

export interface IRequestOptions {
  method?: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Sent as JSON. */
  body?: unknown;
  /** Query parameters (undefined values are left out). */
  query?: Record<string, string | number | undefined>;
}

/**
 * Call `endpoint` (relative to the server's base URL, e.g. "syft/lab/api/v1/datasets")
 * and return its JSON. Errors become a SyftRequestError carrying the server's `detail`.
 */
export async function requestAPI<T>(
  endpoint: string,
  options: IRequestOptions = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  let url = URLExt.join(settings.baseUrl, endpoint);
  const query = Object.entries(options.query ?? {}).filter(
    (entry): entry is [string, string | number] => entry[1] !== undefined
  );
  if (query.length) {
    url +=
      '?' +
      query
        .map(
          ([key, value]) =>
            `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`
        )
        .join('&');
  }
  const init: RequestInit = { method: options.method ?? 'GET' };
  if (options.body !== undefined) {
    init.body = JSON.stringify(options.body);
    init.headers = { 'Content-Type': 'application/json' };
  }

  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new SyftRequestError(
      0,
      'network',
      `Could not reach the Jupyter server: ${(error as Error).message ?? error}`
    );
  }

  const text = await response.text();
  let data: any = null;
  if (text.length > 0) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const detail =
      (data && typeof data.detail === 'string' && data.detail) ||
      (data && typeof data.message === 'string' && data.message) ||
      `${response.status} ${response.statusText || 'error'} from ${endpoint}`;
    const code = (data && typeof data.error === 'string' && data.error) || '';
    throw new SyftRequestError(response.status, code, detail);
  }
  if (data === null && text.length > 0) {
    throw new SyftRequestError(
      response.status,
      'invalid_json',
      `The server's answer to ${endpoint} is not JSON.`
    );
  }
  return data as T;
}
