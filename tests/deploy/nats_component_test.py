#!/usr/bin/env python3
"""NatsComponentRunsWithMutualTls: the NATS component as shipped works. Its nats.conf, rendered
by kustomize, runs three real nats-server processes clustered with JetStream and mutual TLS; the
podmortem Deployment's arguments the component sets are given to the real binary, which
connects with its client certificate, creates the R3 stream and stores an audit batch. Only what
cannot exist here is rewritten: host names become 127.0.0.1 with free ports, mounted paths
become temporary files. A client without a certificate is refused.
"""

import os
import re
import subprocess

from deploy_lib import (Failure, MANIFESTS, OWN_FIXTURES, Podmortem, Process, free_ports, http_get,
                        http_post, main, one, render, tool, wait_until)

COMPONENT = MANIFESTS / "components" / "nats"


def rendered(workdir):
    """The base with the component, as an operator's overlay would combine them."""
    overlay = workdir / "overlay"
    overlay.mkdir()
    relative = lambda path: os.path.relpath(path.resolve(), overlay.resolve())  # noqa: E731
    (overlay / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        f"resources: [{relative(MANIFESTS / 'base')}]\n"
        f"components: [{relative(COMPONENT)}]\n")
    return render(overlay)


def certificates(folder):
    """A CA and one certificate for servers and clients alike (serverAuth and clientAuth), as
    Secret podmortem-nats-tls holds them; names of this machine instead of the cluster's."""
    folder.mkdir()
    openssl = tool("openssl")
    def run(*args):
        subprocess.run([openssl, *args], check=True, capture_output=True, cwd=folder)
    run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", "ca.key", "-out", "ca.crt", "-days", "1", "-subj", "/CN=podmortem-nats-ca")
    run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", "tls.key", "-out", "tls.csr", "-subj", "/CN=podmortem-nats")
    (folder / "ext.cnf").write_text(
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n")
    run("x509", "-req", "-in", "tls.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "tls.crt", "-days", "1", "-extfile", "ext.cnf")
    for name in ("ca.key", "tls.key"):
        (folder / name).chmod(0o600)
    return folder


def test(workdir):
    nats_server = tool("nats-server", "NATS_SERVER")
    objects = rendered(workdir)
    statefulset = one(objects, "StatefulSet", "podmortem-nats")
    config_map = next(v["configMap"]["name"] for v in statefulset["spec"]["template"]["spec"]["volumes"]
                      if v["name"] == "config")
    text = one(objects, "ConfigMap", config_map)["data"]["nats.conf"]
    deployment = one(objects, "Deployment", "podmortem")
    args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    sets = dict(a.split("=", 1) for a in args if "=" in a and a.startswith("stream."))
    if "stream.url" not in sets:
        raise Failure(f"the component does not set stream.url: {args}")

    tls = certificates(workdir / "tls")
    ports = free_ports(9)
    servers = []
    routes = re.findall(r"nats-route://(podmortem-nats-(\d)[^\s:]*):6222", text)
    if len(routes) != 3:
        raise Failure(f"expected three routes in nats.conf, found {routes}")
    for index in range(3):
        client, route, monitor = ports[index * 3:index * 3 + 3]
        local = (text.replace("/etc/nats/tls/", f"{tls}/")
                     .replace("/data/jetstream", str(workdir / f"store-{index}"))
                     .replace("/var/run/nats/nats.pid", str(workdir / f"nats-{index}.pid"))
                     .replace("port: 4222", f"port: {client}\nhost: 127.0.0.1")
                     .replace("http_port: 8222", f"http: 127.0.0.1:{monitor}")
                     .replace("port: 6222", f"port: {route}\n  host: 127.0.0.1")
                     .replace("max_file_store: 18G", "max_file_store: 1G"))
        for host, number in routes:
            local = local.replace(f"nats-route://{host}:6222",
                                  f"nats-route://127.0.0.1:{ports[int(number) * 3 + 1]}")
        (workdir / f"nats-{index}.conf").write_text(local)
        servers.append(Process([nats_server, "--config", workdir / f"nats-{index}.conf"],
                               workdir / f"nats-{index}.log",
                               env={"POD_NAME": f"podmortem-nats-{index}"}))
    try:
        for index, server in enumerate(servers):
            wait_until(lambda: (http_get(f"http://127.0.0.1:{ports[index * 3 + 2]}/healthz?js-enabled-only=true")
                                or (0,))[0] == 200,
                       30, f"nats-server {index} with JetStream", alive=server.check_alive)
        print("three nats-servers run the shipped nats.conf (mutual TLS, JetStream cluster)")

        urls = ",".join(f"tls://127.0.0.1:{ports[i * 3]}" for i in range(3))
        stream_args = ["--set", f"stream.url={urls}", "--set", f"stream.replicas={sets['stream.replicas']}",
                       "--set", "stream.maxBytes=268435456"]
        for key in ("stream.tls.caFile", "stream.tls.certFile", "stream.tls.keyFile"):
            stream_args += ["--set", f"{key}={tls}/{sets[key].rsplit('/', 1)[1]}"]
        podmortem = Podmortem(workdir / "podmortem", extra_args=stream_args)
        try:
            podmortem.wait_ready(timeout=60)
            batch = (OWN_FIXTURES / "audit" / "exec-eventlist.json").read_bytes()
            status, body = http_post(podmortem.webhook_url + "/audit", batch,
                                     headers={"Authorization": f"Bearer {podmortem.token}"},
                                     context=podmortem.tls_context())
            if status != 200:
                raise Failure(f"/audit answered {status} {body}:\n{podmortem.process.log()}")
            metrics = podmortem.metrics_text()
            if "podmortem_stream_connected 1" not in metrics:
                raise Failure("podmortem is not connected to NATS")
            wait_until(lambda: 'podmortem_audit_events_total{result="accepted"} 4' in podmortem.metrics_text(),
                       20, "the batch indexed from the stream")
            print(f"podmortem with the component's arguments stored and indexed a batch over mutual TLS "
                  f"(stream.replicas={sets['stream.replicas']})")
        finally:
            podmortem.stop()

        # Without a client certificate, the servers refuse.
        stranger = Podmortem(workdir / "stranger",
                             extra_args=["--set", f"stream.url={urls}",
                                         "--set", f"stream.tls.caFile={tls}/ca.crt",
                                         "--set", "stream.connectTimeout=2s"])
        try:
            stranger.wait_serving(timeout=30)
            wait_until(lambda: '"connected":false' in (http_get(stranger.metrics_url + "/readyz") or (0, ""))[1],
                       20, "a client without a certificate to be refused")
            print("a client without a certificate is refused by the servers")
        finally:
            stranger.stop()
    finally:
        for server in servers:
            server.stop()


if __name__ == "__main__":
    main(test)
