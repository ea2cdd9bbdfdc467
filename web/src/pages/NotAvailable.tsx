import { Link } from "react-router";

interface Props {
  title: string;
  what: string[];
  api: string;
}

/** A page whose data the server does not serve yet: say so, show nothing made up. */
export function NotAvailablePage({ title, what, api }: Props) {
  return (
    <div className="page">
      <div className="placeholder card" data-testid="not-available">
        <h1>{title}</h1>
        <p>
          <b>Not available yet.</b> This server does not serve <code>{api}</code> yet, so there is nothing honest
          to show here. When it does, this page will show:
        </p>
        <ul>
          {what.map((w) => (
            <li key={w}>{w}</li>
          ))}
        </ul>
        <p>
          Meanwhile, <Link to="/search">search traces</Link> or open the <Link to="/">overview</Link>.
        </p>
      </div>
    </div>
  );
}

export function NotFoundPage() {
  return (
    <div className="page">
      <div className="placeholder card">
        <h1>Page not found</h1>
        <p>
          Nothing lives at this address. Go to the <Link to="/">overview</Link> or <Link to="/search">search</Link>.
        </p>
      </div>
    </div>
  );
}
