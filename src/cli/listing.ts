// Listing a collection the way kubectl does: in chunks of 500 (`limit` + `continue`), so a big
// namespace is not one huge answer for a small gateway to build, with selectors passed through.

import type { KObject, ResourceInfo } from '../model/index.ts';
import type { ApiClient, Query } from './api-client.ts';
import { withTypeMeta } from './printers/output.ts';
import { collectionPath } from './resources.ts';

export const CHUNK_SIZE = 500;

export interface Selectors {
  labelSelector?: string | undefined;
  fieldSelector?: string | undefined;
}

export interface Listed {
  items: KObject[];
  /** Where a watch of this list starts. */
  resourceVersion: string;
}

interface ListAnswer {
  metadata?: { resourceVersion?: string; continue?: string };
  items?: KObject[];
}

export function selectorQuery(selectors: Selectors): Record<string, string> {
  const query: Record<string, string> = {};
  if (selectors.labelSelector) query['labelSelector'] = selectors.labelSelector;
  if (selectors.fieldSelector) query['fieldSelector'] = selectors.fieldSelector;
  return query;
}

/** Every object of the collection (namespace undefined: all namespaces), apiVersion/kind filled in. */
export async function listAll(client: ApiClient, info: ResourceInfo, namespace: string | undefined, selectors: Selectors = {}): Promise<Listed> {
  const path = collectionPath(info, namespace);
  const items: KObject[] = [];
  let resourceVersion = '';
  let token: string | undefined;
  do {
    const query: Query = { ...selectorQuery(selectors), limit: CHUNK_SIZE, ...(token ? { continue: token } : {}) };
    const answer = await client.get<ListAnswer>(path, query);
    for (const item of answer?.items ?? []) items.push(withTypeMeta(item, info));
    // The first chunk's version is the list's: later chunks come from the same snapshot.
    if (resourceVersion === '') resourceVersion = answer?.metadata?.resourceVersion ?? '';
    token = answer?.metadata?.continue || undefined;
  } while (token !== undefined);
  return { items, resourceVersion };
}
