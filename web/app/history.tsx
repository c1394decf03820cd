/**
 * History: every stamp, newest first, with its status in plain words ("Berhasil", "Gagal — kuota
 * dikembalikan otomatis"), re-download while the file is kept, and pages loaded on demand.
 */
import { useCallback, useEffect, useState } from 'react';
import { type StampView, api, apiFile, errorText, saveFile } from './api.js';
import { useWords } from './language.js';
import type { TextKey } from './texts.js';
import { Note, Problem, ScreenHeading, useSession } from './ui.js';

export const historyPageSize = 10;

const statusKeys: Readonly<Record<StampView['status'], TextKey>> = {
  stamped: 'historyStamped',
  refunded: 'historyRefunded',
  pending: 'historyPending',
};

/** Plain words for a refund's reason code; an unknown code is shown as the code itself. */
export function reasonKey(code: string): TextKey | null {
  if (/DAMAGED|TRUNCATED/.test(code)) return 'reasonPdfDamaged';
  if (/PASSWORD/.test(code)) return 'reasonPassword';
  if (/OUT_OF_PAGE|OFF_PAGE|PLACEMENT/.test(code)) return 'reasonOutOfPage';
  if (/PDF/.test(code)) return 'reasonPdfInvalid';
  if (/BUSY|OVERLOAD|QUEUE/.test(code)) return 'reasonBusy';
  if (/INTERRUPT|RESTART/.test(code)) return 'reasonInterrupted';
  return null;
}

export function HistoryScreen() {
  const words = useWords();
  const { session } = useSession();
  const [items, setItems] = useState<StampView[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [problem, setProblem] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(
    async (after: string | null) => {
      setBusy(true);
      try {
        const query = `?limit=${historyPageSize}${after ? `&cursor=${encodeURIComponent(after)}` : ''}`;
        const page = await api<{ items: StampView[]; next_cursor: string | null }>(`/v1/stamps${query}`, {
          token: session.token,
        });
        setItems((previous) => (after && previous ? [...previous, ...page.items] : page.items));
        setCursor(page.next_cursor);
      } catch (error) {
        setProblem(error);
      } finally {
        setBusy(false);
      }
    },
    [session.token],
  );

  useEffect(() => {
    void load(null);
  }, [load]);

  const download = async (item: StampView) => {
    try {
      const { blob, fileName } = await apiFile(
        `/v1/stamps/${encodeURIComponent(item.id)}/file`,
        session.token,
        `${item.serial}.pdf`,
      );
      saveFile(blob, fileName);
    } catch (error) {
      setProblem(error);
    }
  };

  const reasonWords = (code: string) => {
    const key = reasonKey(code);
    return key ? words.t(key) : words.t('reasonGeneric', { code });
  };

  return (
    <>
      <ScreenHeading>{words.t('historyTitle')}</ScreenHeading>
      {items === null ? (
        <Note>{words.t('loading')}</Note>
      ) : items.length === 0 ? (
        <p>{words.t('historyEmpty')}</p>
      ) : (
        <ol className="history" data-testid="history">
          {items.map((item) => (
            <li key={item.id} className="card" data-status={item.status}>
              <p className="history-head">
                <strong className="file-name">{item.file_name}</strong>
                <span className={`badge ${item.status}`} data-testid="history-status">
                  {words.t(statusKeys[item.status] ?? 'historyPending')}
                </span>
              </p>
              <p className="hint">
                {words.t('historyCreated', { time: words.dateTime(item.created_at) })}
                {item.page ? ` · ${words.t('historyPage', { page: item.page })}` : ''}
              </p>
              {item.status === 'stamped' ? (
                <p className="mono serial">
                  <a href={`/s/${encodeURIComponent(item.serial)}`}>{item.serial}</a>
                </p>
              ) : null}
              {item.status === 'refunded' && item.reason_code ? (
                <p>{words.t('historyReason', { reason: reasonWords(item.reason_code) })}</p>
              ) : null}
              {item.status === 'stamped' ? (
                item.downloadable ? (
                  <div className="row">
                    <button type="button" onClick={() => void download(item)}>
                      {words.t('download')}
                    </button>
                    {item.expires_at ? (
                      <span className="hint">
                        {words.t('historyKeptUntil', { time: words.dateTime(item.expires_at) })}
                      </span>
                    ) : null}
                  </div>
                ) : (
                  <p className="hint">{words.t('historyGone')}</p>
                )
              ) : null}
            </li>
          ))}
        </ol>
      )}
      {cursor ? (
        <button type="button" disabled={busy} onClick={() => void load(cursor)}>
          {words.t('loadMore')}
        </button>
      ) : null}
      {problem ? <Problem>{errorText(problem, words.language)}</Problem> : null}
    </>
  );
}
