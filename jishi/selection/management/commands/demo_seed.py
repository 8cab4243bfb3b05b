"""manage.py demo_seed — load the demo (only into an empty database) and print the logins."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.test.utils import override_settings

from jishi.accounts.models import OrgUnit
from jishi.documents import pades
from jishi.selection import demo


class Command(BaseCommand):
    help = "载入演示数据（组织机构、用户、干部、两个调整批次）并显示演示账号；已有数据时只显示账号。"

    def handle(self, *args: Any, **options: Any) -> None:
        fresh = not demo.demo_exists()
        if fresh:
            # Filing needs the document certificates, made below once the units exist.
            with override_settings(ARCHIVE_AUTO_BUILD=False):
                demo.seed(progress=lambda message: self.stdout.write(message))
        else:
            self.stdout.write("演示数据已存在，未重复载入。")
        self._certificates()
        if fresh:
            from jishi.archives.demo import archive_finished_batches  # the archive files what selection finished

            archive_finished_batches(demo.DEMO_PIN, progress=lambda message: self.stdout.write(message))
            self.stdout.write(self.style.SUCCESS(f"演示数据已载入（{demo.batch_count()} 个调整批次）。"))
        self.stdout.write("")
        self.stdout.write(f"演示账号（登录密码均为 {demo.DEMO_PASSWORD}，签名口令均为 {demo.DEMO_PIN}）：")
        for line in demo.describe_logins():
            self.stdout.write(line)
        self.stdout.write(
            f"动态口令（TOTP）密钥均为 {demo.DEMO_OTP_SECRET}：添加到手机身份验证器应用，"
            "或运行 `python manage.py otp_code 用户名` 显示当前动态口令（仅限开发环境）。"
        )

    def _certificates(self) -> None:
        """Self-signed document certificates so the demo's PDFs come out signed (never in production)."""
        for unit in OrgUnit.objects.order_by("code"):
            if pades.cert_path(unit.code).exists():
                continue
            pades.certificate_create(fonds=unit.code, unit_name=unit.short_name or unit.name)
            self.stdout.write(f"已为 {unit.name} 生成演示用自签名文书签章证书（{pades.cert_path(unit.code)}）")
