import { Component, type ReactNode } from "react";

interface State {
  error: Error | null;
}

/**
 * Catches a page's render errors (an API answer of an unexpected shape, a
 * bug) so that the shell and navigation keep working and the user sees
 * what went wrong instead of a blank page.
 */
export class ErrorBoundary extends Component<{ children: ReactNode; resetKey: string }, State> {
  state: State = { error: null };

  static getDerivedStateFromError(error: Error): State {
    return { error };
  }

  componentDidUpdate(prev: { resetKey: string }) {
    if (prev.resetKey !== this.props.resetKey && this.state.error) this.setState({ error: null });
  }

  render() {
    if (!this.state.error) return this.props.children;
    return (
      <div className="page">
        <div className="banner error" role="alert">
          <b>This page failed to render.</b> {this.state.error.message}
          <div style={{ marginTop: 6 }}>
            <button onClick={() => this.setState({ error: null })}>Try again</button>
          </div>
        </div>
      </div>
    );
  }
}
