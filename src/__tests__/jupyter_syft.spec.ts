/**
 * Unit tests for the jupyter-syft frontend plugin.
 */
import plugin, { PLUGIN_ID } from '../index';

describe('jupyter-syft', () => {
  it('exposes the plugin under the expected id', () => {
    expect(PLUGIN_ID).toBe('jupyter-syft:plugin');
    expect(plugin.id).toBe('jupyter-syft:plugin');
  });

  it('starts automatically', () => {
    expect(plugin.autoStart).toBe(true);
  });

  it('logs on activation', () => {
    const log = jest.spyOn(console, 'log').mockImplementation(() => {});
    try {
      plugin.activate({} as any);
      expect(log).toHaveBeenCalledWith(
        'JupyterLab extension jupyter-syft is activated!'
      );
    } finally {
      log.mockRestore();
    }
  });
});
