// What a recorded tool result looks like in the log: the (redacted) value itself, or a marker when it was too big.
import { z } from 'zod';

/** Stands in for a value whose JSON was over the writer's size limit. */
export const TruncatedValue = z.object({
  truncated: z.literal(true),
  /** UTF-8 size of the value's JSON, in bytes. */
  bytes: z.number().int().min(0),
  /** The start of that JSON, so a reader sees what it was. */
  preview: z.string(),
});
export type TruncatedValue = z.infer<typeof TruncatedValue>;

/** A tool result as recorded: redacted by path, and replaced by a TruncatedValue when over the limit. */
export const RecordedResult = z.union([TruncatedValue, z.record(z.string(), z.unknown())]);
export type RecordedResult = z.infer<typeof RecordedResult>;

/** The longest preview a TruncatedValue carries, in characters. */
export const TRUNCATION_PREVIEW_CHARS = 1024;

export function isTruncatedValue(value: unknown): value is TruncatedValue {
  return TruncatedValue.safeParse(value).success;
}

/**
 * The value itself when its JSON fits in `maxBytes`, else a TruncatedValue. The JSON length in
 * characters bounds its UTF-8 size (1 to 3 bytes per UTF-16 unit), so most values are settled without
 * counting bytes.
 */
export function limitSize(value: unknown, maxBytes: number): unknown {
  if (value === undefined || value === null || typeof value !== 'object') return value;
  const json = JSON.stringify(value);
  if (json.length * 3 <= maxBytes) return value;
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes <= maxBytes) return value;
  return { truncated: true, bytes, preview: cutPreview(json, Math.min(TRUNCATION_PREVIEW_CHARS, maxBytes)) };
}

/** The first `chars` characters, never ending in half a surrogate pair. */
function cutPreview(text: string, chars: number): string {
  if (text.length <= chars) return text;
  const last = text.charCodeAt(chars - 1);
  const end = last >= 0xd800 && last <= 0xdbff ? chars - 1 : chars;
  return text.slice(0, end);
}
