"""The 干部任免审批表 as plain data — one shape shared by the LRMX file and the printed form.

Field names follow procedure-reference §3.2; each comment gives the LRMX element. Month-valued
fields are kept as the text the form shows (``yyyyMM`` in LRMX, printed ``yyyy.MM``), because the
national software also allows text there (e.g. a 民主党派 name in 入党时间). Pure: no Django.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FamilyRow:
    """家庭主要成员及重要社会关系 — one ``JiaTingChengYuan/Item``."""

    relation: str = ""  # ChengWei 称谓
    name: str = ""  # XingMing 姓名
    birth: str = ""  # ChuShengRiQi 出生年月 yyyyMM
    political_status: str = ""  # ZhengZhiMianMao 政治面貌
    work_unit_position: str = ""  # GongZuoDanWeiJiZhiWu 工作单位及职务


@dataclass(frozen=True)
class ApprovalForm:
    """One person's 任免审批表 (root ``Person`` of an LRMX file)."""

    name: str = ""  # XingMing 姓名
    sex: str = ""  # XingBie 性别
    birth: str = ""  # ChuShengNianYue 出生年月 yyyyMM
    ethnicity: str = ""  # MinZu 民族
    native_place: str = ""  # JiGuan 籍贯
    birthplace: str = ""  # ChuShengDi 出生地
    party_join: str = ""  # RuDangShiJian 入党时间 yyyyMM, or a 民主党派 name
    work_start: str = ""  # CanJiaGongZuoShiJian 参加工作时间 yyyyMM
    health: str = ""  # JianKangZhuangKuang 健康状况
    professional_title: str = ""  # ZhuanYeJiShuZhiWu 专业技术职务
    expertise: str = ""  # ShuXiZhuanYeYouHeZhuanChang 熟悉专业有何专长
    fulltime_education: str = ""  # QuanRiZhiJiaoYu_XueLi 全日制学历
    fulltime_degree: str = ""  # QuanRiZhiJiaoYu_XueWei 全日制学位
    fulltime_education_school: str = ""  # QuanRiZhiJiaoYu_XueLi_BiYeYuanXiaoXi
    fulltime_degree_school: str = ""  # QuanRiZhiJiaoYu_XueWei_BiYeYuanXiaoXi
    inservice_education: str = ""  # ZaiZhiJiaoYu_XueLi 在职学历
    inservice_degree: str = ""  # ZaiZhiJiaoYu_XueWei 在职学位
    inservice_education_school: str = ""  # ZaiZhiJiaoYu_XueLi_BiYeYuanXiaoXi
    inservice_degree_school: str = ""  # ZaiZhiJiaoYu_XueWei_BiYeYuanXiaoXi
    current_post: str = ""  # XianRenZhiWu 现任职务
    proposed_post: str = ""  # NiRenZhiWu 拟任职务
    post_to_remove: str = ""  # NiMianZhiWu 拟免职务
    resume: str = ""  # JianLi 简历, lines separated by \n (\r\n in the file)
    rewards_punishments: str = ""  # JiangChengQingKuang 奖惩情况
    annual_appraisals: str = ""  # NianDuKaoHeJieGuo 年度考核结果
    appointment_reason: str = ""  # RenMianLiYou 任免理由
    family: tuple[FamilyRow, ...] = field(default_factory=tuple)  # JiaTingChengYuan
    submitting_unit: str = ""  # ChengBaoDanWei 呈报单位
    age_reference_date: str = ""  # JiSuanNianLingShiJian 计算年龄时间 yyyyMMdd (or yyyyMM)
    retirement_age_basis: str = ""  # GaiGeQianRenZhiNianLingJieXian 改革前任职年龄界限
    filled_on: str = ""  # TianBiaoShiJian 填表时间
    filled_by: str = ""  # TianBiaoRen 填表人
    id_number: str = ""  # ShenFenZheng 身份证号
    photo: bytes = b""  # ZhaoPian 照片 (Base64 in the file; JPEG or PNG bytes here)
    version: str = ""  # Version 软件数据格式版本
