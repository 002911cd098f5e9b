#!/usr/bin/env python3
"""ManagerConfigIsAcceptedByServe: the config.yaml the manifests ship (base and cert-manager
overlay) is accepted by the real binary. podmortem stops at start on an unknown key or a bad
value (exit 2), so a key the manifests use and the binary does not know would otherwise surface
as a crash loop in the cluster.

Only what cannot exist here is overridden with flags: addresses and folders (free ports, a
temporary folder), no Kubernetes API, no leader election, no certificate Secret, and for the
cert-manager config the certificate files (the ones the first run generated).
"""

import os

from deploy_lib import Failure, MANIFESTS, Podmortem, main, one, render, yaml_documents

OFFLINE = ["--set", "kubernetes.mode=none", "--set", "leaderElection.enabled=false"]


def shipped_config(path):
    objects = render(path)
    deployment = one(objects, "Deployment", "podmortem")
    volume = next(v for v in deployment["spec"]["template"]["spec"]["volumes"] if v["name"] == "config")
    text = one(objects, "ConfigMap", volume["configMap"]["name"])["data"]["config.yaml"]
    yaml_documents(text)  # parses
    return text


def start(workdir, name, text, extra, ca_file=None):
    folder = workdir / name
    folder.mkdir()
    config = folder / "config.yaml"
    config.write_text(text)
    env = {**os.environ, "POD_NAME": "podmortem-test-0", "POD_NAMESPACE": "podmortem-system"}
    server = Podmortem(folder, config=config, extra_args=OFFLINE + extra, env=env, ca_file=ca_file)
    try:
        server.wait_ready()
    except Failure as failure:
        raise Failure(f"{name} config.yaml is not accepted by `podmortem serve`: {failure}") from None
    finally:
        server.stop()
    print(f"{name}: podmortem serve started with the shipped config and became ready")
    return server


def test(workdir):
    base = start(workdir, "base", shipped_config(MANIFESTS), ["--set", "tls.manageSecret=false"])
    tls = base.state / "tls"
    start(workdir, "cert-manager", shipped_config(MANIFESTS / "overlays" / "cert-manager"),
          ["--tls-cert-file", tls / "tls.crt", "--tls-key-file", tls / "tls.key"], ca_file=tls / "ca.crt")


if __name__ == "__main__":
    main(test)
