/**
 * 1234567.5 → "1,234,567.5". Not toLocaleString: its first call loads ICU number formatting (~20 ms), more than the
 * triage of a small capture takes.
 */
export function grouped(value: number): string {
  const [whole = "", fraction] = String(value).split(".");
  const withCommas = whole.replace(/\B(?=(\d{3})+$)/g, ",");
  return fraction === undefined ? withCommas : `${withCommas}.${fraction}`;
}
