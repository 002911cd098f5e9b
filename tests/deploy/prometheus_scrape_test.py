#!/usr/bin/env python3
"""PrometheusScrapesAdmissionCounter: a real Prometheus scraping the real binary sees the
AdmissionReviews it answered, and loads podmortem's alert rules without errors.

podmortem and Prometheus run on free 127.0.0.1 ports with temporary state; AdmissionReviews go
to /validate with curl, as the API server sends them, and Prometheus's HTTP API is polled (with
a bound) until `sum(podmortem_admission_requests_total)` reaches the number sent.
"""

import json
import urllib.parse

from deploy_lib import (Failure, MANIFESTS, OWN_FIXTURES, Podmortem, Process, free_ports, http_get,
                        main, one, render, run, tool, wait_until)

REVIEWS = 3


def prometheus_config(workdir, metrics_port):
    rules = one(render(MANIFESTS / "monitoring"), "PrometheusRule", "podmortem")
    rules_file = workdir / "podmortem-rules.json"  # JSON is YAML: Prometheus reads it as is
    rules_file.write_text(json.dumps({"groups": rules["spec"]["groups"]}))
    config = {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(rules_file)],
        "scrape_configs": [{"job_name": "podmortem",
                            "static_configs": [{"targets": [f"127.0.0.1:{metrics_port}"]}]}],
    }
    path = workdir / "prometheus.yml"
    path.write_text(json.dumps(config))
    return path, len(rules["spec"]["groups"])


def query(base, expr):
    answer = http_get(f"{base}/api/v1/query?query={urllib.parse.quote(expr)}")
    if answer is None or answer[0] != 200:
        return None
    data = json.loads(answer[1])
    if data.get("status") != "success":
        raise Failure(f"query {expr!r} failed: {data}")
    return data["data"]["result"]


def send_reviews(server, curl):
    fixture = json.loads((OWN_FIXTURES / "admission" / "delete-pod-web.json").read_text())
    for n in range(REVIEWS):
        fixture["request"]["uid"] = f"3b1f0c52-9d0e-4b8e-a7a4-00000000000{n}"
        out = run([curl, "--silent", "--show-error", "--fail", "--max-time", "10",
                   "--cacert", server.ca_file, "-H", "Content-Type: application/json",
                   "--data-binary", "@-", f"{server.webhook_url}/validate?timeout=10s"],
                  stdin=json.dumps(fixture)).stdout
        response = json.loads(out)["response"]
        if response["uid"] != fixture["request"]["uid"] or response["allowed"] is not True:
            raise Failure(f"unexpected AdmissionReview answer: {out[:300]}")


def test(workdir):
    prometheus_bin, curl = tool("prometheus"), tool("curl")
    server = Podmortem(workdir / "podmortem")
    prometheus = None
    try:
        server.wait_ready()
        (web_port,) = free_ports(1)
        config, groups = prometheus_config(workdir, server.metrics_port)
        prometheus = Process([prometheus_bin, f"--config.file={config}",
                              f"--storage.tsdb.path={workdir / 'tsdb'}",
                              f"--web.listen-address=127.0.0.1:{web_port}", "--log.level=warn"],
                             workdir / "prometheus.log")
        base = f"http://127.0.0.1:{web_port}"
        wait_until(lambda: (http_get(base + "/-/ready") or (0,))[0] == 200, 20, "Prometheus /-/ready",
                   interval=0.1, alive=prometheus.check_alive)

        send_reviews(server, curl)

        def counted():
            result = query(base, "sum(podmortem_admission_requests_total)")
            return result and float(result[0]["value"][1]) >= REVIEWS and float(result[0]["value"][1])
        value = wait_until(counted, 30, f"Prometheus to see {REVIEWS} admission requests", interval=0.2,
                           alive=prometheus.check_alive)
        print(f"Prometheus: sum(podmortem_admission_requests_total) = {value:g}")
        up = query(base, 'up{job="podmortem"}')
        if not up or up[0]["value"][1] != "1":
            raise Failure(f"up{{job=\"podmortem\"}} is {up}")
        allowed = query(base, 'sum(podmortem_admission_requests_total{decision="allowed",operation="DELETE"})')
        if not allowed or float(allowed[0]["value"][1]) < REVIEWS:
            raise Failure(f"expected {REVIEWS} allowed DELETE reviews, got {allowed}")

        def rules_evaluated():
            answer = http_get(base + "/api/v1/rules")
            if answer is None or answer[0] != 200:
                return None
            loaded = json.loads(answer[1])["data"]["groups"]
            rules = [r for g in loaded for r in g["rules"]]
            bad = [f"{r['name']}: {r.get('lastError')}" for r in rules if r.get("health") == "err"]
            if bad:
                raise Failure("rules failing in Prometheus:\n  " + "\n  ".join(bad))
            return len(loaded) == groups and all(r.get("health") == "ok" for r in rules) and len(rules)
        count = wait_until(rules_evaluated, 20, "Prometheus to evaluate every podmortem rule", interval=0.2,
                           alive=prometheus.check_alive)
        print(f"Prometheus loaded and evaluated {count} podmortem rules in {groups} groups")
    except Failure:
        if prometheus is not None:
            print("--- prometheus log\n" + prometheus.log())
        print("--- podmortem log\n" + server.process.log())
        raise
    finally:
        if prometheus is not None:
            prometheus.stop()
        server.stop()


if __name__ == "__main__":
    main(test)
