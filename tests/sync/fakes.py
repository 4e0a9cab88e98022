"""An in-memory milestone view: the smallest faithful stand-in for a platform in planner/apply tests."""

from __future__ import annotations

import builtins
import itertools
from collections.abc import Iterator, Sequence

from billing_milestones import Milestone, MilestoneKey, Platform, errors


class CrashAfter(Exception):
    """Raised by a progress callback to simulate a process dying mid-apply."""


class FakeView:
    """Stores milestones per container; ``drop_after`` stores a create and then loses the response."""

    def __init__(self, platform: Platform, *, can_delete: bool = True) -> None:
        self.platform = platform
        self.can_delete = can_delete
        self.data: dict[str, dict[str, Milestone]] = {}
        self._ids = itertools.count(1000)
        self.calls: list[str] = []
        self.drop_next_create = False
        #: Raised by the next call of that kind (then cleared), to drive the failure paths.
        self.fail: dict[str, Exception] = {}

    def add(self, container_id: str, milestone: Milestone) -> Milestone:
        native = str(next(self._ids))
        stored = milestone.model_copy(
            update={"key": MilestoneKey(platform=self.platform, id=native, container_id=container_id)}
        )
        self.data.setdefault(container_id, {})[native] = stored
        return stored

    def list(self, container_id: str) -> Iterator[Milestone]:
        self.calls.append("list")
        yield from list(self.data.get(container_id, {}).values())

    def create(self, container_id: str, milestones: Sequence[Milestone]) -> builtins.list[Milestone]:
        self.calls.append(f"create:{len(milestones)}")
        if "create" in self.fail:
            raise self.fail.pop("create")
        created = [self.add(container_id, m.model_copy(update={"changes": ()})) for m in milestones]
        if self.drop_next_create:
            self.drop_next_create = False
            raise errors.APIConnectionError("dropped", platform=self.platform.value, method="POST", path="/x")
        return created

    def update(self, milestone: Milestone) -> Milestone:
        assert milestone.key is not None
        self.calls.append("update")
        box = self.data[milestone.key.container_id]
        if box[milestone.key.id].locked:
            raise errors.UnprocessableEntityError(
                "locked", platform=self.platform.value, method="PUT", path="/x", status_code=422
            )
        stored = milestone.model_copy(update={"changes": ()})
        box[milestone.key.id] = stored
        return stored

    def delete(self, key: MilestoneKey) -> None:
        self.calls.append("delete")
        if "delete" in self.fail:
            raise self.fail.pop("delete")
        if not self.can_delete:
            raise errors.UnsupportedOperationError("no delete", platform=self.platform.value, method="DELETE", path="/")
        self.data[key.container_id].pop(key.id)


class FakeSetView(FakeView):
    """crm.com-style: the whole set is written at once and each milestone is keyed by its stage."""

    def replace(self, container_id: str, milestones: Sequence[Milestone]) -> builtins.list[Milestone]:
        self.calls.append(f"replace:{len(milestones)}")
        if "replace" in self.fail:
            raise self.fail.pop("replace")
        box: dict[str, Milestone] = {}
        for m in milestones:
            stage = m.trigger.ref or ""
            key = MilestoneKey(platform=self.platform, id=f"{container_id}:{stage}", container_id=container_id)
            box[key.id] = m.model_copy(update={"key": key, "external_refs": (), "changes": ()})
        self.data[container_id] = box
        return list(box.values())
