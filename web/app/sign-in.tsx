/**
 * Sign-in: a WhatsApp number, then the 6-digit code sent to it. In development mode (the server has
 * `GET /v1/dev/outbox/latest`) a banner says where codes go and shows the newest one for the number.
 */
import { type FormEvent, useEffect, useState } from 'react';
import { type DevOutbox, type Session, api, errorText } from './api.js';
import { useWords } from './language.js';
import { Note, Problem, ScreenHeading } from './ui.js';

interface OtpSent {
  readonly phone: string;
  readonly expires_at: string;
}

interface Verified {
  readonly token: string;
  readonly expires_at: string;
  readonly account: { readonly phone: string };
}

/** The development banner's facts, polled while a code is awaited; null on a production node (404). */
function useDevOutbox(phone: string | null): DevOutbox | null {
  const [outbox, setOutbox] = useState<DevOutbox | null>(null);
  useEffect(() => {
    let stopped = false;
    const load = () => {
      const query = phone ? `?phone=${encodeURIComponent(phone)}` : '';
      api<DevOutbox>(`/v1/dev/outbox/latest${query}`)
        .then((answer) => {
          if (!stopped) setOutbox(answer);
        })
        .catch(() => {
          if (!stopped) setOutbox(null);
        });
    };
    load();
    // The outbox is written a moment after the code is requested: look again while waiting for it.
    const timer = phone ? setInterval(load, 1500) : undefined;
    return () => {
      stopped = true;
      if (timer) clearInterval(timer);
    };
  }, [phone]);
  return outbox;
}

export function SignInScreen(props: {
  readonly onSignedIn: (session: Session) => void;
  readonly ended: boolean;
}) {
  const words = useWords();
  const [phone, setPhone] = useState('');
  const [sentTo, setSentTo] = useState<string | null>(null);
  const [code, setCode] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<unknown>(null);
  const outbox = useDevOutbox(sentTo);

  const requestCode = async (event?: FormEvent) => {
    event?.preventDefault();
    setBusy(true);
    setProblem(null);
    try {
      const sent = await api<OtpSent>('/v1/auth/otp', { method: 'POST', body: { phone } });
      setSentTo(sent.phone);
      setCode('');
    } catch (error) {
      setProblem(error);
    } finally {
      setBusy(false);
    }
  };

  const verify = async (event: FormEvent) => {
    event.preventDefault();
    if (!sentTo) return;
    setBusy(true);
    setProblem(null);
    try {
      const verified = await api<Verified>('/v1/auth/verify', {
        method: 'POST',
        body: { phone: sentTo, code: code.trim() },
      });
      props.onSignedIn({
        token: verified.token,
        expiresAt: verified.expires_at,
        phone: verified.account.phone,
      });
    } catch (error) {
      setProblem(error);
      setBusy(false);
    }
  };

  return (
    <section className="card narrow">
      <ScreenHeading>{words.t('signInTitle')}</ScreenHeading>
      {props.ended ? <Note>{words.t('sessionEnded')}</Note> : null}
      <p>{words.t('signInIntro')}</p>
      {outbox ? (
        <aside className="dev-banner" aria-labelledby="dev-banner-title" data-testid="dev-banner">
          <h2 id="dev-banner-title">{words.t('devBannerTitle')}</h2>
          <p>
            {outbox.channel === 'file'
              ? words.t('devBannerBody', { outbox: outbox.outbox ?? '' })
              : words.t('devBannerOther')}
          </p>
          {sentTo && outbox.channel === 'file' ? (
            <p>
              {words.t('devBannerCode', { phone: sentTo })}{' '}
              {outbox.code ? (
                <strong className="dev-code" data-testid="dev-code">
                  {outbox.code}
                </strong>
              ) : (
                words.t('devBannerWaiting')
              )}
            </p>
          ) : null}
        </aside>
      ) : null}
      {sentTo === null ? (
        <form onSubmit={requestCode} noValidate>
          <label htmlFor="phone">{words.t('phoneLabel')}</label>
          <input
            id="phone"
            name="phone"
            type="tel"
            inputMode="tel"
            autoComplete="tel"
            required
            aria-describedby="phone-hint"
            value={phone}
            onChange={(event) => setPhone(event.target.value)}
          />
          <p className="hint" id="phone-hint">
            {words.t('phoneHint')}
          </p>
          <button type="submit" className="primary" disabled={busy || phone.trim() === ''}>
            {busy ? words.t('sendingCode') : words.t('sendCode')}
          </button>
        </form>
      ) : (
        <form onSubmit={verify} noValidate>
          <Note>{words.t('codeSent', { phone: sentTo })}</Note>
          <label htmlFor="code">{words.t('codeLabel')}</label>
          <input
            id="code"
            name="code"
            type="text"
            inputMode="numeric"
            autoComplete="one-time-code"
            pattern="[0-9]*"
            maxLength={6}
            required
            value={code}
            onChange={(event) => setCode(event.target.value.replace(/\D/g, ''))}
          />
          <button type="submit" className="primary" disabled={busy || code.length !== 6}>
            {busy ? words.t('signingIn') : words.t('signIn')}
          </button>
          <div className="row">
            <button type="button" className="quiet" onClick={() => void requestCode()} disabled={busy}>
              {words.t('resendCode')}
            </button>
            <button type="button" className="quiet" onClick={() => setSentTo(null)} disabled={busy}>
              {words.t('changeNumber')}
            </button>
          </div>
        </form>
      )}
      {problem ? <Problem>{errorText(problem, words.language)}</Problem> : null}
    </section>
  );
}
