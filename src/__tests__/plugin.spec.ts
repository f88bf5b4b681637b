/**
 * The plugin wires the sidebar, its commands and the model into JupyterLab.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { ServerConnection } from '@jupyterlab/services';
import { CommandRegistry } from '@lumino/commands';
import { Widget } from '@lumino/widgets';

import plugin, { PLUGIN_ID } from '../index';
import { SyftModel } from '../model';
import { CommandIDs, ISyftModel, SIDEBAR_ID } from '../tokens';

describe('jupyter-syft plugin', () => {
  it('starts automatically and provides the model', () => {
    expect(PLUGIN_ID).toBe('jupyter-syft:plugin');
    expect(plugin.id).toBe(PLUGIN_ID);
    expect(plugin.autoStart).toBe(true);
    expect(plugin.provides).toBe(ISyftModel);
  });

  it('adds the sidebar and the commands', async () => {
    const added: { widget: Widget; area: string }[] = [];
    const commands = new CommandRegistry();
    const fetch = jest.fn().mockRejectedValue(new TypeError('offline'));
    const app = {
      commands,
      shell: {
        add: (widget: Widget, area: string) => added.push({ widget, area }),
        activateById: jest.fn()
      },
      serviceManager: {
        serverSettings: ServerConnection.makeSettings({ fetch })
      }
    } as unknown as JupyterFrontEnd;
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    let model: ISyftModel | undefined;
    try {
      model = plugin.activate(app, null, null, null, null) as ISyftModel;
      expect(log).toHaveBeenCalledWith(
        'JupyterLab extension jupyter-syft is activated!'
      );
      expect(added).toHaveLength(1);
      expect(added[0].area).toBe('left');
      expect(added[0].widget.id).toBe(SIDEBAR_ID);
      for (const id of [
        CommandIDs.openSidebar,
        CommandIDs.refresh,
        CommandIDs.openRequest,
        CommandIDs.newConnectionNotebook
      ]) {
        expect(commands.hasCommand(id)).toBe(true);
      }
      await commands.execute(CommandIDs.openSidebar);
      expect(app.shell.activateById).toHaveBeenCalledWith(SIDEBAR_ID);
      // The server is unreachable here: the model says so instead of failing.
      await model.refresh();
      expect((model as SyftModel).errors.datasets).toContain(
        'Could not reach the Jupyter server'
      );
      expect(fetch).toHaveBeenCalled();
    } finally {
      log.mockRestore();
      (model as SyftModel | undefined)?.dispose();
      added.forEach(({ widget }) => widget.dispose());
    }
  });
});
