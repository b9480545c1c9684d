/**
 * Text from an outside source (a Prometheus error, a webhook's reason) made safe for a record, a
 * log line or a terminal: control characters out, then cut to `max`.
 */
export function printable(text: string, max: number): string {
  const clean = text.replace(/[\u0000-\u001f\u007f]+/g, ' ');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}
