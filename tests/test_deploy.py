"""The deployment artefacts: every Kubernetes manifest validates against the Kubernetes schemas
(kubernetes-validate, offline), and the manifests and the image recipe keep their promises
(one non-root image for every role, probes on /health/, HPA and PDB for web and workers,
secrets only from the environment)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "infra" / "k8s"
DOCKERFILE = ROOT / "infra" / "docker" / "Dockerfile"
ENTRYPOINT = ROOT / "infra" / "docker" / "entrypoint.sh"
KUBERNETES = kubernetes_validate.latest_version()


def documents() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                found.append((path.name, doc))
    return found


def by_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for _f, d in documents() if d["kind"] == kind}


def workloads() -> list[dict[str, Any]]:
    return [*by_kind("Deployment").values(), *by_kind("Job").values()]


@pytest.mark.parametrize(
    ("file", "doc"), documents(), ids=lambda v: v if isinstance(v, str) else v["kind"]
)
def test_every_manifest_validates_against_the_kubernetes_schemas(
    file: str, doc: dict[str, Any]
) -> None:
    kubernetes_validate.validate(doc, KUBERNETES, strict=True)  # raises ValidationError


def test_a_broken_manifest_is_refused() -> None:
    web = yaml.safe_load_all((K8S / "web.yaml").read_text()).__next__()
    web["spec"]["replicas"] = "three"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(web, KUBERNETES, strict=True)


def test_the_kustomization_lists_every_manifest_but_the_migration_job() -> None:
    listed = yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"]
    files = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml", "migrate-job.yaml"}
    assert sorted(listed) == sorted(files)


def test_one_image_for_web_worker_beat_and_the_migration_job() -> None:
    deployments = by_kind("Deployment")
    assert set(deployments) == {"motcua-web", "motcua-worker", "motcua-beat"}
    assert set(by_kind("Job")) == {"motcua-migrate-release"}
    images = set()
    roles = set()
    for workload in workloads():
        (container,) = workload["spec"]["template"]["spec"]["containers"]
        images.add(container["image"])
        roles.add(container["args"][0])
    assert len(images) == 1
    assert roles == {"web", "worker", "beat", "migrate"}
    entrypoint = ENTRYPOINT.read_text()
    assert all(re.search(rf"^\s+{role}\)", entrypoint, re.M) for role in roles)


def test_pods_run_as_non_root_read_only_with_secrets_from_the_environment() -> None:
    for workload in workloads():
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] != 0
        (container,) = pod["containers"]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        refs = [next(iter(e.values()))["name"] for e in container["envFrom"]]
        assert refs == ["motcua-config", "motcua-secrets"]
        literal = {e["name"] for e in container.get("env", [])}
        assert not literal & {"DATABASE_URL", "DATABASE_OWNER_URL", "DJANGO_SECRET_KEY"}
    config = by_kind("ConfigMap")["motcua-config"]["data"]
    assert not any(re.search(r"SECRET|PASSWORD|TOKEN|_URL$|DSN", key) for key in config)
    assert not by_kind("Secret")  # secrets are created from the environment, never committed


def test_web_probes_use_health_and_ping_and_rollouts_keep_capacity() -> None:
    web = by_kind("Deployment")["motcua-web"]
    (container,) = web["spec"]["template"]["spec"]["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/"
    assert container["livenessProbe"]["httpGet"]["path"] == "/ping/"
    assert container["startupProbe"]["httpGet"]["path"] == "/ping/"
    hosts = {
        h["value"]
        for probe in ("readinessProbe", "livenessProbe", "startupProbe")
        for h in container[probe]["httpGet"]["httpHeaders"]
        if h["name"] == "Host"
    }
    config = by_kind("ConfigMap")["motcua-config"]["data"]
    assert hosts and hosts <= set(config["PLATFORM_PUBLIC_HOSTS"].split(","))
    assert web["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert "preStop" in container["lifecycle"]
    beat = by_kind("Deployment")["motcua-beat"]
    assert beat["spec"]["replicas"] == 1 and beat["spec"]["strategy"]["type"] == "Recreate"


def test_hpa_and_pdb_cover_web_and_workers() -> None:
    deployments = by_kind("Deployment")
    hpas = by_kind("HorizontalPodAutoscaler")
    assert {h["spec"]["scaleTargetRef"]["name"] for h in hpas.values()} == {
        "motcua-web",
        "motcua-worker",
    }
    for hpa in hpas.values():
        assert hpa["spec"]["scaleTargetRef"]["name"] in deployments
        assert hpa["spec"]["minReplicas"] >= 2
    pdbs = by_kind("PodDisruptionBudget")
    covered = set()
    for pdb in pdbs.values():
        wanted = pdb["spec"]["selector"]["matchLabels"]
        for name, deployment in deployments.items():
            if deployment["spec"]["template"]["metadata"]["labels"].items() >= wanted.items():
                covered.add(name)
    assert covered == {"motcua-web", "motcua-worker"}
    web_pdb = next(p for p in pdbs.values() if p["metadata"]["name"] == "motcua-web")
    assert web_pdb["spec"]["minAvailable"] < min(
        h["spec"]["minReplicas"] for h in hpas.values() if h["metadata"]["name"] == "motcua-web"
    )


def test_the_image_recipe_uses_only_project_files_and_registry_packages() -> None:
    text = DOCKERFILE.read_text()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    assert all(ln.split()[1].startswith("debian:") for ln in lines if ln.startswith("FROM "))
    assert not re.search(r"\b(curl|wget|ADD)\b|https?://", "\n".join(lines))
    for line in lines:
        if line.startswith("COPY ") and "--from=" not in line:
            for source in [w for w in line.split()[1:-1] if not w.startswith("--")]:
                assert (ROOT / source).exists(), f"{source} is not a file of the project"
    user = next(ln for ln in reversed(lines) if ln.startswith("USER "))
    assert user.split()[1].split(":")[0] not in ("0", "root")
    assert "-c requirements.lock" in text  # every Python package pinned by the lock
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "var"} <= set(ignored)


def test_the_entrypoint_is_valid_shell() -> None:
    assert subprocess.run(["sh", "-n", str(ENTRYPOINT)], capture_output=True).returncode == 0
