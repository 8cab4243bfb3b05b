"""The policy table covers every URL and API operation, keeps separation of duties, and the doc shows it."""

from __future__ import annotations

from pathlib import Path

from django.urls import URLPattern, URLResolver, get_resolver

from jishi.accounts import policy
from jishi.core.roles import ADMIN_ROLES, Role

MARKERS = {policy.PUBLIC, policy.AUTHENTICATED}

# Actions on selection records (batches, nominations, step records, cadres, their materials and archives).
SELECTION_ACTIONS = {
    name
    for name in policy.ACTIONS
    if name.split(".")[0] in {"batch", "nomination", "step", "record", "material", "cadre", "field", "archive"}
    or name in {"keypost.flag", "keypost.review", "supervision.trace", "supervision.dashboard", "ledger.verify"}
}
# The ones that change a selection record (reading, verifying and supervisory acts aside).
CHANGING = {
    "batch.create",
    "nomination.manage",
    "step.work",
    "step.waive",
    "record.correct",
    "cadre.edit",
    "archive.build",
    "archive.organize",
    "archive.accept",
    "archive.custody",
    "archive.approve_disposal",
}


def _url_names() -> set[str]:
    names: set[str] = set()

    def walk(resolver: URLResolver, namespace: str | None) -> None:
        for p in resolver.url_patterns:
            if isinstance(p, URLResolver):
                walk(p, p.namespace or namespace)
            elif isinstance(p, URLPattern) and p.name:
                names.add(f"{namespace}:{p.name}" if namespace else p.name)

    walk(get_resolver(), None)
    return names


def _api_operations() -> set[str]:
    """Every django-ninja operation of jishi.api.api, by view function name, walking nested routers."""
    from jishi.api.api import api

    found: set[str] = set()

    def walk(router: object) -> None:
        for view in getattr(router, "path_operations", {}).values():
            found.update(op.view_func.__name__ for op in view.operations)
        for entry in getattr(router, "_routers", []):
            walk(entry[1])

    walk(api)
    return found


def test_every_url_name_is_in_the_policy_mapping():
    api_ops = _api_operations()
    missing = sorted(
        n for n in _url_names() if policy.url_entry(n) is None and not (n.startswith("api:") and n[4:] in api_ops)
    )
    assert not missing, f"URL names missing from policy.URL_ACTIONS: {missing}"


def test_every_api_operation_is_in_the_policy_mapping():
    missing = sorted(_api_operations() - set(policy.API_ACTIONS))
    assert not missing, f"API operations missing from policy.API_ACTIONS: {missing}"


def test_no_mapping_entry_names_a_url_or_operation_that_no_longer_exists():
    names = _url_names()
    stale_urls = sorted(
        key
        for key in policy.URL_ACTIONS
        if not (key.endswith("*") and any(n.startswith(key[:-1]) for n in names)) and key not in names
    )
    stale_api = sorted(set(policy.API_ACTIONS) - _api_operations())
    assert not stale_urls, f"policy.URL_ACTIONS names URLs that do not exist: {stale_urls}"
    assert not stale_api, f"policy.API_ACTIONS names operations that do not exist: {stale_api}"


def test_every_mapping_entry_is_an_action_of_the_table_or_a_marker():
    entries = {**policy.URL_ACTIONS, **policy.API_ACTIONS}
    unknown = {k: v for k, v in entries.items() if v not in policy.ACTIONS and v not in MARKERS}
    assert not unknown


def test_the_three_administrator_roles_see_no_selection_record():
    for action in SELECTION_ACTIONS:
        for role in ADMIN_ROLES:
            assert not policy.relations_for(action, role), (action, role)


def test_supervision_and_the_auditor_change_no_selection_record():
    for action in CHANGING:
        assert not policy.relations_for(action, Role.SUPERVISION), action
        assert not policy.relations_for(action, Role.AUDITOR), action


def test_discipline_changes_a_selection_record_only_through_the_steps_that_name_it():
    changing = {a for a in CHANGING if policy.relations_for(a, Role.DISCIPLINE)}
    assert changing == {"step.work"}  # the upper bound; step definitions name 纪检监察 only as a signer today


def test_each_administrator_role_does_only_its_own_administration():
    admin_actions = {"user.manage": Role.SYSADMIN, "calendar.edit": Role.SYSADMIN, "role.grant": Role.SECADMIN}
    admin_actions |= {"security.unlock": Role.SECADMIN, "audit.view": Role.AUDITOR}
    for action, owner in admin_actions.items():
        assert {r for r in Role if policy.relations_for(action, r)} == {owner}, action


def test_nobody_acts_in_a_sibling_or_parent_unit():
    for role, action, relation, _state, allowed in policy.cells():
        if relation in (policy.SIBLING, policy.PARENT) and action != "calendar.edit":
            assert not allowed, (role, action, relation)


def test_the_relation_of_two_units_follows_the_tree():
    assert policy.relation_between((1, 2), (1, 2)) == policy.OWN
    assert policy.relation_between((1,), (1, 2, 5)) == policy.CHILD
    assert policy.relation_between((1, 2, 5), (1,)) == policy.PARENT
    assert policy.relation_between((1, 2), (1, 3)) == policy.SIBLING
    assert policy.relation_between((1, 2, 5), (1, 3)) == policy.NONE
    assert policy.relation_between((1,), (7,)) == policy.NONE


def test_the_security_policy_doc_shows_the_current_table():
    doc = (Path(__file__).resolve().parent.parent / "docs" / "security-policy.md").read_text(encoding="utf-8")
    hint = "regenerate: python -c 'from jishi.accounts import policy; print(policy.render_markdown())'"
    assert policy.render_markdown() in doc, hint
    assert policy.render_grid() in doc, hint.replace("render_markdown", "render_grid")
