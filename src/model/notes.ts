// The fields of a kind that bramble refuses as not implemented, and those it accepts and stores
// without acting on them, read from the schemas themselves so the README and `bramble explain`
// cannot drift from what validation does.
import { schemaForKind } from './kinds/index.ts';
import { schemaNotes, type SchemaNote } from './schema.ts';

export function fieldNotes(kind: string): SchemaNote[] {
  return schemaNotes(schemaForKind(kind));
}
