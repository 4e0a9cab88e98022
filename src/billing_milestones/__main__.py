"""``python -m billing_milestones`` runs the ``milestones`` command."""

from .cli import main

main()
