/**
 * The push channel's client: a stream of server-sent events from the Datasite's `events`
 * route, read through the model's request functions. When the stream cannot be opened or
 * drops, it polls the same route's JSON answer with backoff and tries the stream again,
 * resuming from the last event id each time, so no change is missed across a reconnect.
 */
import { components } from './api/schema';

/** One change: which list (`topic`) and object changed, and how; never a value. */
export type IPushEvent = components['schemas']['PushEvent'];
/** The JSON catch-up answer: the events after an id, or `reset` (reload everything). */
export type IPushEvents = components['schemas']['PushEvents'];
export type PushTopic = IPushEvent['topic'];

/** An open stream: its text, chunk after chunk (null at its end). */
export interface IEventStream {
  read(): Promise<string | null>;
  cancel(): void;
}

/** Where the channel stands. */
export type PushState = 'stopped' | 'connecting' | 'streaming' | 'polling';

/** One server-sent event as parsed. */
export interface ISSEMessage {
  event: string;
  id: string | null;
  data: string;
}

/**
 * Parse what arrived so far: the complete messages, and the rest (an incomplete message) to
 * prepend to the next chunk. Comment lines (keepalives) and `retry:` lines are skipped.
 */
export function parseSSE(text: string): {
  messages: ISSEMessage[];
  rest: string;
} {
  const normalized = text.replace(/\r\n?/g, '\n');
  const blocks = normalized.split('\n\n');
  const rest = blocks.pop() ?? '';
  const messages: ISSEMessage[] = [];
  for (const block of blocks) {
    let event = 'message';
    let id: string | null = null;
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (!line || line.startsWith(':')) {
        continue;
      }
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) {
        value = value.slice(1);
      }
      if (field === 'event') {
        event = value;
      } else if (field === 'id') {
        id = value;
      } else if (field === 'data') {
        data.push(value);
      }
    }
    if (data.length) {
      messages.push({ event, id, data: data.join('\n') });
    }
  }
  return { messages, rest };
}

/** A failure to open the stream, with the HTTP status (0: network). */
export class StreamError extends Error {
  constructor(
    readonly status: number,
    message: string
  ) {
    super(message);
    this.name = 'StreamError';
  }
}

export class PushChannel {
  constructor(options: PushChannel.IOptions) {
    this._options = options;
    this._initial = options.initialDelay ?? 1000;
    this._max = options.maxDelay ?? 60_000;
    this._pollInterval = options.pollInterval ?? 5000;
    this._sleep =
      options.sleep ??
      ((ms: number) => new Promise(resolve => setTimeout(resolve, ms)));
    this._now = options.now ?? (() => Date.now());
  }

  /** The id of the last event handled: where the next stream or poll resumes. */
  get lastEventId(): string | null {
    return this._lastEventId;
  }

  get state(): PushState {
    return this._state;
  }

  /** How often to poll where the stream is unsupported, ms (read before each wait). */
  get pollInterval(): number {
    return this._pollInterval;
  }

  set pollInterval(ms: number) {
    this._pollInterval = ms;
  }

  /** Failed attempts in a row (the backoff's exponent). */
  get failures(): number {
    return this._failures;
  }

  /** True once the route answered that it cannot stream (e.g. through a proxy). */
  get streamUnsupported(): boolean {
    return this._unsupported;
  }

  /** Start (again) from `lastEventId` (null: from now). */
  start(lastEventId: string | null = null): void {
    this.stop();
    this._lastEventId = lastEventId;
    this._failures = 0;
    this._unsupported = false;
    const run = ++this._run;
    void this._loop(run);
  }

  stop(): void {
    this._run++;
    this._stream?.cancel();
    this._stream = null;
    this._setState('stopped');
  }

  /** The delay before the next attempt after `failures` failures in a row. */
  delay(failures: number): number {
    if (failures <= 0) {
      return 0;
    }
    return Math.min(this._max, this._initial * 2 ** (failures - 1));
  }

  // --- internals -------------------------------------------------------------------------------
  private async _loop(run: number): Promise<void> {
    while (run === this._run) {
      if (!this._unsupported) {
        const opened = this._now();
        try {
          this._setState('connecting');
          await this._streamOnce(run);
          // Ended by the server (its age limit, or it is stopping): resume at once if it was
          // open a while; a stream that keeps ending at once counts as failing.
          this._failures =
            this._now() - opened >= this._initial ? 0 : this._failures + 1;
        } catch (error) {
          if (run !== this._run) {
            return;
          }
          this._failures++;
          const status = error instanceof StreamError ? error.status : 0;
          if (status === 404 || status === 405 || status === 415) {
            this._unsupported = true; // an older Datasite, or a proxy that only takes JSON
          }
        }
        if (run !== this._run) {
          return;
        }
        if (this._failures === 0) {
          continue;
        }
      }
      // Dropped or unsupported: catch up by polling, then wait (longer after each failure).
      this._setState('polling');
      try {
        await this._pollOnce(run);
        if (this._unsupported) {
          this._pollFailures = 0;
        }
      } catch {
        this._pollFailures++;
      }
      if (run !== this._run) {
        return;
      }
      const wait = this._unsupported
        ? Math.min(this._max, this._pollInterval * 2 ** this._pollFailures)
        : this.delay(this._failures);
      await this._sleep(wait);
    }
  }

  private async _streamOnce(run: number): Promise<void> {
    const stream = await this._options.stream(this._lastEventId);
    if (run !== this._run) {
      stream.cancel();
      return;
    }
    this._stream = stream;
    this._setState('streaming');
    let buffer = '';
    for (;;) {
      const chunk = await stream.read();
      if (run !== this._run) {
        return;
      }
      if (chunk === null) {
        return;
      }
      this._failures = 0;
      const parsed = parseSSE(buffer + chunk);
      buffer = parsed.rest;
      const events: IPushEvent[] = [];
      for (const message of parsed.messages) {
        if (message.event === 'reset') {
          this._flush(events);
          events.length = 0;
          this._lastEventId = message.id ?? this._lastEventId;
          this._options.onReset();
        } else if (message.event === 'message') {
          try {
            events.push(JSON.parse(message.data) as IPushEvent);
          } catch {
            continue; // not ours: skipped
          }
          if (message.id) {
            this._lastEventId = message.id;
          }
        }
      }
      this._flush(events);
    }
  }

  private async _pollOnce(run: number): Promise<void> {
    const answer = await this._options.poll(this._lastEventId);
    if (run !== this._run) {
      return;
    }
    this._lastEventId = answer.last_event_id;
    if (answer.reset) {
      this._options.onReset();
    } else {
      this._flush(answer.events);
    }
  }

  private _flush(events: IPushEvent[]): void {
    if (events.length) {
      this._options.onEvents([...events]);
    }
  }

  private _setState(state: PushState): void {
    if (state !== this._state) {
      this._state = state;
      this._options.onState?.(state);
    }
  }

  private _options: PushChannel.IOptions;
  private _initial: number;
  private _max: number;
  private _pollInterval: number;
  private _sleep: (ms: number) => Promise<void>;
  private _now: () => number;
  private _lastEventId: string | null = null;
  private _state: PushState = 'stopped';
  private _failures = 0;
  private _pollFailures = 0;
  private _unsupported = false;
  private _run = 0;
  private _stream: IEventStream | null = null;
}

export namespace PushChannel {
  export interface IOptions {
    /** Open the stream, resuming after `lastEventId`; throws a StreamError when refused. */
    stream(lastEventId: string | null): Promise<IEventStream>;
    /** The JSON catch-up after `lastEventId` (the polling fallback). */
    poll(lastEventId: string | null): Promise<IPushEvents>;
    /** Changes the reader may see, oldest first. */
    onEvents(events: IPushEvent[]): void;
    /** Too much was missed (or the Datasite restarted): reload everything. */
    onReset(): void;
    onState?(state: PushState): void;
    /** First backoff delay, ms (default 1000); doubles per failure up to `maxDelay`. */
    initialDelay?: number;
    /** Longest delay between attempts, ms (default 60000). */
    maxDelay?: number;
    /** How often to poll where the stream is unsupported, ms (default 5000). */
    pollInterval?: number;
    /** Tests: a fake timer and clock. */
    sleep?(ms: number): Promise<void>;
    now?(): number;
  }
}
