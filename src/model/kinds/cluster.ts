// Namespace, Node and Event (core/v1): the cluster-level kinds. A Node's status is written by
// bramble's own agent, so it is checked for shape only.
import { checkIPv4Cidr } from '../addresses.ts';
import { checkLabelValue, checkQualifiedName } from '../names.ts';
import { any, arr, bool, enumOf, inert, int, notImplemented, obj, required, str, stringList, type ObjectSchema } from '../schema.ts';
import { condition, objectReference, timestamp, topLevel } from './meta.ts';

export const namespaceSchema: ObjectSchema = topLevel({
  spec: obj({ finalizers: stringList() }),
  status: obj({ phase: enumOf(['Active', 'Terminating']), conditions: arr(condition) }, { open: true }),
});

export const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const;

export const nodeSchema: ObjectSchema = topLevel({
  spec: obj({
    podCIDR: str({ check: checkIPv4Cidr }),
    podCIDRs: stringList({}, { check: checkIPv4Cidr }),
    unschedulable: bool(),
    taints: arr(
      obj({
        key: required(str({ check: checkQualifiedName })),
        value: str({ check: checkLabelValue }),
        effect: required(enumOf(TAINT_EFFECTS)),
        timeAdded: timestamp(),
      }),
    ),
    providerID: inert(str(), 'bramble has no cloud provider'),
    externalID: inert(str(), 'deprecated'),
    configSource: notImplemented('dynamic kubelet configuration was removed from Kubernetes'),
  }),
  status: any({ objectOnly: true }),
});

export const EVENT_TYPES = ['Normal', 'Warning'] as const;

export const eventSchema: ObjectSchema = topLevel({
  involvedObject: objectReference,
  reason: str(),
  message: str(),
  source: obj({ component: str(), host: str() }),
  firstTimestamp: timestamp(),
  lastTimestamp: timestamp(),
  eventTime: timestamp(),
  count: int({ min: 0 }),
  type: enumOf(EVENT_TYPES),
  series: obj({ count: int({ min: 0 }), lastObservedTime: timestamp() }),
  action: str(),
  related: objectReference,
  reportingComponent: str(),
  reportingInstance: str(),
});
