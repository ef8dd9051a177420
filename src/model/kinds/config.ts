// ConfigMap and Secret (core/v1). Keys and base64 are checked in src/model/rules/config.ts,
// where a bad Secret value can be reported without echoing it.
import { bool, map, str, type ObjectSchema } from '../schema.ts';
import { topLevel } from './meta.ts';

export const configMapSchema: ObjectSchema = topLevel({
  data: map(str()),
  binaryData: map(str()),
  immutable: bool(),
});

export const secretSchema: ObjectSchema = topLevel({
  type: str(),
  data: map(str()),
  stringData: map(str()),
  immutable: bool(),
});
