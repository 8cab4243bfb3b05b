"""Cadre master data (干部信息) following the 干部任免审批表, and positions with approved quotas (职数)."""

from __future__ import annotations

from django.db import models

from jishi.accounts.models import OrgUnit
from jishi.core import crypto


class RankLevel(models.TextChoices):
    BUREAU_CHIEF = "bureau_chief", "厅局级正职"
    BUREAU_DEPUTY = "bureau_deputy", "厅局级副职"
    COUNTY_CHIEF = "county_chief", "县处级正职"
    COUNTY_DEPUTY = "county_deputy", "县处级副职"
    TOWNSHIP_CHIEF = "township_chief", "乡科级正职"
    TOWNSHIP_DEPUTY = "township_deputy", "乡科级副职"
    STAFF = "staff", "科员及以下"


class Sex(models.TextChoices):
    MALE = "男", "男"
    FEMALE = "女", "女"


class PhotoKind(models.TextChoices):
    JPEG = "jpeg", "JPEG"
    PNG = "png", "PNG"


class Cadre(models.Model):
    """干部 — one person's master data as it appears on the 干部任免审批表."""

    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="cadres", verbose_name="管理机构")
    name = models.CharField("姓名", max_length=50)
    sex = models.CharField("性别", max_length=2, choices=Sex.choices)
    birth_month = models.DateField("出生年月")
    ethnicity = models.CharField("民族", max_length=20)
    native_place = models.CharField("籍贯", max_length=50)
    birthplace = models.CharField("出生地", max_length=50)
    party_status = models.CharField("政治面貌", max_length=30, default="中共党员")
    party_join_month = models.DateField("入党时间", null=True, blank=True)
    work_start_month = models.DateField("参加工作时间")
    health = models.CharField("健康状况", max_length=20, default="健康")
    fulltime_education = models.CharField("全日制学历", max_length=30, blank=True)
    fulltime_degree = models.CharField("全日制学位", max_length=30, blank=True)
    fulltime_school_major = models.CharField("全日制毕业院校系及专业", max_length=100, blank=True)
    inservice_education = models.CharField("在职学历", max_length=30, blank=True)
    inservice_degree = models.CharField("在职学位", max_length=30, blank=True)
    inservice_school_major = models.CharField("在职毕业院校系及专业", max_length=100, blank=True)
    fulltime_degree_school = models.CharField("全日制学位毕业院校系", max_length=100, blank=True)
    inservice_degree_school = models.CharField("在职学位毕业院校系", max_length=100, blank=True)
    professional_title = models.CharField("专业技术职务", max_length=50, blank=True)
    expertise = models.CharField("熟悉专业有何专长", max_length=100, blank=True)
    resume = models.TextField("简历", help_text="每行一段经历，如 2008.07--2012.03  四川省威远县财政局科员")
    rewards_punishments = models.TextField("奖惩情况", blank=True)
    annual_appraisals = models.TextField("年度考核结果", blank=True)
    current_post = models.CharField("现任职务", max_length=100)
    current_rank = models.CharField("现任职级", max_length=30, choices=RankLevel.choices)
    current_post_since = models.DateField("任现职时间")
    current_rank_since = models.DateField("任现职级时间")
    grassroots_months = models.PositiveIntegerField("基层工作经历（月）", default=0)
    training_hours_5y = models.PositiveIntegerField("近五年培训学时", default=0)
    id_number_encrypted = models.TextField("身份证号（加密）", blank=True)
    id_number_hash = models.CharField("身份证号查询摘要", max_length=64, blank=True, db_index=True)
    retirement_age_basis = models.CharField("改革前任职年龄界限", max_length=20, blank=True)
    photo = models.BinaryField("照片", blank=True, default=b"")
    photo_kind = models.CharField("照片格式", max_length=10, choices=PhotoKind.choices, blank=True)
    # Values of an imported 任免审批表 that are not master data (拟任职务, 拟免职务, 任免理由, 呈报单位, 计算年龄时间,
    # 填表时间, 填表人, Version, 入党时间 when it is text), kept so the file exports back unchanged.
    approval_extra = models.JSONField("任免审批表其他项", default=dict, blank=True)

    class Meta:
        verbose_name = "干部"
        verbose_name_plural = "干部"
        ordering = ["org_unit__code", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def id_number(self) -> str:
        return crypto.decrypt(self.id_number_encrypted)

    def set_id_number(self, value: str) -> None:
        value = value.strip().upper()
        self.id_number_encrypted = crypto.encrypt(value) if value else ""
        self.id_number_hash = crypto.lookup_hash(value) if value else ""

    @property
    def masked_id_number(self) -> str:
        value = self.id_number
        return f"{value[:6]}********{value[-4:]}" if len(value) == 18 else ""

    def resume_lines(self) -> list[str]:
        return [line for line in self.resume.splitlines() if line.strip()]


class FamilyMember(models.Model):
    """家庭主要成员及重要社会关系 — used for 任职回避 checks."""

    cadre = models.ForeignKey(Cadre, on_delete=models.CASCADE, related_name="family", verbose_name="干部")
    relation = models.CharField("称谓", max_length=20)
    name = models.CharField("姓名", max_length=50)
    birth_month = models.DateField("出生年月", null=True, blank=True)
    # What an imported form held when it was not a year-month (e.g. "已故", an age), kept for export.
    birth_text = models.CharField("出生年月（原文）", max_length=20, blank=True)
    political_status = models.CharField("政治面貌", max_length=30, blank=True)
    work_unit_position = models.CharField("工作单位及职务", max_length=100, blank=True)

    class Meta:
        verbose_name = "家庭成员"
        verbose_name_plural = "家庭成员"
        ordering = ["cadre", "id"]

    def __str__(self) -> str:
        return f"{self.relation} {self.name}"


class Position(models.Model):
    """职位 — a leadership post with its approved number of holders (核定职数)."""

    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="positions", verbose_name="管理机构")
    unit_name = models.CharField("所在单位", max_length=100)
    title = models.CharField("职务名称", max_length=50)
    rank_level = models.CharField("职务层次", max_length=30, choices=RankLevel.choices)
    quota = models.PositiveSmallIntegerField("核定职数")
    filled = models.PositiveSmallIntegerField("现配职数", default=0)
    is_key_post = models.BooleanField(
        "重要岗位", default=False, help_text="动议提名须经干部监督机构审核签字后方可启动民主推荐"
    )

    class Meta:
        verbose_name = "职位"
        verbose_name_plural = "职位"
        ordering = ["org_unit__code", "unit_name", "title"]

    def __str__(self) -> str:
        return f"{self.unit_name}{self.title}"

    @property
    def vacancies(self) -> int:
        return max(self.quota - self.filled, 0)
