"""An in-memory Kantata OX (Mavenlink) API for billing milestones, workspaces and stories.

It follows the documented behaviour: the ``{count, meta, results, <typed maps>}`` envelope with string ids,
``page``/``per_page`` (max 200) and ``limit``/``offset`` paging, the list filters, ``include`` side-loads,
100 milestones per create, ``{errors:[{type, message, field}]}`` bodies (401 ``oauth``, 422 ``validation``),
and the invoiced lock. Where the docs are silent ([U] in the reference) it picks the likely answer:
422 validation for editing an invoiced milestone, all-or-nothing bulk creates, no ``Retry-After`` on 429
unless the RateLimit asks for one.

One job a module: ``_store`` (account state and milestone rules), ``_reads`` (query parsing, envelopes, the GET
handlers), ``_routes`` (the route table, auth, errors, writes) and ``_seed`` (set-up for tests and demos).
"""

from __future__ import annotations

from ._routes import _Routes
from ._seed import _Seed
from ._store import DEMO_TOKEN

__all__ = ["DEMO_TOKEN", "KantataSandbox"]


class KantataSandbox(_Routes, _Seed):
    """Kantata's API under ``/api/v1``, with and without the ``.json`` suffix.

    ```pycon
    >>> from billing_milestones import KantataClient
    >>> sandbox = KantataSandbox()
    >>> ids = sandbox.seed_demo()
    >>> with KantataClient("token", http_client=sandbox.http_client()) as client:
    ...     titles = [m.title for m in client.milestones.list(ids["workspaces"]["USD"])]
    >>> sorted(titles)
    ['Build complete', 'Deposit', 'Design approved', 'Goodwill credit']

    ```
    """

    platform = "kantata"
    base_path = "/api/v1"
