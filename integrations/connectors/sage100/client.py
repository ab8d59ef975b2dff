"""The Sage 100 connector: reads through ODBC, writes through the on-premise agent.

Flows and the API get one object per Connection: ``client.reader`` for selectors
(live ODBC, every call under the connection's throttle and logged), and
``client.agent`` for BOI writes, built only when the connection has an agent.
"""

from __future__ import annotations

from typing import Any

from integrations.connectors.base import CallLog, Throttle, no_log
from integrations.connectors.sage100.odbc import OdbcReader, connection_string
from integrations.connectors.sage100.reader import Sage100Reader
from integrations.connectors.sage100.settings import Sage100Settings
from integrations.engine.errors import SyncError, ValidationFailed


class Sage100Client:
    system = "sage100"

    def __init__(
        self,
        conf: Sage100Settings,
        *,
        throttle: Throttle | None = None,
        log: CallLog = no_log,
    ) -> None:
        self.conf = conf
        self.throttle = throttle
        self.log = log
        odbc = OdbcReader(
            connection_string(conf.odbc, conf.odbc_password),
            timeout=max(1, round(conf.odbc_timeout)),
        )
        self.reader = Sage100Reader(odbc, conf, throttle=throttle, log=log)
        self._agent: Any = None

    @property
    def has_agent(self) -> bool:
        return bool(self.conf.agent_url)

    @property
    def agent(self):
        """The agent's client; asking for it without an agent URL is a setup error."""
        if not self.has_agent:
            raise ValidationFailed(
                "This Sage 100 connection has no agent: set settings.agent_url to "
                "write to Sage 100.",
                field="settings.agent_url",
            )
        if self._agent is None:
            from integrations.connectors.sage100.agent_client import AgentClient

            self._agent = AgentClient(
                self.conf.agent_url,
                self.conf.agent_key_id,
                self.conf.agent_secret,
                timeout=self.conf.agent_timeout,
                verify=self.conf.agent_verify,
                throttle=self.throttle,
                log=self.log,
            )
        return self._agent

    def ping(self) -> dict:
        """For "Test connection": the ODBC company, then the agent when there is one."""
        company = self.reader.ping()
        details: dict[str, Any] = {"odbc": company}
        summary = f"ODBC reached company {company['company']} ({company['name']})"
        if self.has_agent:
            try:
                details["agent"] = self.agent.ping()
            except SyncError as exc:
                exc.message = f"{summary}, but the agent failed: {exc.message}"
                raise
            summary += f"; the agent at {self.conf.agent_url} answered"
        else:
            summary += "; no agent is configured (read only)"
        details["summary"] = summary + "."
        return details
