"""A sync between two containers of one platform imports that platform only: the package's clients and
the planner's ``KEEPS_SYNC_KEY`` (which reads every spec) are imported when first asked for. The other
platforms' wire models, clients and specs cost 2-3 MB in every process that imported them."""

from __future__ import annotations

import subprocess
import sys
from types import ModuleType

import pytest

import billing_milestones
from billing_milestones import Platform
from billing_milestones.sync import actions, plan

_KANTATA_SYNC = """
import sys
from billing_milestones import KantataClient, Platform
from billing_milestones.sync import LinkStore, SyncPair, load_sides, plan_sync
from billing_milestones.sandbox import KantataSandbox
box = KantataSandbox()
box.seed_demo()
pair = SyncPair(Platform.KANTATA, "1001", Platform.KANTATA, box.add_workspace("copy", currency="USD"))
with KantataClient("t", http_client=box.http_client()) as client, LinkStore(":memory:") as store:
    plan = plan_sync(pair, *load_sides(pair, client), store)
assert plan.counts()["create"] > 0, plan.counts()
print(sorted(m for m in sys.modules if m.startswith(("billing_milestones.autotask", "billing_milestones.crmcom"))))
"""


def test_a_sync_within_one_platform_imports_no_other_platform() -> None:
    done = subprocess.run([sys.executable, "-c", _KANTATA_SYNC], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout


def test_every_exported_name_is_the_one_its_module_defines() -> None:
    code = (
        "import billing_milestones as b\n"
        "from billing_milestones import *\n"
        "from billing_milestones.autotask import AutotaskClient\n"
        "from billing_milestones.crmcom import OrderDraft\n"
        "from billing_milestones.sync import settle_pending as settle\n"
        "assert all(getattr(b, n) is globals()[n] for n in b.__all__)\n"
        "assert b.AutotaskClient is AutotaskClient and b.OrderDraft is OrderDraft and b.settle_pending is settle\n"
        "assert b.kantata.KantataClient is b.KantataClient and set(b.__all__) <= set(dir(b))\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "ok", done.stderr


def test_keeps_sync_key_is_made_from_every_spec_when_first_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(vars(actions), "KEEPS_SYNC_KEY", raising=False)  # as in a fresh process
    made = actions.KEEPS_SYNC_KEY
    assert made == frozenset({Platform.KANTATA, Platform.AUTOTASK}) and vars(actions)["KEEPS_SYNC_KEY"] is made
    assert plan.KEEPS_SYNC_KEY is made  # read again, not made again


@pytest.mark.parametrize("module", [actions, plan, billing_milestones])
def test_any_other_name_is_an_attribute_error_naming_it(module: ModuleType) -> None:
    with pytest.raises(AttributeError, match=rf"^module '{module.__name__}' has no attribute 'no_such_name'$"):
        _ = module.no_such_name
