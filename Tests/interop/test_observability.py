"""Observability with real tools: Debian's promtool checks /metrics and a Debian prometheus
scrapes a running Gatehouse; an OTLP/HTTP receiver (opentelemetry-proto) gets the spans of a token
request with the incoming traceparent's trace ID, and the exported metrics; the JSON log has one
parseable line per request with the request's fields."""
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest, ExportTraceServiceResponse

import conftest


def token(server, client, **extra):
    return requests.post(
        f"{server.base}/default/oauth2/token", data={"grant_type": "client_credentials"},
        auth=(client["client_id"], client["client_secret"]), timeout=10, **extra)


def metric_lines(text, name):
    return [line for line in text.splitlines() if line.startswith(name + "{") or line.startswith(name + " ")]


def test_metrics_pass_promtool_and_count_outcomes(fresh_server):
    client = fresh_server.cli_json("clients", "create", "--tenant", "default", "--name", "svc", "--scope", "api.read")
    for _ in range(3):
        assert token(fresh_server, client).status_code == 200
    bad = requests.post(f"{fresh_server.base}/default/oauth2/token", data={"grant_type": "client_credentials"},
                        auth=(client["client_id"], "wrong-secret-value"), timeout=10)
    assert bad.status_code == 401
    unknown = requests.post(f"{fresh_server.base}/no-such-tenant-{os.getpid()}/oauth2/token", data={"grant_type": "x"}, timeout=10)
    assert unknown.status_code == 400
    assert requests.get(f"{fresh_server.base}/metrics", timeout=10).status_code == 401
    response = requests.get(f"{fresh_server.base}/metrics", headers=conftest.MANAGEMENT, timeout=10)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    text = response.text
    check = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stdout + check.stderr
    # Every family has a HELP line.
    families = {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE")}
    helped = {line.split()[2] for line in text.splitlines() if line.startswith("# HELP")}
    assert families and families <= helped
    success = 'gatehouse_token_requests_total{tenant="default",grant_type="client_credentials",result="success",code="0"} 3'
    assert success in text
    failure = metric_lines(text, "gatehouse_token_requests_total")
    assert any('result="failure"' in line and 'code="7000215"' in line and line.endswith(" 1") for line in failure), failure
    # A tenant that does not exist is not a label value.
    assert "no-such-tenant" not in text and any('tenant="(unknown)"' in line for line in failure)
    assert 'gatehouse_http_requests_total{route="/{tenant}/oauth2/token",method="POST",status="200"} 3' in text
    assert metric_lines(text, "gatehouse_signing_key_age_seconds")
    assert any(line.startswith('gatehouse_db_connections_in_use{backend="sqlite"}') for line in text.splitlines())
    assert metric_lines(text, "gatehouse_db_connection_wait_seconds_count")
    # No client ID (nor any trace ID) as a label value.
    assert client["client_id"] not in text


def test_prometheus_scrapes_a_separate_metrics_port(unstarted_server, tmp_path):
    metrics_port = conftest.free_port()
    unstarted_server.start("--metrics-port", str(metrics_port), without=["GATEHOUSE_METRICS_TOKEN"])
    client = unstarted_server.cli_json("clients", "create", "--tenant", "default", "--name", "svc", "--scope", "api.read")
    for _ in range(5):
        assert token(unstarted_server, client).status_code == 200
    # On its own port only; readiness in detail there, a bare status on the main port.
    assert requests.get(f"{unstarted_server.base}/metrics", timeout=10).status_code == 404
    assert requests.get(f"{unstarted_server.base}/metrics", headers=conftest.MANAGEMENT, timeout=10).status_code == 404
    assert requests.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).status_code == 200
    assert requests.get(f"{unstarted_server.base}/health/ready", timeout=10).json() == {"status": "ready"}
    detailed = requests.get(f"http://127.0.0.1:{metrics_port}/health/ready", timeout=10).json()
    assert detailed["status"] == "ready" and detailed["checks"]["database"] == "ok", detailed

    prometheus_port = conftest.free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
        "scrape_configs:\n  - job_name: gatehouse\n    static_configs:\n"
        f"      - targets: ['127.0.0.1:{metrics_port}']\n")
    log = open(tmp_path / "prometheus.log", "w")
    prometheus = subprocess.Popen(
        ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}",
         f"--web.listen-address=127.0.0.1:{prometheus_port}"], stdout=log, stderr=log)
    try:
        query = 'sum(gatehouse_token_requests_total{tenant="default",grant_type="client_credentials",result="success"})'
        deadline, result = time.time() + 60, []
        while time.time() < deadline:
            try:
                answer = requests.get(f"http://127.0.0.1:{prometheus_port}/api/v1/query", params={"query": query}, timeout=5).json()
                result = answer.get("data", {}).get("result", [])
                if result:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(0.5)
        assert result, "prometheus never returned the token-outcome series: " + open(log.name).read()[-2000:]
        assert float(result[0]["value"][1]) == 5
        targets = requests.get(f"http://127.0.0.1:{prometheus_port}/api/v1/targets", timeout=5).json()
        assert [t["health"] for t in targets["data"]["activeTargets"]] == ["up"]
    finally:
        prometheus.terminate()
        prometheus.wait(timeout=30)


class Receiver:
    """A minimal OTLP/HTTP collector: keeps the decoded export requests it receives."""

    def __init__(self):
        self.spans, self.metric_names = [], set()
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path == "/v1/traces":
                    request = ExportTraceServiceRequest()
                    request.ParseFromString(body)
                    with receiver.lock:
                        for resource_spans in request.resource_spans:
                            service = {a.key: a.value.string_value for a in resource_spans.resource.attributes}.get("service.name")
                            for scope in resource_spans.scope_spans:
                                for span in scope.spans:
                                    receiver.spans.append((service, span))
                    reply = ExportTraceServiceResponse().SerializeToString()
                elif self.path == "/v1/metrics":
                    request = ExportMetricsServiceRequest()
                    request.ParseFromString(body)
                    with receiver.lock:
                        for resource_metrics in request.resource_metrics:
                            for scope in resource_metrics.scope_metrics:
                                receiver.metric_names.update(metric.name for metric in scope.metrics)
                    reply = b""
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


def test_otlp_spans_carry_the_incoming_traceparent(unstarted_server, monkeypatch):
    receiver = Receiver()
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "200")
    monkeypatch.setenv("OTEL_METRIC_EXPORT_INTERVAL", "500")
    try:
        unstarted_server.start("--otlp-endpoint", receiver.url)
        client = unstarted_server.cli_json("clients", "create", "--tenant", "default", "--name", "svc", "--scope", "api.read")
        trace_id, parent_span = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
        response = token(unstarted_server, client, headers={"traceparent": f"00-{trace_id}-{parent_span}-01"})
        assert response.status_code == 200
        gatehouse_trace = response.headers["X-Trace-Id"]
        deadline = time.time() + 30
        while time.time() < deadline:
            with receiver.lock:
                ours = [(service, span) for service, span in receiver.spans if span.trace_id.hex() == trace_id]
            if len(ours) >= 3 and "gatehouse_token_requests_total" in receiver.metric_names:
                break
            time.sleep(0.2)
        names = {span.name for _, span in ours}
        assert "POST /{tenant}/oauth2/token" in names, names
        server_span = next(span for _, span in ours if span.name == "POST /{tenant}/oauth2/token")
        assert server_span.parent_span_id.hex() == parent_span
        assert {service for service, _ in ours} == {"gatehouse"}
        attributes = {a.key: a.value for a in server_span.attributes}
        assert attributes["gatehouse.trace_id"].string_value == gatehouse_trace
        assert attributes["http.response.status_code"].int_value == 200
        assert attributes["http.route"].string_value == "/{tenant}/oauth2/token"
        # The route's steps are children of the request's span.
        children = {span.name: span for _, span in ours if span.parent_span_id == server_span.span_id}
        assert {"client authentication", "grant client_credentials"} <= set(children), names
        assert "gatehouse_token_requests_total" in receiver.metric_names
        # The exporter's own HTTP requests are not traced (each export would make a span to export).
        with receiver.lock:
            assert all(span.name != "POST" for _, span in receiver.spans), [span.name for _, span in receiver.spans]
    finally:
        unstarted_server.stop()
        receiver.close()


def test_json_log_has_one_line_per_request(fresh_server):
    client = fresh_server.cli_json("clients", "create", "--tenant", "default", "--name", "svc", "--scope", "api.read")
    ok = token(fresh_server, client, headers={"client-request-id": "corr-1234", "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"})
    # A path segment with a line break and an escape sequence cannot start a line of its own.
    forged = requests.post(f"{fresh_server.base}/x%0A%7B%22level%22%3A%22critical%22%7D%1B[31m/oauth2/token", data={"grant_type": "x"}, timeout=10)
    assert forged.status_code == 400
    time.sleep(0.3)
    fresh_server.log.flush()
    lines = [line for line in open(fresh_server.log.name).read().splitlines() if line.startswith("{")]
    records = [json.loads(line) for line in lines]
    assert all(record["level"] != "critical" for record in records)
    requests_logged = [r for r in records if r["message"] == "request"]
    line = next(r for r in requests_logged if r.get("trace_id") == ok.headers["X-Trace-Id"])
    assert line["correlation_id"] == "corr-1234"
    assert line["w3c_trace_id"] == "0af7651916cd43dd8448eb211c80319c"
    assert (line["route"], line["method"], line["status"], line["tenant"], line["client_id"]) == (
        "/{tenant}/oauth2/token", "POST", 200, "default", client["client_id"])
    assert float(line["latency_ms"]) > 0 and "code" not in line
    failed = next(r for r in requests_logged if r.get("trace_id") == forged.headers["X-Trace-Id"])
    assert failed["status"] == 400 and isinstance(failed["code"], int)
    assert "\n" not in json.dumps(failed["tenant"]).strip('"').replace("\\n", "")
