"""`krmfn show`: one agent of one overlay as it will run (installed script, real kustomize build)."""

from __future__ import annotations

import json

import support


def test_shows_an_agent_of_an_overlay_as_it_will_run():
    proc = support.installed("show", "overlays/prod", "supervisor")
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert text.startswith("platform-agents/supervisor (Declarative)\n")
    # prod runs the supervisor's effort high on an OpenAI reasoning model (Anthropic's has no setting)
    assert "model: OpenAI o3 (tier premium, effort high), ModelConfig model-premium-high" in text
    assert "delegates to: platform-agents/k8s-readonly, platform-agents/promql-agent" in text
    # reach through delegates, on the server version prod runs (not the name of its object)
    assert "on observability/grafana-mcp@0.4.0 via platform-agents/promql-agent" in text
    assert "You are the platform support supervisor (prod)." in text  # the prompt as rendered for prod


def test_json_lists_tools_with_risks_and_approvals():
    proc = support.installed("show", "overlays/prod", "platform-agents/billing-assistant", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["agent"] == "platform-agents/billing-assistant"
    tools = {t["tool"]: t for t in doc["tools"]}
    assert tools and all(t["risk"] in ("read", "write", "unknown", "destructive") for t in tools.values())
    assert any(t["requireApproval"] for t in tools.values()) or all(t["risk"] == "read" for t in tools.values())


def test_an_unknown_agent_names_the_ones_there_are():
    proc = support.installed("show", "overlays/dev", "nobody")
    assert proc.returncode == 1
    assert proc.stderr.startswith("[error] agent nobody is not in the render of overlays/dev (agents: ")
    assert "platform-agents/supervisor" in proc.stderr


def test_build_verbose_says_how_it_built_and_summarises_each_agent():
    proc = support.installed("build", "-v", "overlays/prod")
    assert proc.returncode == 0, proc.stderr
    info = [line for line in proc.stderr.splitlines() if line.startswith("[info] ")]
    assert info[0].startswith("[info] krmfn build overlays/prod: ") and "kustomize" in info[0]
    agents = [line for line in info if line.startswith("[info] agent ")]
    assert [line.split(":")[0] for line in agents] == [
        "[info] agent platform-agents/billing-assistant", "[info] agent platform-agents/k8s-readonly",
        "[info] agent platform-agents/promql-agent", "[info] agent platform-agents/supervisor"]
    assert "delegates to platform-agents/k8s-readonly, platform-agents/promql-agent" in agents[-1]
    quiet = support.installed("build", "overlays/prod")
    assert quiet.stdout == proc.stdout and "[info]" not in quiet.stderr


def test_a_server_version_is_named_as_the_catalog_names_it():
    """dev rolls grafana-mcp out at 0.5.0: the tools and reach say so; JSON keeps the object too."""
    proc = support.installed("show", "overlays/dev", "platform-agents/promql-agent", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    grafana = [t for t in json.loads(proc.stdout)["tools"] if "grafana" in t["server"]]
    assert grafana and {(t["server"], t["serverVersion"]) for t in grafana} == {
        ("observability/grafana-mcp-v0-5-0", "observability/grafana-mcp@0.5.0")}
    text = support.installed("show", "overlays/dev", "platform-agents/promql-agent").stdout
    assert " on observability/grafana-mcp@0.5.0  " in text and "grafana-mcp-v0-5-0" not in text
