"""Reading merges (public schema)."""

from __future__ import annotations

from reorg.models import Merge, MergeStatus
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
