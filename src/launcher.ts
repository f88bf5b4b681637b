/**
 * The Launcher's "Syft Datasite" cards: a notebook connected to the Datasite the sidebar
 * shows, and (owners) the oldest request waiting for review.
 */
import type { ILauncher } from '@jupyterlab/launcher';
import type { TranslationBundle } from '@jupyterlab/translation';
import { DisposableSet, IDisposable } from '@lumino/disposable';

import { CommandIDs } from './tokens';

/** Add the cards; dispose the result to remove them. */
export function addLauncherItems(
  launcher: ILauncher,
  trans: TranslationBundle
): IDisposable {
  const category = trans.__('Syft Datasite');
  const items = new DisposableSet();
  items.add(
    launcher.add({
      command: CommandIDs.newConnectionNotebook,
      args: { isLauncher: true },
      category,
      rank: 1
    })
  );
  items.add(
    launcher.add({
      command: CommandIDs.reviewNext,
      args: { isLauncher: true },
      category,
      rank: 2
    })
  );
  return items;
}
