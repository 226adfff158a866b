"""Dismissal paths with and without their preconditions (R2.3, R2.4, R2.5), discipline up to
removal (R4.5, R9.4), and the history that records every step."""

from __future__ import annotations

from core.accounts.models import Account
from core.roster.models import Filing, Status, Supervisor
from tests.support import Api

DISMISS = """mutation($id: ID!, $reason: DismissalReason!) {
  dismissSupervisor(id: $id, reason: $reason, note: "依规解聘") { status } }"""
DISCIPLINE = """mutation($id: ID!, $kind: DisciplineKind!) {
  recordDiscipline(supervisorId: $id, kind: $kind, reason: "履职不力") { id kind } }"""


async def _sid(username: str) -> str:
    return str((await Supervisor.get(account__username=username)).id)


async def _status(sid: str) -> Status:
    return (await Supervisor.get(id=int(sid))).status


async def test_r2_3_health_needs_consultation_with_the_unit(api: Api, roster_demo: None) -> None:
    """R2.3: the home office consults the recommending unit, then dismisses."""
    sid = await _sid("sv.dc.040")
    refused = await api.gql(DISMISS, {"id": sid, "reason": "HEALTH_OR_INCAPACITY"},
                            as_user="admin.dc")
    assert refused.codes == ["RULE_VIOLATION"] and await _status(sid) is Status.ACTIVE
    (await api.gql(f'mutation {{ recordConsultation(supervisorId: "{sid}", '
                   'note: "推荐单位同意") { id } }', as_user="admin.dc")).ok()
    done = await api.gql(DISMISS, {"id": sid, "reason": "HEALTH_OR_INCAPACITY"},
                         as_user="admin.dc")
    assert done.ok()["dismissSupervisor"]["status"] == "DISMISSED"


async def test_r2_4_resignation_needs_request_and_unit_consent(api: Api, roster_demo: None
                                                                ) -> None:
    """R2.4: the supervisor applies, the recommending unit consents, the office dismisses."""
    sid = await _sid("sv.dc.041")
    variables = {"id": sid, "reason": "RESIGNATION"}
    assert (await api.gql(DISMISS, variables, as_user="admin.dc")).codes == ["RULE_VIOLATION"]
    consent = f'mutation {{ recordUnitConsent(supervisorId: "{sid}", note: "同意") {{ id }} }}'
    # the unit cannot consent to a resignation nobody asked for
    assert (await api.gql(consent, as_user="admin.dc")).codes == ["INVALID_TRANSITION"]
    (await api.gql('mutation { requestResignation(reason: "工作调动") { id } }',
                   as_user="sv.dc.041")).ok()
    assert (await api.gql(DISMISS, variables, as_user="admin.dc")).codes == ["RULE_VIOLATION"]
    (await api.gql(consent, as_user="admin.dc")).ok()
    assert (await api.gql(DISMISS, variables, as_user="admin.dc")).ok()
    assert await _status(sid) is Status.DISMISSED


async def test_r2_4_only_the_supervisor_requests_resignation(api: Api, roster_demo: None
                                                             ) -> None:
    result = await api.gql('mutation { requestResignation(reason: "代为辞职") { id } }',
                           as_user="admin.dc")
    assert result.codes == ["NOT_FOUND"]


async def test_r2_5_unfit_needs_an_uncorrected_reminder_or_warning(api: Api, roster_demo: None
                                                                   ) -> None:
    """R2.5: dismissal for unfitness only after a reminder or warning was not corrected."""
    sid = await _sid("sv.dc.042")
    variables = {"id": sid, "reason": "UNFIT"}
    assert (await api.gql(DISMISS, variables, as_user="admin.dc")).codes == ["RULE_VIOLATION"]
    criticism = await api.gql(DISCIPLINE, {"id": sid, "kind": "CRITICISM"}, as_user="admin.dc")
    criticism.ok()
    assert (await api.gql(DISMISS, variables, as_user="admin.dc")).codes == ["RULE_VIOLATION"]
    reminder = (await api.gql(DISCIPLINE, {"id": sid, "kind": "REMINDER"},
                              as_user="admin.dc")).ok()["recordDiscipline"]
    (await api.gql(f'mutation {{ recordCorrection(disciplineId: "{reminder["id"]}", '
                   'note: "已改正") { id } }', as_user="admin.dc")).ok()
    assert (await api.gql(DISMISS, variables, as_user="admin.dc")).codes == ["RULE_VIOLATION"]
    (await api.gql(DISCIPLINE, {"id": sid, "kind": "WARNING"}, as_user="admin.dc")).ok()
    assert (await api.gql(DISMISS, variables, as_user="admin.dc")).ok()
    assert await _status(sid) is Status.DISMISSED


async def test_r4_5_r9_4_removal_ends_service_revokes_and_closes(api: Api, roster_demo: None
                                                                 ) -> None:
    """R4.5/R9.4: removal (除名) ends the service: certificate revoked, account closed."""
    filed = await Filing.filter(filed_at__isnull=False, supervisor__status="ACTIVE",
                                supervisor__jurisdiction__path="jl.th.dc").first()
    assert filed is not None
    sid = str(filed.supervisor_id)
    supervisor = await Supervisor.get(id=int(sid)).prefetch_related("account")
    assert supervisor.account is not None
    token = await api.token(supervisor.account.username)
    (await api.gql(DISCIPLINE, {"id": sid, "kind": "REMOVAL"}, as_user="admin.dc")).ok()
    assert await _status(sid) is Status.REMOVED
    assert (await Filing.get(id=filed.id)).revoked_at is not None
    assert not (await Account.get(id=supervisor.account.id)).is_active
    assert (await api.gql("{ me { username } }", token=token)).codes == ["UNAUTHENTICATED"]
    again = await api.gql(DISCIPLINE, {"id": sid, "kind": "WARNING"}, as_user="admin.dc")
    assert again.codes == ["INVALID_TRANSITION"]


async def test_other_offices_cannot_dismiss_or_discipline(api: Api, roster_demo: None) -> None:
    sid = await _sid("sv.dc.043")
    assert (await api.gql(DISCIPLINE, {"id": sid, "kind": "WARNING"},
                          as_user="admin.ja")).codes == ["NOT_FOUND"]
    assert (await api.gql(DISMISS, {"id": sid, "reason": "UNFIT"},
                          as_user="sv.dc.044")).codes == ["NOT_FOUND"]
    own = await api.gql(DISMISS, {"id": sid, "reason": "UNFIT"}, as_user="sv.dc.043")
    assert own.codes == ["FORBIDDEN"]  # R4.3: supervisors decide nothing, not even for themselves
    assert await _status(sid) is Status.ACTIVE


async def test_history_shows_every_transition_in_order(api: Api, roster_demo: None) -> None:
    sid = await _sid("sv.dc.045")
    (await api.gql(DISCIPLINE, {"id": sid, "kind": "WARNING"}, as_user="admin.dc")).ok()
    (await api.gql(DISMISS, {"id": sid, "reason": "UNFIT"}, as_user="admin.dc")).ok()
    query = (f'{{ supervisor(id: "{sid}") {{ status '
             "history { kind actor fromStatus toStatus } } }")
    data = (await api.gql(query, as_user="admin.dc")).ok()["supervisor"]
    assert data["status"] == "DISMISSED"
    assert [(h["kind"], h["fromStatus"], h["toStatus"]) for h in data["history"]] == [
        ("APPOINTED", None, "ACTIVE"), ("DISCIPLINE", None, None),
        ("DISMISSED", "ACTIVE", "DISMISSED")]
    assert data["history"][-1]["actor"] == "admin.dc"


async def test_r4_1_r4_2_discipline_names_the_duty_broken(api: Api, roster_demo: None) -> None:
    """R4.1 (private gain) and R4.2 (gifts, meals, entertainment) lead to discipline (R4.5)
    that records which duty was broken."""
    from core.roster.models import Discipline

    sid = await _sid("sv.dc.046")
    for violation, kind in (("PRIVATE_GAIN", "WARNING"), ("GIFTS", "CRITICISM")):
        (await api.gql(f'mutation {{ recordDiscipline(supervisorId: "{sid}", kind: {kind}, '
                       f'reason: "收受企业宴请", violation: {violation}) {{ id }} }}',
                       as_user="admin.dc")).ok()
    recorded = await Discipline.filter(supervisor_id=int(sid)).order_by("id").values_list(
        "violation", "kind")
    assert [(v.value, k.value) for v, k in recorded] == [("PRIVATE_GAIN", "WARNING"),
                                                         ("GIFTS", "CRITICISM")]


async def test_r7_1_the_city_oversees_but_does_not_act_for_the_county(
        api: Api, roster_demo: None) -> None:
    """R7.1: dismissal, discipline, rewards and penalties, points and renewal are the home
    office's; the city office, which reads Dongchang's roster, is refused each and changes
    nothing. Its own special supervisors it manages itself (R7.5)."""
    from core.roster import proposals
    from core.roster.models import Discipline, SupervisorEvent
    from core.scoring.models import PointEntry, Proposal, ProposalKind

    sid = await _sid("sv.dc.042")
    await proposals.propose(int(sid), ProposalKind.REMINDER, "履职不力", "test:r7.1")
    proposal = await Proposal.get(source="test:r7.1")
    before = (await SupervisorEvent.filter(supervisor_id=int(sid)).count(),
              await Discipline.filter(supervisor_id=int(sid)).count(),
              await PointEntry.filter(supervisor_id=int(sid)).count())
    seen = await api.gql(f'{{ supervisor(id: "{sid}") {{ name }} }}', as_user="admin.th")
    assert seen.ok()["supervisor"]["name"]
    acts = [
        (DISMISS, {"id": sid, "reason": "UNFIT"}),
        (DISCIPLINE, {"id": sid, "kind": "WARNING"}),
        ('mutation($id: ID!) { decideProposal(id: $id, confirm: true) }',
         {"id": str(proposal.id)}),
        ('mutation($id: ID!) { adjustPoints(supervisorId: $id, points: 5, reason: "奖励") '
         '{ points } }', {"id": sid}),
        ('mutation($id: ID!) { renewSupervisor(id: $id) { id } }', {"id": sid}),
        ('mutation($id: ID!) { recordConsultation(supervisorId: $id, note: "已沟通") { id } }',
         {"id": sid}),
    ]
    for document, variables in acts:
        assert (await api.gql(document, variables, as_user="admin.th")).codes == [
            "FORBIDDEN"], document
    assert (await SupervisorEvent.filter(supervisor_id=int(sid)).count(),
            await Discipline.filter(supervisor_id=int(sid)).count(),
            await PointEntry.filter(supervisor_id=int(sid)).count()) == before
    assert (await Proposal.get(id=proposal.id)).status.value == "PROPOSED"
    assert await _status(sid) is Status.ACTIVE
    # the home office does it
    assert (await api.gql(DISCIPLINE, {"id": sid, "kind": "REMINDER"}, as_user="admin.dc")).ok()
    special = await _sid("sv.th.001")
    assert (await api.gql(DISCIPLINE, {"id": special, "kind": "REMINDER"},
                          as_user="admin.th")).ok()
