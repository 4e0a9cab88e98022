"""A griffe extension for the API reference: Sphinx roles in docstrings read as code, not as raw markup.

The package's docstrings are also read in ``help()`` and editors, where ``:class:`Money``` is the usual
way to name an object; Markdown has no such role and showed it verbatim. Each role becomes a code span of
the name a reader would type (``:meth:`~.client.KantataClient.close``` -> ``close``, the ``~`` meaning
"last part only", as in Sphinx). The ``[U]`` marking an uncertain point (the vendor's documentation does
not settle it) becomes a link to the reference page that says so.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_UNCERTAIN = re.compile(r"\[U\](?!\[)")
_ROLE = re.compile(r":(?:py:)?(?:class|func|meth|attr|mod|data|exc|obj|const):`(~?)\.?([^`]+)`")


def plain_roles(text: str) -> str:
    """``:role:`target``` as a code span; with ``~``, of the target's last dotted part."""

    def code(match: re.Match[str]) -> str:
        tilde, target = match.groups()
        return f"`{target.rsplit('.', 1)[-1] if tilde else target}`"

    return _UNCERTAIN.sub(r"[\\[U\\]][uncertain-points]", _ROLE.sub(code, text))


class SphinxRoles(griffe.Extension):
    """Rewrites every docstring of every loaded object once it is known."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = plain_roles(obj.docstring.value)
