"""The deployment files (deploy/) are validated, not exercised: parsed, cross-checked against the code
(health endpoints, environment keys, pinned requirements), schema-checked with kubernetes-validate and
check-jsonschema's compose-spec from PyPI (``make validate-deploy`` installs them into var/tools), and
HAProxy's configurations with ``haproxy -c``. Nothing here starts a container or a Kubernetes cluster."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from scripts.cluster.topology import HERE as CLUSTER_DIR
from scripts.cluster.topology import Cluster

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = sorted((DEPLOY / "k8s").glob("*.yaml")) + [DEPLOY / "k8s-secret.example.yaml"]
TOOLS = ROOT / "var/tools/bin"
# the health endpoints the processes really serve: gateway (bot/app.py), Rasa's root, rasa_sdk's /health
HEALTH = {"gateway": "/healthz", "rasa": "/", "actions": "/health"}


def documents() -> list[dict]:
    return [doc for path in K8S for doc in yaml.safe_load_all(path.read_text()) if doc]


def workloads() -> list[dict]:
    return [d for d in documents() if d["kind"] in ("Deployment", "StatefulSet")]


def test_every_workload_probes_its_real_health_endpoint() -> None:
    names = set()
    for workload in workloads():
        name = workload["metadata"]["name"]
        names.add(name)
        for container in workload["spec"]["template"]["spec"]["containers"]:
            for probe in ("readinessProbe", "livenessProbe"):
                assert container[probe]["httpGet"]["path"] == HEALTH[name], (name, probe)
    assert names == set(HEALTH)


def test_services_select_workloads_and_secrets_and_config_keys_exist() -> None:
    docs = documents()
    labels = [w["spec"]["template"]["metadata"]["labels"] for w in workloads()]
    for service in (d for d in docs if d["kind"] == "Service" and "selector" in d["spec"]):
        selector = service["spec"]["selector"]
        assert any(selector.items() <= pod.items() for pod in labels), service["metadata"]["name"]
    secret_keys = {k for d in docs if d["kind"] == "Secret" for k in d["stringData"]}
    config_keys = {k for d in docs if d["kind"] == "ConfigMap" for k in d["data"]}
    for workload in workloads():
        for container in workload["spec"]["template"]["spec"]["containers"]:
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["key"] in secret_keys, ref
    # every variable Rasa's cluster endpoints read is given by the ConfigMap or the Secret
    lines = (CLUSTER_DIR / "endpoints.yml").read_text().splitlines()
    wanted = {
        v for line in lines if not line.lstrip().startswith("#") for v in re.findall(r"\$\{(\w+)\}", line)
    }
    given = config_keys | {"RASA_TOKEN", "TRACKER_DB_PASSWORD", "REDIS_PASSWORD"}
    assert wanted <= given, wanted - given
    # the Rasa node names in RASA_URLS are the StatefulSet's pods
    rasa = next(w for w in workloads() if w["metadata"]["name"] == "rasa")
    urls = next(d for d in docs if d["kind"] == "ConfigMap")["data"]["RASA_URLS"].split(",")
    assert urls == [f"http://rasa-{i}.rasa:5005" for i in range(rasa["spec"]["replicas"])]


def test_images_install_the_pinned_requirements() -> None:
    gateway = (DEPLOY / "gateway.Dockerfile").read_text()
    rasa = (DEPLOY / "rasa.Dockerfile").read_text()
    assert "pip install -r requirements.txt -c constraints.txt" in gateway
    assert "COPY bot/requirements.txt constraints.txt" in gateway
    assert "pip install -r requirements.txt -c constraints.txt" in rasa
    assert "scripts/cluster/endpoints.yml" in rasa  # one endpoints file for the cluster, here and in k8s


def test_compose_file_names_the_topology() -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "actions", "rasa-0", "rasa-1", "gateway", "haproxy"} <= set(services)
    assert services["gateway"]["environment"]["RASA_URLS"] == "http://rasa-0:5005,http://rasa-1:5005"
    assert services["gateway"]["deploy"]["replicas"] == 2 and services["actions"]["deploy"]["replicas"] == 2


@pytest.mark.skipif(not (TOOLS / "kubernetes-validate").exists(), reason="make validate-deploy installs it")
def test_kubernetes_manifests_pass_the_schemas_in_strict_mode(tmp_path: Path) -> None:
    run = lambda files: subprocess.run(  # noqa: E731
        [str(TOOLS / "kubernetes-validate"), "--strict", "--quiet", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    result = run(K8S)
    assert result.returncode == 0, result.stdout + result.stderr
    broken = tmp_path / "broken.yaml"  # the validator does bite: a misspelt field fails
    broken.write_text((DEPLOY / "k8s/actions.yaml").read_text().replace("readinessProbe", "readynessProbe"))
    assert run([broken]).returncode != 0


@pytest.mark.skipif(not (TOOLS / "check-jsonschema").exists(), reason="make validate-deploy installs it")
def test_compose_file_passes_the_compose_spec() -> None:
    result = subprocess.run(
        [str(TOOLS / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec"]
        + [str(DEPLOY / "docker-compose.yml")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _docker_compose_available() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0


@pytest.mark.skipif(not _docker_compose_available(), reason="the docker compose client is not installed")
def test_docker_compose_config_accepts_the_file() -> None:
    env = {"POSTGRES_PASSWORD": "x", "REDIS_PASSWORD": "x", "RASA_TOKEN": "x", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        ["docker", "compose", "-f", str(DEPLOY / "docker-compose.yml"), "config", "--quiet"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy is not installed (make system-deps)")
def test_haproxy_accepts_both_configurations(tmp_path: Path) -> None:
    cluster = Cluster(tmp_path)
    rendered = cluster._render_haproxy()
    for config in (rendered, DEPLOY / "haproxy.cfg"):
        result = subprocess.run(["haproxy", "-c", "-f", str(config)], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
