"""Role codes — pure, shared by procedure definitions and the accounts app."""

from enum import StrEnum


class Role(StrEnum):
    """Roles a user holds in an org unit; the same codes appear in definitions."""

    CLERK = "clerk"  # 经办人
    SECTION_HEAD = "section_head"  # 干部科长
    DEPT_LEADER = "dept_leader"  # 部领导
    DEPT_COMMITTEE = "dept_committee"  # 部务会成员
    PARTY_COMMITTEE = "party_committee"  # 党委（党组）成员
    DISCIPLINE = "discipline"  # 纪检监察
    SUPERVISION = "supervision"  # 干部监督
    ARCHIVIST = "archivist"  # 档案管理员
    SYSADMIN = "sysadmin"  # 系统管理员: accounts and settings, never selection records
    SECADMIN = "secadmin"  # 安全管理员: role grants and security policy (三权分立)
    AUDITOR = "auditor"  # 安全审计员: reads the security audit, changes nothing


ROLE_LABELS = {
    Role.CLERK: "经办人",
    Role.SECTION_HEAD: "干部科长",
    Role.DEPT_LEADER: "部领导",
    Role.DEPT_COMMITTEE: "部务会成员",
    Role.PARTY_COMMITTEE: "党委（党组）成员",
    Role.DISCIPLINE: "纪检监察",
    Role.SUPERVISION: "干部监督",
    Role.ARCHIVIST: "档案管理员",
    Role.SYSADMIN: "系统管理员",
    Role.SECADMIN: "安全管理员",
    Role.AUDITOR: "安全审计员",
}

# The three administrator roles of 等保 (系统管理员、安全管理员、安全审计员) see no selection records.
ADMIN_ROLES = frozenset({Role.SYSADMIN, Role.SECADMIN, Role.AUDITOR})
