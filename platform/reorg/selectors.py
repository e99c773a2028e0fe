"""Reading merges (public schema)."""

from __future__ import annotations

from reorg.models import Merge, MergeStatus, Split
from tenants.models import Agency


def unfinished_merge(*, sources: list[Agency], target: Agency) -> Merge | None:
    """The merge of exactly these sources into the target that has not finished, if any."""
    found = merge_of(sources=sources, target=target)
    return found if found is not None and found.status != MergeStatus.FINISHED else None


def merge_of(*, sources: list[Agency], target: Agency) -> Merge | None:
    """The merge of exactly these sources into the target (finished or not), if any."""
    wanted = sorted(s.pk for s in sources)
    for merge in Merge.objects.filter(target=target):
        if sorted(merge.sources.values_list("agency_id", flat=True)) == wanted:
            return merge
    return None


def merges() -> list[Merge]:
    return list(Merge.objects.select_related("target").prefetch_related("sources__agency")[:100])


def split_of(*, source: Agency, target_slug: str, procedures: list[str]) -> Split | None:
    """The latest split of these procedures of the source into the agency named (finished
    or not), if any: what a re-run of the same command finishes."""
    wanted = sorted(p.strip() for p in procedures if p.strip())
    for split in Split.objects.filter(source=source, target__slug=target_slug):
        if sorted(split.procedures) == wanted:
            return split
    return None


def splits() -> list[Split]:
    return list(Split.objects.select_related("source", "target")[:100])
