"""Configuration for the CLI and sync scripts: a TOML file for the shape, the environment for secrets.

Secrets are read only from the environment, never from the file; a secret found in the file is an error
that says which variable to use instead. Every missing or invalid key is reported by name with its fix.

    # milestones.toml
    links = "milestones-links.sqlite3"

    [kantata]
    base_url = "https://api.mavenlink.com/api/v1"     # token: KANTATA_TOKEN

    [autotask]
    username = "api-user@example.com"                # secret: AUTOTASK_SECRET, code: AUTOTASK_INTEGRATION_CODE
    currency = "USD"

    [crmcom]
    base_url = "https://sandboxapi.crm.com"           # key: CRMCOM_API_KEY
    [crmcom.drafts.big-order]                         # an order draft (the estimate request)
    account_id = "..."
    supply_method = "DELIVERY"
    ...

    [pairs.orders-to-projects]
    source = "crmcom:big-order"
    target = "kantata:900"
    policy = "report"
    [pairs.orders-to-projects.triggers]
    stage_to_story = { "stage-uuid" = "41" }
    due_dates = { "stage-uuid" = "2026-12-01" }
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Final

from pydantic import SecretStr

from .._http._core import check_base_url
from ..errors import ConfigError, ValidationError
from ..model import Platform
from ..money import known_currencies
from ._config_file import CONFIG_ENV, ConfigSource, locate, read
from ._config_values import as_bool, as_date, number, only, opt_int, opt_str, positive, table
from ._settle import DEFAULT_WRITE_SETTLE
from ._store_config import links_target
from .pair import ConflictPolicy, SyncPair
from .store import parse_target
from .triggers import TriggerMap

__all__ = [
    "CONFIG_ENV",
    "AutotaskSettings",
    "CrmComSettings",
    "KantataSettings",
    "PairSettings",
    "Settings",
    "load_settings",
    "parse_endpoint",
]

DEFAULT_LINKS: Final = "milestones-links.sqlite3"

#: Secret keys and the environment variables that carry them.
SECRETS: Final[Mapping[str, Mapping[str, str]]] = {
    "kantata": {"token": "KANTATA_TOKEN"},
    "autotask": {"secret": "AUTOTASK_SECRET", "integration_code": "AUTOTASK_INTEGRATION_CODE"},
    "crmcom": {"api_key": "CRMCOM_API_KEY", "bearer_token": "CRMCOM_BEARER_TOKEN"},
}
#: Plain keys that the environment may override.
OVERRIDES: Final[Mapping[str, Mapping[str, str]]] = {
    "kantata": {"base_url": "KANTATA_BASE_URL"},
    "autotask": {
        "username": "AUTOTASK_USERNAME",
        "base_url": "AUTOTASK_BASE_URL",
        "impersonation_resource_id": "AUTOTASK_IMPERSONATION_RESOURCE_ID",
        "currency": "AUTOTASK_CURRENCY",
    },
    "crmcom": {"base_url": "CRMCOM_BASE_URL", "api": "CRMCOM_API"},
}


@dataclass(frozen=True)
class KantataSettings:
    token: SecretStr | None = None
    base_url: str | None = None
    json_suffix: bool = False

    def missing(self) -> list[str]:
        return [] if self.token else ["KANTATA_TOKEN (environment): a Kantata OAuth bearer token"]


@dataclass(frozen=True)
class AutotaskSettings:
    username: str | None = None
    secret: SecretStr | None = None
    integration_code: SecretStr | None = None
    base_url: str | None = None
    impersonation_resource_id: int | None = None
    currency: str | None = None

    def missing(self) -> list[str]:
        out = []
        if not self.username:
            out.append("autotask.username (file) or AUTOTASK_USERNAME (environment): the API user")
        if not self.secret:
            out.append("AUTOTASK_SECRET (environment): the API user's secret")
        if not self.integration_code:
            out.append("AUTOTASK_INTEGRATION_CODE (environment): the API tracking identifier")
        return out


@dataclass(frozen=True)
class CrmComSettings:
    api_key: SecretStr | None = None
    bearer_token: SecretStr | None = None
    base_url: str | None = None
    api: str = "self-service"
    drafts: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def missing(self) -> list[str]:
        if self.api_key or self.bearer_token:
            return []
        return ["CRMCOM_API_KEY or CRMCOM_BEARER_TOKEN (environment): a secret key or a contact token"]


@dataclass(frozen=True)
class PairSettings:
    name: str
    source: tuple[Platform, str]
    target: tuple[Platform, str]
    policy: ConflictPolicy = ConflictPolicy.REPORT
    delete_missing: bool = True
    allow_drop: bool = False
    allow_empty_source: bool = False
    truncate: bool = False
    triggers: TriggerMap = field(default_factory=TriggerMap)
    fix_duplicates: bool = False
    allow_mass_delete: bool = False
    max_delete_share: float = 0.5
    #: Seconds a sync waits for another run of this pair to finish before exiting 3.
    lease_wait: float = 0.0
    #: Seconds a stopped run's pending writes are given to land before a write run lists the target (see
    #: :mod:`.sync._settle`): at least the longest a request of the clients can live.
    write_settle: float = DEFAULT_WRITE_SETTLE

    def pair(self, *, source_container: str | None = None, target_container: str | None = None) -> SyncPair:
        """The SyncPair; crm.com containers are resolved to draft ids by the caller and passed in. The names
        in the config stay the pair's identity (its sync keys), whatever id a draft was estimated under."""
        return SyncPair(
            self.source[0],
            source_container or self.source[1],
            self.target[0],
            target_container or self.target[1],
            triggers=self.triggers,
            delete_missing=self.delete_missing,
            allow_drop=self.allow_drop,
            allow_empty_source=self.allow_empty_source,
            truncate=self.truncate,
            fix_duplicates=self.fix_duplicates,
            allow_mass_delete=self.allow_mass_delete,
            max_delete_share=self.max_delete_share,
            source_name=self.source[1],
            target_name=self.target[1],
        )


@dataclass(frozen=True)
class Settings:
    path: Path | None
    links: Path | str
    kantata: KantataSettings
    autotask: AutotaskSettings
    crmcom: CrmComSettings
    pairs: Mapping[str, PairSettings]

    def require(self, platform: Platform) -> None:
        """Raise one ConfigError listing everything missing to talk to ``platform``."""
        missing = self.section(platform).missing()
        if missing:
            raise ConfigError(f"{platform.value} is not configured; set " + "; ".join(missing), key=platform.value)

    def section(self, platform: Platform) -> Any:
        """The settings section of ``platform`` (``[kantata]``, ``[autotask]``, ``[crmcom]``)."""
        return getattr(self, platform.value)

    #: Which file was read, or where none was found (for the message of whatever needs one).
    source: ConfigSource = field(default_factory=lambda: ConfigSource(None))

    def __repr__(self) -> str:
        """The dataclass's repr with the link store's password masked: ``links`` is the one field that holds a
        credential outside a SecretStr (``postgresql://u:PASSWORD@h/db``), and a repr reaches logs, debuggers
        and the local variables an error tracker captures."""
        shown = {f.name: getattr(self, f.name) for f in fields(self) if f.repr}
        shown["links"] = _shown_links(self.links)
        return f"Settings({', '.join(f'{name}={value!r}' for name, value in shown.items())})"

    def pair(self, name: str) -> PairSettings:
        if name not in self.pairs:
            if self.path is None:
                raise ConfigError(f"pairs.{name}: {self.source.missing_hint()}", key=f"pairs.{name}")
            known = ", ".join(sorted(self.pairs)) or "none"
            raise ConfigError(f"pairs.{name}: no such pair in the config (known: {known})", key=f"pairs.{name}")
        return self.pairs[name]


def _shown_links(links: Path | str) -> Path | str:
    """``links`` as a repr may show it: a PostgreSQL URL without its passwords, one that cannot be read (its
    password could be anywhere in it) not at all, a file path as it is."""
    if isinstance(links, Path) or ("://" not in links and "password" not in links.lower()):
        return links
    try:
        target = parse_target(links)
    except (ConfigError, ValueError):  # urllib cannot split it, or it is no target at all
        return "<a link store target that cannot be read, not shown>"
    return links if target.kind == "sqlite" else target.display


def parse_endpoint(text: str, *, key: str) -> tuple[Platform, str]:
    """``"kantata:900"`` -> (the Kantata platform, "900")."""
    platform, sep, container = text.partition(":")
    try:
        parsed = Platform(platform.strip().lower())
    except ValueError:
        parsed = None
    if not sep or not container.strip() or parsed is None:
        choices = ", ".join(p.value for p in Platform)
        raise ConfigError(f"{key}: expected 'platform:container' with platform one of {choices}, got {text!r}", key=key)
    return parsed, container.strip()


def load_settings(path: str | Path | None = None, *, env: Mapping[str, str] | None = None) -> Settings:
    """Read the TOML file (``path``, else $MILESTONES_CONFIG, else ./milestones.toml if present) and the env."""
    environ = os.environ if env is None else env
    source = locate(path, environ)
    chosen = source.path
    data = read(source)

    allowed = {"links", "kantata", "autotask", "crmcom", "pairs", "workers"}
    for key in data:
        if key not in allowed:
            raise ConfigError(f"{key}: unknown top-level key (allowed: {', '.join(sorted(allowed))})", key=key)

    sections = {name: table(data, name) for name in ("kantata", "autotask", "crmcom")}
    for name, section in sections.items():
        for secret_key, var in SECRETS[name].items():
            if secret_key in section:
                raise ConfigError(
                    f"{name}.{secret_key}: secrets are never read from the config file; remove it and set {var} "
                    "in the environment",
                    key=f"{name}.{secret_key}",
                )
        for key, var in OVERRIDES[name].items():
            if environ.get(var):
                section[key] = environ[var]

    def secret(name: str, key: str) -> SecretStr | None:
        value = environ.get(SECRETS[name][key])
        return SecretStr(value) if value else None

    k, a, c = sections["kantata"], sections["autotask"], sections["crmcom"]
    _check_values(sections, environ)
    only(k, {"base_url", "json_suffix"}, "kantata")
    only(a, {"username", "base_url", "impersonation_resource_id", "currency"}, "autotask")
    only(c, {"base_url", "api", "drafts"}, "crmcom")
    api = str(c.get("api", "self-service"))
    if api not in ("self-service", "backoffice"):
        raise ConfigError(f"crmcom.api: expected 'self-service' or 'backoffice', got {api!r}", key="crmcom.api")
    drafts = c.get("drafts", {})
    if not isinstance(drafts, dict) or not all(isinstance(v, dict) for v in drafts.values()):
        raise ConfigError("crmcom.drafts: expected tables [crmcom.drafts.<name>]", key="crmcom.drafts")

    return Settings(
        path=chosen,
        links=_links_path(data, chosen, environ),
        kantata=KantataSettings(
            token=secret("kantata", "token"),
            base_url=opt_str(k, "base_url", "kantata"),
            json_suffix=as_bool(k, "json_suffix", "kantata", False),
        ),
        autotask=AutotaskSettings(
            username=opt_str(a, "username", "autotask"),
            secret=secret("autotask", "secret"),
            integration_code=secret("autotask", "integration_code"),
            base_url=opt_str(a, "base_url", "autotask"),
            impersonation_resource_id=opt_int(a, "impersonation_resource_id", "autotask"),
            currency=opt_str(a, "currency", "autotask"),
        ),
        crmcom=CrmComSettings(
            api_key=secret("crmcom", "api_key"),
            bearer_token=secret("crmcom", "bearer_token"),
            base_url=opt_str(c, "base_url", "crmcom"),
            api=api,
            drafts=drafts,
        ),
        pairs=_pairs(data.get("pairs", {})),
        source=source,
    )


def _links_path(data: Mapping[str, Any], config: Path | None, environ: Mapping[str, str]) -> Path | str:
    """Where the link store is: a path beside the config file, or a ``postgresql://`` URL (see _store_config)."""
    return links_target(data, config, environ)


def _check_values(sections: Mapping[str, Mapping[str, Any]], environ: Mapping[str, str]) -> None:
    """URLs and currencies are checked where they are given, naming the key (and the variable that set it),
    instead of failing requests later as a connection error or a translation error."""
    for name, section in sections.items():
        for key in ("base_url", "currency"):
            value = section.get(key)
            if value is None:
                continue
            var = OVERRIDES[name].get(key)
            where = f"{name}.{key}" + (f" (from {var})" if var and environ.get(var) else "")
            if not isinstance(value, str):
                raise ConfigError(f"{where}: expected a string, got {value!r}", key=f"{name}.{key}")
            try:
                if key == "base_url":
                    check_base_url(value.strip(), field=key)
                elif value.strip().upper() not in known_currencies():
                    raise ConfigError(
                        f"{where}: {value!r} is not an ISO 4217 currency code (e.g. USD, EUR)", key=f"{name}.{key}"
                    )
            except ValidationError as exc:
                raise ConfigError(f"{where}: {exc.message.split(': ', 1)[-1]}", key=f"{name}.{key}") from None


def _pairs(raw: Any) -> dict[str, PairSettings]:
    if not isinstance(raw, dict):
        raise ConfigError("pairs: expected tables [pairs.<name>]", key="pairs")
    out = {}
    for name, spec in raw.items():
        key = f"pairs.{name}"
        if not isinstance(spec, dict):
            raise ConfigError(f"{key}: expected a table", key=key)
        allowed = {
            "source",
            "target",
            "policy",
            "delete_missing",
            "allow_empty_source",
            "allow_drop",
            "truncate",
            "fix_duplicates",
            "allow_mass_delete",
            "max_delete_share",
            "lease_wait",
            "write_settle",
        }
        only(spec, allowed | {"triggers"}, key)
        for required in ("source", "target"):
            if required not in spec:
                raise ConfigError(
                    f'{key}.{required}: missing (e.g. {required} = "kantata:900")', key=f"{key}.{required}"
                )
        try:
            policy = ConflictPolicy(spec.get("policy", "report"))
        except ValueError:
            choices = ", ".join(p.value for p in ConflictPolicy)
            raise ConfigError(
                f"{key}.policy: expected one of {choices}, got {spec.get('policy')!r}", key=f"{key}.policy"
            ) from None
        out[name] = PairSettings(
            name=name,
            source=parse_endpoint(str(spec["source"]), key=f"{key}.source"),
            target=parse_endpoint(str(spec["target"]), key=f"{key}.target"),
            policy=policy,
            delete_missing=as_bool(spec, "delete_missing", key, True),
            allow_drop=as_bool(spec, "allow_drop", key, False),
            allow_empty_source=as_bool(spec, "allow_empty_source", key, False),
            truncate=as_bool(spec, "truncate", key, False),
            triggers=_triggers(spec.get("triggers", {}), f"{key}.triggers"),
            fix_duplicates=as_bool(spec, "fix_duplicates", key, False),
            allow_mass_delete=as_bool(spec, "allow_mass_delete", key, False),
            max_delete_share=number(spec, "max_delete_share", key, 0.5, upper=1.0),
            lease_wait=number(spec, "lease_wait", key, 0.0, upper=None),
            write_settle=positive(spec, "write_settle", key, DEFAULT_WRITE_SETTLE, upper=3600.0),
        )
    return out


def _triggers(raw: Any, key: str) -> TriggerMap:
    if not isinstance(raw, dict):
        raise ConfigError(f"{key}: expected a table", key=key)
    only(raw, {"stage_to_story", "due_dates", "fallback_due"}, key)
    stage_to_story = raw.get("stage_to_story", {})
    if not isinstance(stage_to_story, dict):
        raise ConfigError(f"{key}.stage_to_story: expected a table of stage id = story id", key=f"{key}.stage_to_story")
    for k, v in stage_to_story.items():
        if not isinstance(v, str | int) or isinstance(v, bool):
            raise ConfigError(
                f"{key}.stage_to_story.{k}: expected a story id, got {v!r}", key=f"{key}.stage_to_story.{k}"
            )
    raw_dates = raw.get("due_dates", {})
    if not isinstance(raw_dates, dict):
        raise ConfigError(f"{key}.due_dates: expected a table of stage or story id = date", key=f"{key}.due_dates")
    due_dates = {str(k): as_date(v, f"{key}.due_dates.{k}") for k, v in raw_dates.items()}
    fallback = raw.get("fallback_due")
    return TriggerMap(
        stage_to_story={str(k): str(v) for k, v in stage_to_story.items()},
        due_dates=due_dates,
        fallback_due=as_date(fallback, f"{key}.fallback_due") if fallback is not None else None,
    )
