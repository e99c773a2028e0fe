"""Reading merges (public schema)."""

from __future__ import annotations

from reorg.models import Merge, MergeStatus
from tenants.models import Agency


def unfinished_merge(*, sources: list[Agency], target: Agency) -> Merge | None:
    """The merge of exactly these sources into the target that has not finished, if any."""
    wanted = sorted(s.pk for s in sources)
    for merge in Merge.objects.filter(target=target).exclude(status=MergeStatus.FINISHED):
        if sorted(merge.sources.values_list("agency_id", flat=True)) == wanted:
            return merge
    return None


def merges() -> list[Merge]:
    return list(Merge.objects.select_related("target").prefetch_related("sources__agency")[:100])
