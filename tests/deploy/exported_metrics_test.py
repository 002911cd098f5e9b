#!/usr/bin/env python3
"""RulesAndDashboardUseExportedMetrics: every metric the alert rules and the Grafana dashboard
query is one the real binary exports, so that no alert silently evaluates to nothing and no
panel stays empty because of a typo or a renamed metric.

The binary is started on free ports, with a real NATS server for the stream families, and exercised (an admission review that a policy captures,
an audit batch with and without the token) so that families with labels, which appear only
after their first observation, are on /metrics too. Only `up` (Prometheus) and
`apiserver_admission_webhook_fail_open_count` (the API server) come from elsewhere.
"""

import json
import re

from pathlib import Path

from deploy_lib import (Failure, MANIFESTS, OWN_FIXTURES, SOURCE_DIR, Podmortem, Process, free_ports,
                        http_get, http_post, main, metric_families, one, render, tool, wait_until)

FROM_ELSEWHERE = {"up", "apiserver_admission_webhook_fail_open_count"}
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or",
            "unless", "offset", "inf", "nan",
            # aggregation operators, which may be followed by a grouping clause instead of "("
            "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
            "bottomk", "topk", "quantile"}
GROUPING = {"by", "without", "on", "ignoring", "group_left", "group_right"}
TOKEN = re.compile(r'''\$\{[^}]*\}|\$\w+|"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|`[^`]*`|\d[\w.]*|[A-Za-z_:][\w:]*|\s+|.''')


def metric_names(expr):
    """Metric names in a PromQL expression: identifiers outside label matchers, ranges, strings
    and grouping clauses that are neither functions nor keywords."""
    tokens = [t for t in TOKEN.findall(expr) if not t.isspace()]
    names, depth_brace, depth_bracket, i = set(), 0, 0, 0
    while i < len(tokens):
        token = tokens[i]
        following = tokens[i + 1] if i + 1 < len(tokens) else ""
        if token == "{":
            depth_brace += 1
        elif token == "}":
            depth_brace -= 1
        elif token == "[":
            depth_bracket += 1
        elif token == "]":
            depth_bracket -= 1
        elif depth_brace == 0 and depth_bracket == 0 and re.fullmatch(r"[A-Za-z_:][\w:]*", token):
            lowered = token.lower()
            if lowered in GROUPING and following == "(":
                close = tokens.index(")", i)  # label lists hold no nested parentheses
                i = close
            elif lowered in KEYWORDS or following == "(":
                pass  # a keyword or a function call
            else:
                names.add(token)
        i += 1
    return names


def rule_expressions(objects):
    rule = one(objects, "PrometheusRule", "podmortem")
    for group in rule["spec"]["groups"]:
        for r in group["rules"]:
            yield f"rule {r.get('alert') or r.get('record')}", r["expr"]


def dashboard_expressions(dashboard):
    def panels(items):
        for panel in items:
            yield panel
            yield from panels(panel.get("panels", []))
    for panel in panels(dashboard.get("panels", [])):
        for target in panel.get("targets", []):
            if target.get("expr"):
                yield f"panel {panel['title']!r}", target["expr"]
    for variable in dashboard.get("templating", {}).get("list", []):
        query = variable.get("query")
        query = query.get("query") if isinstance(query, dict) else query
        if variable.get("type") == "query" and query:
            inner = re.fullmatch(r"\s*label_values\((.*),\s*\w+\)\s*", query)
            yield f"variable ${variable['name']}", inner.group(1) if inner else query


def exercise(server):
    """Traffic that makes the labelled families appear: a captured DELETE, audit batches."""
    context = server.tls_context()
    review = (OWN_FIXTURES / "admission" / "delete-pod-web.json").read_bytes()
    status, body = http_post(server.webhook_url + "/validate?timeout=10s", review, context=context)
    if status != 200 or not json.loads(body)["response"]["allowed"]:
        raise Failure(f"POST /validate answered {status}: {body[:300]}")
    batch = (OWN_FIXTURES / "audit" / "exec-eventlist.json").read_bytes()
    status, body = http_post(server.webhook_url + "/audit?timeout=30s", batch,
                             headers={"Authorization": f"Bearer {server.token}"}, context=context)
    if status >= 300:
        raise Failure(f"POST /audit with the token answered {status}: {body[:300]}")
    status, _ = http_post(server.webhook_url + "/audit", batch, context=context)
    if status != 401:
        raise Failure(f"POST /audit without a token answered {status}, expected 401")


def unreachable_kubeconfig(workdir):
    """A kubeconfig whose API server is a closed port: the Kubernetes families (API requests,
    leader) then appear as they do when the API is down, without a cluster."""
    port, = free_ports(1)
    path = Path(workdir) / "kubeconfig"
    path.write_text(f"""apiVersion: v1
kind: Config
current-context: gone
clusters: [{{name: gone, cluster: {{server: "https://127.0.0.1:{port}"}}}}]
contexts: [{{name: gone, context: {{cluster: gone, user: nobody, namespace: podmortem-system}}}}]
users: [{{name: nobody, user: {{token: not-a-real-token}}}}]
""")
    return path


def nats_server(workdir):
    """A NATS server with JetStream, so that the stream families (stream.url) are exported too."""
    port, monitor = free_ports(2)
    server = Process([tool("nats-server", "NATS_SERVER"), "-js", "-a", "127.0.0.1", "-p", port,
                      "-m", monitor, "-sd", Path(workdir) / "nats"], Path(workdir) / "nats.log")
    wait_until(lambda: (http_get(f"http://127.0.0.1:{monitor}/healthz?js-enabled-only=true") or (0,))[0] == 200,
               15, "nats-server", alive=server.check_alive)
    return server, f"nats://127.0.0.1:{port}"


def test(workdir):
    kubeconfig = unreachable_kubeconfig(workdir)
    nats, url = nats_server(workdir)
    # A findings sink and an S3 store on closed ports: the export and upload families appear.
    closed, = free_ports(1)
    credentials = Path(workdir) / "s3-credentials"
    credentials.write_text("[default]\naws_access_key_id = x\naws_secret_access_key = y\n")
    server = Podmortem(workdir, policies=[SOURCE_DIR / "examples" / "policies" / "capture-on-delete.yaml"],
                       extra_args=["--set", "kubernetes.mode=kubeconfig",
                                   "--set", f"kubernetes.kubeconfig={kubeconfig}",
                                   "--set", f"stream.url={url}",
                                   "--set", "export.sinks[0].name=siem",
                                   "--set", f"export.sinks[0].url=https://127.0.0.1:{closed}/findings",
                                   "--set", "evidence.store=s3",
                                   "--set", f"evidence.s3.endpoint=http://127.0.0.1:{closed}",
                                   "--set", "evidence.s3.bucket=evidence",
                                   "--set", f"evidence.s3.credentialsFile={credentials}"])
    try:
        server.wait_serving()
        exercise(server)
        wait_until(lambda: "podmortem_kube_requests_total" in metric_families(server.metrics_text()),
                   15, "the first Kubernetes API request to be counted", alive=server.process.check_alive)
        wait_until(lambda: "podmortem_export_failures_total" in metric_families(server.metrics_text()),
                   15, "the first failed delivery of a finding", alive=server.process.check_alive)
        families = metric_families(server.metrics_text())
    finally:
        server.stop()
        nats.stop()
    print(f"/metrics exports {len(families)} families")

    def exported(name):
        if name in families:
            return True
        for suffix in HISTOGRAM_SUFFIXES:
            base = name[: -len(suffix)]
            if name.endswith(suffix) and families.get(base) in ("histogram", "summary"):
                return True
        return False

    monitoring = render(MANIFESTS / "monitoring")
    dashboard = json.loads((MANIFESTS / "monitoring" / "grafana-dashboard.json").read_text())
    configmap = one(monitoring, "ConfigMap", "podmortem-grafana-dashboard")
    if json.loads(configmap["data"]["podmortem.json"]) != dashboard:
        raise Failure("the dashboard ConfigMap differs from grafana-dashboard.json")

    used, missing = {}, {}
    for where, expr in [*rule_expressions(monitoring), *dashboard_expressions(dashboard)]:
        names = metric_names(expr)
        if not names:
            raise Failure(f"{where}: no metric found in {expr!r}")
        for name in names:
            used.setdefault(name, []).append(where)
            if name not in FROM_ELSEWHERE and not exported(name):
                missing.setdefault(name, []).append(where)
    print(f"rules and dashboard use {len(used)} metrics:")
    for name in sorted(used):
        state = "from elsewhere" if name in FROM_ELSEWHERE else ("MISSING" if name in missing else "exported")
        print(f"  {state:14} {name}")
    if missing:
        lines = "\n".join(f"  {name}: {', '.join(sorted(set(where)))}" for name, where in sorted(missing.items()))
        raise Failure(f"{len(missing)} metrics used but not exported by the binary:\n{lines}")


if __name__ == "__main__":
    main(test)
