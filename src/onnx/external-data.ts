import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import protobuf from 'protobufjs';

// Wire types of the protobuf encoding.
const VARINT = 0;
const LENGTH_DELIMITED = 2;
const DATA_LOCATION_EXTERNAL = 1;
// protobuf's C++ parser (which onnxruntime uses) refuses messages nested deeper than this.
const MAX_DEPTH = 100;

type Kind =
  | 'ModelProto'
  | 'GraphProto'
  | 'NodeProto'
  | 'AttributeProto'
  | 'TensorProto'
  | 'SparseTensorProto'
  | 'StringStringEntryProto'
  | 'FunctionProto'
  | 'TrainingInfoProto';

// The subset of onnx.proto (github.com/onnx/onnx, onnx/onnx.proto) through which a TensorProto can be
// reached; field numbers are ONNX's own. Every other field is skipped by its wire type, unread.
const MESSAGE_FIELDS: Record<Kind, Partial<Record<number, Kind>>> = {
  ModelProto: { 7: 'GraphProto', 20: 'TrainingInfoProto', 25: 'FunctionProto' },
  GraphProto: { 1: 'NodeProto', 5: 'TensorProto', 15: 'SparseTensorProto' },
  NodeProto: { 5: 'AttributeProto' },
  // t, g, tensors, graphs, sparse_tensor, sparse_tensors
  AttributeProto: { 5: 'TensorProto', 6: 'GraphProto', 10: 'TensorProto', 11: 'GraphProto', 22: 'SparseTensorProto', 23: 'SparseTensorProto' },
  TensorProto: { 13: 'StringStringEntryProto' },
  SparseTensorProto: { 1: 'TensorProto', 2: 'TensorProto' },
  StringStringEntryProto: {},
  // node, attribute_proto (default values of a function's attributes)
  FunctionProto: { 7: 'NodeProto', 11: 'AttributeProto' },
  TrainingInfoProto: { 1: 'GraphProto', 2: 'GraphProto' },
};

/** A tensor that keeps its data in another file, as the model declares it. */
export interface ExternalDataRef {
  tensorName: string;
  /** Every `location` entry of the tensor (normally one); empty when it declares none. */
  locations: string[];
}

/** Where a model's tensors keep external data, or why its bytes cannot be read as ONNX. */
export type ExternalDataScan = { ok: true; refs: ExternalDataRef[] } | { ok: false; parseError: string };

interface TensorFields {
  name: string;
  dataLocation: number;
  entries: Array<{ key: string; value: string }>;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Lists every tensor of an ONNX model (initializers, sparse initializers, attribute tensors,
 * subgraphs, functions, training graphs) that points at external data. Only the protobuf layer is
 * read. A field whose wire type differs from the schema's is skipped as unknown, and strings must be
 * valid UTF-8, exactly as protobuf's C++ parser sees them — so onnxruntime cannot be shown a location
 * this scan missed.
 */
export function scanExternalData(bytes: Uint8Array): ExternalDataScan {
  const reader = protobuf.Reader.create(bytes);
  const refs: ExternalDataRef[] = [];

  const readString = (): string => strictUtf8.decode(reader.bytes());

  const walk = (kind: Kind, end: number, depth: number, tensor?: TensorFields, entry?: { key: string; value: string }): void => {
    if (depth > MAX_DEPTH) throw new Error(`messages nested deeper than ${MAX_DEPTH} levels`);
    while (reader.pos < end) {
      const tag = reader.uint32();
      const field = tag >>> 3;
      const wireType = tag & 7;
      if (field === 0) throw new Error(`field number 0 at offset ${reader.pos}`);
      const child = MESSAGE_FIELDS[kind][field];
      if (child !== undefined && wireType === LENGTH_DELIMITED) {
        const length = reader.uint32();
        const childEnd = reader.pos + length;
        if (childEnd > end) throw new Error(`a ${child} runs past the end of its parent at offset ${reader.pos}`);
        if (child === 'TensorProto') {
          const fields: TensorFields = { name: '', dataLocation: 0, entries: [] };
          walk(child, childEnd, depth + 1, fields);
          const locations = fields.entries.filter((e) => e.key === 'location').map((e) => e.value);
          // Any entry at all counts as a reference, whatever data_location says.
          if (fields.dataLocation === DATA_LOCATION_EXTERNAL || fields.entries.length > 0) {
            refs.push({ tensorName: fields.name, locations });
          }
        } else if (child === 'StringStringEntryProto') {
          const pair = { key: '', value: '' };
          walk(child, childEnd, depth + 1, undefined, pair);
          tensor?.entries.push(pair);
        } else {
          walk(child, childEnd, depth + 1);
        }
        if (reader.pos !== childEnd) throw new Error(`a ${child} ends at offset ${reader.pos}, expected ${childEnd}`);
      } else if (kind === 'TensorProto' && field === 8 && wireType === LENGTH_DELIMITED) {
        tensor!.name = readString();
      } else if (kind === 'TensorProto' && field === 14 && wireType === VARINT) {
        tensor!.dataLocation = reader.int32();
      } else if (kind === 'StringStringEntryProto' && (field === 1 || field === 2) && wireType === LENGTH_DELIMITED) {
        if (field === 1) entry!.key = readString();
        else entry!.value = readString();
      } else {
        reader.skipType(wireType);
      }
    }
    if (reader.pos !== end) throw new Error(`a ${kind} runs past its end (offset ${reader.pos}, expected ${end})`);
  };

  try {
    walk('ModelProto', bytes.length, 0);
  } catch (err) {
    return { ok: false, parseError: err instanceof Error ? err.message : String(err) };
  }
  return { ok: true, refs };
}

/** A reason to refuse one external-data location, or the file it resolves to and that file's size. */
export type ExternalDataCheck = { ok: true; realPath: string; sizeBytes: number } | { ok: false; reason: string };

/**
 * Checks that one external-data location stays inside the model's folder: relative, no `..`, and —
 * after following symlinks — a regular file under the folder's real path.
 */
export async function checkExternalLocation(
  modelDir: string,
  tensorName: string,
  location: string | undefined,
): Promise<ExternalDataCheck> {
  const tensor = tensorName === '' ? 'an unnamed tensor' : `tensor '${tensorName}'`;
  if (location === undefined || location === '') {
    return { ok: false, reason: `${tensor} declares external data without a location` };
  }
  const quoted = `external data '${location}' of ${tensor}`;
  if (location.includes('\0')) return { ok: false, reason: `${quoted} contains a NUL byte` };
  if (path.posix.isAbsolute(location) || path.win32.isAbsolute(location) || /^[a-zA-Z]:/.test(location)) {
    return { ok: false, reason: `${quoted} is an absolute path and points outside the model folder` };
  }
  if (location.split(/[\\/]/).includes('..')) {
    return { ok: false, reason: `${quoted} uses '..' and points outside the model folder` };
  }
  const realDir = await realpath(modelDir);
  let realFile: string;
  try {
    realFile = await realpath(path.join(modelDir, location));
  } catch {
    return { ok: false, reason: `${quoted} does not exist in the model folder` };
  }
  const relative = path.relative(realDir, realFile);
  if (relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative)) {
    return { ok: false, reason: `${quoted} points outside the model folder (through a symlink, to ${realFile})` };
  }
  const info = await stat(realFile);
  if (!info.isFile()) return { ok: false, reason: `${quoted} is not a regular file` };
  return { ok: true, realPath: realFile, sizeBytes: info.size };
}
