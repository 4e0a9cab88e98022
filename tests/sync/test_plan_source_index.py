"""The planner's index of compact links holds a source key of the pair's source container with a plain
numeric id as that id, an int (32 bytes, where the key's text took 80: 5 MB at 100,000 links), and any other
key as its text; a link reads back its source key's text either way, and plans are the same."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from billing_milestones import Milestone, MilestoneKey, Money, Platform
from billing_milestones.sync import plan, plan_sync
from billing_milestones.sync._linked import linked, source_index

from .test_plan_store_links import PAIR, _link, _store, _target

PREFIX = "autotask:77/"


@pytest.mark.parametrize(("text", "key"), [("autotask:77/6", 6), ("autotask:77/0", 0), (PREFIX + "9" * 18, 10**18 - 1)])
def test_a_plain_id_after_the_prefix_is_its_int(text: str, key: int) -> None:
    assert source_index(text, PREFIX) == key and PREFIX + str(key) == text


@pytest.mark.parametrize(
    "text",
    [
        "autotask:77/007",  # leading zeros: the int would read back otherwise
        "autotask:77/-6",
        "autotask:77/+6",
        "autotask:77/ 6",
        "autotask:77/6 ",
        "autotask:77/",
        "autotask:77/\u0666",  # an Arabic-Indic six: a digit, not ASCII
        "autotask:77/" + "9" * 19,  # beyond 18 digits
        "autotask:770/6",  # another container
        "autotask:78/6",  # another container of the same length: its digits are not read
        "kantata:77/6",
        "autotask:77/6/7",
        "xautotask:77/6",
    ],
)
def test_any_other_key_is_its_text(text: str) -> None:
    assert source_index(text, PREFIX) == text
    assert source_index("autotask:77/6", "") == "autotask:77/6"  # no prefix: texts only
    assert source_index("6", "") == "6"  # even a bare number


def _source(ident: str, container: str = "77") -> Milestone:
    key = MilestoneKey(platform=Platform.AUTOTASK, id=ident, container_id=container)
    return Milestone(key=key, title=f"M{ident}", amount=Money("1.50", "USD"), due="2027-01-31")


def test_a_compact_link_reads_back_its_source_key_either_way() -> None:
    source = _source("6")
    target = _target(source, 106)
    link = _link(source, target)
    odd = dataclasses.replace(link, source_key="autotask:77/006")
    kept, _ = linked([link, odd], {}, PREFIX)
    assert kept[0]._source == 6 and kept[1]._source == "autotask:77/006"
    assert [k.link() for k in kept] == [link, odd] and [k.index for k in kept] == [6, "autotask:77/006"]
    assert not any(k.planned for k in kept)
    plain, _ = linked([link], {})  # no prefix given: the text
    assert plain[0]._source == link.source_key and plain[0].link() == link


def test_a_plan_with_ids_of_every_shape_is_the_plan_from_the_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(plan, "COMPACT_FROM", 2)
    sources = [_source(i) for i in ("6", "06", "0", "x6", "60", "7")]
    targets = [_target(s, 100 + n) for n, s in enumerate(sources)]
    links = [_link(s, t) for s, t in zip(sources, targets, strict=True)]
    moved = _source("60", container="770")  # same id, another container: not the link's source
    listed = [s for s in sources if s.key is not None and s.key.id != "60"] + [moved]
    del listed[-2]  # "7" gone: an orphan (a delete)
    with _store(tmp_path, links) as store:
        ours = plan_sync(PAIR, listed, targets, store)
    theirs = plan_sync(PAIR, listed, targets, links)
    assert ours.actions == theirs.actions and [a.link for a in ours.actions] == [a.link for a in theirs.actions]
    kinds = [a.kind.value for a in ours.actions]
    assert kinds.count("unchanged") == 4 and kinds.count("delete") == 2 and "create" in kinds, kinds
