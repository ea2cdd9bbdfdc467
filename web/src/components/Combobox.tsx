import { useEffect, useId, useRef, useState } from "react";

interface Props {
  value: string;
  onChange: (v: string) => void;
  /** Suggestions for the typed text; called debounced, may filter server-side. */
  suggest: (text: string, signal: AbortSignal) => Promise<string[]>;
  placeholder?: string;
  label: string;
  width?: number;
  testId?: string;
  onEnter?: () => void;
}

/** A text input with suggestions from the API (services, operations, attributes). */
export function Combobox({ value, onChange, suggest, placeholder, label, width = 180, testId, onEnter }: Props) {
  const [open, setOpen] = useState(false);
  const [items, setItems] = useState<string[]>([]);
  const [active, setActive] = useState(-1);
  const listId = useId();
  const ref = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!open) return;
    const ctl = new AbortController();
    const t = setTimeout(() => {
      suggest(value, ctl.signal).then(
        (list) => {
          const v = value.toLowerCase();
          // Exact prefix matches first, then anything containing the text.
          const pre = list.filter((s) => s.toLowerCase().startsWith(v));
          const rest = list.filter((s) => !s.toLowerCase().startsWith(v) && s.toLowerCase().includes(v));
          setItems([...pre, ...rest].slice(0, 50));
          setActive(-1);
        },
        () => setItems([]),
      );
    }, 120);
    return () => {
      clearTimeout(t);
      ctl.abort();
    };
    // suggest is recreated by parents on every render; value and open drive reloads.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [value, open]);

  useEffect(() => {
    const close = (e: MouseEvent) => {
      if (ref.current && !ref.current.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener("mousedown", close);
    return () => document.removeEventListener("mousedown", close);
  }, []);

  const pick = (v: string) => {
    onChange(v);
    setOpen(false);
  };
  const shown = open && items.length > 0 && !(items.length === 1 && items[0] === value);
  return (
    <div className="combo" ref={ref}>
      <input
        role="combobox"
        aria-label={label}
        aria-expanded={shown}
        aria-controls={listId}
        data-testid={testId}
        style={{ width }}
        value={value}
        placeholder={placeholder}
        onFocus={() => setOpen(true)}
        onChange={(e) => {
          onChange(e.target.value);
          setOpen(true);
        }}
        onKeyDown={(e) => {
          if (e.key === "ArrowDown") {
            e.preventDefault();
            setOpen(true);
            setActive((a) => Math.min(items.length - 1, a + 1));
          } else if (e.key === "ArrowUp") {
            e.preventDefault();
            setActive((a) => Math.max(-1, a - 1));
          } else if (e.key === "Enter") {
            if (shown && active >= 0) {
              e.preventDefault();
              pick(items[active]);
            } else {
              setOpen(false);
              onEnter?.();
            }
          } else if (e.key === "Escape") {
            setOpen(false);
          }
        }}
      />
      {shown && (
        <ul id={listId} role="listbox">
          {items.map((it, i) => (
            <li
              key={it}
              role="option"
              aria-selected={i === active}
              className={i === active ? "active" : ""}
              onMouseDown={(e) => {
                e.preventDefault();
                pick(it);
              }}
            >
              {it}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
