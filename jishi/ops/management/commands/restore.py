"""manage.py restore DIR [--passphrase-env NAME] — see ``jishi.ops.restore``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from jishi.ops import backup_keys, restore


class Command(BaseCommand):
    help = "把 backup 生成的备份恢复到空的数据库和材料存储，并用备份时的见证检查点完整核验台账。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", help="backup 生成的备份目录")
        parser.add_argument(
            "--passphrase-env",
            default="JISHI_BACKUP_PASSPHRASE",
            help="存放备份口令的环境变量名（默认 JISHI_BACKUP_PASSPHRASE；未设置时在终端询问）",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        directory = Path(options["directory"])
        manifest = restore.check(directory, self.stdout)
        phrase = backup_keys.passphrase(options["passphrase_env"], new=False)
        restore.run(directory, manifest, phrase, self.stdout)
        restore.verify(directory, manifest, self.stdout)
        self.stdout.write(self.style.SUCCESS(f"恢复完成：{directory} 已恢复，台账核验通过。"))
