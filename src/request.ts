/**
 * The one function that talks to the server extension. Jupyter authenticates the call
 * (token, XSRF header) through ServerConnection; the model is its only caller.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { IEventStream, StreamError } from './push';

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

/**
 * Open a server-sent-events stream at `endpoint` (the push channel), resuming after
 * `lastEventId`. Authenticated as every call is (ServerConnection). A refusal becomes a
 * StreamError carrying the status and the server's `detail`.
 */
export async function openEventStream(
  endpoint: string,
  lastEventId: string | null,
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<IEventStream> {
  const url = URLExt.join(settings.baseUrl, endpoint);
  const headers: Record<string, string> = { Accept: 'text/event-stream' };
  if (lastEventId) {
    headers['Last-Event-ID'] = lastEventId;
  }
  const controller = new AbortController();
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(
      url,
      { method: 'GET', headers, signal: controller.signal },
      settings
    );
  } catch (error) {
    throw new StreamError(0, `Could not reach the Jupyter server: ${error}`);
  }
  const type = response.headers.get('Content-Type') ?? '';
  if (!response.ok || !type.startsWith('text/event-stream') || !response.body) {
    let detail = `${response.status} from ${endpoint}`;
    try {
      const data = JSON.parse(await response.text());
      if (data && typeof data.detail === 'string') {
        detail = data.detail;
      }
    } catch {
      // not JSON: the status says it
    }
    // A 200 that is not a stream (a proxy that only relays JSON) cannot stream here.
    throw new StreamError(response.ok ? 415 : response.status, detail);
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  return {
    read: async () => {
      try {
        const { done, value } = await reader.read();
        return done ? null : decoder.decode(value, { stream: true });
      } catch {
        return null; // dropped: the channel polls and reconnects
      }
    },
    cancel: () => controller.abort()
  };
}
