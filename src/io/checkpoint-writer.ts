// The state checkpoint's msgpack (format in ./state-checkpoint.ts), written field by field
// into one buffer that is kept from one checkpoint to the next. Built with msgpackr, a
// checkpoint of 10 000 LSTM-32 devices made a copy of every state, an object and an array
// per device and a new ~3 MB output every 10 s; they lived through the async write, so V8
// promoted them and `run`'s RSS grew by tens of MB between two full collections. This
// writes the same document (msgpackr reads it back) and allocates nothing per device.
import type { DeviceSnapshot } from '../stream/device-table.js';

export interface CheckpointHeader {
  readonly format: string;
  readonly version: number;
  readonly model: { readonly name: string; readonly version: number; readonly sha256?: string };
  readonly stateSize: number;
  readonly savedAt: number;
}

export class CheckpointWriter {
  private buf: Buffer;
  private pos = 0;
  private countAt = -1;
  private count = 0;

  constructor(initialBytes = 64 * 1024) {
    this.buf = Buffer.allocUnsafeSlow(initialBytes);
  }

  /** Starts a document: the header fields, then the devices array (its length is filled in by end()). */
  begin(h: CheckpointHeader): void {
    this.pos = 0;
    this.count = 0;
    this.mapHeader(6);
    this.str('format'); this.str(h.format);
    this.str('version'); this.num(h.version);
    this.str('model'); this.mapHeader(h.model.sha256 ? 3 : 2);
    this.str('name'); this.str(h.model.name);
    this.str('version'); this.num(h.model.version);
    if (h.model.sha256) {
      this.str('sha256'); this.str(h.model.sha256);
    }
    this.str('stateSize'); this.num(h.stateSize);
    this.str('savedAt'); this.num(h.savedAt);
    this.str('devices');
    this.room(5);
    this.buf[this.pos] = 0xdd; // array 32: the count is patched in at the end
    this.countAt = this.pos + 1;
    this.pos += 5;
  }

  /** One device: [id, lastSeq, epoch, steps, lastTime|null, lastTs|null, seqBits bin|null, state bin]. */
  device(d: DeviceSnapshot): void {
    this.room(1);
    this.buf[this.pos++] = 0x98; // fixarray of 8
    this.str(d.device);
    this.num(d.lastSeq); this.num(d.epoch); this.num(d.steps);
    this.time(d.lastTime); this.time(d.lastTs);
    const bits = d.seqBits;
    if (bits) {
      this.binHeader(bits.length * 4);
      for (let i = 0; i < bits.length; i++) this.pos = this.buf.writeUInt32LE(bits[i], this.pos);
    } else this.nil();
    const s = d.state;
    this.binHeader(s.length * 4);
    for (let i = 0; i < s.length; i++) this.pos = this.buf.writeFloatLE(s[i], this.pos);
    this.count++;
  }

  /** The document: a view of the writer's buffer, valid until the next begin(). */
  end(): Uint8Array {
    this.buf.writeUInt32BE(this.count, this.countAt);
    return this.buf.subarray(0, this.pos);
  }

  // Grows the buffer to hold `n` more bytes (it keeps its size for the next checkpoint).
  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }

  private mapHeader(n: number): void {
    this.room(1);
    this.buf[this.pos++] = 0x80 | n; // fixmap (n < 16)
  }

  private nil(): void {
    this.room(1);
    this.buf[this.pos++] = 0xc0;
  }

  private time(t: number): void {
    if (Number.isNaN(t)) this.nil();
    else this.num(t);
  }

  // Whole numbers in the small int forms, anything else (and large times in ms) as float64:
  // exact for every safe integer, and read back as the same JS number.
  private num(v: number): void {
    this.room(9);
    const b = this.buf;
    if (Number.isInteger(v) && v >= -32 && v <= 0xffffffff) {
      if (v >= 0 && v < 128) b[this.pos++] = v;
      else if (v < 0) b[this.pos++] = 0xe0 | (v + 32);
      else if (v < 0x100) (b[this.pos++] = 0xcc), (b[this.pos++] = v);
      else if (v < 0x10000) (b[this.pos++] = 0xcd), (this.pos = b.writeUInt16BE(v, this.pos));
      else (b[this.pos++] = 0xce), (this.pos = b.writeUInt32BE(v, this.pos));
      return;
    }
    b[this.pos++] = 0xcb;
    this.pos = b.writeDoubleBE(v, this.pos);
  }

  private str(s: string): void {
    const n = Buffer.byteLength(s, 'utf8');
    this.room(5 + n);
    const b = this.buf;
    if (n < 32) b[this.pos++] = 0xa0 | n;
    else if (n < 0x100) (b[this.pos++] = 0xd9), (b[this.pos++] = n);
    else if (n < 0x10000) (b[this.pos++] = 0xda), (this.pos = b.writeUInt16BE(n, this.pos));
    else (b[this.pos++] = 0xdb), (this.pos = b.writeUInt32BE(n, this.pos));
    this.pos += b.write(s, this.pos, n, 'utf8');
  }

  private binHeader(n: number): void {
    this.room(5 + n);
    const b = this.buf;
    if (n < 0x100) (b[this.pos++] = 0xc4), (b[this.pos++] = n);
    else if (n < 0x10000) (b[this.pos++] = 0xc5), (this.pos = b.writeUInt16BE(n, this.pos));
    else (b[this.pos++] = 0xc6), (this.pos = b.writeUInt32BE(n, this.pos));
  }
}
