"""A sync between two containers of one platform imports that platform only: the package's clients and
the planner's ``KEEPS_SYNC_KEY`` (which reads every spec) are imported when first asked for. The other
platforms' wire models, clients and specs cost 2-3 MB in every process that imported them."""

from __future__ import annotations

import subprocess
import sys

import billing_milestones
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
    assert not hasattr(billing_milestones, "no_such_name")


def test_keeps_sync_key_is_one_set_wherever_it_is_read() -> None:
    assert plan.KEEPS_SYNC_KEY is actions.KEEPS_SYNC_KEY
    assert not hasattr(plan, "no_such_name") and not hasattr(actions, "no_such_name")
