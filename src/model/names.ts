// The name rules of Kubernetes (apimachinery's validation package), each answering an error
// message or null. Object names end up in DNS names, host names, file names and storage keys,
// so the rules are the same as Kubernetes' and a manifest valid there is valid here.

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
// Kubernetes' relaxed env var rule (RelaxedEnvironmentVariableValidation): printable ASCII but '='.
const ENV_VAR_NAME = /^[\x20-\x3c\x3e-\x7e]+$/;

export const DNS1123_LABEL_MAX = 63;
export const DNS1123_SUBDOMAIN_MAX = 253;
export const LABEL_VALUE_MAX = 63;
export const QUALIFIED_NAME_MAX = 63;
export const IANA_SVC_NAME_MAX = 15;
export const CONFIG_KEY_MAX = 253;

const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const QUALIFIED_MSG =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

const tooLong = (max: number) => `must be no more than ${max} characters`;

/** DNS-1123 label: Namespace and Service names, container and volume names, host names. */
export function checkDns1123Label(value: string): string | null {
  if (value.length > DNS1123_LABEL_MAX) return tooLong(DNS1123_LABEL_MAX);
  return DNS1123_LABEL.test(value) ? null : LABEL_MSG;
}

/**
 * DNS-1035 label: Service names. Stricter than a DNS-1123 label (starts with a letter) because a
 * Service name also becomes environment variable names (MY_SVC_SERVICE_HOST), as in Kubernetes.
 */
export function checkDns1035Label(value: string): string | null {
  if (value.length > DNS1123_LABEL_MAX) return tooLong(DNS1123_LABEL_MAX);
  return DNS1035_LABEL.test(value)
    ? null
    : "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
}

/** DNS-1123 subdomain: most object names, label key prefixes, Ingress hosts. */
export function checkDns1123Subdomain(value: string): string | null {
  if (value.length > DNS1123_SUBDOMAIN_MAX) return tooLong(DNS1123_SUBDOMAIN_MAX);
  return DNS1123_SUBDOMAIN.test(value) ? null : SUBDOMAIN_MSG;
}

/**
 * A generateName prefix is checked as a name whose trailing '-' would be followed by the random
 * suffix, as Kubernetes does (maskTrailingDash), so `web-` is a valid prefix.
 */
export function maskTrailingDash(prefix: string): string {
  return prefix.length > 1 && prefix.endsWith('-') ? `${prefix.slice(0, -1)}a` : prefix;
}

/** Label and annotation keys, finalizers: `[prefix/]name`, prefix a DNS subdomain. */
export function checkQualifiedName(value: string): string | null {
  const parts = value.split('/');
  let name: string;
  if (parts.length === 1) {
    name = parts[0]!;
  } else if (parts.length === 2) {
    const prefix = parts[0]!;
    name = parts[1]!;
    if (prefix.length === 0) return 'prefix part must be non-empty';
    const bad = checkDns1123Subdomain(prefix);
    if (bad !== null) return `prefix part ${bad}`;
  } else {
    return `a qualified name ${QUALIFIED_MSG} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`;
  }
  if (name.length === 0) return 'name part must be non-empty';
  if (name.length > QUALIFIED_NAME_MAX) return `name part ${tooLong(QUALIFIED_NAME_MAX)}`;
  if (!QUALIFIED_NAME.test(name)) return `name part ${QUALIFIED_MSG}`;
  return null;
}

/** Label values (also selector values): may be empty. */
export function checkLabelValue(value: string): string | null {
  if (value.length > LABEL_VALUE_MAX) return tooLong(LABEL_VALUE_MAX);
  return LABEL_VALUE.test(value) ? null : `a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`;
}

/** IANA_SVC_NAME (RFC 6335): container port names, named target ports and probe ports. */
export function checkIanaSvcName(value: string): string | null {
  if (value.length > IANA_SVC_NAME_MAX) return tooLong(IANA_SVC_NAME_MAX);
  if (!/^[-a-z0-9]+$/.test(value)) return 'must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)';
  if (value.includes('--')) return 'must not contain consecutive hyphens';
  if (!/[a-z]/.test(value)) return 'must contain at least one letter (a-z)';
  if (value.startsWith('-') || value.endsWith('-')) return 'must not begin or end with a hyphen';
  return null;
}

/** Environment variable names, with Kubernetes' relaxed rule (printable ASCII except '='). */
export function checkEnvVarName(value: string): string | null {
  if (value.length === 0 || !ENV_VAR_NAME.test(value)) {
    return "a valid environment variable name must consist only of printable ASCII characters other than '='";
  }
  return null;
}

/** ConfigMap and Secret keys: they become file names in a mounted volume. */
export function checkConfigMapKey(value: string): string | null {
  if (value.length > CONFIG_KEY_MAX) return tooLong(CONFIG_KEY_MAX);
  if (!CONFIG_KEY.test(value)) return "a valid config key must consist of alphanumeric characters, '-', '_' or '.'";
  // '.', '..' and '..x' would escape or shadow the volume's own bookkeeping entries.
  if (value === '.') return "must not be '.'";
  if (value === '..') return "must not be '..'";
  if (value.startsWith('..')) return "must not start with '..'";
  return null;
}
