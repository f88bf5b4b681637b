/**
 * Lumino widgets hosting the React views: the left sidebar and a request's review tab.
 */
import React from 'react';
import { nullTranslator, TranslationBundle } from '@jupyterlab/translation';
import { LabIcon, ReactWidget } from '@jupyterlab/ui-components';

import { OutputReview } from './components/OutputReview';
import { SidebarTab, SyftSidebar } from './components/SyftSidebar';
import { DOMAIN, TranslationContext } from './i18n';
import { SyftModel } from './model';
import { IOutput, SIDEBAR_ID } from './tokens';

const SYFT_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="16">
<g class="jp-icon3" fill="#616161">
<path d="M12 2 3 6v6c0 5 3.8 9.7 9 10 5.2-.3 9-5 9-10V6l-9-4zm0 2.2 7 3.1V12c0 4-2.9 7.7-7 8-4.1-.3-7-4-7-8V7.3l7-3.1z"/>
<path d="M8 11h8v6H8zm2-3a2 2 0 0 1 4 0v3h-1.5V8a.5.5 0 0 0-1 0v3H10z"/>
</g></svg>`;

export const syftIcon = new LabIcon({
  name: 'jupyter-syft:datasite',
  svgstr: SYFT_SVG
});

export class SyftSidebarWidget extends ReactWidget {
  constructor(options: SyftSidebarWidget.IOptions) {
    super();
    this._options = options;
    this._trans = options.trans ?? nullTranslator.load(DOMAIN);
    this.id = SIDEBAR_ID;
    this.addClass('jp-syft-sidebar');
    this.title.icon = syftIcon;
    this.title.caption = this._trans.__(
      'Syft Datasite: datasets, projects, code requests'
    );
    this.node.setAttribute('data-testid', SIDEBAR_ID);
  }

  protected render(): JSX.Element {
    return (
      <TranslationContext.Provider value={this._trans}>
        <SyftSidebar
          model={this._options.model}
          onOpenRequest={this._options.onOpenRequest}
          onOpenOutput={this._options.onOpenOutput}
          onNewNotebook={this._options.onNewNotebook}
          initialTab={this._options.initialTab}
        />
      </TranslationContext.Provider>
    );
  }

  private _options: SyftSidebarWidget.IOptions;
  private _trans: TranslationBundle;
}

export namespace SyftSidebarWidget {
  export interface IOptions {
    model: SyftModel;
    onOpenRequest: (id: string) => void;
    onOpenOutput?: (executionId: string) => void;
    onNewNotebook: () => void;
    initialTab?: SidebarTab;
    trans?: TranslationBundle;
  }
}

/** The main-area id of an output's review (one tab per output). */
export function outputWidgetId(executionId: string): string {
  return `jupyter-syft-output-${executionId}`;
}

export class OutputReviewWidget extends ReactWidget {
  constructor(options: OutputReviewWidget.IOptions) {
    super();
    this._options = options;
    this._trans = options.trans ?? nullTranslator.load(DOMAIN);
    this.id = outputWidgetId(options.executionId);
    this.addClass('jp-syft-review-widget');
    this.title.icon = syftIcon;
    this.title.label = options.label ?? this._trans.__('Output');
    this.title.caption = this._trans.__(
      'Output of run %1',
      options.executionId
    );
    this.title.closable = true;
  }

  get executionId(): string {
    return this._options.executionId;
  }

  /** Closing the tab disposes it, so opening the output again makes a new one. */
  protected onCloseRequest(
    msg: Parameters<ReactWidget['processMessage']>[0]
  ): void {
    super.onCloseRequest(msg);
    this.dispose();
  }

  protected render(): JSX.Element {
    return (
      <TranslationContext.Provider value={this._trans}>
        <OutputReview
          model={this._options.model}
          executionId={this._options.executionId}
          onOpenRequest={this._options.onOpenRequest}
          onLoaded={this._onLoaded}
        />
      </TranslationContext.Provider>
    );
  }

  private _onLoaded = (output: IOutput): void => {
    this.title.label = this._trans.__('Output: %1', output.service_func_name);
  };

  private _options: OutputReviewWidget.IOptions;
  private _trans: TranslationBundle;
}

export namespace OutputReviewWidget {
  export interface IOptions {
    model: SyftModel;
    executionId: string;
    label?: string;
    onOpenRequest?: (id: string) => void;
    trans?: TranslationBundle;
  }
}
