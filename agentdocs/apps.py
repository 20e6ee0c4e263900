from django.apps import AppConfig


class AgentDocsConfig(AppConfig):
    name = "agentdocs"
    verbose_name = "Agent-ready docs (MCP, llms.txt, Markdown copies)"
