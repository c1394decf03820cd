/**
 * The stamp screen's PDF preview with pdfjs-dist, loaded only on that screen (a dynamic import). The
 * renderer's worker is the package's own worker file, emitted by Vite as a hashed asset of this origin.
 *
 * The page's CSP requires Trusted Types for script URLs, so the worker is created from a
 * TrustedScriptURL minted by one named policy (`bubuh-pdf-worker`, the only one the CSP allows) that
 * admits exactly that asset's URL and nothing else, and handed to pdfjs as its `workerPort`.
 */
import * as pdfjs from 'pdfjs-dist';
import workerUrl from 'pdfjs-dist/build/pdf.worker.min.mjs?url';

export const trustedTypesPolicyName = 'bubuh-pdf-worker';

interface TrustedTypesLike {
  createPolicy(
    name: string,
    rules: { createScriptURL(input: string): string },
  ): {
    createScriptURL(input: string): unknown;
  };
}

let worker: Worker | null = null;

function startWorker(): void {
  if (worker) return;
  const absolute = new URL(workerUrl, window.location.href).href;
  const factory = (window as unknown as { trustedTypes?: TrustedTypesLike }).trustedTypes;
  let scriptUrl: string | URL = absolute;
  if (factory) {
    const policy = factory.createPolicy(trustedTypesPolicyName, {
      createScriptURL: (input) => {
        if (input !== absolute) throw new TypeError(`not the PDF worker: ${input}`);
        return input;
      },
    });
    scriptUrl = policy.createScriptURL(absolute) as string;
  }
  worker = new Worker(scriptUrl, { type: 'module' });
  pdfjs.GlobalWorkerOptions.workerPort = worker;
}

export interface PreviewPage {
  /** The page's visible size in PDF points (its crop box, as the stamper measures it). */
  readonly widthPt: number;
  readonly heightPt: number;
  /** Rectangles of text on the page, in points from the lower-left corner (best effort). */
  readonly textBoxes: readonly { x: number; y: number; width: number; height: number }[];
}

export interface PreviewDocument {
  readonly pageCount: number;
  /** Draws page `number` (1-based) into `canvas` at `cssWidth` CSS pixels wide. */
  render(number: number, canvas: HTMLCanvasElement, cssWidth: number): Promise<PreviewPage>;
  destroy(): void;
}

/** A drawing given up because a newer one of the same document started (its caller has moved on). */
export class Superseded extends Error {
  constructor() {
    super('superseded by a newer drawing');
  }
}

export class PasswordNeeded extends Error {
  constructor(readonly wrong: boolean) {
    super(wrong ? 'wrong password' : 'password needed');
  }
}

export async function openPreview(bytes: Uint8Array, password?: string): Promise<PreviewDocument> {
  startWorker();
  // pdfjs takes ownership of the buffer it is given: hand it a copy so the upload keeps its bytes.
  const task = pdfjs.getDocument({
    data: bytes.slice(),
    isEvalSupported: false,
    ...(password ? { password } : {}),
  });
  let document: pdfjs.PDFDocumentProxy;
  try {
    document = await task.promise;
  } catch (error) {
    if ((error as { name?: string }).name === 'PasswordException') {
      const code = (error as { code?: number }).code;
      throw new PasswordNeeded(code === pdfjs.PasswordResponses.INCORRECT_PASSWORD);
    }
    throw error;
  }
  let current: pdfjs.RenderTask | null = null;
  let generation = 0;
  return {
    pageCount: document.numPages,
    async render(number, canvas, cssWidth) {
      // One drawing on the canvas at a time: a newer call cancels the older one and waits until its
      // task has let go of the canvas (pdf.js refuses a second render() on a canvas still in use); an
      // older call that finds a newer one started gives way.
      generation += 1;
      const mine = generation;
      const previous = current;
      previous?.cancel();
      if (previous) await previous.promise.catch(() => undefined);
      const page = await document.getPage(number);
      if (mine !== generation) throw new Superseded();
      const base = page.getViewport({ scale: 1 });
      const scale = cssWidth / base.width;
      const ratio = Math.min(window.devicePixelRatio || 1, 2);
      const viewport = page.getViewport({ scale: scale * ratio });
      canvas.width = Math.floor(viewport.width);
      canvas.height = Math.floor(viewport.height);
      canvas.style.width = `${cssWidth}px`;
      canvas.style.height = `${(cssWidth * base.height) / base.width}px`;
      const context = canvas.getContext('2d');
      if (!context) throw new Error('no 2D canvas');
      const task = page.render({ canvas, canvasContext: context, viewport });
      current = task;
      try {
        await task.promise;
      } catch (error) {
        if ((error as { name?: string }).name !== 'RenderingCancelledException') throw error;
      }
      const textBoxes: { x: number; y: number; width: number; height: number }[] = [];
      try {
        const content = await page.getTextContent();
        const [left, bottom] = [base.viewBox[0] ?? 0, base.viewBox[1] ?? 0];
        for (const item of content.items) {
          if (!('str' in item) || item.str.trim() === '') continue;
          const [, , , , e, f] = item.transform as number[];
          textBoxes.push({
            x: (e ?? 0) - left,
            y: (f ?? 0) - bottom,
            width: item.width,
            height: item.height || 10,
          });
        }
      } catch {
        // Text positions are only for a warning; a page without them simply gives none.
      }
      return { widthPt: base.width, heightPt: base.height, textBoxes };
    },
    destroy() {
      current?.cancel();
      void document.destroy();
    },
  };
}
