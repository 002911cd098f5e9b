#!/usr/bin/env python3
"""AuditPolicyKeepsForensicEvents: manifests/audit/audit-policy.yaml gives each kind of request
the level podmortem needs, evaluated the way the API server evaluates a policy (first matching
rule wins; users, groups, verbs, resources with group, subresource and `*` forms, namespaces,
non-resource URL prefixes; rule and policy omitStages). And kind-cluster.yaml wires the files
into the API server: every flag's file is mounted, through the node, into the static pod.
"""

import ipaddress
import posixpath

from deploy_lib import Failure, MANIFESTS, main, one, render, yaml_documents, yaml_file

LEVELS = ["None", "Metadata", "Request", "RequestResponse"]
USER = ("eve", ["developers", "system:authenticated"])
KUBELET = ("system:node:worker-2", ["system:nodes", "system:authenticated"])
GC = ("system:serviceaccount:kube-system:generic-garbage-collector",
      ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"])
KUBE_PROXY = ("system:kube-proxy", ["system:authenticated"])
CONTROLLER_MANAGER = ("system:kube-controller-manager", ["system:authenticated"])
PODMORTEM = ("system:serviceaccount:podmortem-system:podmortem",
             ["system:serviceaccounts", "system:serviceaccounts:podmortem-system", "system:authenticated"])


def request(who, verb, resource=None, group="", namespace="prod-shop", name="web-7c9d5f-abcde", path=None):
    user, groups = who
    if path is not None:
        return {"user": user, "groups": groups, "verb": verb, "path": path}
    resource, _, subresource = resource.partition("/")
    return {"user": user, "groups": groups, "verb": verb, "group": group, "resource": resource,
            "subresource": subresource, "namespace": namespace, "name": name}


def rule_matches(rule, req):
    if rule.get("users") and req["user"] not in rule["users"]:
        return False
    if rule.get("userGroups") and not set(req["groups"]) & set(rule["userGroups"]):
        return False
    if rule.get("verbs") and req["verb"] not in rule["verbs"]:
        return False
    if rule.get("namespaces") or rule.get("resources"):
        if "path" in req:
            return False
        if rule.get("namespaces") and req["namespace"] not in rule["namespaces"]:
            return False
        if not rule.get("resources"):
            return True
        combined = req["resource"] + ("/" + req["subresource"] if req["subresource"] else "")
        for gr in rule["resources"]:
            if gr.get("group", "") != req["group"]:
                continue
            if not gr.get("resources"):
                return True
            if gr.get("resourceNames") and req["name"] not in gr["resourceNames"]:
                continue
            for res in gr["resources"]:
                if res in (combined, "*"):
                    return True
                if req["subresource"] and res.startswith("*/") and res[2:] == req["subresource"]:
                    return True
                if res.endswith("/*") and res[:-2] == req["resource"]:
                    return True
        return False
    if rule.get("nonResourceURLs"):
        if "path" not in req:
            return False
        for spec in rule["nonResourceURLs"]:
            if spec in ("*", req["path"]) or (spec.endswith("*") and req["path"].startswith(spec.rstrip("*"))):
                return True
        return False
    return True


def evaluate(policy, req):
    """(level, omitted stages, index of the deciding rule)."""
    for index, rule in enumerate(policy["rules"]):
        if rule_matches(rule, req):
            return rule["level"], set(rule.get("omitStages", [])) | set(policy.get("omitStages", [])), index
    return "None", set(), None


CASES = [
    # (what, request, expected level, RequestReceived must be kept)
    ("exec into a pod (SPDY)", request(USER, "create", "pods/exec"), "Request", True),
    ("exec into a pod (WebSocket)", request(USER, "get", "pods/exec"), "Request", True),
    ("attach to a pod", request(USER, "create", "pods/attach"), "Request", True),
    ("port-forward to a pod", request(USER, "get", "pods/portforward"), "Request", True),
    ("add an ephemeral container", request(USER, "patch", "pods/ephemeralcontainers"), "Request", True),
    ("delete a pod", request(USER, "delete", "pods"), "RequestResponse", False),
    ("delete a pod, garbage collector", request(GC, "delete", "pods"), "RequestResponse", False),
    ("delete a pod, kubelet", request(KUBELET, "delete", "pods"), "RequestResponse", False),
    ("delete every pod of a namespace", request(USER, "deletecollection", "pods", name=""), "RequestResponse", False),
    ("evict a pod", request(USER, "create", "pods/eviction"), "Request", False),
    ("change a pod", request(USER, "patch", "pods"), "Request", False),
    ("create a ClusterRoleBinding", request(USER, "create", "clusterrolebindings", group="rbac.authorization.k8s.io",
                                            namespace="", name="x"), "Request", False),
    ("delete a ForensicPolicy", request(USER, "delete", "forensicpolicies", group="podmortem.io", namespace=""), "Request", False),
    ("delete an EvidenceSnapshot", request(USER, "delete", "evidencesnapshots", group="podmortem.io",
                                           namespace="podmortem-system"), "Request", False),
    ("read a secret", request(USER, "get", "secrets", name="db-password"), "Metadata", False),
    ("list secrets", request(USER, "list", "secrets", name=""), "Metadata", False),
    ("create a service-account token", request(USER, "create", "serviceaccounts/token", name="default"), "Metadata", False),
    ("update a config map", request(USER, "update", "configmaps", name="app"), "Metadata", False),
    ("podmortem writes its certificate Secret", request(PODMORTEM, "update", "secrets", namespace="podmortem-system",
                                                        name="podmortem-webhook-tls"), "Metadata", False),
    ("read a pod", request(USER, "get", "pods"), "Metadata", False),
    ("list deployments", request(USER, "list", "deployments", group="apps", name=""), "Metadata", False),
    ("delete events (covering tracks)", request(USER, "delete", "events", name="x"), "Metadata", False),
    ("API discovery", request(USER, "get", path="/apis"), "Metadata", False),
    # noise
    ("kubelet watches its pods", request(KUBELET, "watch", "pods", name=""), "None", None),
    ("kubelet reads a secret for its pod", request(KUBELET, "get", "secrets", name="db-password"), "None", None),
    ("kubelet pod status", request(KUBELET, "patch", "pods/status"), "None", None),
    ("kubelet node status", request(KUBELET, "patch", "nodes/status", namespace="", name="worker-2"), "None", None),
    ("node lease renewal", request(KUBELET, "update", "leases", group="coordination.k8s.io",
                                   namespace="kube-node-lease", name="worker-2"), "None", None),
    ("leader election", request(CONTROLLER_MANAGER, "update", "leases", group="coordination.k8s.io",
                                namespace="kube-system", name="kube-controller-manager"), "None", None),
    ("kube-proxy watches endpoint slices", request(KUBE_PROXY, "watch", "endpointslices", group="discovery.k8s.io",
                                                   name=""), "None", None),
    ("controller manager lists pods", request(CONTROLLER_MANAGER, "list", "pods", name=""), "None", None),
    ("an event is written", request(GC, "create", "events", name="x"), "None", None),
    ("/healthz", request(USER, "get", path="/healthz"), "None", None),
    ("/livez?verbose", request(USER, "get", path="/livez/etcd"), "None", None),
    ("/readyz", request(USER, "get", path="/readyz"), "None", None),
    ("/version", request(USER, "get", path="/version"), "None", None),
    ("/openapi/v3", request(USER, "get", path="/openapi/v3"), "None", None),
]

SENSITIVE = ["secrets", "configmaps", "serviceaccounts/token"]
VERBS = ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"]


def expect(condition, message):
    if not condition:
        raise Failure(message)


def check_policy(policy):
    expect(policy.get("apiVersion") == "audit.k8s.io/v1" and policy.get("kind") == "Policy",
           "audit-policy.yaml must be an audit.k8s.io/v1 Policy")
    for index, rule in enumerate(policy["rules"]):
        expect(rule.get("level") in LEVELS, f"rule {index}: level {rule.get('level')!r}")
    last = policy["rules"][-1]
    expect(set(last) <= {"level", "omitStages"} and last["level"] == "Metadata",
           "the last rule must be a catch-all at Metadata")
    expect("RequestReceived" not in policy.get("omitStages", []),
           "RequestReceived must not be dropped policy-wide: it is the first sign of an exec")

    problems = []
    for what, req, level, keep_received in CASES:
        got, omitted, index = evaluate(policy, req)
        if got != level:
            problems.append(f"{what}: level {got} (rule {index}), expected {level}")
        elif keep_received and "RequestReceived" in omitted:
            problems.append(f"{what}: stage RequestReceived is omitted (rule {index})")
    # Whoever asks and however: a credential's body never reaches the audit trail.
    for who in (USER, GC, KUBELET, PODMORTEM, CONTROLLER_MANAGER):
        for resource in SENSITIVE:
            for verb in VERBS:
                got, _, index = evaluate(policy, request(who, verb, resource))
                if LEVELS.index(got) > LEVELS.index("Metadata"):
                    problems.append(f"{who[0]} {verb} {resource}: level {got} (rule {index}) records the body")
    expect(not problems, "audit policy levels:\n  " + "\n  ".join(problems))
    print(f"{len(CASES)} requests and {5 * len(SENSITIVE) * len(VERBS)} credential accesses get the expected level")


def check_kind(policy_file, kubeconfig_file):
    cluster = yaml_file(MANIFESTS / "audit" / "kind-cluster.yaml")
    expect(cluster.get("apiVersion") == "kind.x-k8s.io/v1alpha4" and cluster.get("kind") == "Cluster",
           "kind-cluster.yaml must be a kind.x-k8s.io/v1alpha4 Cluster")
    node = next(n for n in cluster["nodes"] if n["role"] == "control-plane")
    patches = [yaml_documents(p)[0] for p in node.get("kubeadmConfigPatches", [])]
    config = next(p for p in patches if p.get("kind") == "ClusterConfiguration")
    api = config["apiServer"]
    args = api["extraArgs"]
    expect(args.get("audit-webhook-batch-max-wait") == "5s", "audit-webhook-batch-max-wait must be 5s")
    expect(str(args.get("audit-webhook-batch-max-size", "")).isdigit(), "audit-webhook-batch-max-size must be set")

    def on_node(path):
        """The node path a static-pod path comes from, and that it reaches the host (extraMounts)."""
        volume = next((v for v in api.get("extraVolumes", [])
                       if path == v["mountPath"] or path.startswith(v["mountPath"].rstrip("/") + "/")), None)
        expect(volume, f"{path} is not mounted into the API server (extraVolumes)")
        node_path = volume["hostPath"] + path[len(volume["mountPath"]):]
        mount = next((m for m in node.get("extraMounts", [])
                      if node_path == m["containerPath"] or node_path.startswith(m["containerPath"].rstrip("/") + "/")), None)
        expect(mount, f"{node_path} is not mounted into the kind node (extraMounts)")
        return node_path

    for flag, name in (("audit-policy-file", policy_file), ("audit-webhook-config-file", kubeconfig_file)):
        expect(flag in args, f"extraArgs lack --{flag}")
        on_node(args[flag])
        expect(posixpath.basename(args[flag]) == name, f"--{flag} names {args[flag]}, the file here is {name}")

    subnet = ipaddress.ip_network(cluster["networking"]["serviceSubnet"])
    service = one(render(MANIFESTS / "overlays" / "kind"), "Service", "podmortem")
    expect(ipaddress.ip_address(service["spec"]["clusterIP"]) in subnet,
           f"overlays/kind's clusterIP {service['spec']['clusterIP']} is outside kind's serviceSubnet {subnet}")


def test(_workdir):
    check_policy(yaml_file(MANIFESTS / "audit" / "audit-policy.yaml"))
    check_kind("audit-policy.yaml", "audit-webhook-kubeconfig.yaml")


if __name__ == "__main__":
    main(test)
