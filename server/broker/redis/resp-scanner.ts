/**
 * A streaming RESP2/RESP3 scanner that sits between the event subscriber's socket and ioredis.
 *
 * Why: ioredis (like any RESP client) buffers a bulk string until it is complete, then copies it
 * into one Buffer and decodes it to a JS string; the subscriber thread then copies it again to hand
 * it to the main thread — only for the decoder to drop it as oversized. For an 11 MB message that
 * is ~25 ms of one thread blocked and ~50 MB of short-lived memory, during which the socket is not
 * read and Redis's output buffer for us grows; three such messages in a row on a busy machine pass
 * Redis's `client-output-buffer-limit pubsub` (32 MB) and Redis drops the subscriber, losing every
 * event published until we resubscribe.
 *
 * This scanner decides while reading: the payload of a pub/sub message (`message`, `pmessage`,
 * `smessage`, as a RESP2 array or a RESP3 push) whose length header says it is longer than the
 * limit is never buffered. A short marker bulk string carrying the real size is forwarded in its
 * place (decode.ts counts it as `oversized`) and the payload's bytes are skipped as they arrive.
 * Everything else is forwarded unchanged, as the very chunks read from the socket whenever
 * possible (no copies on the normal path).
 *
 * It only walks headers: blob contents are skipped by their length, so the cost per message is a
 * few dozen header bytes whatever the payload size. Chunk boundaries may fall anywhere (inside a
 * type byte, a length, a CRLF, a payload). The header of a payload that might be replaced is held
 * back while it is incomplete at the end of a chunk (a few bytes), so nothing of a replaced
 * payload is ever forwarded.
 *
 * Anything this scanner does not understand (RESP3 attributes or streamed types, which Redis does
 * not send to a subscriber, or a malformed header) switches it to pass-through for the rest of the
 * connection: it never corrupts a stream it cannot follow; ioredis then sees the bytes as they
 * came and handles them as it would without the scanner.
 */

import { OVERSIZED_MARKER_PREFIX } from '../../protocol/decode';

const CR = 13;
const LF = 10;

/** What the scanner expects next. */
// biome-ignore lint/suspicious/noConstEnum: file-local, inlined to numbers on the per-byte hot path
const enum Mode {
  /** A type byte (start of an element). */
  Type,
  /** A line-terminated simple value (`+ - : , # _ ( `): skip to LF. */
  Line,
  /** The length of a length-prefixed element (`$ ! = * ~ % >`), up to CR. */
  Length,
  /** The LF after a length's CR. */
  LengthLf,
  /** Blob content plus its CRLF, forwarded. */
  Blob,
  /** Blob content plus its CRLF, dropped (an oversized payload). */
  Discard,
  /** Could not follow the stream: forward everything as it comes. */
  Bypass,
}

/** Whether the top-level aggregate being read is a pub/sub message. */
// biome-ignore lint/suspicious/noConstEnum: file-local, inlined to numbers on the per-byte hot path
const enum Top {
  /** Not inside a top-level aggregate that could be one. */
  No,
  /** An array/push of 3 or 4 elements whose first element is not read yet. */
  Maybe,
  /** Its first element is message/smessage (3 elements) or pmessage (4 elements). */
  Yes,
}

const KIND_MAX = 8; // "pmessage", "smessage"

export class RespScanner {
  private mode: Mode = Mode.Type;
  /** Type byte of the length-prefixed header being read. */
  private headerType = 0;
  private length = 0;
  private negative = false;
  private digits = 0;
  /** Bytes left in the current blob (Blob/Discard), CRLF included. */
  private remaining = 0;
  /** Elements left in each open aggregate, outermost first. */
  private readonly stack: number[] = [];
  private depth = 0;

  private top: Top = Top.No;
  private topCount = 0;
  /** Index of the element being read at depth 1 (inside the top-level aggregate). */
  private topIndex = 0;
  /** The first element's bytes while it may be a pub/sub kind. */
  private readonly kind = Buffer.alloc(KIND_MAX);
  private kindLength = -1;
  private kindFill = 0;

  /** A payload header cut by the end of the previous chunk, not forwarded yet (it may be replaced). */
  private held: Buffer | null = null;

  /** Payloads replaced by a marker so far (for tests and diagnostics). */
  oversized = 0;

  /**
   * @param maxPayloadBytes payloads longer than this are replaced by a marker
   * @param forward receives the bytes for ioredis, in order
   */
  constructor(
    private readonly maxPayloadBytes: number,
    private readonly forward: (bytes: Buffer) => void,
  ) {}

  /** True once the scanner gave up following the stream (it then forwards everything). */
  get bypassed(): boolean {
    return this.mode === Mode.Bypass;
  }

  write(chunk: Buffer): void {
    const end = chunk.length;
    if (this.mode === Mode.Bypass) {
      this.forward(chunk);
      return;
    }
    /** First byte of `chunk` not forwarded yet. */
    let from = 0;
    /** Where the payload header being held back starts in `chunk` (-1: none, or it started in `held`). */
    let headerStart = -1;
    let i = 0;
    while (i < end) {
      switch (this.mode) {
        case Mode.Type: {
          const type = chunk[i] as number;
          if (this.atPayload()) headerStart = i;
          i++;
          switch (type) {
            case 0x24: // $ blob string
            case 0x21: // ! blob error
            case 0x3d: // = verbatim string
            case 0x2a: // * array
            case 0x7e: // ~ set
            case 0x25: // % map
            case 0x3e: // > push
              this.headerType = type;
              this.length = 0;
              this.negative = false;
              this.digits = 0;
              this.mode = Mode.Length;
              break;
            case 0x2b: // + simple string
            case 0x2d: // - simple error
            case 0x3a: // : integer
            case 0x2c: // , double
            case 0x23: // # boolean
            case 0x5f: // _ null
            case 0x28: // ( big number
              headerStart = -1; // never replaced: no need to hold it back
              this.mode = Mode.Line;
              break;
            default:
              // Attributes (|), streamed types, or bytes that are not RESP: stop interpreting.
              this.bypass(chunk, from);
              return;
          }
          break;
        }
        case Mode.Line: {
          const lf = chunk.indexOf(LF, i);
          if (lf === -1) {
            i = end;
          } else {
            i = lf + 1;
            this.mode = Mode.Type;
            this.elementDone();
          }
          break;
        }
        case Mode.Length: {
          const byte = chunk[i] as number;
          i++;
          if (byte >= 0x30 && byte <= 0x39) {
            this.length = this.length * 10 + (byte - 0x30);
            if (++this.digits > 15) {
              this.bypass(chunk, from);
              return;
            }
          } else if (byte === CR && this.digits > 0) {
            this.mode = Mode.LengthLf;
          } else if (byte === 0x2d && this.digits === 0 && !this.negative) {
            this.negative = true;
          } else {
            this.bypass(chunk, from);
            return;
          }
          break;
        }
        case Mode.LengthLf: {
          if (chunk[i] !== LF) {
            this.bypass(chunk, from);
            return;
          }
          i++;
          const length = this.negative ? -this.length : this.length;
          if (this.headerType === 0x24 && length > this.maxPayloadBytes && this.atPayload()) {
            // Replace the payload: drop its header (held from the previous chunk, or in this one
            // after `from`), forward what precedes it and the marker.
            this.held = null;
            if (headerStart > from) this.forward(chunk.subarray(from, headerStart));
            this.forward(markerFor(length));
            this.oversized++;
            from = i;
            headerStart = -1;
            this.remaining = length + 2;
            this.mode = Mode.Discard;
            break;
          }
          // An ordinary header: a held-back part of it goes out before the rest of this chunk.
          this.flushHeld();
          headerStart = -1;
          this.headerDone(length);
          break;
        }
        case Mode.Blob: {
          const take = Math.min(this.remaining, end - i);
          if (this.kindLength >= 0) this.captureKind(chunk, i, take);
          i += take;
          this.remaining -= take;
          if (this.remaining === 0) {
            if (this.kindLength >= 0) this.kindDone();
            this.mode = Mode.Type;
            this.elementDone();
          }
          break;
        }
        case Mode.Discard: {
          const take = Math.min(this.remaining, end - i);
          i += take;
          from = i;
          this.remaining -= take;
          if (this.remaining === 0) {
            this.mode = Mode.Type;
            this.elementDone();
          }
          break;
        }
        // Mode.Bypass cannot occur here: write() checks it first and bypass() returns from write().
      }
    }
    // End of chunk. A payload header still incomplete is held back (copied: it is a few bytes).
    if (headerStart !== -1) {
      if (headerStart > from) this.forward(chunk.subarray(from, headerStart));
      this.held = Buffer.from(chunk.subarray(headerStart));
      return;
    }
    if (this.held !== null) {
      // A header held from an earlier chunk is still incomplete after this whole chunk (completing
      // it would have forwarded or dropped it): keep holding, with these bytes too.
      this.held = Buffer.concat([this.held, chunk]);
      return;
    }
    if (from < end) this.forward(from === 0 ? chunk : chunk.subarray(from));
  }

  /** Is the next element the payload of a pub/sub message? */
  private atPayload(): boolean {
    return this.top === Top.Yes && this.depth === 1 && this.topIndex === this.topCount - 1;
  }

  private flushHeld(): void {
    if (this.held !== null) {
      this.forward(this.held);
      this.held = null;
    }
  }

  private headerDone(length: number): void {
    const type = this.headerType;
    if (type === 0x24 || type === 0x21 || type === 0x3d) {
      if (length < 0) {
        // RESP2 null bulk string ($-1).
        this.mode = Mode.Type;
        this.elementDone();
        return;
      }
      if (this.top === Top.Maybe && this.depth === 1 && this.topIndex === 0) {
        if (type === 0x24 && (length === 7 || length === 8)) {
          this.kindLength = length;
          this.kindFill = 0;
        } else {
          this.top = Top.No;
        }
      }
      this.remaining = length + 2;
      this.mode = Mode.Blob;
      return;
    }
    // Aggregates. A map's count is in pairs.
    const count = type === 0x25 ? length * 2 : length;
    this.mode = Mode.Type;
    if (count <= 0) {
      // Empty or null (*-1) aggregate: complete at once.
      this.elementDone();
      return;
    }
    if (this.depth === 0) {
      this.top = (type === 0x2a || type === 0x3e) && (count === 3 || count === 4) ? Top.Maybe : Top.No;
      this.topCount = count;
      this.topIndex = 0;
    } else if (this.top === Top.Maybe && this.depth === 1 && this.topIndex === 0) {
      this.top = Top.No; // the first element is an aggregate: not a pub/sub message
    }
    this.stack[this.depth++] = count;
  }

  private captureKind(chunk: Buffer, at: number, take: number): void {
    // Only the content bytes matter, not the trailing CRLF.
    const n = Math.min(take, this.kindLength - this.kindFill);
    if (n > 0) {
      chunk.copy(this.kind, this.kindFill, at, at + n);
      this.kindFill += n;
    }
  }

  private kindDone(): void {
    const kind = this.kind.toString('latin1', 0, this.kindLength);
    const count = this.topCount;
    this.top = ((kind === 'message' || kind === 'smessage') && count === 3) || (kind === 'pmessage' && count === 4) ? Top.Yes : Top.No;
    this.kindLength = -1;
  }

  /** One element finished: count it against every aggregate it completes. */
  private elementDone(): void {
    for (;;) {
      if (this.depth === 0) {
        this.top = Top.No;
        return;
      }
      if (this.depth === 1) this.topIndex++;
      const left = (this.stack[this.depth - 1] as number) - 1;
      this.stack[this.depth - 1] = left;
      if (left > 0) return;
      this.depth--; // the aggregate is complete, and is itself an element of its parent
    }
  }

  private bypass(chunk: Buffer, from: number): void {
    this.mode = Mode.Bypass;
    this.kindLength = -1;
    // Everything not forwarded yet goes out as it came: held bytes first, then the rest of the chunk.
    this.flushHeld();
    if (from < chunk.length) this.forward(from === 0 ? chunk : chunk.subarray(from));
  }
}

/** A RESP bulk string carrying the marker for a payload of `bytes` bytes. */
export function markerFor(bytes: number): Buffer {
  const content = `${OVERSIZED_MARKER_PREFIX}${bytes}`;
  return Buffer.from(`$${Buffer.byteLength(content)}\r\n${content}\r\n`, 'latin1');
}
