import { useState } from "react";
import { PRESETS, type TimeRange, resolveRange } from "../lib/timeRange";
import { useTimeRange } from "../lib/useTimeRange";

function toLocalInput(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}

/** Preset windows plus an absolute range; the choice is written to the URL. */
export function TimeRangePicker() {
  const [tr, setTr] = useTimeRange();
  const [custom, setCustom] = useState<{ from: string; to: string } | null>(null);
  const value = tr.kind === "relative" ? tr.key : "custom";

  const openCustom = () => {
    const { startMs, endMs } = resolveRange(tr);
    setCustom({ from: toLocalInput(startMs), to: toLocalInput(endMs) });
  };
  const apply = () => {
    if (!custom) return;
    const startMs = new Date(custom.from).getTime();
    const endMs = new Date(custom.to).getTime();
    if (Number.isFinite(startMs) && Number.isFinite(endMs) && startMs < endMs) {
      setTr({ kind: "absolute", startMs, endMs } as TimeRange);
      setCustom(null);
    }
  };
  return (
    <div className="range-picker">
      <select
        aria-label="Time range"
        data-testid="time-range"
        value={value}
        onChange={(e) => {
          if (e.target.value === "custom") openCustom();
          else setTr({ kind: "relative", key: e.target.value });
        }}
      >
        {PRESETS.map((p) => (
          <option key={p.key} value={p.key}>
            {p.label}
          </option>
        ))}
        <option value="custom">{tr.kind === "absolute" ? "Custom range" : "Custom…"}</option>
      </select>
      {tr.kind === "absolute" && (
        <button title="Edit the custom range" onClick={openCustom}>
          {new Date(tr.startMs).toLocaleString()} – {new Date(tr.endMs).toLocaleString()}
        </button>
      )}
      {custom && (
        <div className="custom card">
          <label>
            From
            <input type="datetime-local" value={custom.from} onChange={(e) => setCustom({ ...custom, from: e.target.value })} />
          </label>
          <label>
            To
            <input type="datetime-local" value={custom.to} onChange={(e) => setCustom({ ...custom, to: e.target.value })} />
          </label>
          <div style={{ display: "flex", gap: 8, justifyContent: "flex-end" }}>
            <button onClick={() => setCustom(null)}>Cancel</button>
            <button className="primary" onClick={apply}>
              Apply
            </button>
          </div>
        </div>
      )}
    </div>
  );
}
