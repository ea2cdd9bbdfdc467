import { createContext, useContext } from "react";

/**
 * A counter the shell bumps when the user asks for fresh data; pages put it
 * in their request keys so that a relative range ("last hour") is re-read.
 */
export const RefreshContext = createContext(0);

export function useRefreshTick(): number {
  return useContext(RefreshContext);
}
