"""An OPC UA server (asyncua) exposing the simulated plant, fed by the same models.

Address space, under the server's namespace `urn:forewarn:simulator:{site}`:

    Objects/{site}/{area}/{line}/{equipment}/{signal}

folders for the ISA-95 levels, one object per machine, one Double variable per signal (with its
engineering unit and an EURange from its limits). Node ids are strings:
`ns=<index>;s={equipment}.{signal}`.
A plant file reads them with

    opcua:
      servers:
        sim: {url: <endpoint>, anonymous: true, namespace: "urn:forewarn:simulator:<site>",
              node: "ns={ns};s={equipment}.{signal}"}
    # or browse_path: "0:Objects/{ns}:{site}/{ns}:{area}/{ns}:{line}/{ns}:{equipment}/{ns}:{signal}"

Every sample becomes a value with its simulated time as SourceTimestamp; a reading that a faulty
sensor does not give becomes a `BadNoCommunication` status on the last value. Security is
optional: with a certificate and key the server also offers Basic256Sha256 Sign and
SignAndEncrypt, and with `users` it asks for a user name and password (anonymous logins are then
refused). `start` and `stop` may be called again: the address space comes back the same.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from datetime import UTC
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from asyncua import ua
from asyncua.crypto.permission_rules import User, UserRole
from asyncua.server.server import Server
from asyncua.server.user_managers import UserManager
from asyncua.ua.attribute_ids import AttributeIds
from asyncua.ua.status_codes import StatusCodes

from devices import Plant, Signal
from simulators.base import Sample
from simulators.errors import SimulatorError

log = logging.getLogger(__name__)

NAMESPACE_TEMPLATE = "urn:forewarn:simulator:{site}"
NODE_ID_TEMPLATE = "ns={ns};s={equipment}.{signal}"
BROWSE_PATH_TEMPLATE = (
    "0:Objects/{ns}:{site}/{ns}:{area}/{ns}:{line}/{ns}:{equipment}/{ns}:{signal}"
)
"""The templates a plant file's `opcua` section uses to read this server."""


class _Passwords(UserManager):
    def __init__(self, users: Mapping[str, str]) -> None:
        self._users = dict(users)

    def get_user(
        self,
        iserver: Any,
        username: str | None = None,
        password: str | None = None,
        certificate: Any = None,
    ) -> User | None:
        if username is not None and self._users.get(username) == password:
            return User(role=UserRole.User, name=username)
        return None


class OpcUaServer:
    """The plant on an OPC UA server; a `Publisher` (use as an async context manager, or call
    `start` and `stop`)."""

    def __init__(
        self,
        plant: Plant,
        *,
        host: str = "127.0.0.1",
        port: int = 4840,
        path: str = "/forewarn/simulator",
        namespace: str | None = None,
        certificate: str | Path | None = None,
        private_key: str | Path | None = None,
        users: Mapping[str, str] | None = None,
        name: str = "forewarn simulator",
        initial_time: float | None = None,
    ) -> None:
        if (certificate is None) != (private_key is None):
            raise SimulatorError("give both a certificate and its private key, or neither")
        self.plant = plant
        self.host = host
        self.port = port
        self.path = path if path.startswith("/") else f"/{path}"
        self.namespace = namespace or NAMESPACE_TEMPLATE.format(site=plant.site)
        self.certificate = Path(certificate) if certificate is not None else None
        self.private_key = Path(private_key) if private_key is not None else None
        self.users = dict(users) if users is not None else None
        self.name = name
        self.initial_time = initial_time
        """Simulated time the variables' initial values (status BadWaitingForInitialData) carry,
        so that a client never sees a wall-clock time before the simulated ones; None: now."""
        self.namespace_index: int | None = None
        """Known once the server has started."""
        self.writes = 0
        self._server: Server | None = None
        self._nodes: dict[tuple[str, str], ua.NodeId] = {}
        self._last: dict[tuple[str, str], float] = {}

    @property
    def endpoint(self) -> str:
        return f"opc.tcp://{self.host}:{self.port}{self.path}"

    @property
    def secured(self) -> bool:
        return self.certificate is not None

    def node_id(self, equipment_id: str, signal: str) -> str:
        """The node id of a signal's variable (needs the server started, for the index)."""
        if self.namespace_index is None:
            raise SimulatorError(
                "the OPC UA server has not started: its namespace index is unknown"
            )
        return NODE_ID_TEMPLATE.format(
            ns=self.namespace_index, equipment=equipment_id, signal=signal
        )

    def browse_path(self, equipment_id: str, signal: str) -> str:
        """The browse path of a signal's variable from the Objects folder."""
        eq = self.plant.equipment[equipment_id]
        ns = self.namespace_index if self.namespace_index is not None else "{ns}"
        return BROWSE_PATH_TEMPLATE.format(
            ns=ns, site=eq.site, area=eq.area, line=eq.line, equipment=eq.id, signal=signal
        )

    async def start(self) -> None:
        if self._server is not None:
            return
        server = Server(user_manager=_Passwords(self.users) if self.users is not None else None)
        await server.init()
        server.set_endpoint(self.endpoint)
        server.set_server_name(self.name)
        policies = [ua.SecurityPolicyType.NoSecurity]
        if self.certificate is not None and self.private_key is not None:
            await server.load_certificate(str(self.certificate))
            await server.load_private_key(str(self.private_key))
            policies = [
                ua.SecurityPolicyType.NoSecurity,
                ua.SecurityPolicyType.Basic256Sha256_Sign,
                ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt,
            ]
        server.set_security_policy(policies)
        server.set_identity_tokens(
            [ua.UserNameIdentityToken] if self.users is not None else [ua.AnonymousIdentityToken]
        )
        index = await server.register_namespace(self.namespace)
        await self._build(server, index)
        try:
            await server.start()
        except OSError as exc:
            raise SimulatorError(
                f"cannot serve OPC UA on {self.host}:{self.port}: {exc.strerror or exc}; "
                "choose another port"
            ) from exc
        self._server = server
        self.namespace_index = index
        log.info(
            "OPC UA server on %s (namespace %s = ns %d, %d variables%s)",
            self.endpoint,
            self.namespace,
            index,
            len(self._nodes),
            ", Basic256Sha256" if self.secured else "",
        )

    async def _build(self, server: Server, ns: int) -> None:
        self._nodes.clear()
        initial = _datetime(self.initial_time) if self.initial_time is not None else None
        folders: dict[tuple[str, ...], Any] = {}

        async def folder(path: tuple[str, ...]) -> Any:
            found = folders.get(path)
            if found is None:
                parent = server.nodes.objects if len(path) == 1 else await folder(path[:-1])
                node_id = ua.NodeId(ua.String("/".join(path)), ua.Int16(ns))
                name = ua.QualifiedName(path[-1], ns)
                found = folders[path] = await parent.add_folder(node_id, name)
            return found

        for eq in self.plant:
            parent = await folder((eq.site, eq.area, eq.line))
            machine = await parent.add_object(
                ua.NodeId(ua.String(eq.id), ua.Int16(ns)), ua.QualifiedName(eq.id, ns)
            )
            for signal in eq.signals.values():
                node_id = ua.NodeId(ua.String(f"{eq.id}.{signal.name}"), ua.Int16(ns))
                variable = await machine.add_variable(
                    node_id, ua.QualifiedName(signal.name, ns), 0.0, ua.VariantType.Double
                )
                if signal.description:
                    await variable.write_attribute(
                        AttributeIds.Description,
                        ua.DataValue(ua.Variant(ua.LocalizedText(signal.description))),
                    )
                await variable.add_property(
                    ns,
                    "EngineeringUnits",
                    ua.EUInformation(DisplayName=ua.LocalizedText(signal.unit)),
                )
                await variable.add_property(ns, "EURange", _range(signal))
                await variable.write_value(
                    ua.DataValue(
                        ua.Variant(0.0, ua.VariantType.Double),
                        _status(StatusCodes.BadWaitingForInitialData),
                        initial,
                    )
                )
                self._nodes[(eq.id, signal.name)] = node_id

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            await server.stop()
            log.info("OPC UA server on %s stopped", self.endpoint)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def publish(self, samples: Sequence[Sample]) -> None:
        """Write every sample's values, stamped with the sample's simulated time."""
        server = self._server
        if server is None:
            raise SimulatorError("the OPC UA server is not running: start it first")
        for sample in samples:
            stamp = _datetime(sample.ts)
            for (eq_id, name), node_id in self._signals_of(sample.equipment_id):
                value = sample.values.get(name)
                if value is None:
                    last = self._last.get((eq_id, name), 0.0)
                    status = _status(StatusCodes.BadNoCommunication)
                    data = ua.DataValue(ua.Variant(last, ua.VariantType.Double), status, stamp)
                elif not math.isfinite(value):
                    raise SimulatorError(f"{eq_id} at {sample.ts}: {name}={value} is not finite")
                else:
                    self._last[(eq_id, name)] = value
                    data = ua.DataValue(
                        ua.Variant(value, ua.VariantType.Double),
                        _status(StatusCodes.Good),
                        stamp,
                    )
                await server.write_attribute_value(node_id, data)
                self.writes += 1

    async def flush(self) -> None:
        return None

    def _signals_of(self, equipment_id: str) -> list[tuple[tuple[str, str], ua.NodeId]]:
        eq = self.plant.equipment.get(equipment_id)
        if eq is None:
            raise SimulatorError(f"sample of {equipment_id!r}, which is not in the plant")
        return [((equipment_id, name), self._nodes[(equipment_id, name)]) for name in eq.signals]


def _status(code: int) -> ua.StatusCode:
    return ua.StatusCode(ua.UInt32(code))


def _datetime(ts: float) -> ua.DateTime:
    return ua.DateTime.fromtimestamp(ts, UTC)


def _range(signal: Signal) -> ua.Range:
    """The span an instrument for this signal would have: from 0 (or below the low alarm) to
    half again its high alarm limit."""
    limits = signal.limits
    high = max(
        (v for v in (limits.alarm_high, limits.warn_high, limits.warn_low, limits.alarm_low) if v),
        default=100.0,
    )
    low = min(0.0, limits.alarm_low or 0.0)
    return ua.Range(Low=low, High=high * 1.5)
