"""A few completed demo assistance requests in Dongchang."""

from __future__ import annotations

from datetime import timedelta

from core import clock
from core.assistance.models import (
    AssistanceOffer,
    AssistanceRequest,
    OfferState,
    RequestState,
    Source,
)
from core.assistance.service import distance_m
from core.roster.models import Status, Supervisor
from tenants.models import Jurisdiction

INCIDENTS = [
    ("东昌区新华大街政务服务中心", "企业办理许可被要求提供无依据材料"),
    ("东昌区龙泉路市场监管所", "现场检查执法人员未出示证件"),
    ("东昌区滨江西路建材市场", "商户反映被重复收费"),
]


async def seed_assistance() -> int:
    if await AssistanceRequest.exists():
        return 0
    place = await Jurisdiction.get(path="jl.th.dc")
    helpers = await Supervisor.filter(status=Status.ACTIVE, jurisdiction_id=place.id
                                      ).order_by("id").limit(len(INCIDENTS) * 3)
    now = clock.now()
    for n, (address, description) in enumerate(INCIDENTS):
        lat, lon = (place.latitude or 0) + 0.01 * n, (place.longitude or 0) - 0.01 * n
        created = now - timedelta(days=30 - 7 * n)
        offered = helpers[n * 3:n * 3 + 3]
        winner = offered[0]
        request = await AssistanceRequest.create(
            tracking_code=f"DEMO{n + 1:04d}", source=Source.PUBLIC, jurisdiction=place,
            requester_name="演示投诉人", requester_phone=f"1390435{n:04d}", latitude=lat,
            longitude=lon, address=address, description=description,
            state=RequestState.CLOSED, round=1, radius_km=5, created_at=created,
            accepted_by=winner, accepted_at=created + timedelta(minutes=3),
            arrived_at=created + timedelta(minutes=18), arrival_distance_m=35.0,
            closed_at=created + timedelta(hours=2), report="到场见证，已如实记录并反馈软环境办。")
        await AssistanceOffer.bulk_create([AssistanceOffer(
            request=request, supervisor=s, round=1, offered_at=created,
            distance_m=distance_m(lat, lon, s.latitude or lat, s.longitude or lon),
            state=OfferState.ACCEPTED if s.id == winner.id else OfferState.RETRACTED)
            for s in offered])
    return len(INCIDENTS)
