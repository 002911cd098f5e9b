#!/usr/bin/env python3
"""WebhookConfigurationIsFailOpenAndScoped: the rendered base keeps the settings that protect
the cluster from podmortem and the evidence from everyone else, so that nobody turns on the
cluster-blocking default or widens a permission by accident.

- the ValidatingWebhookConfiguration fails open, declares its side effects, stays within the
  API's timeout, sends exactly the requests podmortem handles, and never podmortem's own pods;
- the Deployment runs unprivileged (restricted Pod Security Standard);
- RBAC is exactly what the code calls: no wildcards, no Secrets outside podmortem-system.
"""

from deploy_lib import Failure, MANIFESTS, find, main, one, render

NAMESPACE = "podmortem-system"

EXPECTED_RULES = {
    (frozenset({"DELETE"}), frozenset({"pods"})),
    (frozenset({"CREATE"}), frozenset({"pods/eviction"})),
    (frozenset({"CONNECT"}), frozenset({"pods/exec", "pods/attach", "pods/portforward"})),
    (frozenset({"CREATE", "UPDATE"}), frozenset({"pods"})),
}

# (apiGroup, resource, verb, resourceName or None) the controller may use, and nothing else.
MANAGER_CLUSTER = {
    *{("podmortem.io", "forensicpolicies", v, None) for v in ("list", "watch")},
    ("podmortem.io", "forensicpolicies/status", "patch", None),
    ("", "pods", "get", None), ("", "pods", "patch", None),
    ("", "pods/log", "get", None),
    ("", "events", "list", None),
    ("", "nodes", "get", None),
    ("", "serviceaccounts", "get", None),
    *{("", "namespaces", v, None) for v in ("list", "watch")},
    *{("apps", r, "get", None) for r in ("replicasets", "deployments", "statefulsets", "daemonsets")},
    ("batch", "jobs", "get", None), ("batch", "cronjobs", "get", None),
    ("", "replicationcontrollers", "get", None),
    ("admissionregistration.k8s.io", "validatingwebhookconfigurations", "get", "podmortem"),
    ("admissionregistration.k8s.io", "validatingwebhookconfigurations", "update", "podmortem"),
}
MANAGER_NAMESPACED = {
    ("podmortem.io", "evidencesnapshots", "create", None),
    ("podmortem.io", "evidencesnapshots", "get", None),  # an EvidenceDownload's snapshot
    ("podmortem.io", "evidencesnapshots/status", "patch", None),
    *{("podmortem.io", "evidencedownloads", v, None) for v in ("get", "list", "watch", "delete")},
    ("podmortem.io", "evidencedownloads/status", "patch", None),
    ("coordination.k8s.io", "leases", "get", "podmortem-leader"),
    ("coordination.k8s.io", "leases", "update", "podmortem-leader"),
    ("coordination.k8s.io", "leases", "create", None),
    ("", "secrets", "get", "podmortem-webhook-tls"),
    ("", "secrets", "update", "podmortem-webhook-tls"),
    ("", "secrets", "create", None),
}
DANGEROUS_VERBS = {"escalate", "bind", "impersonate", "*"}


def expect(condition, message):
    if not condition:
        raise Failure(message)


def check_webhook(objects):
    config = one(objects, "ValidatingWebhookConfiguration", "podmortem")
    webhooks = config.get("webhooks", [])
    expect([w["name"] for w in webhooks] == ["pods.podmortem.io"],
           f"expected the one webhook pods.podmortem.io, got {[w['name'] for w in webhooks]}")
    hook = webhooks[0]
    expect(hook.get("failurePolicy") == "Ignore",
           f"failurePolicy must be Ignore (a down podmortem must not block the cluster), got {hook.get('failurePolicy')}")
    expect(hook.get("sideEffects") == "NoneOnDryRun", f"sideEffects must be NoneOnDryRun, got {hook.get('sideEffects')}")
    expect(hook.get("admissionReviewVersions") == ["v1"],
           f"admissionReviewVersions must be [v1], got {hook.get('admissionReviewVersions')}")
    timeout = hook.get("timeoutSeconds")
    expect(isinstance(timeout, int) and 10 <= timeout <= 30,
           f"timeoutSeconds must be 10..30 (holds last up to 30 s), got {timeout}")
    expect(hook.get("matchPolicy") == "Equivalent", f"matchPolicy must be Equivalent, got {hook.get('matchPolicy')}")

    client = hook.get("clientConfig", {})
    expect("url" not in client, "clientConfig must name the Service, not a URL")
    expect(client.get("service") == {"namespace": NAMESPACE, "name": "podmortem", "path": "/validate", "port": 443},
           f"clientConfig.service must be podmortem-system/podmortem:443/validate, got {client.get('service')}")
    # An empty caBundle in the file would be reset by every `kubectl apply`, undoing what podmortem wrote.
    expect("caBundle" not in client, "clientConfig.caBundle must be absent (podmortem writes it)")

    rules = set()
    for rule in hook.get("rules", []):
        expect(rule.get("apiGroups") == [""], f"rule {rule}: apiGroups must be [\"\"]")
        expect(rule.get("apiVersions") == ["v1"], f"rule {rule}: apiVersions must be [v1]")
        expect(rule.get("scope", "Namespaced") in ("Namespaced", "*"), f"rule {rule}: scope must be Namespaced")
        rules.add((frozenset(rule["operations"]), frozenset(rule["resources"])))
    expect(len(rules) == len(hook.get("rules", [])), "duplicate webhook rules")
    expect(rules == EXPECTED_RULES, f"webhook rules differ:\n  got      {sorted(map(str, rules))}\n"
                                    f"  expected {sorted(map(str, EXPECTED_RULES))}")

    selector = hook.get("namespaceSelector", {})
    expect(not selector.get("matchLabels"), "namespaceSelector must not require labels (it would exclude namespaces)")
    excluded = [e for e in selector.get("matchExpressions", [])
                if e.get("key") == "kubernetes.io/metadata.name" and e.get("operator") == "NotIn"]
    expect(excluded and NAMESPACE in excluded[0].get("values", []),
           f"namespaceSelector must exclude {NAMESPACE}, got {selector}")
    expect(len(selector.get("matchExpressions", [])) == 1,
           f"namespaceSelector must exclude only podmortem's namespace, got {selector}")
    expect(not hook.get("objectSelector"), "objectSelector would hide pods from policies")


def check_deployment(objects):
    deployment = one(objects, "Deployment", "podmortem")
    expect(deployment["metadata"].get("namespace") == NAMESPACE, "Deployment must be in podmortem-system")
    expect(deployment["spec"].get("replicas", 1) >= 2, "at least 2 replicas")
    pod = deployment["spec"]["template"]["spec"]
    sc = pod.get("securityContext", {})
    expect(sc.get("runAsNonRoot") is True, "pod securityContext.runAsNonRoot must be true")
    for key in ("runAsUser", "runAsGroup", "fsGroup"):
        expect(sc.get(key) == 65532, f"pod securityContext.{key} must be 65532, got {sc.get(key)}")
    expect(sc.get("seccompProfile", {}).get("type") == "RuntimeDefault", "pod seccompProfile must be RuntimeDefault")
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        expect(not pod.get(key), f"{key} must not be set")
    expect(pod.get("serviceAccountName") == "podmortem", "serviceAccountName must be podmortem")

    containers = pod.get("containers", []) + pod.get("initContainers", [])
    for container in containers:
        name = container["name"]
        csc = container.get("securityContext", {})
        expect(csc.get("readOnlyRootFilesystem") is True, f"{name}: readOnlyRootFilesystem must be true")
        expect(csc.get("allowPrivilegeEscalation") is False, f"{name}: allowPrivilegeEscalation must be false")
        expect(not csc.get("privileged"), f"{name}: must not be privileged")
        expect("ALL" in csc.get("capabilities", {}).get("drop", []), f"{name}: capabilities must drop ALL")
        expect(not csc.get("capabilities", {}).get("add"), f"{name}: must not add capabilities")
        for key in ("runAsUser", "runAsGroup"):
            expect(csc.get(key, 65532) == 65532, f"{name}: {key} must be 65532")
        expect(csc.get("runAsNonRoot", True) is True, f"{name}: runAsNonRoot must not be turned off")
        expect(csc.get("seccompProfile", {}).get("type", "RuntimeDefault") == "RuntimeDefault",
               f"{name}: seccompProfile must stay RuntimeDefault")

    main_container = one([{"kind": "c", "metadata": {"name": c["name"]}, **c} for c in pod["containers"]], "c", "podmortem")
    ports = {p["name"]: p["containerPort"] for p in main_container.get("ports", [])}
    expect(ports.get("webhook") == 8443 and ports.get("metrics") == 9090,
           f"container ports must be webhook 8443 and metrics 9090, got {ports}")
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        get = main_container.get(probe, {}).get("httpGet", {})
        expect(get.get("path") == path and get.get("scheme") == "HTTPS" and get.get("port") in ("webhook", 8443),
               f"{probe} must be HTTPS {path} on 8443, got {get}")

    service = one(objects, "Service", "podmortem")
    service_ports = {p["name"]: (p["port"], p.get("targetPort")) for p in service["spec"]["ports"]}
    expect(service_ports.get("webhook", (None,))[0] == 443 and service_ports["webhook"][1] in ("webhook", 8443),
           f"Service port webhook must be 443 -> 8443, got {service_ports}")
    expect(service_ports.get("metrics", (None,))[0] == 9090, f"Service port metrics must be 9090, got {service_ports}")
    for name, (_, target) in service_ports.items():
        expect(target in ports or target in ports.values(), f"Service port {name} targets {target}, which no container port is")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    expect(all(labels.get(k) == v for k, v in service["spec"]["selector"].items()), "Service selector does not select the pods")
    pdb = one(objects, "PodDisruptionBudget", "podmortem")
    expect(pdb["spec"].get("minAvailable") == 1, "PodDisruptionBudget minAvailable must be 1")
    expect(all(labels.get(k) == v for k, v in pdb["spec"]["selector"]["matchLabels"].items()),
           "PodDisruptionBudget does not select the pods")


def permissions(role):
    granted = set()
    for rule in role.get("rules", []):
        for field in ("verbs", "resources", "apiGroups", "resourceNames"):
            expect("*" not in rule.get(field, []), f"{role['kind']} {role['metadata']['name']}: '*' in {field}")
        expect(not rule.get("nonResourceURLs"), f"{role['kind']} {role['metadata']['name']}: nonResourceURLs")
        expect(not DANGEROUS_VERBS & set(rule["verbs"]), f"{role['metadata']['name']}: verbs {rule['verbs']}")
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                for verb in rule["verbs"]:
                    for name in rule.get("resourceNames") or [None]:
                        granted.add((group, resource, verb, name))
    return granted


def check_rbac(objects):
    roles = {(o["kind"], o["metadata"]["name"]): o for o in objects if o["kind"] in ("Role", "ClusterRole")}
    for (kind, name), role in roles.items():
        granted = permissions(role)
        touches_secrets = {p for p in granted if p[0] == "" and p[1].split("/")[0] == "secrets"}
        if kind == "ClusterRole":
            expect(not touches_secrets, f"ClusterRole {name} grants access to Secrets: {sorted(map(str, touches_secrets))}")
        else:
            expect(role["metadata"].get("namespace") == NAMESPACE,
                   f"Role {name} with Secrets access is in {role['metadata'].get('namespace')}")
        expect(not {p for p in granted if p[1] == "networkpolicies"},
               f"{kind} {name}: NetworkPolicy access belongs to the opt-in rbac/quarantine component")
        expect(not {p for p in granted if p[1] == "evidencesnapshots" and p[2] in ("delete", "deletecollection", "update")}
               or name == "podmortem-evidence-admin",
               f"{kind} {name} may delete or rewrite evidence; only podmortem-evidence-admin may")

    def diff(got, expected):
        return (f"\n  extra:   {sorted(map(str, got - expected))}\n  missing: {sorted(map(str, expected - got))}")

    cluster = permissions(roles[("ClusterRole", "podmortem-manager")])
    expect(cluster == MANAGER_CLUSTER, "ClusterRole podmortem-manager differs from what the code calls:" + diff(cluster, MANAGER_CLUSTER))
    namespaced = permissions(roles[("Role", "podmortem-manager")])
    expect(namespaced == MANAGER_NAMESPACED, "Role podmortem-manager differs from what the code calls:" + diff(namespaced, MANAGER_NAMESPACED))

    for binding in find(objects, "RoleBinding") + find(objects, "ClusterRoleBinding"):
        ref = binding["roleRef"]
        role = roles.get((ref["kind"], ref["name"]))
        expect(role is not None, f"{binding['kind']} {binding['metadata']['name']} refers to a missing {ref['kind']} {ref['name']}")
        if any(p[1] == "secrets" for p in permissions(role)):
            expect(binding["kind"] == "RoleBinding" and binding["metadata"].get("namespace") == NAMESPACE,
                   f"{binding['kind']} {binding['metadata']['name']} grants Secrets outside {NAMESPACE}")
        for subject in binding["subjects"]:
            expect(subject == {"kind": "ServiceAccount", "name": "podmortem", "namespace": NAMESPACE},
                   f"{binding['metadata']['name']} binds {subject}")

    aggregated = {name: role["metadata"].get("labels", {}) for (kind, name), role in roles.items() if kind == "ClusterRole"}
    expect(aggregated["podmortem-viewer"].get("rbac.authorization.k8s.io/aggregate-to-view") == "true",
           "podmortem-viewer must aggregate to view")
    expect(aggregated["podmortem-editor"].get("rbac.authorization.k8s.io/aggregate-to-edit") == "true",
           "podmortem-editor must aggregate to edit")
    expect(not any(k.startswith("rbac.authorization.k8s.io/aggregate-to") for k in aggregated["podmortem-evidence-admin"]),
           "podmortem-evidence-admin must not be aggregated into the built-in roles")
    editor = permissions(roles[("ClusterRole", "podmortem-editor")])
    expect({p[2] for p in editor if p[1].startswith("evidencesnapshots")} <= {"get", "list", "watch"},
           "editors must not change EvidenceSnapshots")


def test(_workdir):
    objects = render(MANIFESTS)
    check_webhook(objects)
    check_deployment(objects)
    check_rbac(objects)


if __name__ == "__main__":
    main(test)
