/**
 * The stamp screen: choose a PDF, see its page (pdfjs-dist, in the browser), drag the seal where it
 * should go and size it within the stamper's bounds, pick the page, stamp, download. Warnings when the
 * seal leaves the page (stamping is then refused here, before any quota is touched) or, best effort,
 * covers text. The result shows the serial and links to verify it.
 */
import {
  type FormEvent,
  type KeyboardEvent,
  type PointerEvent,
  useCallback,
  useEffect,
  useRef,
  useState,
} from 'react';
import {
  ApiError,
  type DocType,
  type StampView,
  api,
  apiFile,
  errorText,
  newIdempotencyKey,
  saveFile,
} from './api.js';
import { useWords } from './language.js';
import type { PreviewDocument, PreviewPage } from './pdf-preview.js';
import { Link, paths } from './router.js';
import { Note, Problem, ScreenHeading, useSession } from './ui.js';

/** The smallest legible label; a seal drawn smaller than that shows an icon instead of clipped text. */
export const sealLabelPxMin = 9;
const sealLabelPxMax = 16;

/**
 * How the seal's label fits a box `sidePx` wide inside its 2 px borders: on one line ("e-meterai",
 * about 5.6 em in bold), else on two ("e-" / "meterai", about 4.6 em), at a font size of at least
 * `sealLabelPxMin`; null when neither can be read at that size (the box then shows an icon).
 */
export function sealLabel(sidePx: number): { readonly px: number; readonly lines: 1 | 2 } | null {
  const room = sidePx - 10;
  const oneLine = Math.floor(room / 5.6);
  if (oneLine >= sealLabelPxMin) return { px: Math.min(sealLabelPxMax, oneLine), lines: 1 };
  const twoLines = Math.floor(room / 4.6);
  return twoLines >= sealLabelPxMin ? { px: twoLines, lines: 2 } : null;
}

/** A rosette: the seal's mark when the box is too small for its label (the box carries the name). */
function SealIcon() {
  return (
    <svg className="seal-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
      <circle cx="12" cy="9.5" r="6" fill="none" stroke="currentColor" strokeWidth="2.2" />
      <path
        d="M8.6 14.5 7 22l5-2.6 5 2.6-1.6-7.5"
        fill="none"
        stroke="currentColor"
        strokeWidth="2.2"
        strokeLinejoin="round"
      />
    </svg>
  );
}

/** The stamper's bounds for the seal's side, in points (src/seal/seal.ts). */
export const sealSizeMin = 40;
export const sealSizeMax = 150;
export const sealSizeDefault = 70;
/** The default place: the page's lower-right corner, this far from the edges (as the stamper does). */
const marginPt = 24;
const fileBytesMax = 20 * 1024 * 1024;

interface Placement {
  readonly x: number;
  readonly y: number;
  readonly size: number;
}

type PreviewState =
  | { readonly kind: 'none' }
  | { readonly kind: 'loading' }
  | { readonly kind: 'password'; readonly wrong: boolean }
  | { readonly kind: 'ready'; readonly document: PreviewDocument }
  | { readonly kind: 'failed'; readonly problem: string };

export function sealOffPage(placement: Placement, page: { widthPt: number; heightPt: number }): boolean {
  return (
    placement.x < 0 ||
    placement.y < 0 ||
    placement.x + placement.size > page.widthPt + 0.01 ||
    placement.y + placement.size > page.heightPt + 0.01
  );
}

function overText(placement: Placement, page: PreviewPage): boolean {
  return page.textBoxes.some(
    (box) =>
      box.x < placement.x + placement.size &&
      box.x + box.width > placement.x &&
      box.y < placement.y + placement.size &&
      box.y + box.height > placement.y,
  );
}

function useDocTypes(): DocType[] {
  const [types, setTypes] = useState<DocType[]>([]);
  useEffect(() => {
    api<{ items: DocType[] }>('/v1/doc-types')
      .then((answer) => setTypes(answer.items))
      .catch(() => setTypes([]));
  }, []);
  return types;
}

export function StampScreen() {
  const words = useWords();
  const { session, me, refreshMe } = useSession();
  const docTypes = useDocTypes();
  const [file, setFile] = useState<File | null>(null);
  const [bytes, setBytes] = useState<Uint8Array | null>(null);
  const [password, setPassword] = useState('');
  const [docType, setDocType] = useState('');
  const [docNumber, setDocNumber] = useState('');
  const [docDate, setDocDate] = useState('');
  const [preview, setPreview] = useState<PreviewState>({ kind: 'none' });
  const [pageNumber, setPageNumber] = useState(1);
  const [page, setPage] = useState<PreviewPage | null>(null);
  const [placement, setPlacement] = useState<Placement>({ x: 0, y: 0, size: sealSizeDefault });
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<unknown>(null);
  const [result, setResult] = useState<StampView | null>(null);
  const [downloading, setDownloading] = useState(false);
  const canvas = useRef<HTMLCanvasElement>(null);
  const frame = useRef<HTMLDivElement>(null);
  const [cssWidth, setCssWidth] = useState(320);
  /** Width over height of the shown page (A4 until one is shown). */
  const pageRatio = useRef(1 / Math.SQRT2);
  const stampKey = useRef(newIdempotencyKey('stamp'));
  const refusal = useRef<HTMLDivElement>(null);
  // A refusal appears under the button, maybe below the fold: bring it into view (it is also announced).
  useEffect(() => {
    if (problem) refusal.current?.scrollIntoView({ block: 'center' });
  }, [problem]);
  const drag = useRef<{ pointer: number; startX: number; startY: number; from: Placement } | null>(null);

  useEffect(() => {
    refreshMe().catch(() => {});
  }, [refreshMe]);

  // The preview is as wide as its frame (a phone's width, or at most 600 px).
  useEffect(() => {
    const element = frame.current;
    if (!element) return;
    // …and never taller than the window, so the whole page and its seal can be seen at once.
    const measure = () =>
      setCssWidth(
        Math.max(
          200,
          Math.floor(Math.min(480, element.clientWidth, (window.innerHeight - 60) * pageRatio.current)),
        ),
      );
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    return () => observer.disconnect();
  }, [preview.kind]);

  const open = useCallback(async (data: Uint8Array, withPassword?: string) => {
    setPreview({ kind: 'loading' });
    try {
      const { openPreview, PasswordNeeded } = await import('./pdf-preview.js');
      try {
        const document = await openPreview(data, withPassword);
        setPreview({ kind: 'ready', document });
      } catch (error) {
        if (error instanceof PasswordNeeded) setPreview({ kind: 'password', wrong: error.wrong });
        else throw error;
      }
    } catch (error) {
      setPreview({ kind: 'failed', problem: (error as Error).message.slice(0, 120) });
    }
  }, []);

  useEffect(() => {
    if (preview.kind !== 'ready') return;
    return () => preview.document.destroy();
  }, [preview]);

  // Draw the chosen page; the first time a page is shown, the seal goes to its lower-right corner.
  useEffect(() => {
    if (preview.kind !== 'ready' || !canvas.current) return;
    let stopped = false;
    preview.document
      .render(pageNumber, canvas.current, cssWidth)
      .then((shown) => {
        if (stopped) return;
        pageRatio.current = shown.widthPt / shown.heightPt;
        setPage((previous) => {
          if (!previous || previous.widthPt !== shown.widthPt || previous.heightPt !== shown.heightPt) {
            setPlacement((current) => ({
              size: current.size,
              x: Math.round(shown.widthPt - current.size - marginPt),
              y: marginPt,
            }));
          }
          return shown;
        });
      })
      .catch((error: unknown) => {
        if (!stopped) setPreview({ kind: 'failed', problem: (error as Error).message.slice(0, 120) });
      });
    return () => {
      stopped = true;
    };
  }, [preview, pageNumber, cssWidth]);

  const choose = async (chosen: File | null) => {
    setResult(null);
    setProblem(null);
    setPage(null);
    setPageNumber(1);
    setPassword('');
    setFile(chosen);
    stampKey.current = newIdempotencyKey('stamp');
    if (!chosen) {
      setBytes(null);
      setPreview({ kind: 'none' });
      return;
    }
    const data = new Uint8Array(await chosen.arrayBuffer());
    setBytes(data);
    await open(data);
  };

  const scale = page ? cssWidth / page.widthPt : 1;
  const offPage = page ? sealOffPage(placement, page) : false;
  const label = sealLabel(placement.size * scale);
  const coversText = page && !offPage ? overText(placement, page) : false;

  const onPointerDown = (event: PointerEvent<HTMLDivElement>) => {
    event.currentTarget.setPointerCapture(event.pointerId);
    drag.current = {
      pointer: event.pointerId,
      startX: event.clientX,
      startY: event.clientY,
      from: placement,
    };
  };
  const onPointerMove = (event: PointerEvent<HTMLDivElement>) => {
    const moving = drag.current;
    if (!moving || moving.pointer !== event.pointerId) return;
    setPlacement({
      size: moving.from.size,
      x: Math.round(moving.from.x + (event.clientX - moving.startX) / scale),
      y: Math.round(moving.from.y - (event.clientY - moving.startY) / scale),
    });
  };
  const onPointerUp = (event: PointerEvent<HTMLDivElement>) => {
    if (drag.current?.pointer === event.pointerId) drag.current = null;
  };
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const step = event.shiftKey ? 20 : 2;
    const moves: Record<string, [number, number]> = {
      ArrowLeft: [-step, 0],
      ArrowRight: [step, 0],
      ArrowUp: [0, step],
      ArrowDown: [0, -step],
    };
    const move = moves[event.key];
    if (!move) return;
    event.preventDefault();
    setPlacement((current) => ({ ...current, x: current.x + move[0], y: current.y + move[1] }));
  };

  const resize = (raw: string) => {
    const size = Math.round(Number(raw));
    if (!Number.isFinite(size)) return;
    const bounded = Math.min(sealSizeMax, Math.max(sealSizeMin, size));
    // Resizing keeps the seal's centre where it was.
    setPlacement((current) => {
      const shift = (bounded - current.size) / 2;
      return { size: bounded, x: Math.round(current.x - shift), y: Math.round(current.y - shift) };
    });
  };

  const stamp = async (event: FormEvent) => {
    event.preventDefault();
    if (!file || !bytes || offPage || docType === '') return;
    setBusy(true);
    setProblem(null);
    const form = new FormData();
    form.set('page', String(pageNumber));
    if (page) {
      form.set('x', String(placement.x));
      form.set('y', String(placement.y));
    }
    form.set('size', String(placement.size));
    form.set('doc_type', docType);
    if (docNumber.trim() !== '') form.set('doc_number', docNumber.trim());
    if (docDate !== '') form.set('doc_date', docDate);
    if (password !== '') form.set('password', password);
    form.set('file', new Blob([bytes.slice()], { type: 'application/pdf' }), file.name);
    try {
      const view = await api<StampView>('/v1/stamps', {
        method: 'POST',
        token: session.token,
        body: form,
        idempotencyKey: stampKey.current,
      });
      setResult(view);
      stampKey.current = newIdempotencyKey('stamp');
      await refreshMe();
    } catch (error) {
      setProblem(error);
      refreshMe().catch(() => {});
    } finally {
      setBusy(false);
    }
  };

  const download = async (view: StampView) => {
    setDownloading(true);
    try {
      const { blob, fileName } = await apiFile(
        `/v1/stamps/${encodeURIComponent(view.id)}/file`,
        session.token,
        `${view.serial}.pdf`,
      );
      saveFile(blob, fileName);
    } catch (error) {
      setProblem(error);
    } finally {
      setDownloading(false);
    }
  };

  if (result) {
    const failed = result.status === 'refunded';
    return (
      <>
        <ScreenHeading>{failed ? words.t('stampRefunded') : words.t('stampedTitle')}</ScreenHeading>
        <section
          className={`card result ${failed ? 'bad' : 'good'}`}
          data-testid="stamp-result"
          data-status={result.status}
        >
          {failed ? (
            <p>{words.t('historyReason', { reason: result.reason_code ?? '' })}</p>
          ) : (
            <>
              <dl className="facts">
                <dt>{words.t('stampedSerial')}</dt>
                <dd className="mono serial" data-testid="serial">
                  {result.serial}
                </dd>
              </dl>
              <button
                type="button"
                className="primary"
                disabled={downloading}
                onClick={() => void download(result)}
              >
                {downloading ? words.t('downloading') : words.t('download')}
              </button>
              {result.expires_at ? (
                <p className="hint">{words.t('stampedKept', { time: words.dateTime(result.expires_at) })}</p>
              ) : null}
              <p>
                <a href="/verify" data-testid="verify-link">
                  {words.t('verifyLink')}
                </a>{' '}
                — <span className="hint">{words.t('verifyLinkHint')}</span>
              </p>
              <p>
                <a href={`/s/${encodeURIComponent(result.serial)}`}>{words.t('serialPageLink')}</a>
              </p>
            </>
          )}
          {problem ? <Problem>{errorText(problem, words.language)}</Problem> : null}
          <div className="row">
            <button type="button" onClick={() => void choose(null)}>
              {words.t('stampAnother')}
            </button>
            <Link to={paths.history}>{words.t('navHistory')}</Link>
          </div>
        </section>
      </>
    );
  }

  const noQuota = me !== null && me.quota.available < 1;
  const refusedBeforeQuota =
    problem instanceof ApiError &&
    problem.status >= 400 &&
    problem.status < 500 &&
    problem.status !== 409 &&
    problem.status !== 429;

  return (
    <>
      <ScreenHeading>{words.t('stampTitle')}</ScreenHeading>
      {me ? (
        <p className="hint" data-testid="stamp-quota">
          {words.t('stampQuota', { count: words.number(me.quota.available) })}
        </p>
      ) : null}
      {noQuota ? (
        <Problem>
          {words.t('stampNoQuota')} <Link to={paths.quota}>{words.t('buyTitle')}</Link>
        </Problem>
      ) : null}
      <form className="card stamp-layout" onSubmit={stamp} noValidate>
        <div className="stamp-document">
          <label htmlFor="file">{words.t('fileLabel')}</label>
          <input
            id="file"
            name="file"
            type="file"
            accept="application/pdf,.pdf"
            aria-describedby="file-hint"
            onChange={(event) => void choose(event.target.files?.[0] ?? null)}
          />
          <p className="hint" id="file-hint">
            {words.t('fileHint')}
          </p>
          {file && file.size > fileBytesMax ? <Problem>{words.t('fileHint')}</Problem> : null}

          {preview.kind === 'password' ? (
            <div className="password">
              <Note>{preview.wrong ? words.t('passwordWrong') : words.t('passwordNeeded')}</Note>
              <label htmlFor="password">{words.t('passwordLabel')}</label>
              <input
                id="password"
                type="password"
                autoComplete="off"
                value={password}
                onChange={(event) => setPassword(event.target.value)}
              />
              <button type="button" onClick={() => bytes && void open(bytes, password)}>
                {words.t('passwordOpen')}
              </button>
            </div>
          ) : null}
          {preview.kind === 'loading' ? <Note>{words.t('previewLoading')}</Note> : null}
          {preview.kind === 'failed' ? (
            <Note>{words.t('previewFailed', { problem: preview.problem })}</Note>
          ) : null}

          {preview.kind === 'ready' ? (
            <>
              <div className="pager" role="group" aria-label={words.t('pageLabel')}>
                <button
                  type="button"
                  onClick={() => setPageNumber((number) => Math.max(1, number - 1))}
                  disabled={pageNumber <= 1}
                  aria-label={words.t('previousPage')}
                >
                  ‹
                </button>
                <label htmlFor="page-number" className="visually-hidden">
                  {words.t('pageLabel')}
                </label>
                <select
                  id="page-number"
                  value={pageNumber}
                  onChange={(event) => setPageNumber(Number(event.target.value))}
                >
                  {Array.from({ length: preview.document.pageCount }, (_, index) => (
                    <option key={index + 1} value={index + 1}>
                      {words.t('pageOf', { page: index + 1, count: preview.document.pageCount })}
                    </option>
                  ))}
                </select>
                <button
                  type="button"
                  onClick={() => setPageNumber((number) => Math.min(preview.document.pageCount, number + 1))}
                  disabled={pageNumber >= preview.document.pageCount}
                  aria-label={words.t('nextPage')}
                >
                  ›
                </button>
              </div>
              <div className="preview-frame" ref={frame}>
                <div className="preview" style={{ width: `${cssWidth}px` }}>
                  <canvas
                    ref={canvas}
                    aria-label={words.t('previewLabel', { page: pageNumber })}
                    role="img"
                  />
                  {page ? (
                    <div
                      className={`seal ${offPage ? 'off' : ''}`}
                      data-testid="seal"
                      role="slider"
                      tabIndex={0}
                      aria-label={words.t('sealLabel')}
                      aria-valuetext={words.t('sealPosition', {
                        size: placement.size,
                        x: placement.x,
                        y: placement.y,
                      })}
                      aria-valuenow={placement.x}
                      style={{
                        left: `${placement.x * scale}px`,
                        top: `${(page.heightPt - placement.y - placement.size) * scale}px`,
                        width: `${placement.size * scale}px`,
                        height: `${placement.size * scale}px`,
                        fontSize: `${label?.px ?? sealLabelPxMin}px`,
                      }}
                      onPointerDown={onPointerDown}
                      onPointerMove={onPointerMove}
                      onPointerUp={onPointerUp}
                      onPointerCancel={onPointerUp}
                      onKeyDown={onKeyDown}
                    >
                      {label === null ? (
                        <SealIcon />
                      ) : label.lines === 1 ? (
                        <span>e-meterai</span>
                      ) : (
                        <span>
                          e-
                          <br />
                          meterai
                        </span>
                      )}
                    </div>
                  ) : null}
                </div>
              </div>
              <p className="hint" data-testid="seal-position">
                {words.t('sealPosition', { size: placement.size, x: placement.x, y: placement.y })}
              </p>
              {offPage ? (
                <p className="warning" role="alert" data-testid="off-page">
                  {words.t('sealOffPage')}
                </p>
              ) : null}
              {coversText ? (
                <p className="warning" role="status" data-testid="over-text">
                  {words.t('sealOverText')}
                </p>
              ) : null}
            </>
          ) : null}
        </div>

        <div className="stamp-fields">
          <label htmlFor="seal-size">{words.t('sizeLabel')}</label>
          <div className="row">
            <input
              id="seal-size"
              type="range"
              min={sealSizeMin}
              max={sealSizeMax}
              step={1}
              value={placement.size}
              aria-describedby="size-hint"
              onChange={(event) => resize(event.target.value)}
            />
            <output htmlFor="seal-size">{placement.size} pt</output>
          </div>
          <p className="hint" id="size-hint">
            {words.t('sizeHint', { min: sealSizeMin, max: sealSizeMax })}
          </p>

          <label htmlFor="doc-type">{words.t('docTypeLabel')}</label>
          <select id="doc-type" required value={docType} onChange={(event) => setDocType(event.target.value)}>
            <option value="">{words.t('docTypeChoose')}</option>
            {docTypes.map((type) => (
              <option key={type.code} value={type.code}>
                {words.language === 'id' ? type.id : type.en}
              </option>
            ))}
          </select>
          <label htmlFor="doc-number">{words.t('docNumberLabel')}</label>
          <input
            id="doc-number"
            type="text"
            maxLength={100}
            value={docNumber}
            onChange={(event) => setDocNumber(event.target.value)}
          />
          <label htmlFor="doc-date">{words.t('docDateLabel')}</label>
          <input
            id="doc-date"
            type="date"
            value={docDate}
            onChange={(event) => setDocDate(event.target.value)}
          />

          <button
            type="submit"
            className="primary"
            data-testid="stamp-submit"
            disabled={busy || !file || offPage || docType === '' || noQuota}
          >
            {busy ? words.t('stamping') : words.t('stampSubmit')}
          </button>
          {busy ? <Note>{words.t('stamping')}</Note> : null}
          {problem ? (
            <div className="refusal" data-testid="stamp-problem" ref={refusal}>
              <Problem code={problem instanceof ApiError ? problem.code : undefined}>
                {words.t('stampRefused')}: {errorText(problem, words.language)}
              </Problem>
              {refusedBeforeQuota ? (
                <p>{words.t('stampRefusedQuota')}</p>
              ) : (
                <p className="hint">{words.t('retryHint')}</p>
              )}
            </div>
          ) : null}
        </div>
      </form>
    </>
  );
}
