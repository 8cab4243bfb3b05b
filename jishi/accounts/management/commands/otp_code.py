"""manage.py otp_code USERNAME — print a user's current TOTP code (development and the demo only)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from jishi.accounts.models import User
from jishi.accounts.otp import otp_confirmed_device, otp_current_code


class Command(BaseCommand):
    help = "显示某用户当前的动态口令（仅限开发和演示环境，生产环境拒绝执行）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.JISHI_ENV == "production":
            raise CommandError("生产环境（JISHI_ENV=production）不能显示动态口令：动态口令只应出现在用户本人的手机上。")
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"没有用户 {options['username']}。")
        device = otp_confirmed_device(user)
        if device is None:
            raise CommandError(f"用户 {user.username} 尚未绑定动态口令。")
        self.stdout.write(otp_current_code(device))
