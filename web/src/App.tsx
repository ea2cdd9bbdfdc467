import { useState } from "react";
import { NavLink, Route, Routes, useLocation, useNavigate } from "react-router";
import { ErrorBoundary } from "./components/ErrorBoundary";
import { TimeRangePicker } from "./components/TimeRangePicker";
import { RefreshContext } from "./lib/refresh";
import { useTheme } from "./lib/theme";
import { rangeOnly } from "./lib/timeRange";
import { AlertsPage } from "./pages/Alerts";
import { FunctionsPage } from "./pages/Functions";
import { InvocationPage } from "./pages/Invocation";
import { IssuePage, IssuesPage } from "./pages/Issues";
import { NotFoundPage } from "./pages/NotAvailable";
import { OverviewPage } from "./pages/Overview";
import { SearchPage } from "./pages/Search";
import { ServiceMapPage } from "./pages/ServiceMap";
import { TraceViewPage } from "./pages/TraceView";
import { TransactionPage } from "./pages/Transaction";

// Pages are listed once: the navigation and the routes come from here, so a
// page that a later API enables only changes its entry.
interface PageDef {
  path: string;
  label: string;
  /** Shows the time range picker. */
  ranged: boolean;
  element: React.ReactNode;
  /** Not served by the API yet. */
  soon?: boolean;
}

const PAGES: PageDef[] = [
  { path: "/", label: "Overview", ranged: true, element: <OverviewPage /> },
  { path: "/search", label: "Search", ranged: true, element: <SearchPage /> },
  { path: "/map", label: "Service map", ranged: true, element: <ServiceMapPage /> },
  { path: "/issues", label: "Issues", ranged: true, element: <IssuesPage /> },
  { path: "/functions", label: "Functions", ranged: true, element: <FunctionsPage /> },
  { path: "/alerts", label: "Alerts", ranged: false, element: <AlertsPage /> },
];

export function App() {
  const [theme, toggleTheme] = useTheme();
  const loc = useLocation();
  const range = rangeOnly(new URLSearchParams(loc.search)).toString();
  const current = PAGES.find((p) => p.path === loc.pathname);
  // An issue's page charts its occurrences over the range, like the list.
  const ranged = current?.ranged || loc.pathname.startsWith("/issues/");
  const [tick, setTick] = useState(0);
  return (
    <RefreshContext.Provider value={tick}>
      <div className="app">
        <header className="topbar">
          <NavLink to={{ pathname: "/", search: range }} className="brand" aria-label="Ariadne home">
            <img src="/favicon.svg" width={22} height={22} alt="" />
            Ariadne
          </NavLink>
          <nav className="nav" aria-label="Main">
            {PAGES.map((p) => (
              <NavLink key={p.path} to={{ pathname: p.path, search: range }} end={p.path === "/"} data-testid={"nav-" + p.label}>
                {p.label}
                {p.soon && <span className="soon">soon</span>}
              </NavLink>
            ))}
          </nav>
          <span className="spacer" />
          <GotoTrace />
          {ranged && <TimeRangePicker />}
          {ranged && (
            <button onClick={() => setTick((t) => t + 1)} title="Load fresh data" aria-label="Refresh" data-testid="refresh">
              ⟳
            </button>
          )}
          <button
            onClick={toggleTheme}
            data-testid="theme-toggle"
            title={`Switch to the ${theme === "dark" ? "light" : "dark"} theme`}
            aria-label="Toggle theme"
          >
            {theme === "dark" ? "☀" : "☾"}
          </button>
        </header>
        <main className="main">
          <ErrorBoundary resetKey={loc.pathname}>
            <Routes>
              {PAGES.map((p) => (
                <Route key={p.path} path={p.path} element={p.element} />
              ))}
              <Route path="/trace/:traceId" element={<TraceViewPage />} />
              <Route path="/transaction/:traceId" element={<TransactionPage />} />
              <Route path="/issues/:id" element={<IssuePage />} />
              <Route path="/invocations/:requestId" element={<InvocationPage />} />
              <Route path="*" element={<NotFoundPage />} />
            </Routes>
          </ErrorBoundary>
        </main>
      </div>
    </RefreshContext.Provider>
  );
}

/** Jumps to a trace by id, as pasted from a log line or another tool. */
function GotoTrace() {
  const [v, setV] = useState("");
  const navigate = useNavigate();
  const id = v.trim().toLowerCase();
  const valid = /^[0-9a-f]{32}$/.test(id);
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        if (!valid) return;
        navigate(`/trace/${id}`);
        setV("");
      }}
    >
      <input
        className={"goto-trace" + (id && !valid ? " invalid" : "")}
        aria-label="Go to trace id"
        data-testid="goto-trace"
        placeholder="Go to trace id…"
        title={id && !valid ? "a trace id is 32 hex digits" : "Paste a trace id and press Enter"}
        value={v}
        onChange={(e) => setV(e.target.value)}
      />
    </form>
  );
}
