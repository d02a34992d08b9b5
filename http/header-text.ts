// Node hands header values over as latin1 (one character per byte), so UTF-8 text sent by clients (an app
// name in X-Title, say) arrives as mojibake. Bytes that form valid UTF-8 are read as such; anything else
// is kept as it came.
const utf8 = new TextDecoder('utf-8', { fatal: true });

export function headerText(value: string): string {
  // Pure ASCII is the same in both readings: the common case costs one regex test.
  if (!/[^\x00-\x7f]/.test(value)) return value;
  const bytes = Buffer.from(value, 'latin1');
  try {
    return utf8.decode(bytes);
  } catch {
    return value;
  }
}
