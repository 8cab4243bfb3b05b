"""Named actors and a small world for tests (healthchecks' alice/bob/charlie style).

City 内江市委组织部 (J001): alice 经办人, bob 干部科长, carol 部领导, dave 纪检监察, erin 干部监督,
frank 档案管理员, sam 系统管理员. County 威远县委组织部 (J002): grace 经办人. oscar holds no role.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from jishi.accounts.keys import signing_key_enrol
from jishi.accounts.models import OrgUnit, User
from jishi.accounts.services import org_unit_create, role_grant, user_create
from jishi.cadres.models import Cadre, Position
from jishi.cadres.services import cadre_create, position_create
from jishi.core.roles import Role
from jishi.procedures.loader import bundled_path, load_file
from jishi.procedures.services import procedure_version_register

PASSWORD = "Correct-Horse-Battery-9"  # passes the 等保 password policy
SIGNING_PIN = "739146"


@dataclass
class World:
    city: OrgUnit
    county: OrgUnit
    users: dict[str, User]
    positions: list[Position]
    cadres: list[Cadre]
    county_position: Position
    county_cadre: Cadre
    extra: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> User:
        users = self.__dict__.get("users", {})
        if name in users:
            return users[name]
        raise AttributeError(name)

    def signers(self) -> dict[str, User]:
        """Role → the city user who signs in that role."""
        by_role = {
            Role.CLERK: "alice",
            Role.SECTION_HEAD: "bob",
            Role.DEPT_LEADER: "carol",
            Role.DISCIPLINE: "dave",
            Role.SUPERVISION: "erin",
            Role.ARCHIVIST: "frank",
            Role.DEPT_COMMITTEE: "carol",
            Role.PARTY_COMMITTEE: "carol",
        }
        return {role.value: self.users[name] for role, name in by_role.items()}


def cadre_data(name: str, id_number: str = "", **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": name,
        "sex": "男",
        "birth_month": "1982-05",
        "ethnicity": "汉族",
        "native_place": "四川内江",
        "birthplace": "四川内江",
        "party_status": "中共党员",
        "party_join_month": "2004-06",
        "work_start_month": "2004-07",
        "health": "健康",
        "fulltime_education": "大学",
        "fulltime_degree": "学士",
        "fulltime_school_major": "四川大学经济学院经济学专业",
        "resume": ["2004.07--2015.03  四川省内江市财政局科员", "2015.03--  四川省内江市财政局预算科科长"],
        "current_post": "内江市财政局预算科科长",
        "current_rank": "township_chief",
        "current_post_since": "2015-03",
        "current_rank_since": "2015-03",
        "id_number": id_number,
        "family": [
            {
                "relation": "妻子",
                "name": "某某",
                "birth_month": "1984-01",
                "political_status": "群众",
                "work_unit_position": "内江市第一中学教师",
            }
        ],
    }
    data.update(overrides)
    return data


def build_world(city_algorithm: str = "sha256") -> World:
    procedure_version_register(loaded=load_file(bundled_path("standard")), actor=None)
    city = org_unit_create(
        actor=None, code="J001", name="中共内江市委组织部", short_name="内江市委组织部", hash_algorithm=city_algorithm
    )
    county = org_unit_create(
        actor=None, code="J002", name="中共威远县委组织部", short_name="威远县委组织部", parent=city
    )
    spec = {
        "alice": ("李晓红", city, [Role.CLERK]),
        "bob": ("王建国", city, [Role.SECTION_HEAD]),
        "carol": ("陈志远", city, [Role.DEPT_LEADER, Role.DEPT_COMMITTEE, Role.PARTY_COMMITTEE]),
        "dave": ("周正清", city, [Role.DISCIPLINE]),
        "erin": ("吴敏", city, [Role.SUPERVISION]),
        "frank": ("郑文静", city, [Role.ARCHIVIST]),
        "sam": ("冯启航", city, [Role.SYSADMIN]),
        "sue": ("宋安宁", city, [Role.SECADMIN]),
        "ivan": ("江审言", city, [Role.AUDITOR]),
        "grace": ("黄小梅", county, [Role.CLERK, Role.SECTION_HEAD]),
        "oscar": ("局外人", city, []),
    }
    users: dict[str, User] = {}
    for username, (full_name, unit, roles) in spec.items():
        users[username] = user_create(
            actor=None, org_unit=unit, username=username, full_name=full_name, title="", password=PASSWORD
        )
        for role in roles:
            role_grant(actor=None, user=users[username], org_unit=unit, role=role)
        if roles:
            signing_key_enrol(user=users[username], pin=SIGNING_PIN)
    positions = [
        position_create(
            actor=None,
            org_unit=city,
            unit_name="内江市发展和改革委员会",
            title="副主任",
            rank_level="county_deputy",
            quota=4,
            filled=3,
        ),
        position_create(
            actor=None,
            org_unit=city,
            unit_name="内江市财政局",
            title="副局长",
            rank_level="county_deputy",
            quota=4,
            filled=2,
        ),
    ]
    cadres = [cadre_create(actor=None, org_unit=city, data=cadre_data(n)) for n in ("张伟", "刘洋", "杨帆", "赵敏")]
    county_position = position_create(
        actor=None,
        org_unit=county,
        unit_name="威远县财政局",
        title="副局长",
        rank_level="township_deputy",
        quota=3,
        filled=2,
    )
    county_cadre = cadre_create(actor=None, org_unit=county, data=cadre_data("孙浩"))
    return World(city, county, users, positions, cadres, county_position, county_cadre)


def aware(year: int, month: int, day: int, hour: int = 9) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=dt.UTC)
