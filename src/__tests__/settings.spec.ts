/**
 * The plugin's settings: parsing (defaults, bounds, bad values), which notifications they
 * govern, live updates through a setting registry, and the poll interval reaching the push
 * channel's fallback polling.
 */
import { nullTranslator } from '@jupyterlab/translation';
import type { ISettingRegistry } from '@jupyterlab/settingregistry';
import { Signal } from '@lumino/signaling';
import type { ReadonlyPartialJSONObject } from '@lumino/coreutils';

import { SyftModel } from '../model';
import { pushNotes } from '../notes';
import { PushChannel, StreamError } from '../push';
import {
  DEFAULT_SETTINGS,
  ISyftSettings,
  noteKind,
  readSettings,
  watchSettings
} from '../settings';
import { FakeServer, makeRequest, newModel, disposeModels } from './fixtures';

// The schema lies outside src/ (tsc's rootDir): read it as jest's node does.
declare const require: (id: string) => any;
const schema = require('../../schema/plugin.json');

const BASE = 'syft/lab/api/v1';
const trans = nullTranslator.load('jupyter_syft');

async function settle(times = 20): Promise<void> {
  for (let i = 0; i < times; i++) {
    await Promise.resolve();
  }
}

afterEach(disposeModels);

describe('readSettings', () => {
  it('gives the defaults for nothing, and they are the schema defaults', () => {
    expect(readSettings(undefined)).toEqual(DEFAULT_SETTINGS);
    expect(readSettings({})).toEqual(DEFAULT_SETTINGS);
    expect(schema.properties.pollInterval.default * 1000).toBe(
      DEFAULT_SETTINGS.pollInterval
    );
    expect(schema.properties.notifications.default).toEqual(
      DEFAULT_SETTINGS.notifications
    );
    expect(Object.keys(schema.properties.notifications.properties)).toEqual(
      Object.keys(DEFAULT_SETTINGS.notifications)
    );
  });

  it('reads the poll interval in seconds and clamps it to the bounds', () => {
    expect(readSettings({ pollInterval: 12 }).pollInterval).toBe(12_000);
    expect(readSettings({ pollInterval: 2.5 }).pollInterval).toBe(2500);
    expect(readSettings({ pollInterval: 0 }).pollInterval).toBe(
      schema.properties.pollInterval.minimum * 1000
    );
    expect(readSettings({ pollInterval: 1e9 }).pollInterval).toBe(
      schema.properties.pollInterval.maximum * 1000
    );
  });

  it('keeps the default of each invalid field, and the valid ones', () => {
    const read = readSettings({
      pollInterval: 'fast',
      notifications: { newRequests: false, decisions: 'no', bogus: false }
    } as unknown as ReadonlyPartialJSONObject);
    expect(read.pollInterval).toBe(5000);
    expect(read.notifications).toEqual({
      newRequests: false,
      heldOutputs: true,
      decisions: true,
      results: true
    });
    expect(
      readSettings({ notifications: [false] as unknown as null }).notifications
    ).toEqual(DEFAULT_SETTINGS.notifications);
  });
});

describe('noteKind', () => {
  it('names the setting each push note falls under', () => {
    const owner = { isOwner: true, getRequest: () => null };
    const scientist = {
      isOwner: false,
      getRequest: () => makeRequest({ id: 'r1' })
    };
    const held = pushNotes(
      owner,
      [{ id: 'a-1', topic: 'outputs', object_id: 'x1', change: 'held' }],
      trans
    );
    expect(held.map(noteKind)).toEqual(['heldOutputs']);
    const forScientist = pushNotes(
      scientist,
      [
        { id: 'a-2', topic: 'requests', object_id: 'r1', change: 'denied' },
        { id: 'a-3', topic: 'outputs', object_id: 'x2', change: 'released' },
        { id: 'a-4', topic: 'outputs', object_id: 'x3', change: 'held' }
      ],
      trans
    );
    expect(forScientist.map(noteKind)).toEqual([
      'decisions',
      'results',
      'results'
    ]);
  });
});

/** A setting registry holding one plugin's settings, changed by `set` as the editor does. */
class FakeRegistry {
  composite: ReadonlyPartialJSONObject = {};
  changed = new Signal<unknown, void>(this);
  loads: string[] = [];
  fail = false;

  async load(plugin: string): Promise<ISettingRegistry.ISettings> {
    this.loads.push(plugin);
    if (this.fail) {
      throw new Error('no schema');
    }
    return this as unknown as ISettingRegistry.ISettings;
  }

  set(value: ReadonlyPartialJSONObject): void {
    this.composite = value;
    this.changed.emit();
  }
}

describe('watchSettings', () => {
  it('applies the settings at once and on every change', async () => {
    const registry = new FakeRegistry();
    registry.composite = { pollInterval: 30 };
    const applied: ISyftSettings[] = [];
    const settings = await watchSettings(
      registry as unknown as ISettingRegistry,
      'jupyter-syft:plugin',
      next => applied.push(next)
    );
    expect(settings).not.toBeNull();
    expect(registry.loads).toEqual(['jupyter-syft:plugin']);
    expect(applied.map(s => s.pollInterval)).toEqual([30_000]);
    registry.set({ pollInterval: 3, notifications: { results: false } });
    expect(applied.map(s => s.pollInterval)).toEqual([30_000, 3000]);
    expect(applied[1].notifications.results).toBe(false);
  });

  it('keeps the defaults when the settings cannot be loaded', async () => {
    const registry = new FakeRegistry();
    registry.fail = true;
    const apply = jest.fn();
    const warn = jest
      .spyOn(console, 'warn')
      .mockImplementation(() => undefined);
    try {
      const settings = await watchSettings(
        registry as unknown as ISettingRegistry,
        'jupyter-syft:plugin',
        apply
      );
      expect(settings).toBeNull();
      expect(apply).not.toHaveBeenCalled();
      expect(warn).toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });
});

describe('the poll interval setting', () => {
  it('changes how long a channel that cannot stream waits between polls', async () => {
    const sleeps: number[] = [];
    let wake = () => undefined as void;
    const channel = new PushChannel({
      stream: async () => {
        throw new StreamError(415, 'JSON only');
      },
      poll: async () => ({ last_event_id: 'a-0', reset: false, events: [] }),
      onEvents: () => undefined,
      onReset: () => undefined,
      pollInterval: 5000,
      sleep: ms => {
        sleeps.push(ms);
        return new Promise(resolve => {
          wake = () => resolve();
        });
      }
    });
    channel.start();
    await settle();
    expect(sleeps).toEqual([5000]);
    channel.pollInterval = 2000;
    wake();
    await settle();
    expect(sleeps).toEqual([5000, 2000]);
    channel.stop();
  });

  it("reaches the model's running push channel, and is shown to the sidebar", async () => {
    const server = new FakeServer().withLocalDatasite();
    server.on('GET', `${BASE}/events`, {
      last_event_id: 'a-0',
      reset: false,
      events: []
    });
    const sleeps: number[] = [];
    let wake = () => undefined as void;
    const model = new SyftModel({
      request: server.request,
      stream: async () => {
        throw new StreamError(415, 'JSON only');
      },
      push: {
        sleep: ms => {
          sleeps.push(ms);
          return new Promise(resolve => {
            wake = () => resolve();
          });
        }
      }
    });
    newModel(server); // disposal bookkeeping for the fixtures' models
    const changed = jest.fn();
    model.stateChanged.connect(changed);
    model.startPush();
    await settle(40);
    expect(model.pushState).toBe('polling');
    expect(sleeps).toEqual([5000]);
    model.pollInterval = 12_000;
    expect(model.pollInterval).toBe(12_000);
    expect(changed).toHaveBeenCalled();
    wake();
    await settle(40);
    expect(sleeps).toEqual([5000, 12_000]);
    model.pollInterval = -1; // ignored
    expect(model.pollInterval).toBe(12_000);
    model.dispose();
  });
});

describe('oldestPending', () => {
  it('asks the Datasite for the oldest pending request', async () => {
    const server = new FakeServer().withLocalDatasite();
    const { model } = newModel(server);
    server.on('GET', `${BASE}/requests`, () => ({
      items: [makeRequest({ id: 'old' })],
      next_cursor: 'c',
      total: 7
    }));
    const next = await model.oldestPending();
    expect(next?.id).toBe('old');
    expect(server.called('GET', `${BASE}/requests`)[0].query).toEqual({
      status: 'pending',
      order: 'oldest',
      limit: 1
    });
    server.on('GET', `${BASE}/requests`, () => ({
      items: [],
      next_cursor: null,
      total: 0
    }));
    expect(await model.oldestPending()).toBeNull();
  });
});
