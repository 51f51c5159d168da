// Columns keep the names users gave them ("Speed IAS in knots", "Cost Total $"); an ONNX input cannot always
// carry such a name usefully (exporters rename odd characters), so the reference trainer names each input safely
// and records in the model's own metadata which feature every input belongs to. Everything Relearn shows or
// accepts uses the feature names; only the tensors fed to onnxruntime use the input names. The mapping is part of
// the model's bytes, so the digest that guards the model guards it too.
import protobuf from 'protobufjs';
import { z } from 'zod';
import { ModelRejectedError } from '../errors';

/** The `metadata_props` key whose value maps features to ONNX inputs (JSON: `[{"feature", "input"}, ...]`). */
export const FEATURE_INPUTS_KEY = 'relearn.feature_inputs';

// ModelProto.metadata_props and StringStringEntryProto's fields, as numbered in onnx.proto.
const MODEL_METADATA_PROPS = 14;
const ENTRY_KEY = 1;
const ENTRY_VALUE = 2;
const LENGTH_DELIMITED = 2;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The model's `metadata_props` (key → value) read from its top-level protobuf fields only: the graph is skipped
 * unread, so this costs next to nothing even for a large model. Throws when the bytes are not protobuf.
 */
export function readMetadataProps(bytes: Uint8Array): Map<string, string> {
  const reader = protobuf.Reader.create(bytes);
  const props = new Map<string, string>();
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag >>> 3 === MODEL_METADATA_PROPS && (tag & 7) === LENGTH_DELIMITED) {
      const end = reader.uint32() + reader.pos;
      let key = '';
      let value = '';
      while (reader.pos < end) {
        const entryTag = reader.uint32();
        const field = entryTag >>> 3;
        if ((field === ENTRY_KEY || field === ENTRY_VALUE) && (entryTag & 7) === LENGTH_DELIMITED) {
          const text = strictUtf8.decode(reader.bytes());
          if (field === ENTRY_KEY) key = text;
          else value = text;
        } else {
          reader.skipType(entryTag & 7);
        }
      }
      if (reader.pos !== end) throw new Error(`a metadata entry runs past its end (offset ${reader.pos}, expected ${end})`);
      // protobuf's rule for a repeated key in a map-like list: the last one wins.
      props.set(key, value);
    } else {
      reader.skipType(tag & 7);
    }
  }
  return props;
}

const featureInputsSchema = z.array(z.object({ feature: z.string().min(1), input: z.string().min(1) }).strict());

/**
 * Feature name → ONNX input name, from the model's metadata; undefined when the model records no mapping (its
 * inputs are named as the features). A mapping that is not valid JSON of the expected shape, or that names a
 * feature or an input twice, rejects the model.
 */
export function featureInputNames(bytes: Uint8Array, modelName = 'model'): ReadonlyMap<string, string> | undefined {
  let raw: string | undefined;
  try {
    raw = readMetadataProps(bytes).get(FEATURE_INPUTS_KEY);
  } catch (err) {
    throw new ModelRejectedError(`${modelName}: is not a valid ONNX model (protobuf parsing failed: ${err instanceof Error ? err.message : String(err)})`);
  }
  if (raw === undefined) return undefined;
  const where = `${modelName}: metadata '${FEATURE_INPUTS_KEY}'`;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    throw new ModelRejectedError(`${where} is not JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  const parsed = featureInputsSchema.safeParse(json);
  if (!parsed.success) {
    throw new ModelRejectedError(`${where}: expected [{"feature": "<column>", "input": "<ONNX input>"}, ...]: ${z.prettifyError(parsed.error)}`);
  }
  const byFeature = new Map<string, string>();
  const inputs = new Set<string>();
  for (const { feature, input } of parsed.data) {
    if (byFeature.has(feature)) throw new ModelRejectedError(`${where} lists feature '${feature}' twice`);
    if (inputs.has(input)) throw new ModelRejectedError(`${where} gives input '${input}' to two features`);
    byFeature.set(feature, input);
    inputs.add(input);
  }
  return byFeature;
}

/** The ONNX input a feature is fed through: its mapped input, or the feature's own name when it has none. */
export function inputNameOf(feature: string, inputNames: ReadonlyMap<string, string> | undefined): string {
  return inputNames?.get(feature) ?? feature;
}
