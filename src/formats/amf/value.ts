/**
 * The value model shared by the AMF0 and AMF3 codecs. It is deliberately plain JavaScript data so
 * command handlers can read `cmd.commandObject.app` without knowing which encoding carried it.
 *
 * Mapping notes (decode side):
 * - AMF0 ECMA array, Object and Typed Object, and AMF3 objects/dictionaries become `AmfObject`.
 * - AMF0 XML document and AMF3 XML / XMLDocument become `string`.
 * - AMF3 ByteArray becomes an array of byte numbers (0..255), so the union stays JSON-like.
 * - AMF3 integers become `number`.
 */
export type AmfValue = number | boolean | string | null | undefined | Date | AmfValue[] | AmfObject;

export interface AmfObject {
  [key: string]: AmfValue;
}

/** True for a plain AMF object (not null, not an array, not a Date). */
export function isAmfObject(value: AmfValue): value is AmfObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/**
 * Nesting depth limit shared by both decoders (ERR_AMF_LIMIT past it): deep enough for anything a client sends
 * (connect objects are 2 levels), shallow enough that crafted input cannot overflow the stack.
 */
export const MAX_AMF_DEPTH = 64;
