/**
 * The plugin's user settings (schema/plugin.json): how often the sidebar polls when the push
 * channel cannot stream, and which kinds of JupyterLab notification it shows. Pure parsing and
 * classification here, so it is tested without JupyterLab; `watchSettings` applies them live.
 */
import type { ISettingRegistry } from '@jupyterlab/settingregistry';
import type { ReadonlyPartialJSONObject } from '@lumino/coreutils';

import type { IPushNote } from './notes';

/** The kinds of notification a user may turn off, one per setting in `notifications`. */
export const NOTE_KINDS = [
  'newRequests',
  'heldOutputs',
  'decisions',
  'results'
] as const;
export type NoteKind = (typeof NOTE_KINDS)[number];

/** The settings as the plugin uses them. */
export interface ISyftSettings {
  /** Polling interval without a stream, in milliseconds. */
  pollInterval: number;
  /** Which notifications are shown. */
  notifications: Record<NoteKind, boolean>;
}

/** Bounds of the poll interval, in seconds (as the schema says). */
export const MIN_POLL_SECONDS = 2;
export const MAX_POLL_SECONDS = 600;

/** The defaults (also those of schema/plugin.json; a jest test compares both). */
export const DEFAULT_SETTINGS: ISyftSettings = {
  pollInterval: 5000,
  notifications: {
    newRequests: true,
    heldOutputs: true,
    decisions: true,
    results: true
  }
};

/**
 * The settings from a composite value (what the registry hands out), each field checked:
 * a missing or invalid one takes its default; the poll interval (seconds) is clamped to its
 * bounds and returned in milliseconds.
 */
export function readSettings(
  composite: ReadonlyPartialJSONObject | null | undefined
): ISyftSettings {
  const value = composite ?? {};
  let pollInterval = DEFAULT_SETTINGS.pollInterval;
  const seconds = value.pollInterval;
  if (typeof seconds === 'number' && Number.isFinite(seconds)) {
    const clamped = Math.min(
      MAX_POLL_SECONDS,
      Math.max(MIN_POLL_SECONDS, seconds)
    );
    pollInterval = Math.round(clamped * 1000);
  }
  const notifications = { ...DEFAULT_SETTINGS.notifications };
  const given = value.notifications;
  if (given && typeof given === 'object' && !Array.isArray(given)) {
    for (const kind of NOTE_KINDS) {
      const on = (given as Record<string, unknown>)[kind];
      if (typeof on === 'boolean') {
        notifications[kind] = on;
      }
    }
  }
  return { pollInterval, notifications };
}

/**
 * Which setting governs a push note (src/notes.ts): a held output to review (owners; the
 * only note that opens an output), a decision on one's request (opens the request), or one's
 * result released or held (neither).
 */
export function noteKind(note: IPushNote): NoteKind {
  if (note.output) {
    return 'heldOutputs';
  }
  if (note.request) {
    return 'decisions';
  }
  return 'results';
}

/**
 * Load the plugin's settings and call `apply` with them now and on every change (the Settings
 * Editor, or `registry.set`). Resolves with the settings object (null when they could not be
 * loaded: the defaults stay in force).
 */
export async function watchSettings(
  registry: ISettingRegistry,
  pluginId: string,
  apply: (settings: ISyftSettings) => void
): Promise<ISettingRegistry.ISettings | null> {
  let loaded: ISettingRegistry.ISettings;
  try {
    loaded = await registry.load(pluginId);
  } catch (error) {
    console.warn(`jupyter-syft: settings not loaded (${String(error)})`);
    return null;
  }
  const update = () => apply(readSettings(loaded.composite));
  update();
  loaded.changed.connect(update);
  return loaded;
}
