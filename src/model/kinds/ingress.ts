// Ingress (networking.k8s.io/v1): host and path routing to Services, served by bramble's L7
// router on every gateway.
import { checkIanaSvcName } from '../names.ts';
import { any, arr, enumOf, int, notImplemented, obj, required, str, stringList, type ObjectSchema } from '../schema.ts';
import { condition, topLevel } from './meta.ts';
import { PORT } from './pod.ts';

export const PATH_TYPES = ['Exact', 'Prefix', 'ImplementationSpecific'] as const;

export const ingressBackend: ObjectSchema = obj({
  service: obj({
    name: required(str()),
    port: obj({ number: int(PORT), name: str({ check: checkIanaSvcName }) }),
  }),
  resource: notImplemented('backends must be Services'),
});

export const ingressSchema: ObjectSchema = topLevel({
  spec: obj({
    ingressClassName: str(),
    defaultBackend: ingressBackend,
    tls: arr(obj({ hosts: stringList(), secretName: str() })),
    rules: arr(
      obj({
        host: str(),
        http: obj({
          paths: required(
            arr(
              obj({
                path: str(),
                // Required in networking.k8s.io/v1: '' is "unset" and refused as Required.
                pathType: required(enumOf(PATH_TYPES)),
                backend: required(ingressBackend),
              }),
            ),
          ),
        }),
      }),
    ),
  }),
  status: obj({ loadBalancer: any(), conditions: arr(condition) }, { open: true }),
});
