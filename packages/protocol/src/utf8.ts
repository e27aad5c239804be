import { isUtf8 } from 'node:buffer';

/**
 * UTF-8 validation (RFC 3629 well-formedness, as RFC 6455 §8.1 requires for text).
 *
 * Large runs go to Node's native `isUtf8` (SIMD); the JavaScript state machine
 * below handles short inputs, where the native call's overhead dominates, and
 * the up-to-three-byte seams between fragments, so that a stream can be
 * validated piece by piece and fail on the first piece that cannot be the
 * start of valid UTF-8 — without waiting for the message to end.
 */

/** Below this size the JavaScript loop beats the native call. */
const NATIVE_THRESHOLD = 48;

interface LeadInfo {
  /** Continuation bytes that follow the lead byte. */
  readonly need: number;
  /** Allowed range of the first continuation byte (excludes overlongs, surrogates, > U+10FFFF). */
  readonly lower: number;
  readonly upper: number;
}
const TWO: LeadInfo = { need: 1, lower: 0x80, upper: 0xbf };
const THREE_E0: LeadInfo = { need: 2, lower: 0xa0, upper: 0xbf };
const THREE_ED: LeadInfo = { need: 2, lower: 0x80, upper: 0x9f };
const THREE: LeadInfo = { need: 2, lower: 0x80, upper: 0xbf };
const FOUR_F0: LeadInfo = { need: 3, lower: 0x90, upper: 0xbf };
const FOUR_F4: LeadInfo = { need: 3, lower: 0x80, upper: 0x8f };
const FOUR: LeadInfo = { need: 3, lower: 0x80, upper: 0xbf };

/** What a lead byte ≥ 0x80 promises, or undefined if it cannot start a sequence. */
function leadInfo(byte: number): LeadInfo | undefined {
  if (byte < 0xc2) return undefined;
  if (byte <= 0xdf) return TWO;
  if (byte === 0xe0) return THREE_E0;
  if (byte === 0xed) return THREE_ED;
  if (byte <= 0xef) return THREE;
  if (byte === 0xf0) return FOUR_F0;
  if (byte <= 0xf3) return FOUR;
  if (byte === 0xf4) return FOUR_F4;
  return undefined;
}

/** Pure-JS check of `buf[start, end)`; a sequence cut off at `end` is invalid. */
function validateRange(buf: Uint8Array, start: number, end: number): boolean {
  let i = start;
  while (i < end) {
    const byte = buf[i]!;
    if (byte < 0x80) {
      i++;
      continue;
    }
    const info = leadInfo(byte);
    if (info === undefined || i + info.need >= end) return false;
    const second = buf[i + 1]!;
    if (second < info.lower || second > info.upper) return false;
    for (let k = 2; k <= info.need; k++) {
      const c = buf[i + k]!;
      if (c < 0x80 || c > 0xbf) return false;
    }
    i += info.need + 1;
  }
  return true;
}

/** Whether `buf` is entirely well-formed UTF-8. */
export function isValidUtf8(buf: Uint8Array): boolean {
  if (buf.length < NATIVE_THRESHOLD) return validateRange(buf, 0, buf.length);
  return isUtf8(buf);
}

/**
 * Validates a text message that arrives in pieces. `write` returns false as
 * soon as the bytes seen so far cannot begin valid UTF-8; `end` returns false
 * when the message stops inside a sequence.
 */
export class Utf8StreamValidator {
  /** Continuation bytes still expected for the sequence in progress. */
  private need = 0;
  private lower = 0x80;
  private upper = 0xbf;

  write(buf: Uint8Array): boolean {
    const len = buf.length;
    let i = 0;
    // Finish the sequence left open by the previous piece.
    while (this.need > 0 && i < len) {
      const c = buf[i]!;
      if (c < this.lower || c > this.upper) return false;
      this.lower = 0x80;
      this.upper = 0xbf;
      this.need--;
      i++;
    }
    if (i === len) return true;

    // Split off a sequence that is cut off at the end of this piece.
    let tail = len;
    for (let j = len - 1; j >= i && j >= len - 3; j--) {
      const c = buf[j]!;
      if (c < 0x80) break;
      if (c >= 0xc0) {
        const info = leadInfo(c);
        if (info !== undefined && j + info.need >= len) tail = j;
        break;
      }
    }

    if (tail > i) {
      const ok =
        tail - i < NATIVE_THRESHOLD
          ? validateRange(buf, i, tail)
          : isUtf8(buf.subarray(i, tail));
      if (!ok) return false;
    }

    // The open sequence: each byte present must fit, so we fail on the first bad one.
    if (tail < len) {
      const info = leadInfo(buf[tail]!)!;
      this.need = info.need;
      this.lower = info.lower;
      this.upper = info.upper;
      for (let j = tail + 1; j < len; j++) {
        const c = buf[j]!;
        if (c < this.lower || c > this.upper) return false;
        this.lower = 0x80;
        this.upper = 0xbf;
        this.need--;
      }
    }
    return true;
  }

  /** Call when the message is complete; resets the validator for the next one. */
  end(): boolean {
    const complete = this.need === 0;
    this.reset();
    return complete;
  }

  reset(): void {
    this.need = 0;
    this.lower = 0x80;
    this.upper = 0xbf;
  }
}
