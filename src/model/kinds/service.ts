// Service and Endpoints (core/v1). bramble balances in userspace on each gateway (DESIGN: L4
// balancer), so ClusterIP and NodePort Services work; cloud load balancers do not exist here.
import { checkDns1123Label, checkDns1123Subdomain } from '../names.ts';
import {
  any,
  arr,
  bool,
  enumOf,
  inert,
  int,
  intOrString,
  notImplemented,
  obj,
  required,
  str,
  stringList,
  type ObjectSchema,
} from '../schema.ts';
import { condition, labelMap, objectReference, topLevel } from './meta.ts';
import { checkPortNumberOrName, PORT, protocol } from './pod.ts';

export const SERVICE_TYPES = ['ClusterIP', 'NodePort', 'ExternalName'] as const;
export const NODE_PORT_RANGE = { min: 30000, max: 32767 } as const;

const servicePort = obj({
  name: str({ check: checkDns1123Label }),
  protocol: protocol(),
  appProtocol: inert(str(), 'stored; not interpreted by the object model'),
  port: required(int(PORT)),
  targetPort: intOrString({ check: checkPortNumberOrName }),
  nodePort: int({ min: 0, max: 65535 }),
});

const NO_LB = 'bramble has no cloud load balancer';

export const serviceSchema: ObjectSchema = topLevel({
  spec: obj({
    type: enumOf(SERVICE_TYPES, {
      notImplemented: { LoadBalancer: `bramble does not support LoadBalancer Services (${NO_LB}); use NodePort or an Ingress` },
    }),
    selector: labelMap(),
    ports: arr(servicePort),
    clusterIP: str(),
    clusterIPs: stringList(),
    externalName: str(),
    sessionAffinity: enumOf(['None', 'ClientIP']),
    // The balancer (src/proxy) acts on these three.
    sessionAffinityConfig: obj({ clientIP: obj({ timeoutSeconds: int({ min: 1, max: 86400 }) }) }),
    publishNotReadyAddresses: bool(),
    externalTrafficPolicy: enumOf(['Cluster', 'Local']),
    internalTrafficPolicy: enumOf(['Cluster', 'Local']),
    ipFamilies: arr(enumOf(['IPv4'], { notImplemented: { IPv6: 'bramble networks are IPv4 only' } })),
    ipFamilyPolicy: inert(
      enumOf(['SingleStack', 'PreferDualStack'], { notImplemented: { RequireDualStack: 'bramble networks are IPv4 only' } }),
      'bramble networks are IPv4 single-stack',
    ),
    externalIPs: notImplemented('use a NodePort Service'),
    loadBalancerIP: notImplemented(NO_LB),
    loadBalancerSourceRanges: notImplemented(NO_LB),
    loadBalancerClass: notImplemented(NO_LB),
    allocateLoadBalancerNodePorts: notImplemented(NO_LB, { harmless: [true] }),
    healthCheckNodePort: notImplemented(NO_LB, { harmless: [0] }),
    trafficDistribution: notImplemented('topology-aware routing is not implemented'),
  }),
  status: obj({ loadBalancer: any(), conditions: arr(condition) }, { open: true }),
});

const endpointAddress = obj({
  ip: required(str()),
  hostname: str({ check: checkDns1123Label }),
  nodeName: str({ check: checkDns1123Subdomain }),
  targetRef: objectReference,
});

export const endpointsSchema: ObjectSchema = topLevel({
  subsets: arr(
    obj({
      addresses: arr(endpointAddress),
      notReadyAddresses: arr(endpointAddress),
      ports: arr(
        obj({
          name: str({ check: checkDns1123Label }),
          port: required(int(PORT)),
          protocol: protocol(),
          appProtocol: inert(str(), 'stored; not interpreted by the object model'),
        }),
      ),
    }),
  ),
});
