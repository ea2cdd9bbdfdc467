import { useCallback, useState } from "react";

export type Theme = "dark" | "light";
const KEY = "ariadne.theme";

function current(): Theme {
  return document.documentElement.dataset.theme === "dark" ? "dark" : "light";
}

/**
 * The theme is set before the first paint by index.html (remembered choice,
 * else prefers-color-scheme); toggling remembers the choice.
 */
export function useTheme(): [Theme, () => void] {
  const [theme, setTheme] = useState<Theme>(current);
  const toggle = useCallback(() => {
    const next: Theme = current() === "dark" ? "light" : "dark";
    document.documentElement.dataset.theme = next;
    try {
      localStorage.setItem(KEY, next);
    } catch {
      // private mode: the choice lasts this page only
    }
    setTheme(next);
  }, []);
  return [theme, toggle];
}
