import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { session, useMe, type Me } from './api.ts';
import { Link, useRoute } from './router.tsx';
import { Bulk } from './screens/Bulk.tsx';
import { Enqueue } from './screens/Enqueue.tsx';
import { Failures } from './screens/Failures.tsx';
import { JobDetail } from './screens/JobDetail.tsx';
import { Jobs } from './screens/Jobs.tsx';
import { Overview } from './screens/Overview.tsx';
import { Schedules } from './screens/Schedules.tsx';
import { SignIn } from './screens/SignIn.tsx';
import { Webhooks } from './screens/Webhooks.tsx';

interface Screen {
  path: string;
  title: string;
  /** Who sees it in the menu (the server enforces access regardless). */
  staff?: boolean;
}

const SCREENS: Screen[] = [
  { path: '/', title: 'Overview' },
  { path: '/jobs', title: 'Jobs' },
  { path: '/failures', title: 'Failures', staff: true },
  { path: '/bulk', title: 'Bulk', staff: true },
  { path: '/schedules', title: 'Schedules' },
  { path: '/webhooks', title: 'Webhooks', staff: true },
  { path: '/enqueue', title: 'Enqueue' },
];

export const isStaff = (me: Me) => me.role === 'admin' || me.role === 'operator';

export function App() {
  const [token, setToken] = useState(session.token());
  const me = useMe(token);
  const queryClient = useQueryClient();
  const signOut = () => {
    session.signOut();
    queryClient.clear();
    setToken(null);
  };
  if (!token || me.isError) return <SignIn refused={me.isError ? me.error : undefined} onSignIn={(t) => (session.signIn(t), setToken(t))} />;
  if (!me.data) return <p className="loading">Signing in…</p>;
  return <Shell me={me.data} onSignOut={signOut} />;
}

function Shell({ me, onSignOut }: { me: Me; onSignOut: () => void }) {
  const { path, params } = useRoute();
  const screens = SCREENS.filter((s) => !s.staff || isStaff(me));
  const top = `/${path.split('/')[1] ?? ''}`;
  const current = screens.find((s) => s.path === top) ?? screens[0]!;
  const main = useRef<HTMLElement>(null);
  // After a navigation, focus moves to the new screen's heading region (screen readers announce it).
  useEffect(() => main.current?.focus(), [top]);
  useEffect(() => void (document.title = `${current.title} · jobwire`), [current.title]);

  const jobId = path.startsWith('/jobs/') ? path.slice('/jobs/'.length) : undefined;
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">jobwire</span>
        <nav aria-label="Screens">
          <ul>
            {screens.map((s) => (
              <li key={s.path}>
                <Link to={s.path} aria-current={s === current ? 'page' : undefined}>
                  {s.title}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who">
          <span>
            {me.role} · org {me.organizationId} · user {me.userId}
          </span>
          <button type="button" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        {top === '/jobs' && jobId ? (
          <JobDetail jobId={jobId} me={me} />
        ) : top === '/jobs' ? (
          <Jobs me={me} params={params} />
        ) : top === '/failures' && isStaff(me) ? (
          <Failures me={me} />
        ) : top === '/bulk' && isStaff(me) ? (
          <Bulk me={me} params={params} />
        ) : top === '/schedules' ? (
          <Schedules me={me} />
        ) : top === '/webhooks' && isStaff(me) ? (
          <Webhooks me={me} />
        ) : top === '/enqueue' ? (
          <Enqueue me={me} />
        ) : (
          <Overview me={me} />
        )}
      </main>
    </>
  );
}
