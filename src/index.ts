import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';

/**
 * The id of the jupyter-syft frontend plugin.
 */
export const PLUGIN_ID = 'jupyter-syft:plugin';

/**
 * Initialization data for the jupyter-syft extension.
 */
const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description:
    'Data science on data you are not allowed to see, native to Jupyter',
  autoStart: true,
  activate: (app: JupyterFrontEnd) => {
    console.log('JupyterLab extension jupyter-syft is activated!');
  }
};

export default plugin;
