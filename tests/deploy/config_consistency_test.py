#!/usr/bin/env python3
"""ConfigAgreesWithManifests: podmortem's config.yaml in the ConfigMap and the objects around it
name the same things, in the base and in the cert-manager overlay: ports, mount paths, the
Secret, Lease and webhook configuration its RBAC is limited to, the Service's DNS names. A
rename on one side only would otherwise show up first in a cluster, as a crash loop or a
webhook that fails open.
"""

import posixpath
from urllib.parse import urlsplit

from deploy_lib import Failure, MANIFESTS, find, main, one, render, yaml_documents

NAMESPACE = "podmortem-system"


def expect(condition, message):
    if not condition:
        raise Failure(message)


def config_of(objects):
    deployment = one(objects, "Deployment", "podmortem")
    pod = deployment["spec"]["template"]["spec"]
    volume = next(v for v in pod["volumes"] if v["name"] == "config")
    name = volume["configMap"]["name"]
    configmap = one(objects, "ConfigMap", name)
    expect(name.startswith("podmortem-config"), f"the config volume uses ConfigMap {name}")
    docs = yaml_documents(configmap["data"]["config.yaml"])
    expect(len(docs) == 1 and isinstance(docs[0], dict), "config.yaml must be one YAML mapping")
    return docs[0], pod


def container(pod):
    return next(c for c in pod["containers"] if c["name"] == "podmortem")


def mount_for(pod, path):
    """(volumeMount, volume) of the mount that holds `path`, the deepest one."""
    mounts = [m for m in container(pod)["volumeMounts"]
              if path == m["mountPath"] or path.startswith(m["mountPath"].rstrip("/") + "/")]
    expect(mounts, f"{path} is on no volume mount (the root filesystem is read-only)")
    mount = max(mounts, key=lambda m: len(m["mountPath"]))
    volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
    return mount, volume


def port_of(listen):
    return int(listen.rsplit(":", 1)[1])


def rule_names(role, group, resource):
    names = set()
    for rule in role["rules"]:
        if group in rule["apiGroups"] and resource in rule["resources"]:
            names.update(rule.get("resourceNames", []))
    return names


def check_base(objects):
    config, pod = config_of(objects)
    c = container(pod)
    expect(c["args"] == ["serve", "--config", "/etc/podmortem/config.yaml"], f"container args are {c['args']}")
    mount, volume = mount_for(pod, "/etc/podmortem/config.yaml")
    expect(mount["mountPath"] == "/etc/podmortem/config.yaml" and mount.get("subPath") == "config.yaml"
           and "configMap" in volume, "the --config file must be config.yaml of the ConfigMap")

    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    expect(port_of(config["listen"]) == ports["webhook"], f"listen {config['listen']} vs container port {ports['webhook']}")
    expect(port_of(config["metricsListen"]) == ports["metrics"],
           f"metricsListen {config['metricsListen']} vs container port {ports['metrics']}")
    expect(port_of(config["download"]["listen"]) == ports["download"],
           f"download.listen {config['download']['listen']} vs container port {ports['download']}")

    mount, volume = mount_for(pod, config["stateDir"])
    expect(mount["mountPath"] == config["stateDir"] and "emptyDir" in volume and not mount.get("readOnly"),
           f"stateDir {config['stateDir']} must be a writable emptyDir mount")

    evidence = config["evidence"]
    mount, volume = mount_for(pod, evidence["dir"])
    expect(mount["mountPath"] == evidence["dir"] and not mount.get("readOnly"), "evidence.dir must be its own writable mount")
    claim = volume.get("persistentVolumeClaim", {}).get("claimName")
    pvc = one(objects, "PersistentVolumeClaim", claim)
    expect(pvc["spec"]["accessModes"] == ["ReadWriteMany"] and pvc["spec"]["resources"]["requests"]["storage"] == "20Gi",
           f"PVC {claim} must be ReadWriteMany 20Gi")
    replicas = one(objects, "Deployment", "podmortem")["spec"]["replicas"]
    expect(replicas == 1 or evidence.get("perReplica") is True,
           "with several replicas on one volume, evidence.perReplica must be true (one ledger per writer)")
    env = {e["name"]: e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") for e in c.get("env", [])}
    expect(env.get("POD_NAME") == "metadata.name" and env.get("POD_NAMESPACE") == "metadata.namespace",
           f"POD_NAME and POD_NAMESPACE must come from the downward API, got {env}")

    audit = config["audit"]
    expect(audit["auth"] == "token", "audit.auth must be token (the kubeconfig in manifests/audit sends one)")
    mount, volume = mount_for(pod, audit["tokenFile"])
    expect(mount.get("readOnly") and volume.get("secret", {}).get("secretName") == "podmortem-audit-token",
           "audit.tokenFile must be on the read-only mount of Secret podmortem-audit-token")
    items = {i["path"]: i["key"] for i in volume["secret"].get("items", [])}
    relative = posixpath.relpath(audit["tokenFile"], mount["mountPath"])
    expect(items.get(relative, relative if not items else None) == "token",
           f"audit.tokenFile must be key `token` of the Secret, got {relative} of {items}")

    expect(config["kubernetes"]["mode"] == "in-cluster" and pod.get("automountServiceAccountToken") is True,
           "kubernetes.mode in-cluster needs the service account token mounted")

    tls = config["tls"]
    role = one(objects, "Role", "podmortem-manager")
    cluster_role = one(objects, "ClusterRole", "podmortem-manager")
    webhook = one(objects, "ValidatingWebhookConfiguration")
    expect(tls["manageSecret"] is True, "the base manages its own certificate")
    expect(rule_names(role, "", "secrets") == {tls["secretName"]},
           f"RBAC names Secrets {rule_names(role, '', 'secrets')}, the config {tls['secretName']}")
    expect(tls["webhookConfiguration"] == webhook["metadata"]["name"]
           and rule_names(cluster_role, "admissionregistration.k8s.io", "validatingwebhookconfigurations") == {tls["webhookConfiguration"]},
           "tls.webhookConfiguration, the webhook configuration and its RBAC resourceNames must agree")
    service = webhook["webhooks"][0]["clientConfig"]["service"]
    expect(f"{service['name']}.{service['namespace']}.svc" in tls["dnsNames"],
           f"tls.dnsNames {tls['dnsNames']} lack the name the API server dials")
    expect(one(objects, "Service", service["name"])["metadata"]["namespace"] == service["namespace"], "webhook Service missing")

    lease = config["leaderElection"]
    expect(lease["enabled"] is True and rule_names(role, "coordination.k8s.io", "leases") == {lease["leaseName"]},
           f"RBAC names Leases {rule_names(role, 'coordination.k8s.io', 'leases')}, the config {lease['leaseName']}")
    return config


def check_cert_manager(objects, base_config):
    config, pod = config_of(objects)
    rest = {k: v for k, v in config.items() if k != "tls"}
    base_rest = {k: v for k, v in base_config.items() if k != "tls"}
    expect(rest == base_rest, "overlays/cert-manager/config.yaml differs from manager/config.yaml outside `tls`:\n"
           f"  overlay {rest}\n  base    {base_rest}")
    tls = config["tls"]
    expect(tls.get("manageSecret") is False, "with cert-manager, tls.manageSecret must be false")

    certificates = {c["metadata"]["name"]: c for c in find(objects, "Certificate")}
    issuers = {i["metadata"]["name"]: i for i in find(objects, "Issuer")}
    secrets = set()
    for key, filename in (("certFile", "tls.crt"), ("keyFile", "tls.key")):
        mount, volume = mount_for(pod, tls[key])
        expect(mount.get("readOnly") and not mount.get("subPath"),
               f"tls.{key} must be on a read-only mount without subPath (so renewals arrive)")
        expect(posixpath.basename(tls[key]) == filename, f"tls.{key} must be the Secret's {filename}")
        secrets.add(volume.get("secret", {}).get("secretName"))
    expect(len(secrets) == 1, f"certFile and keyFile come from different volumes: {secrets}")
    (secret,) = secrets
    serving = [c for c in certificates.values() if c["spec"]["secretName"] == secret]
    expect(len(serving) == 1, f"no Certificate writes Secret {secret}")
    serving = serving[0]
    expect(secret == "podmortem-webhook-tls-cm", f"the serving Secret is {secret}")
    expect(set(base_config["tls"]["dnsNames"]) <= set(serving["spec"]["dnsNames"]),
           f"the Certificate's dnsNames {serving['spec']['dnsNames']} lack some of {base_config['tls']['dnsNames']}")

    ca_issuer = issuers.get(serving["spec"]["issuerRef"]["name"])
    expect(ca_issuer and serving["spec"]["issuerRef"].get("kind", "Issuer") == "Issuer" and "ca" in ca_issuer["spec"],
           "the serving Certificate must be issued by the CA Issuer")
    ca = [c for c in certificates.values() if c["spec"]["secretName"] == ca_issuer["spec"]["ca"]["secretName"]]
    expect(len(ca) == 1 and ca[0]["spec"].get("isCA") is True, "the CA Issuer's Secret must come from an isCA Certificate")
    root = issuers.get(ca[0]["spec"]["issuerRef"]["name"])
    expect(root and "selfSigned" in root["spec"], "the CA Certificate must be issued by the selfSigned Issuer")

    webhook = one(objects, "ValidatingWebhookConfiguration")
    inject = webhook["metadata"].get("annotations", {}).get("cert-manager.io/inject-ca-from")
    expect(inject == f"{serving['metadata']['namespace']}/{serving['metadata']['name']}",
           f"cert-manager.io/inject-ca-from is {inject}, the serving Certificate {serving['metadata']['name']}")
    expect(webhook["webhooks"][0]["failurePolicy"] == "Ignore", "the overlay must keep failurePolicy Ignore")

    role = one(objects, "Role", "podmortem-manager")
    cluster_role = one(objects, "ClusterRole", "podmortem-manager")
    expect(not any("secrets" in r["resources"] for r in role["rules"]), "with cert-manager podmortem needs no Secrets access")
    expect(not any("validatingwebhookconfigurations" in r["resources"] for r in cluster_role["rules"]),
           "with cert-manager podmortem needs no access to its webhook configuration")


def check_audit_kubeconfig(base_config):
    kubeconfig = yaml_documents((MANIFESTS / "audit" / "audit-webhook-kubeconfig.yaml").read_text())[0]
    context = next(c["context"] for c in kubeconfig["contexts"] if c["name"] == kubeconfig["current-context"])
    cluster = next(c["cluster"] for c in kubeconfig["clusters"] if c["name"] == context["cluster"])
    user = next(u["user"] for u in kubeconfig["users"] if u["name"] == context["user"])
    url = urlsplit(cluster["server"])
    expect(url.scheme == "https" and url.path == "/audit" and url.port == 443, f"audit webhook server is {cluster['server']}")
    expect(cluster.get("tls-server-name") in base_config["tls"]["dnsNames"],
           "tls-server-name must be a name of the serving certificate (the API server dials an IP)")
    expect(cluster.get("certificate-authority"), "the audit kubeconfig must verify podmortem's certificate")
    expect(not cluster.get("insecure-skip-tls-verify"), "the audit kubeconfig must not skip TLS verification")
    expect(user.get("token") or user.get("tokenFile"), "audit.auth: token needs a token in the kubeconfig")


def test(_workdir):
    base_config = check_base(render(MANIFESTS))
    check_cert_manager(render(MANIFESTS / "overlays" / "cert-manager"), base_config)
    check_audit_kubeconfig(base_config)


if __name__ == "__main__":
    main(test)
