// The file log's record framing: `<byteLength>\t<crc32 hex>\t<json>\n`, so a torn or flipped record is detected.
import { crc32 } from 'node:zlib';

const TAB = 0x09;
const NEWLINE = 0x0a;
/** Longest length field accepted (10 digits covers any segment). */
const MAX_LENGTH_DIGITS = 10;

/** One framed record as a string (its header is ASCII, so its byte length is the header's plus the JSON's). */
export interface EncodedRecord {
  text: string;
  /** Bytes of the whole frame, header and newline included. */
  frameBytes: number;
}

export function encodeRecord(json: string): EncodedRecord {
  const jsonBytes = Buffer.byteLength(json);
  const header = `${jsonBytes}\t${crc32(json).toString(16).padStart(8, '0')}\t`;
  return { text: `${header}${json}\n`, frameBytes: header.length + jsonBytes + 1 };
}

export type DecodedRecord =
  | { kind: 'record'; jsonStart: number; jsonEnd: number; next: number }
  /** The bytes end before the record does: a torn write when it is the end of the log. */
  | { kind: 'incomplete' }
  | { kind: 'corrupt'; reason: string };

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
  if (crc32(bytes.subarray(jsonStart, jsonEnd)) !== expected) return { kind: 'corrupt', reason: 'checksum mismatch' };
  return { kind: 'record', jsonStart, jsonEnd, next: jsonEnd + 1 };
}

/** Where the next frame might start after damage at `offset`: just past the next newline (or `end`). */
export function resyncOffset(bytes: Buffer, offset: number, end: number = bytes.length): number {
  const newline = bytes.indexOf(NEWLINE, offset);
  return newline === -1 || newline >= end ? end : newline + 1;
}
