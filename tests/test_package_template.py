"""The three platform packages share one template: a reader who knows one finds everything in the next."""

from __future__ import annotations

import importlib
import inspect
import typing
from pathlib import Path

import pytest

import billing_milestones
from billing_milestones._http import AsyncRunner, SyncRunner

PACKAGES = ("autotask", "crmcom", "kantata")
#: The same file names and jobs in each package.
MODULES = ("wire", "adapter", "_errors", "_operations", "_flows", "_setup", "client", "_spec")
SRC = Path(billing_milestones.__file__).parent


@pytest.mark.parametrize("package", PACKAGES)
def test_every_platform_has_the_same_modules(package: str) -> None:
    for module in MODULES:
        importlib.import_module(f"billing_milestones.{package}.{module}")


@pytest.mark.parametrize("package", PACKAGES)
def test_every_platform_exports_the_same_kinds(package: str) -> None:
    pkg = importlib.import_module(f"billing_milestones.{package}")
    exported = set(pkg.__all__)
    assert {"SyncOptions", "AsyncOptions", "adapter"} <= exported
    clients = [n for n in exported if n.endswith("Client")]
    assert len(clients) == 2 and {f"Async{n}" for n in clients if not n.startswith("Async")} <= exported
    resources = {n for n in exported if isinstance(getattr(pkg, n), type) and _takes_a_runner(getattr(pkg, n))}
    # Every resource has its asyncio twin exported beside it, and a common view is among them.
    assert resources and all(f"Async{n}" in resources for n in resources if not n.startswith("Async"))
    assert any(n.endswith("Milestones") for n in resources)


def _takes_a_runner(cls: type) -> bool:
    try:
        hints = typing.get_type_hints(inspect.getattr_static(cls, "__init__"))
    except (NameError, TypeError):
        return False
    return hints.get("runner") in (SyncRunner, AsyncRunner)


@pytest.mark.parametrize("package", PACKAGES)
def test_resources_reach_io_through_the_runner_and_take_typed_keywords(package: str) -> None:
    client = importlib.import_module(f"billing_milestones.{package}.client")
    for name, cls in vars(client).items():
        if not isinstance(cls, type) or cls.__module__ != client.__name__ or name.startswith("_"):
            continue
        if typing.is_typeddict(cls):
            continue
        if not name.endswith("Client"):
            assert _takes_a_runner(cls), f"{name} is not built from a runner"
        for method_name, method in vars(cls).items():
            if (method_name.startswith("_") and method_name != "__init__") or not callable(method):
                continue
            for param in inspect.signature(method).parameters.values():
                if param.kind is param.VAR_KEYWORD:
                    assert "Unpack[" in str(param.annotation) or param.annotation == "str", (
                        f"{name}.{method_name}(**{param.name}: {param.annotation})"
                    )


def test_no_module_of_the_clients_is_over_450_lines() -> None:
    places = [SRC / "_http", *(SRC / p for p in PACKAGES)]
    long = {
        str(f.relative_to(SRC)): n
        for d in places
        for f in d.glob("*.py")
        if (n := len(f.read_text().splitlines())) > 450
    }
    assert long == {}
