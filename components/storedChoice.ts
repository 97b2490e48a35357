/**
 * A viewer's choice kept in localStorage (the colour theme, UTC or local time), as an external
 * store for useSyncExternalStore: one value for every component that reads it, synced across tabs
 * (the storage event), and kept in memory for this page when storage is unavailable (private mode,
 * storage disabled).
 */

export interface StoredChoice<Value> {
  read: () => Value;
  write: (value: Value) => void;
  subscribe: (listener: () => void) => () => void;
}

export interface StoredChoiceOptions<Value> {
  /** The value for what is stored (null: nothing). */
  parse: (stored: string | null) => Value;
  /** What to store for `value`; null removes the key (the default needs no entry). */
  serialize: (value: Value) => string | null;
  /** Runs on every change, here or in another tab, before components hear of it. */
  onChange?: (value: Value) => void;
}

export function storedChoice<Value>(key: string, { parse, serialize, onChange }: StoredChoiceOptions<Value>): StoredChoice<Value> {
  const listeners = new Set<() => void>();
  /** Used only when localStorage is unavailable. */
  let memory: { value: Value } | null = null;

  const read = (): Value => {
    if (memory) return memory.value;
    try {
      return parse(window.localStorage.getItem(key));
    } catch {
      return parse(null);
    }
  };

  const write = (value: Value): void => {
    try {
      const stored = serialize(value);
      if (stored === null) window.localStorage.removeItem(key);
      else window.localStorage.setItem(key, stored);
      memory = null;
    } catch {
      /* private mode or storage disabled: the choice lasts for this page only */
      memory = { value };
    }
    onChange?.(value);
    for (const listener of listeners) listener();
  };

  const subscribe = (listener: () => void): (() => void) => {
    listeners.add(listener);
    const onStorage = (event: StorageEvent) => {
      if (event.key !== key) return;
      onChange?.(read());
      listener();
    };
    window.addEventListener('storage', onStorage);
    return () => {
      listeners.delete(listener);
      window.removeEventListener('storage', onStorage);
    };
  };

  return { read, write, subscribe };
}
