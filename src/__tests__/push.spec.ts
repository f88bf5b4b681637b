import { nullTranslator } from '@jupyterlab/translation';

import { pushNotes } from '../notes';
import {
  IEventStream,
  IPushEvent,
  IPushEvents,
  parseSSE,
  PushChannel,
  StreamError
} from '../push';
import { SyftModel } from '../model';
import {
  disposeModels,
  FakeServer,
  makeRequest,
  newModel,
  page
} from './fixtures';

const BASE = 'syft/lab/api/v1';
const trans = nullTranslator.load('jupyter_syft');

/** A stream the test writes to: each `push` is one chunk the channel reads. */
class FakeStream implements IEventStream {
  chunks: (string | null)[] = [];
  waiting: ((chunk: string | null) => void) | null = null;
  cancelled = false;

  push(chunk: string | null): void {
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = null;
      resolve(chunk);
    } else {
      this.chunks.push(chunk);
    }
  }

  read(): Promise<string | null> {
    if (this.chunks.length) {
      return Promise.resolve(this.chunks.shift()!);
    }
    if (this.cancelled) {
      return Promise.resolve(null);
    }
    return new Promise(resolve => {
      this.waiting = resolve;
    });
  }

  cancel(): void {
    this.cancelled = true;
    this.push(null);
  }
}

function sse(event: IPushEvent): string {
  return `id: ${event.id}\ndata: ${JSON.stringify(event)}\n\n`;
}

function ev(
  n: number,
  topic: IPushEvent['topic'] = 'requests',
  change = 'created'
): IPushEvent {
  return { id: `abcdef01-${n}`, topic, object_id: `o${n}`, change };
}

/** Let pending promise callbacks run. */
async function settle(times = 10): Promise<void> {
  for (let i = 0; i < times; i++) {
    await Promise.resolve();
  }
}

interface IHarness {
  channel: PushChannel;
  streams: FakeStream[];
  opened: (string | null)[];
  polled: (string | null)[];
  events: IPushEvent[];
  resets: number;
  sleeps: number[];
  wake: () => void;
  refuse: (status: number) => void;
  pollAnswer: (answer: IPushEvents | Error) => void;
}

function harness(): IHarness {
  const h: IHarness = {
    streams: [],
    opened: [],
    polled: [],
    events: [],
    resets: 0,
    sleeps: [],
    wake: () => undefined,
    refuse: () => undefined,
    pollAnswer: () => undefined
  } as unknown as IHarness;
  let refusal = 0;
  let answer: IPushEvents | Error = {
    last_event_id: 'abcdef01-0',
    reset: false,
    events: []
  };
  h.refuse = status => {
    refusal = status;
  };
  h.pollAnswer = value => {
    answer = value;
  };
  h.channel = new PushChannel({
    stream: async lastEventId => {
      h.opened.push(lastEventId);
      if (refusal) {
        throw new StreamError(refusal, 'refused');
      }
      const stream = new FakeStream();
      h.streams.push(stream);
      return stream;
    },
    poll: async lastEventId => {
      h.polled.push(lastEventId);
      if (answer instanceof Error) {
        throw answer;
      }
      return answer;
    },
    onEvents: events => h.events.push(...events),
    onReset: () => {
      h.resets++;
    },
    initialDelay: 1000,
    maxDelay: 8000,
    pollInterval: 5000,
    sleep: ms => {
      h.sleeps.push(ms);
      return new Promise(resolve => {
        h.wake = () => resolve();
      });
    },
    now: () => 0 // every stream "ends at once": counts as a failure
  });
  return h;
}

afterEach(disposeModels);

describe('parseSSE', () => {
  it('parses messages, skips comments and keeps an incomplete rest', () => {
    const text =
      'retry: 3000\n\n: keepalive\n\nid: a-1\ndata: {"x":1}\n\nevent: reset\nid: a-2\ndata: {}\n\nid: a-3\nda';
    const { messages, rest } = parseSSE(text);
    expect(messages).toEqual([
      { event: 'message', id: 'a-1', data: '{"x":1}' },
      { event: 'reset', id: 'a-2', data: '{}' }
    ]);
    expect(rest).toBe('id: a-3\nda');
  });

  it('takes CRLF line ends and multi-line data', () => {
    const { messages } = parseSSE('data: a\r\ndata: b\r\n\r\n');
    expect(messages).toEqual([{ event: 'message', id: null, data: 'a\nb' }]);
  });
});

describe('PushChannel', () => {
  it('delivers streamed events, even split across chunks, and remembers the last id', async () => {
    const h = harness();
    h.channel.start();
    await settle();
    expect(h.channel.state).toBe('streaming');
    const text = sse(ev(1)) + sse(ev(2, 'datasets'));
    h.streams[0].push(text.slice(0, 30));
    h.streams[0].push(text.slice(30));
    await settle();
    expect(h.events.map(e => e.id)).toEqual(['abcdef01-1', 'abcdef01-2']);
    expect(h.channel.lastEventId).toBe('abcdef01-2');
    h.channel.stop();
  });

  it('on a drop, polls from the last id, backs off, and resumes the stream from it', async () => {
    const h = harness();
    h.channel.start('abcdef01-0');
    await settle();
    expect(h.opened).toEqual(['abcdef01-0']);
    h.streams[0].push(sse(ev(1)));
    await settle();
    h.streams[0].push(null); // the connection dropped
    h.pollAnswer({
      last_event_id: 'abcdef01-2',
      reset: false,
      events: [ev(2)]
    });
    await settle();
    expect(h.channel.state).toBe('polling');
    expect(h.polled).toEqual(['abcdef01-1']); // nothing missed in between
    expect(h.events.map(e => e.id)).toEqual(['abcdef01-1', 'abcdef01-2']);
    expect(h.sleeps).toEqual([1000]);
    h.wake();
    await settle();
    expect(h.opened).toEqual(['abcdef01-0', 'abcdef01-2']); // resumed where it stopped
    // failing again and again: the delay doubles, up to the maximum
    h.refuse(503);
    for (let i = 0; i < 5; i++) {
      h.streams[h.streams.length - 1]?.push(null);
      await settle();
      h.wake();
      await settle();
    }
    expect(h.sleeps.slice(0, 5)).toEqual([1000, 2000, 4000, 8000, 8000]);
    h.channel.stop();
  });

  it('a reset (streamed or polled) asks for a full reload', async () => {
    const h = harness();
    h.channel.start('old-1');
    await settle();
    h.streams[0].push('id: abcdef01-9\nevent: reset\ndata: {}\n\n');
    await settle();
    expect(h.resets).toBe(1);
    expect(h.channel.lastEventId).toBe('abcdef01-9');
    h.streams[0].push(null);
    h.pollAnswer({ last_event_id: 'abcdef01-10', reset: true, events: [] });
    await settle();
    expect(h.resets).toBe(2);
    expect(h.channel.lastEventId).toBe('abcdef01-10');
    h.channel.stop();
  });

  it('where the route cannot stream (a JSON-only proxy), it polls at its interval', async () => {
    const h = harness();
    h.refuse(415);
    h.channel.start();
    await settle();
    expect(h.channel.streamUnsupported).toBe(true);
    expect(h.polled).toHaveLength(1);
    expect(h.sleeps).toEqual([5000]);
    h.pollAnswer(new Error('down'));
    h.wake();
    await settle();
    expect(h.opened).toHaveLength(1); // never tries the stream again
    expect(h.sleeps).toEqual([5000, 8000]); // a failed poll backs off (up to the maximum)
    h.channel.stop();
  });

  it('stop() cancels the stream and nothing is delivered after it', async () => {
    const h = harness();
    h.channel.start();
    await settle();
    const stream = h.streams[0];
    h.channel.stop();
    expect(stream.cancelled).toBe(true);
    stream.push(sse(ev(1)));
    await settle();
    expect(h.events).toEqual([]);
    expect(h.channel.state).toBe('stopped');
  });
});

describe('SyftModel push', () => {
  function setup(): {
    server: FakeServer;
    model: SyftModel;
    streams: FakeStream[];
  } {
    const server = new FakeServer().withLocalDatasite();
    const streams: FakeStream[] = [];
    const model = new SyftModel({
      request: server.request,
      stream: async () => {
        const stream = new FakeStream();
        streams.push(stream);
        return stream;
      },
      push: { sleep: () => new Promise(() => undefined) }
    });
    newModel(server); // registered for disposal with the others
    return { server, model, streams };
  }

  it('reloads only the lists the events name, and announces new requests', async () => {
    const { server, model, streams } = setup();
    await model.refresh();
    model.startPush();
    await settle();
    expect(model.pushState).toBe('streaming');
    server.on('GET', `${BASE}/notifications/count`, { unread: 3, total: 5 });
    server.calls = [];
    const added = jest.fn();
    const pushed = jest.fn();
    model.newRequests.connect((_, requests) => added(requests.map(r => r.id)));
    model.pushed.connect((_, events) => pushed(events.map(e => e.topic)));
    server.on('GET', `${BASE}/requests`, () =>
      page([makeRequest({ id: 'r2' }), makeRequest()])
    );
    streams[0].push(sse(ev(1, 'requests')));
    await settle(40);
    const endpoints = new Set(server.calls.map(call => call.endpoint));
    // the requests list (and the inbox's count, which a push may change): nothing else
    expect(endpoints).toEqual(
      new Set([`${BASE}/requests`, `${BASE}/notifications/count`])
    );
    expect(model.unreadCount).toBe(3);
    expect(added).toHaveBeenCalledWith(['r2']);
    expect(pushed).toHaveBeenCalledWith(['requests']);
    expect(model.pendingCount).toBe(2);
    server.calls = [];
    streams[0].push(sse(ev(2, 'datasets')));
    await settle(40);
    expect(new Set(server.calls.map(call => call.endpoint))).toEqual(
      new Set([`${BASE}/datasets`, `${BASE}/notifications/count`])
    );
    model.dispose();
  });
});

describe('pushNotes', () => {
  const owner = { isOwner: true, getRequest: () => null };
  const scientist = {
    isOwner: false,
    getRequest: () => makeRequest({ id: 'r1', status: 'approved' })
  };

  it('tells owners of held outputs, with the output to open', () => {
    const notes = pushNotes(
      owner,
      [
        ev(1, 'outputs', 'held'),
        ev(1, 'outputs', 'held'),
        ev(2, 'requests', 'approved')
      ],
      trans
    );
    expect(notes).toHaveLength(1);
    expect(notes[0].output).toBe('o1');
  });

  it('tells scientists of decisions (opening the request) and results', () => {
    const notes = pushNotes(
      scientist,
      [
        { ...ev(1, 'requests', 'approved'), object_id: 'r1' },
        ev(2, 'outputs', 'released'),
        ev(3, 'outputs', 'voted')
      ],
      trans
    );
    expect(notes.map(n => n.type)).toEqual(['success', 'success']);
    expect(notes[0].request).toBe('r1');
    expect(notes[0].message).toContain('was approved');
  });

  it('tells scientists of a revoked approval, as a warning', () => {
    const [note] = pushNotes(
      scientist,
      [{ ...ev(1, 'requests', 'revoked'), object_id: 'r1' }],
      trans
    );
    expect(note.type).toBe('warning');
    expect(note.message).toContain('was revoked');
    expect(note.request).toBe('r1');
  });

  it("opens the request a scientist's result or failed job belongs to", () => {
    const notes = pushNotes(
      scientist,
      [
        { ...ev(1, 'outputs', 'released'), request_id: 'r1' },
        { ...ev(2, 'outputs', 'held'), request_id: 'r1' },
        { ...ev(3, 'jobs', 'errored'), request_id: 'r1' },
        { ...ev(4, 'jobs', 'completed'), request_id: 'r1' }
      ],
      trans
    );
    expect(notes.map(n => [n.type, n.request, n.label])).toEqual([
      ['success', 'r1', 'Open'],
      ['info', 'r1', 'Open'],
      ['warning', 'r1', 'Open']
    ]);
    expect(notes[2].message).toContain('failed');
  });

  it('falls back to the sidebar when the event names no request', () => {
    const [note] = pushNotes(scientist, [ev(1, 'jobs', 'errored')], trans);
    expect(note.request).toBeUndefined();
    expect(note.label).toBe('Show requests');
  });
});
