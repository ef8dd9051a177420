// Ownership of dependents, as Kubernetes' ControllerRefManager: an owner keeps the objects that
// name it as controller and still match its selector, adopts matching objects that have no
// controller, and releases its objects that stopped matching. Adoption re-reads the owner
// through the leader first, so a deleted (or re-created) owner never adopts anything.
import type { ObjectApi } from '../api/resources/index.ts';
import { StatusError } from '../api/resources/index.ts';
import type { KObject, LabelMatcher, ResourceInfo } from '../model/index.ts';
import { controllerRefOf, controllerRefTo, isTerminating } from './workload-objects.ts';

export interface ClaimOptions {
  api: ObjectApi;
  ownerInfo: ResourceInfo;
  owner: KObject;
  /** The dependents' resource (pods, replicasets). */
  info: ResourceInfo;
  selector: LabelMatcher;
  /** Candidates: the dependents in the owner's namespace. */
  candidates: readonly KObject[];
}

/** The dependents the owner controls after adopting and releasing. */
export async function claim(o: ClaimOptions): Promise<KObject[]> {
  const uid = o.owner.metadata.uid;
  const owned: KObject[] = [];
  let ownerConfirmed: boolean | undefined;
  const canAdopt = async (): Promise<boolean> => {
    if (ownerConfirmed === undefined) {
      try {
        const fresh = await o.api.get(o.ownerInfo, o.owner.metadata.namespace, o.owner.metadata.name!, false);
        ownerConfirmed = fresh.metadata.uid === uid && !isTerminating(fresh);
      } catch (error) {
        if (!(error instanceof StatusError && error.code === 404)) throw error;
        ownerConfirmed = false;
      }
    }
    return ownerConfirmed;
  };
  for (const object of o.candidates) {
    const ref = controllerRefOf(object);
    const matches = o.selector(object.metadata.labels);
    if (ref) {
      if (ref.uid !== uid) continue;
      if (matches || isTerminating(o.owner)) {
        owned.push(object);
        continue;
      }
      await updateRefs(o, object, (refs) => refs.filter((r) => r.uid !== uid));
      continue;
    }
    if (!matches || isTerminating(o.owner) || isTerminating(object)) continue;
    if (!(await canAdopt())) return owned;
    const adopted = await updateRefs(o, object, (refs) => (refs.some((r) => r.controller === true) ? refs : [...refs, controllerRefTo(o.owner)]));
    if (adopted && controllerRefOf(adopted)?.uid === uid) owned.push(adopted);
  }
  return owned;
}

// A metadata-only change, made against the stored object (not the informer's copy), so a
// concurrent adoption by another owner is seen and respected.
async function updateRefs(o: ClaimOptions, object: KObject, change: (refs: NonNullable<KObject['metadata']['ownerReferences']>) => NonNullable<KObject['metadata']['ownerReferences']>): Promise<KObject | undefined> {
  try {
    return await o.api.update(
      o.info,
      object.metadata.namespace,
      object.metadata.name!,
      (current) => {
        if (current.metadata.uid !== object.metadata.uid) return current;
        const refs = change(current.metadata.ownerReferences ?? []);
        const metadata = { ...current.metadata };
        if (refs.length > 0) metadata.ownerReferences = refs;
        else delete metadata.ownerReferences;
        return { ...current, metadata };
      },
      { dryRun: false },
    );
  } catch (error) {
    if (error instanceof StatusError && error.code === 404) return undefined;
    throw error;
  }
}
