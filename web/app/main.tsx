/**
 * The applicant's web app: one page at `/app` whose client-side routes are the screens (sign-in, quota
 * and orders, stamp, history, waiting room, operator dashboard). Everything it fetches is this origin's
 * API; the page's CSP forbids any other origin and any inline script.
 */
import { StrictMode, useCallback, useEffect, useMemo, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { type Me, type Session, api, loadSession, onSessionEnded, saveSession } from './api.js';
import { WordsContext, storeLanguage, storedLanguage, wordsFor } from './language.js';
import { HistoryScreen } from './history.js';
import { OperatorScreen } from './operator.js';
import { OrderScreen, QuotaScreen } from './quota.js';
import { Link, navigate, paths, routeOf, usePathname } from './router.js';
import { SignInScreen } from './sign-in.js';
import { StampScreen } from './stamp.js';
import type { Language } from './texts.js';
import { Note, ScreenHeading, SessionContext, type SessionState } from './ui.js';
import { WaitingRoomScreen, useWaitingRoom } from './waiting-room.js';

function App() {
  const [language, setLanguage] = useState<Language>(storedLanguage);
  const words = useMemo(() => wordsFor(language), [language]);
  const [session, setSession] = useState<Session | null>(loadSession);
  const [me, setMe] = useState<Me | null>(null);
  const [ended, setEnded] = useState(false);
  const pathname = usePathname();
  const route = routeOf(pathname);
  const waiting = useWaitingRoom();

  useEffect(() => {
    document.documentElement.lang = language;
    document.title = `bubuh — ${words.t('brandTag')}`;
  }, [language, words]);

  const signOut = useCallback((serverSide: boolean) => {
    const current = loadSession();
    if (serverSide && current) {
      api('/v1/auth/logout', { method: 'POST', token: current.token }).catch(() => {});
    }
    saveSession(null);
    setSession(null);
    setMe(null);
    navigate(paths.signIn, { replace: true });
  }, []);

  useEffect(() => {
    onSessionEnded(() => {
      setEnded(true);
      signOut(false);
    });
  }, [signOut]);

  const refreshMe = useCallback(async () => {
    if (!session) return null;
    const fresh = await api<Me>('/v1/me', { token: session.token });
    setMe(fresh);
    return fresh;
  }, [session]);

  useEffect(() => {
    refreshMe().catch(() => {});
  }, [refreshMe]);

  // Signed out: every screen but the waiting room leads to sign-in; signed in, sign-in leads home.
  useEffect(() => {
    if (!session && route.screen !== 'sign-in' && route.screen !== 'queue')
      navigate(paths.signIn, { replace: true });
    if (session && route.screen === 'sign-in') navigate(paths.quota, { replace: true });
  }, [session, route.screen]);

  const sessionState: SessionState | null = useMemo(
    () => (session ? { session, me, refreshMe } : null),
    [session, me, refreshMe],
  );

  const switchLanguage = () => {
    const next: Language = language === 'id' ? 'en' : 'id';
    storeLanguage(next);
    setLanguage(next);
  };

  const signedIn = (fresh: Session) => {
    saveSession(fresh);
    setEnded(false);
    setSession(fresh);
    navigate(paths.quota, { replace: true });
  };

  // While waiting, the screen stays mounted but hidden: what the person typed is still there after.
  const queued = waiting.ticket !== null && route.screen !== 'operator';
  let screen;
  if (route.screen === 'queue') screen = <WaitingRoomScreen state={waiting} />;
  else if (!sessionState) screen = <SignInScreen onSignedIn={signedIn} ended={ended} />;
  else if (route.screen === 'quota') screen = <QuotaScreen />;
  else if (route.screen === 'order') screen = <OrderScreen key={route.orderId} orderId={route.orderId} />;
  else if (route.screen === 'stamp') screen = <StampScreen />;
  else if (route.screen === 'history') screen = <HistoryScreen />;
  else if (route.screen === 'operator') screen = <OperatorScreen />;
  else if (route.screen === 'sign-in') screen = <Note>{words.t('loading')}</Note>;
  else
    screen = (
      <>
        <ScreenHeading>{words.t('notFoundTitle')}</ScreenHeading>
        <p>{words.t('notFoundBody')}</p>
        <Link to={paths.quota}>{words.t('backHome')}</Link>
      </>
    );

  const isOperator = me?.roles.includes('platform_operator') ?? false;
  const navItems: { to: string; key: Parameters<typeof words.t>[0]; active: boolean }[] = [
    { to: paths.quota, key: 'navQuota', active: route.screen === 'quota' || route.screen === 'order' },
    { to: paths.stamp, key: 'navStamp', active: route.screen === 'stamp' },
    { to: paths.history, key: 'navHistory', active: route.screen === 'history' },
  ];
  if (isOperator)
    navItems.push({ to: paths.operator, key: 'navOperator', active: route.screen === 'operator' });

  return (
    <WordsContext.Provider value={words}>
      <SessionContext.Provider value={sessionState}>
        <a className="skip-link" href="#main">
          {words.t('skip')}
        </a>
        <header className="bar">
          <p className="brand">
            bubuh <span>{words.t('brandTag')}</span>
          </p>
          <div className="bar-actions">
            <button
              type="button"
              className="language"
              lang={language === 'id' ? 'en' : 'id'}
              aria-label={words.t('languageSwitchLabel')}
              onClick={switchLanguage}
            >
              {words.t('languageSwitch')}
            </button>
            {session ? (
              <button type="button" className="quiet" onClick={() => signOut(true)}>
                {words.t('signOut')}
              </button>
            ) : null}
          </div>
        </header>
        {session ? (
          <nav className="tabs" aria-label={words.t('navLabel')}>
            {navItems.map((item) => (
              <Link key={item.to} to={item.to} aria-current={item.active ? 'page' : undefined}>
                {words.t(item.key)}
              </Link>
            ))}
            <a href="/verify">{words.t('navVerify')}</a>
          </nav>
        ) : null}
        <main id="main" data-screen={queued ? 'queue' : route.screen}>
          {queued && route.screen !== 'queue' ? <WaitingRoomScreen state={waiting} /> : null}
          <div hidden={queued && route.screen !== 'queue'}>{screen}</div>
        </main>
        <footer className="footer">
          <p>{words.t('footer')}</p>
        </footer>
      </SessionContext.Provider>
    </WordsContext.Provider>
  );
}

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}
