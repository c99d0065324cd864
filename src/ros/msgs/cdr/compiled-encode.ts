// Encoding compiled per type to straight-line JavaScript, for the messages a publisher sends every period. It takes
// only what is plainly valid — every field present, numbers that fit, strings within their bound, arrays of the
// right length and element kind — and returns -1 from sizing for anything else, which the interpreted encoder
// (encode.ts) then handles, with its error when the message is wrong. So a compiled encoding is the interpreted one's
// bytes, and every error is the interpreted one's.
import { HOST_LE, INT_RANGE, SIZE, ALIGN, TYPED, type FieldPlan, type Primitive, type StructPlan } from './plan.ts';

export interface CompiledEncoder {
  /** Encoded size with the 4-byte header, or -1 when the message is not one the compiled code takes. */
  size(msg: unknown): number;
  /** Writes a message size() accepted at w.offset (4), as encode.ts's writeStruct does. */
  write(w: { view: DataView; bytes: Uint8Array; buf: Buffer; offset: number }, msg: unknown): void;
}

const INT = new Set<Primitive>(['int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32']);
const FLOAT = new Set<Primitive>(['float32', 'float64']);
const SETTER: Partial<Record<Primitive, string>> = {
  int8: 'setInt8', uint8: 'setUint8', int16: 'setInt16', uint16: 'setUint16', int32: 'setInt32', uint32: 'setUint32',
  float32: 'setFloat32', float64: 'setFloat64',
};

/** Null when the plan has fields the compiled code leaves to the interpreted encoder anyway (64-bit integers, times). */
export function compileEncoder(plan: StructPlan, utf8Of: (s: string) => Uint8Array | undefined): CompiledEncoder | null {
  let vars = 0;
  let supported = true;
  const v = () => `v${vars++}`;
  const align = (o: string, n: number) => (n === 1 ? '' : `{ const r = (${o} - 4) % ${n}; if (r !== 0) ${o} += ${n} - r; }\n`);
  const intGuard = (x: string, p: Primitive) => {
    const [lo, hi] = INT_RANGE[p]!;
    return `(typeof ${x} !== 'number' || !Number.isInteger(${x}) || ${x} < ${lo} || ${x} > ${hi})`;
  };
  const scalarGuard = (x: string, p: Primitive): string => {
    if (FLOAT.has(p)) return `typeof ${x} !== 'number'`;
    if (INT.has(p)) return intGuard(x, p);
    if (p === 'bool') return `(${x} !== true && ${x} !== false)`;
    if (p === 'time' || p === 'duration') {
      return `(${x} === null || typeof ${x} !== 'object' || ${intGuard(`${x}.sec`, 'int32')} || ${intGuard(`${x}.nanosec`, 'uint32')})`;
    }
    supported = false; // int64, uint64: the interpreted encoder's
    return 'true';
  };
  const strGuard = (x: string, f: FieldPlan) => `typeof ${x} !== 'string'${f.stringBound !== undefined ? ` || utf8Length(${x}) > ${f.stringBound}` : ''}`;

  // sizing: validate and advance `o`
  const sizeStruct = (p: StructPlan, x: string): string => {
    if (p.empty) return 'o += 1;\n';
    let c = `if (${x} === null || typeof ${x} !== 'object' || Array.isArray(${x}) || ArrayBuffer.isView(${x})) return -1;\n`;
    for (const f of p.fields) {
      const val = v();
      c += `const ${val} = ${x}[${JSON.stringify(f.name)}];\nif (${val} === undefined || ${val} === null) return -1;\n`;
      if (f.arrayLength === undefined) {
        if (f.struct) c += sizeStruct(f.struct, val);
        else if (f.primitive === 'string') c += `if (${strGuard(val, f)}) return -1;\n${align('o', 4)}o += 5 + utf8Length(${val});\n`;
        else c += `if (${scalarGuard(val, f.primitive!)}) return -1;\n${align('o', ALIGN[f.primitive as Exclude<Primitive, 'string'>])}o += ${SIZE[f.primitive as Exclude<Primitive, 'string'>]};\n`;
        continue;
      }
      c += `if (!Array.isArray(${val}) && !(ArrayBuffer.isView(${val}) && !(${val} instanceof DataView))) return -1;\n`;
      if (f.arrayLength >= 0) c += `if (${val}.length !== ${f.arrayLength}) return -1;\n`;
      if (f.arrayBound !== undefined) c += `if (${val}.length > ${f.arrayBound}) return -1;\n`;
      if (f.arrayLength < 0) c += `${align('o', 4)}o += 4;\n`;
      const i = v();
      const e = v();
      if (f.struct) {
        c += `if (!Array.isArray(${val})) return -1;\nfor (let ${i} = 0; ${i} < ${val}.length; ${i}++) {\nconst ${e} = ${val}[${i}];\n${sizeStruct(f.struct, e)}}\n`;
      } else if (f.primitive === 'string') {
        c += `if (!Array.isArray(${val})) return -1;\nfor (let ${i} = 0; ${i} < ${val}.length; ${i}++) {\nconst ${e} = ${val}[${i}];\nif (${strGuard(e, f)}) return -1;\n${align('o', 4)}o += 5 + utf8Length(${e});\n}\n`;
      } else {
        const p = f.primitive as Exclude<Primitive, 'string'>;
        if (!FLOAT.has(p) && !INT.has(p) && p !== 'bool') supported = false;
        // a float field takes any array of numbers (typed arrays other than BigInt ones are); others check each element
        const anyNumbers = FLOAT.has(p) ? `(ArrayBuffer.isView(${val}) && !(${val} instanceof BigInt64Array) && !(${val} instanceof BigUint64Array))` : 'false';
        c += `if (!${anyNumbers}) for (let ${i} = 0; ${i} < ${val}.length; ${i}++) { const ${e} = ${val}[${i}]; if (${scalarGuard(e, p)}) return -1; }\n`;
        c += `if (${val}.length > 0) {\n${align('o', ALIGN[p])}o += ${SIZE[p]} * ${val}.length;\n}\n`;
      }
    }
    return c;
  };

  // writing: as writeStruct, into w (offsets relative to the body start at 4)
  const writeString = (x: string) =>
    `${align('w.offset', 4)}{ let n = 0; if (${x}.length > 0) { const e = utf8Of(${x}); if (e === undefined) n = w.buf.write(${x}, w.offset + 4, 'utf8'); else { const b = w.bytes; const at = w.offset + 4; n = e.length; for (let k = 0; k < n; k++) b[at + k] = e[k]; } }\n` +
    `w.view.setUint32(w.offset, n + 1, true); w.bytes[w.offset + 4 + n] = 0; w.offset += n + 5; }\n`;
  const writeScalar = (x: string, p: Primitive) => {
    if (p === 'bool') return `w.view.setUint8(w.offset, ${x} ? 1 : 0); w.offset += 1;\n`;
    if (p === 'time' || p === 'duration') {
      return `${align('w.offset', 4)}w.view.setInt32(w.offset, ${x}.sec, true); w.view.setUint32(w.offset + 4, ${x}.nanosec, true); w.offset += 8;\n`;
    }
    const le = SIZE[p as Exclude<Primitive, 'string'>] > 1 ? ', true' : '';
    return `${align('w.offset', ALIGN[p as Exclude<Primitive, 'string'>])}w.view.${SETTER[p]}(w.offset, ${x}${le}); w.offset += ${SIZE[p as Exclude<Primitive, 'string'>]};\n`;
  };
  const writeStruct = (p: StructPlan, x: string): string => {
    if (p.empty) return 'w.bytes[w.offset++] = 0;\n';
    let c = '';
    for (const f of p.fields) {
      const val = v();
      c += `const ${val} = ${x}[${JSON.stringify(f.name)}];\n`;
      if (f.arrayLength === undefined) {
        if (f.struct) c += writeStruct(f.struct, val);
        else if (f.primitive === 'string') c += writeString(val);
        else c += writeScalar(val, f.primitive!);
        continue;
      }
      if (f.arrayLength < 0) c += `${align('w.offset', 4)}w.view.setUint32(w.offset, ${val}.length, true); w.offset += 4;\n`;
      const i = v();
      if (f.struct) {
        c += `for (let ${i} = 0; ${i} < ${val}.length; ${i}++) {\n${writeStruct(f.struct, `${val}[${i}]`)}}\n`;
        continue;
      }
      if (f.primitive === 'string') {
        c += `for (let ${i} = 0; ${i} < ${val}.length; ${i}++) {\nconst s = ${val}[${i}];\n${writeString('s')}}\n`;
        continue;
      }
      const p = f.primitive as Exclude<Primitive, 'string'>;
      const ctor = TYPED[p]?.name;
      if (ctor && HOST_LE) {
        // a long array of the element type itself: one block copy (as writeStruct)
        c += `if (${val}.length >= 32 && ${val} instanceof ${ctor}) {\n${align('w.offset', ALIGN[p])}w.bytes.set(new Uint8Array(${val}.buffer, ${val}.byteOffset, ${val}.byteLength), w.offset); w.offset += ${val}.byteLength;\n} else `;
      }
      c += `if (${val}.length > 0) {\n${align('w.offset', ALIGN[p])}for (let ${i} = 0; ${i} < ${val}.length; ${i}++) { ${writeScalar(`${val}[${i}]`, p).replace(/^\{[^}]*\}\n/, '')}}\n}\n`;
    }
    return c;
  };

  const sizeCode = sizeStruct(plan, 'm');
  const writeCode = writeStruct(plan, 'm');
  if (!supported) return null;
  const utf8Length = (s: string) => utf8Of(s)?.length ?? Buffer.byteLength(s, 'utf8');
  const make = new Function('utf8Of', 'utf8Length', `return {\nsize(m) {\nlet o = 4;\n${sizeCode}return o;\n},\nwrite(w, m) {\n${writeCode}}\n};`);
  return make(utf8Of, utf8Length) as CompiledEncoder;
}
