/** The <option>s of a <select> or a <datalist>, one per value. */

/** A select's options, each labelled with its value (task states, signals, audit actions). */
export function SelectOptions({ values }: { values: readonly string[] }) {
  return values.map((value) => (
    <option key={value} value={value}>
      {value}
    </option>
  ));
}

/** Suggestions for an <input list={id}>: the browser offers them, anything else may still be typed. */
export function Suggestions({ id, values }: { id: string; values: readonly string[] }) {
  return (
    <datalist id={id}>
      {values.map((value) => (
        <option key={value} value={value} />
      ))}
    </datalist>
  );
}
