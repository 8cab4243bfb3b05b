"""manage.py backup -o DIR [--passphrase-env NAME] — see ``jishi.ops.backup`` for what a backup holds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from jishi.ops import backup, backup_keys


class Command(BaseCommand):
    help = "把数据库、材料文件、密钥和证书（加密）及见证检查点备份到一个新目录，供 restore 恢复。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("-o", "--output", required=True, help="备份目录（新目录或空目录）")
        parser.add_argument(
            "--passphrase-env",
            default="JISHI_BACKUP_PASSPHRASE",
            help="存放备份口令的环境变量名（默认 JISHI_BACKUP_PASSPHRASE；未设置时在终端询问）；口令至少 12 个字符",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        out_dir = Path(options["output"])
        backup.refuse_existing(out_dir)  # before asking for the passphrase
        phrase = backup_keys.passphrase(options["passphrase_env"], new=True)
        try:
            backup.run(out_dir, phrase, self.stdout)
        except BaseException:
            if out_dir.is_dir() and any(out_dir.iterdir()):
                self.stderr.write(f"备份未完成：{out_dir} 中没有 MANIFEST.json，是不完整的内容，可删除后重做。")
            raise
        self.stdout.write(
            self.style.SUCCESS(f"备份完成：{out_dir}。请与口令分开保管；恢复：python manage.py restore {out_dir}")
        )
