/**
 * Which push events deserve a JupyterLab notification, and what it says: owners hear of held
 * outputs (new requests are announced by the model's `newRequests`); scientists of decisions
 * on their requests and of their results. Pure, so it is tested without JupyterLab.
 */
import type { TranslationBundle } from '@jupyterlab/translation';

import type { IPushEvent } from './push';
import type { IRequest } from './tokens';

/** One notification: its text, kind and the view its action opens. */
export interface IPushNote {
  message: string;
  type: 'info' | 'success' | 'warning';
  label: string;
  /** Open this request's view. */
  request?: string;
  /** Open this output's review (owners). */
  output?: string;
}

/** What `pushNotes` reads of the model. */
export interface INoteSource {
  readonly isOwner: boolean;
  getRequest(id: string): IRequest | null;
}

/** The notifications a batch of events makes, at most one per object and change. */
export function pushNotes(
  model: INoteSource,
  events: readonly IPushEvent[],
  trans: TranslationBundle
): IPushNote[] {
  const notes: IPushNote[] = [];
  const seen = new Set<string>();
  for (const event of events) {
    const key = `${event.topic}/${event.object_id}/${event.change}`;
    if (seen.has(key)) {
      continue;
    }
    seen.add(key);
    const note = noteFor(model, event, trans);
    if (note) {
      notes.push(note);
    }
  }
  return notes;
}

function noteFor(
  model: INoteSource,
  event: IPushEvent,
  trans: TranslationBundle
): IPushNote | null {
  if (model.isOwner) {
    if (event.topic === 'outputs' && event.change === 'held') {
      return {
        message: trans.__('A result is held for your review.'),
        type: 'warning',
        label: trans.__('Review'),
        output: event.object_id
      };
    }
    return null;
  }
  if (
    event.topic === 'requests' &&
    (event.change === 'approved' ||
      event.change === 'denied' ||
      event.change === 'revoked')
  ) {
    const request = model.getRequest(event.object_id);
    const name = request?.code.service_func_name ?? event.object_id;
    const messages: Record<string, string> = {
      approved: trans.__('Your request %1 was approved.', name),
      denied: trans.__('Your request %1 was denied.', name),
      revoked: trans.__('The approval of your request %1 was revoked.', name)
    };
    return {
      message: messages[event.change],
      type: event.change === 'approved' ? 'success' : 'warning',
      label: trans.__('Open'),
      request: event.object_id
    };
  }
  // A run's result and a job's end open the request they belong to (its review tab shows
  // the runs and their results).
  const request = event.request_id || undefined;
  if (event.topic === 'outputs' && event.change === 'released') {
    return {
      message: trans.__('A result of yours is ready.'),
      type: 'success',
      label: request ? trans.__('Open') : trans.__('Show requests'),
      request
    };
  }
  if (event.topic === 'outputs' && event.change === 'held') {
    return {
      message: trans.__(
        "A result of yours is held for an owner's review before it is released."
      ),
      type: 'info',
      label: request ? trans.__('Open') : trans.__('Show requests'),
      request
    };
  }
  if (event.topic === 'jobs' && event.change === 'errored') {
    return {
      message: trans.__('A job of yours failed: its request shows the error.'),
      type: 'warning',
      label: request ? trans.__('Open') : trans.__('Show requests'),
      request
    };
  }
  return null;
}
