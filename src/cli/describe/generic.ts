// `describe` for ConfigMap and Secret (kubectl's forms: a Secret shows sizes, never values) and
// for every other kind: the common header, then the object's remaining fields as YAML.

import type { KObject } from '../../model/index.ts';
import { obj, str } from '../printers/fields.ts';
import { toYaml } from '../printers/output.ts';
import { DescribeWriter, writeEvents, writeHeader } from './writer.ts';

export function describeConfigMap(cm: KObject, events: KObject[] | undefined, now: number): string {
  const w = new DescribeWriter();
  writeHeader(w, cm, true);
  w.flush();
  let text = w.toString();
  text += '\nData\n====\n';
  const data = obj(cm['data']);
  for (const key of Object.keys(data).sort()) text += `${key}:\n----\n${str(data[key])}\n\n`;
  text += 'BinaryData\n====\n';
  const binary = obj(cm['binaryData']);
  for (const key of Object.keys(binary).sort()) text += `${key}: ${Math.floor((str(binary[key]).length * 3) / 4)} bytes\n`;
  text += '\n';
  const tail = new DescribeWriter();
  writeEvents(tail, events, now);
  return text + tail.toString();
}

function decodedLength(base64: string): number {
  return Buffer.from(base64, 'base64').length;
}

export function describeSecret(secret: KObject, events: KObject[] | undefined, now: number): string {
  const w = new DescribeWriter();
  writeHeader(w, secret, true);
  w.line(0, '');
  w.line(0, 'Type:', str(secret['type']) || 'Opaque');
  w.line(0, '');
  w.line(0, 'Data');
  w.line(0, '====');
  const data = obj(secret['data']);
  for (const key of Object.keys(data).sort()) w.line(0, `${key}:`, `${decodedLength(str(data[key]))} bytes`);
  // Sizes only: describe must not put a secret's values on a screen.
  const tail = new DescribeWriter();
  writeEvents(tail, events, now);
  return `${w.toString()}\n${tail.toString()}`;
}

/** Header, then `Spec:`, `Status:` ... each with its YAML indented below. */
export function describeGeneric(object: KObject, namespaced: boolean, events: KObject[] | undefined, now: number): string {
  const w = new DescribeWriter();
  writeHeader(w, object, namespaced);
  let text = w.toString();
  for (const [key, value] of Object.entries(object)) {
    if (key === 'apiVersion' || key === 'kind' || key === 'metadata') continue;
    const title = key.charAt(0).toUpperCase() + key.slice(1);
    if (value === null || typeof value !== 'object') {
      text += `${title}:  ${String(value)}\n`;
      continue;
    }
    const yaml = toYaml(value).trimEnd();
    text += `${title}:\n${yaml.split('\n').map((line) => `  ${line}`).join('\n')}\n`;
  }
  const tail = new DescribeWriter();
  writeEvents(tail, events, now);
  return text + tail.toString();
}
