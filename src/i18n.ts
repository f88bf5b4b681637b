/**
 * Translations for the views: widgets provide JupyterLab's bundle for "jupyter_syft" through
 * a React context; without one (tests), strings stay as written.
 */
import React, { useContext } from 'react';
import { nullTranslator, TranslationBundle } from '@jupyterlab/translation';

export const DOMAIN = 'jupyter_syft';

export const TranslationContext = React.createContext<TranslationBundle>(
  nullTranslator.load(DOMAIN)
);

/** The translation bundle of the enclosing widget. */
export function useTrans(): TranslationBundle {
  return useContext(TranslationContext);
}
