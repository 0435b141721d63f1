/** A URL or connstring fit for messages and logs: its password replaced, or a placeholder when it does not parse. */
export function redactUrl(value: string): string {
  try {
    const u = new URL(value);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}
