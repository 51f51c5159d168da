// Distinct byte strings (Utf8 values) numbered in order of first sight, with how often each was seen, in an
// open-addressing hash table of typed arrays: no JS string and no Map entry per row, only per distinct value. Column
// statistics count categories with it, and scoring dictionary-encodes a string column once instead of decoding a
// string per row and batch. Each distinct value's bytes are copied once, to compare later rows against.

/** Values up to this many bytes are keyed by their bytes and length packed into an int, without hashing. */
const SHORT_BYTES = 3;
/** 2^32 / φ, the multiplier of Fibonacci hashing. */
const GOLDEN = 0x9e3779b1;

/** Numbers distinct byte strings and counts them; see the file comment. */
export class ByteDictionary {
  private slots = new Int32Array(1024).fill(-1);
  /** 32 - log2(slots.length): a slot is the top bits of the hash times GOLDEN (Fibonacci hashing). */
  private shift = 22;
  private hashes = new Int32Array(256);
  private starts = new Int32Array(256);
  private lengths = new Int32Array(256);
  private tallies = new Float64Array(256);
  private keyBytes = new Uint8Array(1 << 12);
  private keyEnd = 0;
  size = 0;

  /** The id of bytes[start, end) (a new one when first seen), counting one more occurrence of it. */
  add(bytes: Uint8Array, start: number, end: number): number {
    const length = end - start;
    let h: number;
    if (length <= SHORT_BYTES) {
      // Up to 3 bytes and the length fit in an int: the key is the value itself, so equal keys are equal bytes.
      h = length;
      for (let k = start; k < end; k++) h = (h << 8) | bytes[k]!;
    } else {
      // FNV-1a over the value's bytes.
      h = 0x811c9dc5;
      for (let k = start; k < end; k++) h = Math.imul(h ^ bytes[k]!, 0x01000193);
    }
    const mask = this.slots.length - 1;
    for (let slot = Math.imul(h, GOLDEN) >>> this.shift; ; slot = (slot + 1) & mask) {
      const id = this.slots[slot]!;
      if (id === -1) {
        const created = this.insert(h, bytes, start, length);
        this.slots[slot] = created;
        // Kept at most half full, so probes stay short; the slot table is rebuilt from the stored hashes.
        if (this.size * 2 > this.slots.length) this.rehash();
        return created;
      }
      if (this.hashes[id] === h && this.lengths[id] === length && (length <= SHORT_BYTES || this.sameBytes(id, bytes, start, length))) {
        this.tallies[id]!++;
        return id;
      }
    }
  }

  /** The bytes of value `id`. */
  bytesOf(id: number): Uint8Array {
    return this.keyBytes.subarray(this.starts[id]!, this.starts[id]! + this.lengths[id]!);
  }

  /** Calls `visit(bytes, count)` once per distinct value, in id order. */
  forEach(visit: (bytes: Uint8Array, count: number) => void): void {
    for (let id = 0; id < this.size; id++) visit(this.bytesOf(id), this.tallies[id]!);
  }

  private sameBytes(id: number, bytes: Uint8Array, start: number, length: number): boolean {
    const at = this.starts[id]!;
    for (let k = 0; k < length; k++) if (this.keyBytes[at + k] !== bytes[start + k]) return false;
    return true;
  }

  private insert(h: number, bytes: Uint8Array, start: number, length: number): number {
    const id = this.size++;
    if (id === this.hashes.length) {
      const grow = <T extends Int32Array | Float64Array>(a: T): T => {
        const b = new (a.constructor as new (n: number) => T)(a.length * 2);
        b.set(a);
        return b;
      };
      this.hashes = grow(this.hashes);
      this.starts = grow(this.starts);
      this.lengths = grow(this.lengths);
      this.tallies = grow(this.tallies);
    }
    if (this.keyEnd + length > this.keyBytes.length) {
      const grown = new Uint8Array(Math.max(this.keyBytes.length * 2, this.keyEnd + length));
      grown.set(this.keyBytes.subarray(0, this.keyEnd));
      this.keyBytes = grown;
    }
    this.keyBytes.set(bytes.subarray(start, start + length), this.keyEnd);
    this.hashes[id] = h;
    this.starts[id] = this.keyEnd;
    this.lengths[id] = length;
    this.tallies[id] = 1;
    this.keyEnd += length;
    return id;
  }

  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2).fill(-1);
    const mask = slots.length - 1;
    this.shift -= 1;
    for (let id = 0; id < this.size; id++) {
      let slot = Math.imul(this.hashes[id]!, GOLDEN) >>> this.shift;
      while (slots[slot] !== -1) slot = (slot + 1) & mask;
      slots[slot] = id;
    }
    this.slots = slots;
  }
}
