import { formatDateTime } from "../lib/format";
import { diffLines, type DiffLine } from "../lib/schemaDiff";
import type { Contract, ContractDrift } from "../lib/types";

const SIGN: Record<string, string> = { removed: "−", added: "+", changed: "~", same: " " };

function producer(c: Contract) {
  return c.version ? `${c.service} ${c.version}` : c.service;
}

function Types({ line }: { line: DiffLine }) {
  const f = line.field;
  if (f.change === "changed") {
    return (
      <span className="types">
        <del>{f.before}</del> → <ins>{f.after}</ins>
      </span>
    );
  }
  return <span className="types">{f.change === "removed" ? f.before : f.after}</span>;
}

/**
 * A contract drift's schema diff: the message shape the channel carried
 * before and the producer's new one, as a unified diff of the field tree
 * (− removed, + added, ~ type changed), a rename shown as its pair.
 */
export function SchemaDiff({ drift }: { drift: ContractDrift }) {
  const lines = diffLines(drift.fields);
  const count = (c: string) => drift.fields.filter((f) => f.change === c).length;
  const renames = drift.fields.filter((f) => f.renamedTo).length;
  const summary = [
    renames > 0 && `${renames} renamed`,
    count("removed") - renames > 0 && `${count("removed") - renames} removed`,
    count("added") - renames > 0 && `${count("added") - renames} added`,
    count("changed") > 0 && `${count("changed")} changed type`,
  ].filter(Boolean);
  return (
    <div className="schema-diff" data-testid="schema-diff">
      <div className="schema-head">
        <span className="side before">
          <span className="sign">−</span>
          <b>{producer(drift.before)}</b>
          <span className="muted"> sent until {formatDateTime(drift.before.lastSeen)}</span>
        </span>
        <span className="side after">
          <span className="sign">+</span>
          <b>{producer(drift.after)}</b>
          <span className="muted"> sends since {formatDateTime(drift.after.firstSeen)}</span>
        </span>
        <span className="muted">
          on <b>{drift.channel}</b>, read by <b>{drift.consumer}</b>
        </span>
        <span className="summary" data-testid="schema-summary">
          {summary.length > 0 ? summary.join(" · ") : "same fields"}
        </span>
      </div>
      <div className="schema-lines" role="table" aria-label={`Message shape of ${producer(drift.before)} and ${producer(drift.after)}`}>
        {lines.map((l) => (
          <div
            key={l.field.path + l.field.change}
            className={"schema-line " + l.field.change}
            role="row"
            data-testid="schema-line"
            data-change={l.field.change}
            data-path={l.field.path}
          >
            <span className="sign" aria-hidden>
              {SIGN[l.field.change] ?? " "}
            </span>{" "}
            <span style={{ paddingLeft: l.depth * 18 }}>
              <span className="name">{l.name}</span>
              <span className="colon">:</span>
            </span>{" "}
            <Types line={l} />
            {l.field.renamedTo && <span className="note"> renamed to {l.field.renamedTo}</span>}
            {l.field.renamedFrom && <span className="note"> renamed from {l.field.renamedFrom}</span>}
          </div>
        ))}
      </div>
    </div>
  );
}
