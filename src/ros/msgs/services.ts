// Service definitions onestep needs without a ROS install: the node parameter services of rcl_interfaces and the
// std_srvs services the policy node offers. Written out here in `.srv` form (request fields, "---", response
// fields); field names, types and order are those of ROS 2 Jazzy, which the wire format and the type hashes
// (REP-2011) depend on. Nested message types (Parameter, ParameterValue, ...) come from the message registry.

const RCL_INTERFACES: Record<string, string> = {
  // values of the named parameters, in the order asked (type PARAMETER_NOT_SET for an unknown name)
  GetParameters: 'string[] names\n---\nParameterValue[] values\n',
  // one result per parameter, each applied on its own
  SetParameters: 'Parameter[] parameters\n---\nSetParametersResult[] results\n',
  // all parameters or none
  SetParametersAtomically: 'Parameter[] parameters\n---\nSetParametersResult result\n',
  // names under the prefixes ("" = all) down to `depth` dot-separated levels (0 = no limit)
  ListParameters: 'uint64 DEPTH_RECURSIVE=0\nstring[] prefixes\nuint64 depth\n---\nListParametersResult result\n',
  DescribeParameters: 'string[] names\n---\nParameterDescriptor[] descriptors\n',
  // ParameterType constants, one per name
  GetParameterTypes: 'string[] names\n---\nuint8[] types\n',
};

const STD_SRVS: Record<string, string> = {
  Empty: '---\n',
  Trigger: '---\nbool success\nstring message\n',
  SetBool: 'bool data\n---\nbool success\nstring message\n',
};

/** `.srv` texts keyed by "pkg/srv/Name". */
export function standardServiceDefinitions(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, text] of Object.entries(RCL_INTERFACES)) out[`rcl_interfaces/srv/${name}`] = text;
  for (const [name, text] of Object.entries(STD_SRVS)) out[`std_srvs/srv/${name}`] = text;
  return out;
}

/** The request and response parts of a `.srv` text (split at the first line that is exactly "---"). */
export function splitServiceText(text: string): { request: string; response: string } | undefined {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => l.trim() === '---');
  if (at < 0) return undefined;
  return { request: lines.slice(0, at).join('\n'), response: lines.slice(at + 1).join('\n') };
}
