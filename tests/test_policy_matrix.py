"""The authorization matrix: every cell role × action × relation × state of jishi.accounts.policy, checked
against the code that enforces it (the permission predicates, the list filters, and the role checks the
supervision, cadre and administration modules make), then the GET pages that take an object, over HTTP.

Units: J001 (city) above J002 and J003 (counties, siblings). An object in J002 is ``own`` for a role held in
J002, ``child`` for a role held in J001, ``sibling`` for a role held in J003; an object in J001 is ``parent``
for a role held in J002.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from jishi.accounts import permissions as perms
from jishi.accounts import policy
from jishi.accounts.models import OrgUnit, RoleAssignment, User
from jishi.core.roles import Role

# Where the role is held and where the object is, for each relation.
PLACES = {
    policy.OWN: ("J002", "J002"),
    policy.CHILD: ("J001", "J002"),
    policy.PARENT: ("J002", "J001"),
    policy.SIBLING: ("J003", "J002"),
}


@pytest.fixture
def units(db) -> dict[str, OrgUnit]:
    city = OrgUnit.objects.create(code="J001", name="内江市委组织部")
    return {
        "J001": city,
        "J002": OrgUnit.objects.create(code="J002", name="威远县委组织部", parent=city),
        "J003": OrgUnit.objects.create(code="J003", name="资中县委组织部", parent=city),
    }


@pytest.fixture
def holders(units: dict[str, OrgUnit]) -> dict[tuple[Role, str], User]:
    """One user per role and unit, holding exactly that role there."""
    out = {}
    for code, unit in units.items():
        for role in Role:
            user = User.objects.create(username=f"{role.value}-{code}")
            RoleAssignment.objects.create(user=user, org_unit=unit, role=role)
            out[(role, code)] = user
    return out


def _fresh(user: User) -> User:
    """The same user without the per-request caches (each cell is answered as in a new request)."""
    return User.objects.get(pk=user.pk)


# The enforcing code for each action: (user, role, object's unit, state) → allowed?
def _batch(unit: OrgUnit) -> Any:
    from jishi.selection.models import Batch

    return Batch(org_unit=unit)


def _both(*answers: bool) -> bool:
    assert len(set(answers)) == 1, f"two enforcement paths disagree: {answers}"
    return answers[0]


def _admin(name: str) -> Callable[..., Any]:
    from jishi.accounts import admin_permissions

    fn = getattr(admin_permissions, name, None)
    if fn is None:
        pytest.skip(f"jishi.accounts.admin_permissions.{name} not there yet")
    return fn


def _enforce_feedback(user: User, unit: OrgUnit) -> bool:
    from jishi.selection.models import Nomination
    from jishi.supervision import inbox
    from jishi.supervision.models import FeedbackStatus, PublicFeedback

    feedback = PublicFeedback(status=FeedbackStatus.OPEN, nomination=Nomination(batch=_batch(unit)))
    return inbox.can_verify(user, feedback)


def _enforce_explain(user: User, unit: OrgUnit) -> bool:
    from jishi.supervision import services
    from jishi.supervision.models import EarlyWarning

    return services.can_explain(user, EarlyWarning(org_unit=unit))


def _enforce_keypost_flag(user: User, unit: OrgUnit) -> bool:
    from jishi.supervision.views_keypost import FLAG_ROLES

    return perms.has_role(user, unit, FLAG_ROLES)


def _enforce_cadre_edit(user: User, unit: OrgUnit) -> bool:
    from jishi.cadres.services import LRMX_IMPORT_ROLES

    return _both(
        perms.has_role(user, unit, LRMX_IMPORT_ROLES),
        unit in perms.acting_units(_fresh(user), LRMX_IMPORT_ROLES),
    )


def _enforce_trace(user: User, unit: OrgUnit) -> bool:
    from jishi.supervision import inbox, trace

    return _both(trace.can_trace(user, unit), unit.pk in inbox.queue_unit_ids(_fresh(user)))


def _enforce_dashboard(user: User, unit: OrgUnit) -> bool:
    from jishi.supervision import dashboard

    return unit in dashboard.dashboard_units(user)


def _enforce_calendar(user: User, unit: OrgUnit) -> bool:
    from jishi.supervision import calendar_admin

    return calendar_admin.can_maintain_calendar(user)


ALL = [r.value for r in Role]  # a step naming every role: the policy's upper bound is all that limits it

ENFORCE: dict[str, Callable[[User, Role, OrgUnit, str | None], bool]] = {
    "batch.view": lambda u, r, unit, s: _both(
        perms.can_view_batch(u, _batch(unit)), unit.pk in perms.visible_unit_ids(_fresh(u))
    ),
    "batch.create": lambda u, r, unit, s: _both(perms.can_create_batch(u, unit), unit in perms.acting_units(_fresh(u))),
    "nomination.manage": lambda u, r, unit, s: perms.can_manage_batch(u, _batch(unit)),
    "step.work": lambda u, r, unit, s: perms.can_work_on_step(u, _batch(unit), ALL, state=s),
    "step.confirm": lambda u, r, unit, s: perms.can_confirm_as(u, _batch(unit), r.value, ALL, state=s),
    "step.waive": lambda u, r, unit, s: perms.can_waive(u, _batch(unit), state=s),
    "record.correct": lambda u, r, unit, s: perms.can_correct(u, _batch(unit), state=s),
    "material.download": lambda u, r, unit, s: perms.can_view_batch(u, _batch(unit)),
    "cadre.view": lambda u, r, unit, s: perms.can_view_cadre(u, _cadre(unit)),
    "cadre.edit": lambda u, r, unit, s: _enforce_cadre_edit(u, unit),
    "keypost.flag": lambda u, r, unit, s: _enforce_keypost_flag(u, unit),
    "keypost.review": lambda u, r, unit, s: perms.has_role(u, unit, {Role.SUPERVISION}),
    "field.id_number": lambda u, r, unit, s: perms.can_view_identity_number(u, _cadre(unit)),
    "field.discipline_opinion": lambda u, r, unit, s: _both(
        not perms.hidden_step_fields(u, _batch(unit), "D06"), not perms.hidden_step_fields(u, _batch(unit), "K09")
    ),
    "field.votes": lambda u, r, unit, s: perms.can_view_votes(u, _batch(unit)),
    "archive.view": lambda u, r, unit, s: _both(
        perms.can_view_archive(u, unit), perms.can_archive(u, unit, perms.ARCHIVE_VIEW)
    ),
    "archive.build": lambda u, r, unit, s: perms.can_archive(u, unit, perms.ARCHIVE_BUILD, state=s),
    "archive.organize": lambda u, r, unit, s: perms.can_archive(u, unit, perms.ARCHIVE_ORGANIZE, state=s),
    "archive.accept": lambda u, r, unit, s: perms.can_archive(u, unit, perms.ARCHIVE_CHECK, state=s),
    # services_custody and views_custody pass the literal {Role.ARCHIVIST}
    "archive.custody": lambda u, r, unit, s: perms.can_archive(u, unit, {Role.ARCHIVIST}, state=s),
    "archive.approve_disposal": lambda u, r, unit, s: perms.can_archive(u, unit, perms.ARCHIVE_APPROVE, state=s),
    "archive.hold": lambda u, r, unit, s: perms.can_archive(u, unit, perms.ARCHIVE_HOLD, state=s),
    "ledger.verify": lambda u, r, unit, s: unit in perms.verifiable_units(u),
    "supervision.trace": lambda u, r, unit, s: _enforce_trace(u, unit),
    "supervision.dashboard": lambda u, r, unit, s: _enforce_dashboard(u, unit),
    "warning.explain": lambda u, r, unit, s: _enforce_explain(u, unit),
    "feedback.verify": lambda u, r, unit, s: _enforce_feedback(u, unit),
    "calendar.edit": lambda u, r, unit, s: _enforce_calendar(u, unit),
    "user.manage": lambda u, r, unit, s: _admin("can_create_user_in")(u, unit),
    "role.grant": lambda u, r, unit, s: _admin("can_grant_in")(u, unit),
    "security.unlock": lambda u, r, unit, s: unit in _admin("admin_units")(u, Role.SECADMIN),
    "audit.view": lambda u, r, unit, s: unit in _admin("audit_units")(u),
}


def _cadre(unit: OrgUnit) -> Any:
    from jishi.cadres.models import Cadre

    return Cadre(org_unit=unit)


def test_every_action_of_the_table_has_its_enforcing_code_in_this_matrix():
    assert set(ENFORCE) == set(policy.ACTIONS)


@pytest.mark.parametrize("action", sorted(policy.ACTIONS))
def test_the_enforcing_code_agrees_with_every_cell_of_the_policy(action, units, holders):
    enforce = ENFORCE[action]
    wrong = []
    for relation, (held_in, object_in) in PLACES.items():
        for state in policy.STATES[policy.ACTIONS[action].kind]:
            st = None if state == policy.NO_STATE else state
            for role in Role:
                user = _fresh(holders[(role, held_in)])
                expected = policy.allows((role,), action, relation, st)
                got = enforce(user, role, units[object_in], st)
                if got != expected:
                    wrong.append(f"{role.value} {relation} {state}: policy {expected}, code {got}")
    assert not wrong, f"{action}: " + "; ".join(wrong)


def test_a_step_definition_narrows_the_policy_and_never_widens_it(units, holders):
    batch = _batch(units["J002"])
    dave = holders[(Role.DISCIPLINE, "J002")]
    # D06 names only 经办人 responsible: 纪检监察 may not work on it though the upper bound would allow it ...
    assert policy.allows((Role.DISCIPLINE,), "step.work", policy.OWN, "in_progress")
    assert not perms.can_work_on_step(dave, batch, ["clerk"])
    # ... but confirms it as 纪检监察, its named signer role,
    assert perms.can_confirm_as(dave, batch, "discipline", ["clerk", "section_head", "discipline"])
    # and not as a role the step does not name.
    assert not perms.can_confirm_as(dave, batch, "discipline", ["clerk", "section_head"])
    # A definition naming an administrator role grants the administrator nothing.
    sam = holders[(Role.SYSADMIN, "J002")]
    assert not perms.can_work_on_step(sam, batch, ["sysadmin"])
    assert not perms.can_confirm_as(sam, batch, "sysadmin", ["sysadmin"])
    # 干部监督 signs the steps naming it but never does a step's work.
    erin = holders[(Role.SUPERVISION, "J002")]
    assert perms.can_confirm_as(erin, batch, "supervision", ["clerk", "supervision"])
    assert not perms.can_work_on_step(erin, batch, ["supervision"])


def test_an_inactive_or_anonymous_user_is_refused_every_action(units, holders):
    from django.contrib.auth.models import AnonymousUser

    clerk = holders[(Role.CLERK, "J002")]
    clerk.is_active = False
    assert not perms.can_view_batch(clerk, _batch(units["J002"]))
    assert not perms.can(AnonymousUser(), "batch.view", units["J002"])  # type: ignore[arg-type]
    assert perms.visible_unit_ids(AnonymousUser()) == set()  # type: ignore[arg-type]


def test_a_role_held_in_two_units_answers_for_each_unit_by_its_own_relation(units, holders):
    erin = holders[(Role.SUPERVISION, "J003")]
    RoleAssignment.objects.create(user=erin, org_unit=units["J002"], role=Role.CLERK)
    erin = _fresh(erin)
    assert perms.can_create_batch(erin, units["J002"])  # clerk there
    assert not perms.can_create_batch(erin, units["J003"])  # supervision there
    assert perms.visible_unit_ids(erin) == {units["J002"].pk, units["J003"].pk}


def test_the_relation_of_a_unit_created_after_the_cache_was_filled_is_still_right(units, holders):
    carol = _fresh(holders[(Role.DEPT_LEADER, "J001")])
    assert perms.can_view_unit(carol, units["J002"])  # fills the cache
    town = OrgUnit.objects.create(code="J004", name="某乡镇", parent=units["J002"])
    assert perms.can_view_unit(carol, town)  # a grandchild is a child too


# HTTP matrix ---------------------------------------------------------------------------------------------


@pytest.fixture
def http_world(world, settings):
    """A county batch (J002) and a city batch (J001), each with one nomination, and users of every role in
    J001, J002 and J003 (a sibling county)."""
    from jishi.accounts.services import org_unit_create
    from jishi.selection.services import batch_create, nomination_add

    j003 = org_unit_create(
        actor=None, code="J003", name="中共资中县委组织部", short_name="资中县委组织部", parent=world.city
    )
    county = batch_create(
        actor=world.grace,
        org_unit=world.county,
        title="威远县2026年第一批科级干部调整",
        positions=[world.county_position],
    )
    county_nom = nomination_add(
        actor=world.grace, batch=county, cadre=world.county_cadre, position=world.county_position
    )
    city = batch_create(
        actor=world.alice, org_unit=world.city, title="内江市2026年第五批干部调整", positions=world.positions[:1]
    )
    city_nom = nomination_add(actor=world.alice, batch=city, cadre=world.cadres[3], position=world.positions[0])
    unit_by_code = {"J001": world.city, "J002": world.county, "J003": j003}
    clients: dict[tuple[Role, str], Client] = {}
    for code, unit in unit_by_code.items():
        for role in Role:
            user = User.objects.create(username=f"h-{role.value}-{code}", full_name=f"测试{code}")
            RoleAssignment.objects.create(user=user, org_unit=unit, role=role)
            client = Client()
            client.force_login(user)
            clients[(role, code)] = client
    return {"objects": {"J002": (county, county_nom), "J001": (city, city_nom)}, "clients": clients}


PAGES: dict[str, Callable[[Any, Any], str]] = {
    "batch_detail": lambda b, n: reverse("batch_detail", args=[b.pk]),
    "nomination_detail": lambda b, n: reverse("nomination_detail", args=[n.pk]),
    "step_batch": lambda b, n: reverse("step_batch", args=[b.pk, "D09"]),
    "step_nomination": lambda b, n: reverse("step_nomination", args=[n.pk, "D06"]),
    "cadre_detail": lambda b, n: reverse("cadre_detail", args=[n.cadre_id]),
    "report_form": lambda b, n: reverse("report_form", args=[n.pk]),
    "trace_nomination": lambda b, n: reverse("trace_nomination", args=[n.pk]),
}


@pytest.mark.parametrize("page", sorted(PAGES))
def test_each_object_page_answers_every_role_and_relation_as_the_policy_says(page, http_world):
    action = policy.url_entry(page)
    assert action in policy.ACTIONS
    wrong = []
    for relation, (held_in, object_in) in PLACES.items():
        batch, nomination = http_world["objects"][object_in]
        url = PAGES[page](batch, nomination)
        secrets = [batch.title, nomination.cadre.name, nomination.number]
        for role in Role:
            response = http_world["clients"][(role, held_in)].get(url)
            allowed = policy.allows((role,), action, relation)
            body = response.content.decode()
            if allowed and response.status_code != 200:
                wrong.append(f"{role.value} {relation}: expected 200, got {response.status_code}")
            if not allowed:
                if response.status_code not in (403, 404):
                    wrong.append(f"{role.value} {relation}: expected 403, got {response.status_code}")
                leaked = [s for s in secrets if s in body]
                if leaked:
                    wrong.append(f"{role.value} {relation}: the refusal shows {leaked}")
    assert not wrong, f"{page}: " + "; ".join(wrong)


def test_a_new_user_of_another_unit_opening_a_batch_url_gets_403_and_learns_nothing(world, batch, settings):
    from jishi.accounts.services import role_grant, user_create
    from jishi.core.testing import PASSWORD

    settings.OTP_REQUIRED = False
    newcomer = user_create(
        actor=None, org_unit=world.county, username="xinren", full_name="新来的", title="", password=PASSWORD
    )
    role_grant(actor=None, user=newcomer, org_unit=world.county, role=Role.CLERK)
    client = Client()
    client.force_login(newcomer)
    names = [n.cadre.name for n in batch.nominations.select_related("cadre")]
    assert names
    for url in [
        reverse("batch_detail", args=[batch.pk]),
        reverse("nomination_detail", args=[batch.nominations.first().pk]),
        reverse("step_batch", args=[batch.pk, "D01"]),
    ]:
        response = client.get(url)
        body = response.content.decode()
        assert response.status_code == 403, url
        assert batch.title not in body
        assert batch.number not in body
        assert not [name for name in names if name in body]
    # The same batch through the JSON API: refused, nothing revealed.
    from tests.api_helpers import ApiClient

    status, answer = ApiClient(newcomer).get(f"/batches/{batch.pk}")
    assert status == 403
    assert batch.title not in str(answer)
