"""`krmfn tools`: the catalog with the risk classes the policy and the review use (installed script)."""

from __future__ import annotations

import json

import yaml

import support


def test_lists_the_repository_catalog_with_risks():
    proc = support.installed("tools", "base/agents", "--server", "billing-api", "--risk", "destructive")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["SERVER", "RISK", "TOOL", "(SOURCE)"]
    assert any("platform-agents/billing-api" in l and "destructive" in l and "delete_customer" in l
               and "base/agents/catalog.yaml" in l for l in lines[1:]), lines
    assert all("destructive" in l for l in lines[1:])


def test_json_and_the_built_in_catalog():
    proc = support.installed("tools", "base/agents", "--server", "kagent/*", "--format", "json")
    rows = json.loads(proc.stdout)
    assert {r["source"] for r in rows} == {"built-in"}
    assert {"tool": "k8s_delete_resource", "risk": "destructive"}.items() <= \
        next(r for r in rows if r["tool"] == "k8s_delete_resource").items()


def test_a_team_catalog_shows_the_built_in_floor(tmp_path):
    catalog = {"apiVersion": "krmfn.dev/v1alpha1", "kind": "ToolCatalog", "metadata": {"name": "t", "namespace": "team"},
               "spec": {"servers": [{"name": "tools", "toolsFrom": "kagent-tool-server",
                                     "remote": {"url": "http://tools:8084/mcp"},
                                     "tools": {"k8s_delete_resource": "read"}}]}}
    (tmp_path / "catalog.yaml").write_text(yaml.safe_dump(catalog))
    proc = support.installed("tools", str(tmp_path), "--server", "team/tools", "--format", "json")
    [row] = [r for r in json.loads(proc.stdout) if r["tool"] == "k8s_delete_resource"]
    assert row["risk"] == "destructive"  # a team catalog cannot lower a built-in risk


def test_conflicts_and_empty_selections_fail(tmp_path):
    one = {"apiVersion": "krmfn.dev/v1alpha1", "kind": "ToolCatalog", "metadata": {"name": "a"},
           "spec": {"servers": [{"name": "s", "namespace": "n", "remote": {"url": "http://s"}, "tools": {"t": "read"}}]}}
    two = json.loads(json.dumps(one))
    two["spec"]["servers"][0]["tools"] = {"t": "write"}
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(one))
    (tmp_path / "b.yaml").write_text(yaml.safe_dump(two))
    proc = support.installed("tools", str(tmp_path))
    assert proc.returncode == 1 and "declared twice" in proc.stderr and "b.yaml" in proc.stderr
    proc = support.installed("tools", "base/agents", "--server", "no-such-server")
    assert proc.returncode == 1 and proc.stderr.strip() == "[error] no tool matches the filters"


def test_versions_are_listed_in_release_order(tmp_path):
    """Numbers compare as numbers, and a pre-release comes before its release."""
    written = ["1.10.0", "1.5.0", "1.9.0", "1.5.0-rc1", "1.5.0-rc10", "1.5.0-rc2"]
    catalog = {"apiVersion": "krmfn.dev/v1alpha1", "kind": "ToolCatalog", "metadata": {"name": "t", "namespace": "team"},
               "spec": {"servers": [{"name": "s", "default": "1.9.0", "remote": {"url": "http://s:8000/mcp"},
                                     "versions": [{"version": v, "url": f"http://s-{i}:8000/mcp", "tools": {"t": "read"}}
                                                  for i, v in enumerate(written)]}]}}
    (tmp_path / "catalog.yaml").write_text(yaml.safe_dump(catalog))
    proc = support.installed("tools", str(tmp_path), "--server", "team/s", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert [r["version"] for r in json.loads(proc.stdout)] == [
        "1.5.0-rc1", "1.5.0-rc2", "1.5.0-rc10", "1.5.0", "1.9.0", "1.10.0"]
