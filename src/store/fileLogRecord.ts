// The file log's record framing: `<byteLength>\t<crc32 hex>\t<json>\n` (the writer pads the length to 10 digits), so a torn or flipped record is detected.
import { crc32 } from 'node:zlib';

const TAB = 0x09;
const NEWLINE = 0x0a;
/** Longest length field accepted (10 digits covers any segment). */
const MAX_LENGTH_DIGITS = 10;

/** Header bytes: a 10-digit length, a tab, 8 hex digits of CRC32, a tab. Fixed width, so a batch is framed in place. */
export const HEADER_BYTES = 20;
const LENGTH_DIGITS = 10;
const HEX = Buffer.from('0123456789abcdef', 'latin1');

/** One framed record as a string (for tests and baselines; the writer frames a whole batch with `frameInto`). */
export function encodeRecord(json: string): string {
  const buffer = Buffer.allocUnsafe(HEADER_BYTES + Buffer.byteLength(json) + 1);
  const frameBytes = frameInto(buffer, 0, json);
  return buffer.toString('utf8', 0, frameBytes);
}

/** Frames `json` into `buffer` at `position` (room for `HEADER_BYTES + 3 × json.length + 1` needed); returns its bytes. */
export function frameInto(buffer: Buffer, position: number, json: string): number {
  const jsonStart = position + HEADER_BYTES;
  const jsonBytes = buffer.write(json, jsonStart, 'utf8');
  const jsonEnd = jsonStart + jsonBytes;
  buffer[jsonEnd] = NEWLINE;
  let length = jsonBytes;
  for (let i = LENGTH_DIGITS - 1; i >= 0; i -= 1) {
    buffer[position + i] = 0x30 + (length % 10);
    length = Math.floor(length / 10);
  }
  buffer[position + LENGTH_DIGITS] = TAB;
  let crc = crc32(buffer.subarray(jsonStart, jsonEnd));
  for (let i = 7; i >= 0; i -= 1) {
    buffer[position + LENGTH_DIGITS + 1 + i] = HEX[crc & 0xf] ?? 0x30;
    crc >>>= 4;
  }
  buffer[position + LENGTH_DIGITS + 9] = TAB;
  return HEADER_BYTES + jsonBytes + 1;
}

export type DecodedRecord =
  | { kind: 'record'; jsonStart: number; jsonEnd: number; next: number }
  /** The bytes end before the record does: a torn write when it is the end of the log. */
  | { kind: 'incomplete' }
  /** `next`: where the frame ends when only its checksum is wrong (its length and newline hold: a flipped bit). */
  | { kind: 'corrupt'; reason: string; next?: number };

/** Decodes the frame at `offset` of `bytes` (up to `end`) and checks its checksum. */
export function decodeRecord(bytes: Buffer, offset: number, end: number = bytes.length): DecodedRecord {
  let cursor = offset;
  let length = 0;
  while (cursor < end && bytes[cursor] !== TAB) {
    const digit = (bytes[cursor] ?? 0) - 0x30;
    if (digit < 0 || digit > 9 || cursor - offset >= MAX_LENGTH_DIGITS) {
      return { kind: 'corrupt', reason: 'malformed length field' };
    }
    length = length * 10 + digit;
    cursor += 1;
  }
  if (cursor >= end) return { kind: 'incomplete' };
  if (cursor === offset) return { kind: 'corrupt', reason: 'empty length field' };
  const crcStart = cursor + 1;
  const jsonStart = crcStart + 9;
  const jsonEnd = jsonStart + length;
  if (jsonEnd + 1 > end) {
    // A header that is itself malformed is corruption even at the end of the log.
    if (crcStart + 9 <= end && bytes[crcStart + 8] !== TAB)
      return { kind: 'corrupt', reason: 'malformed checksum field' };
    return { kind: 'incomplete' };
  }
  if (bytes[crcStart + 8] !== TAB) return { kind: 'corrupt', reason: 'malformed checksum field' };
  const expected = Number.parseInt(bytes.toString('latin1', crcStart, crcStart + 8), 16);
  if (Number.isNaN(expected)) return { kind: 'corrupt', reason: 'malformed checksum field' };
  if (bytes[jsonEnd] !== NEWLINE) return { kind: 'corrupt', reason: 'record does not end with a newline' };
  if (crc32(bytes.subarray(jsonStart, jsonEnd)) !== expected)
    return { kind: 'corrupt', reason: 'checksum mismatch', next: jsonEnd + 1 };
  return { kind: 'record', jsonStart, jsonEnd, next: jsonEnd + 1 };
}

/** Where the next frame might start after damage at `offset`: just past the next newline (or `end`). */
export function resyncOffset(bytes: Buffer, offset: number, end: number = bytes.length): number {
  const newline = bytes.indexOf(NEWLINE, offset);
  return newline === -1 || newline >= end ? end : newline + 1;
}
