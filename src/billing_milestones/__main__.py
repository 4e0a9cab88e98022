"""``python -m billing_milestones`` runs the ``milestones`` command."""

from ._entry import main

main()
