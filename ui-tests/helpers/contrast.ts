/**
 * WCAG 2.x contrast of what the browser actually paints: an element's text colour against
 * its effective background (the background colours of it and its ancestors, composited from
 * the page up, opacity included). Colours are read in the page through a canvas, so every CSS
 * colour syntax (rgb(), color(srgb ...), color-mix() results, named colours) is handled.
 */
import { Locator } from '@playwright/test';

/** An sRGB colour, channels 0-255, alpha 0-1. */
export type RGBA = [number, number, number, number];

/** What `sample` reads of one element. */
export interface IColorSample {
  /** The element's text colour. */
  text: RGBA;
  /** Background colours from the element up to the root, innermost first. */
  backgrounds: RGBA[];
  /** The product of the opacities of the element and its ancestors. */
  opacity: number;
  /** font-size in px and font-weight, to tell large text. */
  fontSize: number;
  fontWeight: number;
  /** The element's text, and where it is (nearest data-testid, tag and classes), for messages. */
  label: string;
  where: string;
}

/** The WCAG relative luminance of an opaque sRGB colour. */
export function luminance([r, g, b]: RGBA): number {
  const channel = (v: number): number => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
  };
  return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
}

/** `top` painted over an opaque `bottom`. */
export function over(top: RGBA, bottom: RGBA): RGBA {
  const a = top[3];
  return [
    top[0] * a + bottom[0] * (1 - a),
    top[1] * a + bottom[1] * (1 - a),
    top[2] * a + bottom[2] * (1 - a),
    1
  ];
}

/** The contrast ratio of two opaque colours, 1 to 21. */
export function contrastRatio(a: RGBA, b: RGBA): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/**
 * The opaque background behind an element: its and its ancestors' backgrounds painted from
 * the outermost inwards over `canvas` (white: what a browser shows under a transparent page).
 */
export function effectiveBackground(
  backgrounds: RGBA[],
  canvas: RGBA = [255, 255, 255, 1]
): RGBA {
  let painted = canvas;
  for (const layer of [...backgrounds].reverse()) {
    painted = over(layer, painted);
  }
  return painted;
}

/**
 * The contrast of a sample as seen: text (with its alpha and the elements' opacity) over the
 * effective background.
 */
export function sampleContrast(sample: IColorSample): number {
  const background = effectiveBackground(sample.backgrounds);
  const text: RGBA = [
    sample.text[0],
    sample.text[1],
    sample.text[2],
    sample.text[3] * sample.opacity
  ];
  return contrastRatio(over(text, background), background);
}

/** WCAG's large text: at least 24px, or 18.66px (14pt) bold. */
export function isLargeText(sample: IColorSample): boolean {
  return (
    sample.fontSize >= 24 ||
    (sample.fontSize >= 18.66 && sample.fontWeight >= 700)
  );
}

/**
 * Read the colours of every element `locator` matches (in the page). With `textOnly`, of the
 * visible, enabled elements among them and their descendants that hold text of their own
 * (a text node child): what a reader reads.
 */
export async function sample(
  locator: Locator,
  textOnly = false
): Promise<IColorSample[]> {
  return locator.evaluateAll((roots, textOnly) => {
    const holdsText = (element: Element): boolean =>
      [...element.childNodes].some(
        child =>
          child.nodeType === Node.TEXT_NODE && (child.textContent ?? '').trim()
      );
    const shown = (element: Element): boolean => {
      const box = element.getBoundingClientRect();
      const style = getComputedStyle(element);
      return (
        box.width > 0 &&
        box.height > 0 &&
        style.visibility !== 'hidden' &&
        // WCAG 1.4.3 exempts inactive controls.
        !element.closest(':disabled, [aria-disabled="true"]')
      );
    };
    const elements = textOnly
      ? roots
          .flatMap(root => [root, ...root.querySelectorAll('*')])
          .filter(
            element =>
              holdsText(element) &&
              shown(element) &&
              !['SCRIPT', 'STYLE', 'OPTION', 'TITLE'].includes(element.tagName)
          )
      : roots;
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = 1;
    const context = canvas.getContext('2d', { willReadFrequently: true })!;
    const rgba = (color: string): [number, number, number, number] => {
      context.clearRect(0, 0, 1, 1);
      context.fillStyle = 'rgba(0, 0, 0, 0)';
      context.fillStyle = color;
      context.fillRect(0, 0, 1, 1);
      const d = context.getImageData(0, 0, 1, 1).data;
      return [d[0], d[1], d[2], d[3] / 255];
    };
    return elements.map(element => {
      const style = getComputedStyle(element);
      const backgrounds: [number, number, number, number][] = [];
      let opacity = 1;
      for (
        let node: Element | null = element;
        node;
        node = node.parentElement
      ) {
        const own = getComputedStyle(node);
        opacity *= Number(own.opacity);
        const background = rgba(own.backgroundColor);
        if (background[3] > 0) {
          backgrounds.push(background);
          if (background[3] === 1) {
            break; // nothing under an opaque background shows through
          }
        }
      }
      return {
        text: rgba(style.color),
        backgrounds,
        opacity,
        fontSize: parseFloat(style.fontSize),
        fontWeight: Number(style.fontWeight) || 400,
        label: (element.textContent ?? '').trim().slice(0, 40),
        where: [
          element.closest('[data-testid]')?.getAttribute('data-testid'),
          element.tagName.toLowerCase() +
            [...element.classList].map(name => `.${name}`).join('')
        ]
          .filter(Boolean)
          .join(' ')
      };
    });
  }, textOnly);
}

/** The samples under `minimum` (3:1 for large text, else 4.5:1), described. */
export function failures(samples: IColorSample[], minimum = 4.5): string[] {
  return samples
    .map(s => ({ s, ratio: sampleContrast(s) }))
    .filter(({ s, ratio }) => ratio < (isLargeText(s) ? 3 : minimum))
    .map(
      ({ s, ratio }) =>
        `${ratio.toFixed(2)}:1 "${s.label}" (${s.where}) text rgba(${s.text.join(',')}) ` +
        `on rgba(${effectiveBackground(s.backgrounds).join(',')})`
    );
}
