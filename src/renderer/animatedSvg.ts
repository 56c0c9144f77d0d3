/// <reference lib="dom" />
/**
 * Animated SVG export: every frame of the widget's current view, recorded from the drawing itself and written as
 * one SVG document whose cells change colour with SMIL `<animate>` elements. It needs no encoder and no library,
 * plays in browsers, VS Code and most SVG viewers, and stays small because only changes are written: a cell that
 * is a kernel tap for three frames gets one `<animate>` with four key times, not a copy per frame.
 *
 * Recording works from what is on screen, so the export shows exactly what the widget shows: for each frame the
 * widget draws it, and each element's state (its classes, its `data-kind`, its inline style, its geometry, its
 * text) is read back. Resolved colours are computed once per distinct state (getComputedStyle is the costly
 * part), then written as presentation attributes, so the file looks the same outside VS Code.
 */

/** The properties written into exports, resolved from the stylesheet and VS Code's theme. */
export const EXPORTED_PROPERTIES = [
  'fill',
  'fill-opacity',
  'stroke',
  'stroke-opacity',
  'stroke-width',
  'stroke-dasharray',
  'opacity',
  'font-family',
  'font-size',
  'text-anchor',
  'dominant-baseline',
] as const;

/**
 * SVG's initial values: a property that keeps its initial value in every frame is left out, and font properties
 * are written on text only, which keeps an animated export to a fraction of the size.
 */
const INITIAL: Partial<Record<(typeof EXPORTED_PROPERTIES)[number], string>> = {
  'fill-opacity': '1',
  'stroke-opacity': '1',
  stroke: 'none',
  'stroke-width': '1px',
  'stroke-dasharray': 'none',
  opacity: '1',
  'text-anchor': 'start',
  'dominant-baseline': 'auto',
};
const TEXT_ONLY = new Set(['font-family', 'font-size', 'text-anchor', 'dominant-baseline']);

/** Geometry attributes that change between frames (the kernel footprint, the matrix row band). */
const GEOMETRY = ['x', 'y', 'width', 'height'] as const;

/** Most elements × frames recorded; beyond this an animated export would take too long to make. */
export const MAX_RECORDED = 4_000_000;
/** Most key times written in all; beyond this the file would be too large to be useful. */
export const MAX_KEYS = 400_000;

export interface AnimationRecording {
  /** The drawing (the widget's live SVG root). Its structure must stay the same through all frames. */
  readonly root: SVGSVGElement;
  readonly frames: number;
  /** Draws frame `f` into `root`. */
  showFrame(frame: number): void;
  /** Seconds each frame is shown. */
  readonly frameSeconds: number;
  /** Extra seconds the last frame stays before the animation starts over. */
  readonly holdSeconds: number;
  readonly background: string;
  readonly title: string;
}

export type AnimatedOutcome = { ok: true; svg: string; keys: number } | { ok: false; error: string };

const SVG_NS = 'http://www.w3.org/2000/svg';

/** One channel's changes over the frames: the frame each value starts at, and the value. */
type Changes = Array<[frame: number, value: string]>;

function record(changes: Changes, frame: number, value: string): void {
  const last = changes[changes.length - 1];
  if (!last || last[1] !== value) changes.push([frame, value]);
}

/** Builds the animated SVG. Leaves the drawing at its last frame; the caller restores what it showed before. */
export function buildAnimatedSvg(recording: AnimationRecording): AnimatedOutcome {
  const { root, frames } = recording;
  const elements = [root, ...Array.from(root.querySelectorAll('*'))];
  if (elements.length * frames > MAX_RECORDED) {
    return {
      ok: false,
      error:
        `An animated export of ${frames} frames of ${elements.length} shapes is too large to make here; export ` +
        `single frames (SVG or PNG), or animate a smaller input.`,
    };
  }
  // Resolved properties per distinct state, keyed by what the stylesheet's selectors read.
  const resolved = new Map<string, string[]>();
  const styleChanges: Changes[] = elements.map(() => []);
  const geometryChanges: Changes[][] = elements.map(() => GEOMETRY.map(() => []));
  const textChanges: Changes[] = elements.map(() => []);
  let keys = 0;
  for (let f = 0; f < frames; f++) {
    recording.showFrame(f);
    const now = [root, ...Array.from(root.querySelectorAll('*'))];
    if (now.length !== elements.length) {
      return { ok: false, error: 'The drawing changed shape between frames; export single frames instead.' };
    }
    for (let i = 0; i < now.length; i++) {
      const node = now[i]!;
      const state = `${node.getAttribute('class') ?? ''}|${node.getAttribute('data-kind') ?? ''}|${node.getAttribute('style') ?? ''}`;
      if (!resolved.has(state)) {
        const computed = getComputedStyle(node);
        resolved.set(
          state,
          EXPORTED_PROPERTIES.map((property) => computed.getPropertyValue(property)),
        );
      }
      record(styleChanges[i]!, f, state);
      if (node.tagName === 'rect') {
        GEOMETRY.forEach((name, g) => record(geometryChanges[i]![g]!, f, node.getAttribute(name) ?? ''));
      } else if (node.tagName === 'text') {
        record(textChanges[i]!, f, node.textContent ?? '');
      }
    }
  }

  const frameSeconds = recording.frameSeconds;
  const duration = frames * frameSeconds + recording.holdSeconds;
  const clock = (frame: number): string => String(Number(((frame * frameSeconds) / duration).toFixed(6)));
  const animate = (attribute: string, changes: Changes): SVGAnimateElement => {
    keys += changes.length;
    const node = document.createElementNS(SVG_NS, 'animate');
    node.setAttribute('attributeName', attribute);
    node.setAttribute('dur', `${Number(duration.toFixed(3))}s`);
    node.setAttribute('repeatCount', 'indefinite');
    node.setAttribute('calcMode', 'discrete');
    node.setAttribute('keyTimes', changes.map(([frame]) => clock(frame)).join(';'));
    node.setAttribute('values', changes.map(([, value]) => value).join(';'));
    return node;
  };

  const clone = root.cloneNode(true) as SVGSVGElement;
  const copies = [clone, ...Array.from(clone.querySelectorAll('*'))];
  // Text whose content changes becomes one text element per content, each visible while its content is shown.
  const replacements: Array<[Element, Element[]]> = [];
  for (let i = 0; i < copies.length; i++) {
    const copy = copies[i]!;
    copy.removeAttribute('class');
    copy.removeAttribute('style');
    if (i === 0 || copy.tagName === 'title' || copy.tagName === 'defs') continue;
    const states = styleChanges[i]!;
    EXPORTED_PROPERTIES.forEach((property, p) => {
      const changes: Changes = [];
      for (const [frame, state] of states) record(changes, frame, resolved.get(state)![p]!);
      if (changes.length === 0 || changes[0]![1] === '') return;
      if (TEXT_ONLY.has(property) && copy.tagName !== 'text') return;
      if (changes.length === 1 && INITIAL[property] === changes[0]![1]) return;
      copy.setAttribute(property, changes[0]![1]);
      if (changes.length > 1) copy.append(animate(property, changes));
    });
    if (copy.tagName === 'rect') {
      GEOMETRY.forEach((name, g) => {
        const changes = geometryChanges[i]![g]!;
        if (changes.length > 0) copy.setAttribute(name, changes[0]![1]);
        if (changes.length > 1) copy.append(animate(name, changes));
      });
    } else if (copy.tagName === 'text') {
      const changes = textChanges[i]!;
      // Unchanging text keeps the content the clone already has.
      if (changes.length <= 1) continue;
      const animations = Array.from(copy.children);
      const contents = [...new Set(changes.map(([, text]) => text))].filter((text) => text !== '');
      const versions = contents.map((text) => {
        const version = copy.cloneNode(false) as Element;
        version.textContent = text;
        for (const animation of animations) version.append(animation.cloneNode(true));
        const visibility: Changes = [];
        for (const [frame, shown] of changes)
          record(visibility, frame, shown === text ? 'visible' : 'hidden');
        version.setAttribute('visibility', visibility[0]![1]);
        if (visibility.length > 1) version.append(animate('visibility', visibility));
        return version;
      });
      replacements.push([copy, versions]);
    }
    if (keys > MAX_KEYS) {
      return {
        ok: false,
        error: `This animation changes too often (${keys}+ key times) for an animated SVG; export single frames instead.`,
      };
    }
  }
  for (const [copy, versions] of replacements) copy.replaceWith(...versions);

  clone.setAttribute('xmlns', SVG_NS);
  const backdrop = document.createElementNS(SVG_NS, 'rect');
  for (const [name, value] of Object.entries({ x: '0', y: '0', width: '100%', height: '100%' })) {
    backdrop.setAttribute(name, value);
  }
  backdrop.setAttribute('fill', recording.background);
  clone.insertBefore(backdrop, clone.firstChild);
  const title = clone.querySelector('title');
  if (title) title.textContent = recording.title;
  return { ok: true, svg: new XMLSerializer().serializeToString(clone), keys };
}
